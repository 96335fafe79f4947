import {
  AdminGetUserCommand,
  AdminListGroupsForUserCommand,
  CognitoIdentityProviderClient,
  DescribeUserPoolClientCommand,
  ResourceNotFoundException,
  UserNotFoundException,
} from '@aws-sdk/client-cognito-identity-provider';

export interface DirectoryUser {
  /** User pool attributes by name (`custom:tenantId`, `email`…), as claims would carry them. */
  attributes: Record<string, string>;
  groups: string[];
  /** False for a disabled user (AdminDisableUser, which also revokes the user's tokens in Cognito). */
  enabled: boolean;
}

export interface DirectoryClient {
  name: string;
  scopes: string[];
}

/** What the sidecar asks of a user pool. Undefined means "does not exist"; a throw means "could not ask". */
export interface UserDirectory {
  user(username: string): Promise<DirectoryUser | undefined>;
  client(clientId: string): Promise<DirectoryClient | undefined>;
}

export interface CognitoDirectoryOptions {
  userPoolId: string;
  region: string;
  endpoint?: string;
  timeoutMs: number;
}

/** A Cognito user pool through the AWS SDK (credentials from the default chain). */
export function createCognitoDirectory(o: CognitoDirectoryOptions): UserDirectory {
  const client = new CognitoIdentityProviderClient({
    region: o.region,
    ...(o.endpoint ? { endpoint: o.endpoint } : {}),
    maxAttempts: 2,
  });
  const opts = () => ({ abortSignal: AbortSignal.timeout(o.timeoutMs) });
  return {
    async user(username) {
      try {
        const got = await client.send(
          new AdminGetUserCommand({ UserPoolId: o.userPoolId, Username: username }),
          opts(),
        );
        const groups: string[] = [];
        let next: string | undefined;
        do {
          const page = await client.send(
            new AdminListGroupsForUserCommand({
              UserPoolId: o.userPoolId,
              Username: username,
              ...(next ? { NextToken: next } : {}),
            }),
            opts(),
          );
          for (const g of page.Groups ?? []) if (g.GroupName) groups.push(g.GroupName);
          next = page.NextToken;
        } while (next);
        const attributes = Object.fromEntries(
          (got.UserAttributes ?? []).map((a) => [a.Name ?? '', a.Value ?? '']),
        );
        return { attributes, groups, enabled: got.Enabled !== false };
      } catch (err) {
        if (isError(err, UserNotFoundException, 'UserNotFoundException')) return undefined;
        throw err;
      }
    },
    async client(clientId) {
      try {
        const got = await client.send(
          new DescribeUserPoolClientCommand({ UserPoolId: o.userPoolId, ClientId: clientId }),
          opts(),
        );
        const c = got.UserPoolClient;
        return c ? { name: c.ClientName ?? clientId, scopes: c.AllowedOAuthScopes ?? [] } : undefined;
      } catch (err) {
        if (isError(err, ResourceNotFoundException, 'ResourceNotFoundException')) return undefined;
        throw err;
      }
    },
  };
}

/**
 * The SDK's error class, or its name: the class check alone misses an error thrown by another copy
 * of the SDK (a bundled Lambda layer, a duplicated dependency), the name alone trusts any object.
 */
function isError(err: unknown, cls: abstract new (...args: never[]) => Error, name: string): boolean {
  return err instanceof cls || (err instanceof Error && err.name === name);
}
