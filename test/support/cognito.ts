import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminInitiateAuthCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
  CreateGroupCommand,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  InitiateAuthCommand,
} from '@aws-sdk/client-cognito-identity-provider';

/** The real AWS SDK v3 client pointed at cognito-local (dummy credentials, a fake region). */
export function cognitoClient(endpoint: string): CognitoIdentityProviderClient {
  // The SDK warns on Node 20 that releases from 2027 need Node 22; the tests pin their version.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return new CognitoIdentityProviderClient({
    endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

export interface UserSpec {
  username: string;
  groups: string[];
  attributes: Record<string, string>;
}

export interface Pool {
  poolId: string;
  clientId: string;
  /** `http://HOST:PORT/<poolId>`: the `iss` of the pool's tokens. */
  issuer: string;
  jwksUri: string;
}

const PASSWORD = 'Correct-Horse-9!';

/** Creates a user pool with a `tenantId` custom attribute, an app client, the groups, and the users. */
export async function createPool(
  client: CognitoIdentityProviderClient,
  endpoint: string,
  name: string,
  groups: string[],
  users: UserSpec[],
): Promise<Pool> {
  const { UserPool } = await client.send(
    new CreateUserPoolCommand({
      PoolName: name,
      Schema: [{ Name: 'tenantId', AttributeDataType: 'String', Mutable: true }],
    }),
  );
  const poolId = UserPool!.Id!;
  const { UserPoolClient } = await client.send(
    new CreateUserPoolClientCommand({
      UserPoolId: poolId,
      ClientName: `${name}-web`,
      ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_ADMIN_USER_PASSWORD_AUTH'],
    }),
  );
  for (const group of groups)
    await client.send(new CreateGroupCommand({ UserPoolId: poolId, GroupName: group }));
  for (const u of users) {
    await client.send(
      new AdminCreateUserCommand({
        UserPoolId: poolId,
        Username: u.username,
        MessageAction: 'SUPPRESS',
        TemporaryPassword: 'Temp-Pass-1!',
        UserAttributes: Object.entries(u.attributes).map(([Name, Value]) => ({ Name, Value })),
      }),
    );
    await client.send(
      new AdminSetUserPasswordCommand({
        UserPoolId: poolId,
        Username: u.username,
        Password: PASSWORD,
        Permanent: true,
      }),
    );
    for (const group of u.groups)
      await client.send(
        new AdminAddUserToGroupCommand({ UserPoolId: poolId, Username: u.username, GroupName: group }),
      );
  }
  return {
    poolId,
    clientId: UserPoolClient!.ClientId!,
    issuer: `${endpoint}/${poolId}`,
    jwksUri: `${endpoint}/${poolId}/.well-known/jwks.json`,
  };
}

export interface Tokens {
  idToken: string;
  accessToken: string;
}

/** Signs a user in the way an app does (InitiateAuth, USER_PASSWORD_AUTH). */
export async function logIn(
  client: CognitoIdentityProviderClient,
  pool: Pool,
  username: string,
): Promise<Tokens> {
  const { AuthenticationResult } = await client.send(
    new InitiateAuthCommand({
      ClientId: pool.clientId,
      AuthFlow: 'USER_PASSWORD_AUTH',
      AuthParameters: { USERNAME: username, PASSWORD },
    }),
  );
  return { idToken: AuthenticationResult!.IdToken!, accessToken: AuthenticationResult!.AccessToken! };
}

/** Signs a user in the way a back end does (AdminInitiateAuth, ADMIN_USER_PASSWORD_AUTH). */
export async function adminLogIn(
  client: CognitoIdentityProviderClient,
  pool: Pool,
  username: string,
): Promise<Tokens> {
  const { AuthenticationResult } = await client.send(
    new AdminInitiateAuthCommand({
      UserPoolId: pool.poolId,
      ClientId: pool.clientId,
      AuthFlow: 'ADMIN_USER_PASSWORD_AUTH',
      AuthParameters: { USERNAME: username, PASSWORD },
    }),
  );
  return { idToken: AuthenticationResult!.IdToken!, accessToken: AuthenticationResult!.AccessToken! };
}
