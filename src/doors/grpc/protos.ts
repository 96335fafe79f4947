import { createRequire } from 'node:module';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const require = createRequire(import.meta.url);

/** Proto loading options shared by the server and the tests' clients: field names as in the .proto. */
export const PROTO_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: false,
  oneofs: true,
};

/**
 * Envoy's own `.proto` files, as `@grpc/grpc-js-xds` ships them under `deps/` (Envoy's API, xDS,
 * googleapis and protoc-gen-validate): loaded at run time, never copied into this repository.
 */
export function envoyProtoDirs(): string[] {
  const root = path.join(path.dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
  return ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => path.join(root, d));
}

/** `grpc.health.v1` as the gRPC project ships it in `grpc-health-check`. */
export function healthProtoDir(): string {
  return path.join(path.dirname(require.resolve('grpc-health-check/package.json')), 'proto');
}

let cached: { authorization: grpc.ServiceDefinition; health: grpc.ServiceDefinition } | undefined;

/** The two service definitions the gRPC door serves (loaded once, ~0.5 s for Envoy's tree). */
export function loadServiceDefinitions(): {
  authorization: grpc.ServiceDefinition;
  health: grpc.ServiceDefinition;
} {
  if (cached) return cached;
  const envoy = protoLoader.loadSync('envoy/service/auth/v3/external_auth.proto', {
    ...PROTO_OPTIONS,
    includeDirs: envoyProtoDirs(),
  });
  const health = protoLoader.loadSync('health/v1/health.proto', {
    ...PROTO_OPTIONS,
    includeDirs: [healthProtoDir()],
  });
  cached = {
    authorization: envoy['envoy.service.auth.v3.Authorization'] as grpc.ServiceDefinition,
    health: health['grpc.health.v1.Health'] as grpc.ServiceDefinition,
  };
  return cached;
}
