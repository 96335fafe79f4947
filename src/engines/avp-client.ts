import http from 'node:http';
import https from 'node:https';
import {
  VerifiedPermissionsClient,
  type VerifiedPermissionsClientConfig,
} from '@aws-sdk/client-verifiedpermissions';

export interface AvpClientOptions {
  region: string;
  endpoint?: string;
  /** The SDK's own attempts; the `avp` engine retries itself (1), the sync engine lets the SDK retry. */
  maxAttempts: number;
  /** Most sockets to AVP at once (keep-alive). */
  maxSockets?: number;
  /**
   * For tests and embedders only (no config key reaches it): static credentials or any other SDK
   * setting. Without it, credentials come from the AWS SDK's default chain.
   */
  sdk?: Partial<VerifiedPermissionsClientConfig>;
}

/** A VerifiedPermissionsClient with keep-alive sockets; credentials from the SDK's default chain. */
export function createAvpClient(options: AvpClientOptions): VerifiedPermissionsClient {
  const agent = { keepAlive: true, maxSockets: options.maxSockets ?? 50 };
  return new VerifiedPermissionsClient({
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    maxAttempts: options.maxAttempts,
    requestHandler: {
      httpAgent: new http.Agent(agent),
      httpsAgent: new https.Agent(agent),
      connectionTimeout: 2_000,
    },
    ...options.sdk,
  });
}
