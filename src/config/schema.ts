import { z } from 'zod';

/**
 * The one configuration schema. Every key has a default, so an empty file (or no file) is the
 * embedded default: HTTP on 127.0.0.1:8181 and every folder under `policies/` a local store.
 * Objects are strict: an unknown key is an error, never silently ignored.
 */

const ServerSchema = z.strictObject({
  /** Address the HTTP server binds. Default `127.0.0.1`: the sidecar serves its own host. */
  host: z.string().min(1).default('127.0.0.1'),
  /** HTTP port. Default 8181; 0 picks a free port. */
  port: z.number().int().min(0).max(65535).default(8181),
  /** Largest request body accepted, in bytes; larger bodies answer 413. Default 1 MiB (AVP's limit). */
  bodyLimitBytes: z.number().int().positive().default(1_048_576),
  /** Grace period for in-flight requests on SIGTERM, in milliseconds. */
  shutdownGraceMs: z.number().int().min(0).default(5_000),
  /** Most items in one `/v1/authorize/batch` request (AVP's BatchIsAuthorized takes 30). */
  batchLimit: z.number().int().min(1).max(1000).default(30),
});

const PoliciesSchema = z.strictObject({
  /** Folder whose sub-folders are local policy stores (one store per folder). Default `policies`. */
  dir: z.string().min(1).default('policies'),
  /** Reload a store when its files change. Default true. */
  watch: z.boolean().default(true),
  /** Quiet period after the last change before reloading, in milliseconds. */
  reloadDebounceMs: z.number().int().min(0).default(150),
});

const LocalStoreSchema = z.strictObject({
  engine: z.literal('local').default('local'),
  /** Folder of the store; default `<policies.dir>/<store name>`. */
  path: z.string().min(1).optional(),
});

/** Asymmetric JWS algorithms only: `none` and HMAC (HS*) can never be configured. */
export const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;

const AttributeTypeSchema = z.enum(['string', 'long', 'boolean', 'decimal', 'ipaddr', 'set']);

/** A claim mapped to a Cedar attribute: `tenantId`, or `{attribute: approvalLimit, type: decimal}`. */
const ClaimMappingSchema = z.union([
  z.string().min(1),
  z.strictObject({ attribute: z.string().min(1), type: AttributeTypeSchema.default('string') }),
]);

const CallerTypeRuleSchema = z.strictObject({
  /** Claim to look at (dotted paths are not interpreted; Cognito claims contain `:`). */
  claim: z.string().min(1),
  /** Matches when the claim equals this value, or (for array claims) contains it. */
  equals: z.union([z.string(), z.number(), z.boolean()]).optional(),
  /** Matches when the claim is present at all. */
  exists: z.boolean().optional(),
  callerType: z.string().regex(/^[a-z][a-z0-9_-]*$/, 'caller types are lowercase words'),
});

const IssuerSchema = z
  .strictObject({
    /** Label used in routes, logs and metrics. */
    name: z.string().regex(/^[A-Za-z0-9_.-]+$/),
    /** The exact `iss` claim, e.g. `https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf`. */
    issuer: z.string().min(1),
    /** Where the keys are: a JWKS URL, a local JWKS file, or OIDC discovery from the issuer (the default). */
    jwksUri: z.url().optional(),
    jwksFile: z.string().min(1).optional(),
    /** Accepted audiences: `aud` of ID tokens, `client_id` of access tokens (Cognito's shapes). Required. */
    audiences: z.array(z.string().min(1)).min(1),
    /** Accepted `token_use` values (Cognito: `id`, `access`). Omit for IdPs that do not set the claim. */
    tokenUse: z
      .array(z.enum(['id', 'access']))
      .min(1)
      .optional(),
    algorithms: z.array(z.enum(ASYMMETRIC_ALGORITHMS)).min(1).default(['RS256']),
    clockSkewSeconds: z.number().int().min(0).max(600).default(60),
    /** Principal id prefix; default the Cognito user pool id (last path segment of the issuer), else the issuer. */
    principalIdPrefix: z.string().min(1).optional(),
    /** `prefixed`: `<prefix>|<sub>` as AVP does (default); `sub`: the bare subject, for simpler policies. */
    principalIdFormat: z.enum(['prefixed', 'sub']).default('prefixed'),
    /** `prefixed`: group ids `<prefix>|<group>` as AVP does (default); `name`: the bare group name. */
    groupIdFormat: z.enum(['prefixed', 'name']).default('prefixed'),
    groupsClaim: z.string().min(1).default('cognito:groups'),
    /** Cedar entity types for this issuer's principals. */
    entityTypes: z
      .strictObject({
        user: z.string().min(1).default('User'),
        group: z.string().min(1).default('UserGroup'),
        service: z.string().min(1).default('Service'),
      })
      .prefault({}),
    /** What a user of this issuer is called in routing (e.g. `internal` for an enterprise IdP). */
    userCallerType: z
      .string()
      .regex(/^[a-z][a-z0-9_-]*$/)
      .default('user'),
    /** Rules checked first, in order: the first match sets the caller type. */
    callerTypeRules: z.array(CallerTypeRuleSchema).default([]),
    /** Claims that become principal attributes (ID-token claims, or the same claims of an access token). */
    attributes: z.record(z.string(), ClaimMappingSchema).default({}),
    /** Access-token claims put in the request context under `context.<key>` (AVP puts them in context). */
    accessTokenContext: z
      .strictObject({
        key: z.string().min(1).default('token'),
        claims: z.record(z.string(), ClaimMappingSchema).default({}),
      })
      .prefault({}),
    /** How often keys are refreshed in the background, and the least time between two refetches for an unknown `kid`. */
    /**
     * Cognito lookups (off by default): enrich users whose token lacks attributes (access tokens
     * carry no custom attributes) from the user pool, and accept only registered app clients as
     * services. Credentials come from the AWS SDK's default chain.
     */
    cognito: z
      .strictObject({
        /** Default: the pool id at the end of the issuer URL. */
        userPoolId: z.string().min(1).optional(),
        /** Default: the region prefix of the pool id (`eu-west-1_AbC` → `eu-west-1`). */
        region: z.string().min(1).optional(),
        /** A custom Cognito endpoint (cognito-local in tests). */
        endpoint: z.url().optional(),
        /** Look users up (AdminGetUser, AdminListGroupsForUser) for access tokens and missing attributes. */
        enrichUsers: z.boolean().default(false),
        /** Accept a client-credentials caller only if its client_id is an app client of the pool (DescribeUserPoolClient). */
        registeredClients: z.boolean().default(false),
        /** How long a looked-up user or client is trusted; a removed group or deleted client takes effect within it. */
        ttlSeconds: z.number().int().min(1).default(300),
        maxEntries: z.number().int().min(1).default(10_000),
        timeoutMs: z.number().int().min(1).default(2_000),
      })
      .optional(),
    jwksRefreshSeconds: z.number().int().min(1).default(600),
    jwksCooldownSeconds: z.number().int().min(0).default(30),
  })
  .refine((i) => !(i.jwksUri && i.jwksFile), {
    message: 'set jwksUri or jwksFile, not both',
    path: ['jwksFile'],
  });

const RouteSchema = z
  .strictObject({
    /** Caller type to match (`user`, `service`, or a configured one). Omit to match any. */
    callerType: z.string().optional(),
    /** Issuer name to match. Omit to match any. */
    issuer: z.string().optional(),
    /** A claim that must equal a value (for example a tenant). */
    claim: z
      .strictObject({ name: z.string().min(1), equals: z.union([z.string(), z.number(), z.boolean()]) })
      .optional(),
    /** The store, by name. */
    store: z.string().min(1).optional(),
    /**
     * Or the store named from a claim, one store per tenant (AVP's strong-isolation pattern):
     * `{claim: custom:tenantId, template: "tenant-{value}"}`. A missing claim, a value that is not
     * a plain name, or no such store is a DENY with reason `no_store`.
     */
    storeFromClaim: z
      .strictObject({ claim: z.string().min(1), template: z.string().includes('{value}') })
      .optional(),
  })
  .refine((r) => (r.store === undefined) !== (r.storeFromClaim === undefined), {
    message: 'a route names exactly one of store or storeFromClaim',
    path: ['store'],
  });

const DevSchema = z.strictObject({
  /**
   * Folder of the development signing key. When set, a key pair is generated there on first start
   * and the sidecar warns loudly that a development issuer is trusted. Never set it in production.
   */
  keyDir: z.string().min(1).optional(),
});

const LogSchema = z.strictObject({
  /** Level of the process log (not the decision log). */
  level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

const DecisionCacheSchema = z.strictObject({
  /** Serve repeated decisions from memory. Default true; false evaluates every request. */
  enabled: z.boolean().default(true),
  /** Entries kept per policy store; the least recently used is evicted beyond it. Default 10,000. */
  maxEntries: z.number().int().positive().default(10_000),
  /**
   * How long an ALLOW is served from the cache, in milliseconds. Default 60,000. A policy reload
   * invalidates at once whatever the TTL (the store version is part of the key).
   */
  allowTtlMs: z.number().int().min(0).default(60_000),
  /** How long an evaluated DENY is served from the cache, in milliseconds; 0 never caches one. Default 10,000. */
  denyTtlMs: z.number().int().min(0).default(10_000),
});

const TokenCacheSchema = z.strictObject({
  /** Remember verified tokens so a repeated token skips the signature check. Default true. */
  enabled: z.boolean().default(true),
  /** Verified tokens kept; the least recently used is evicted beyond it. Default 10,000. */
  maxEntries: z.number().int().positive().default(10_000),
  /** Longest time a verified token is trusted without a new check, in milliseconds (never past `exp`). Default 300,000. */
  ttlMs: z.number().int().positive().default(300_000),
});

const CacheSchema = z.strictObject({
  decisions: DecisionCacheSchema.prefault({}),
  tokens: TokenCacheSchema.prefault({}),
});

const MetricsSchema = z.strictObject({
  /** Serve Prometheus metrics at `GET /metrics` on the HTTP server. Default true. */
  enabled: z.boolean().default(true),
  /** Include prom-client's default process and Node.js metrics. Default true. */
  defaultMetrics: z.boolean().default(true),
});

const DecisionLogSchema = z.strictObject({
  /** Write one JSON line per decision. Default true. */
  enabled: z.boolean().default(true),
  /** `stdout` (default), `stderr`, or a file path (relative to the config file; appended to). */
  destination: z.string().min(1).default('stdout'),
  /** Log only DENY decisions. Default false. */
  onlyDenies: z.boolean().default(false),
  /** Fraction of ALLOW decisions logged, 0 to 1; every DENY is logged. Default 1. */
  allowSampleRate: z.number().min(0).max(1).default(1),
  /**
   * Paths in the log line whose value is replaced by `"***"`, e.g. `context.accountNumber` or
   * `context.card.*` (pino redact syntax). Default none.
   */
  maskPaths: z.array(z.string().min(1)).default([]),
  /**
   * Lines held in memory while the destination is busy; beyond it lines are dropped and counted in
   * `authz_decision_logs_dropped_total`, so logging never slows a decision. Default 10,000.
   */
  bufferSize: z.number().int().positive().default(10_000),
});

export const ConfigSchema = z.strictObject({
  server: ServerSchema.prefault({}),
  policies: PoliciesSchema.prefault({}),
  /**
   * Explicit stores by name. When absent, every folder under `policies.dir` is a local store;
   * when present, only the stores listed here are served.
   */
  stores: z
    .record(z.string().regex(/^[A-Za-z0-9_.-]+$/, 'store names use letters, digits, _ . -'), LocalStoreSchema)
    .optional(),
  /** Token issuers the sidecar trusts. */
  issuers: z.array(IssuerSchema).default([]),
  /** Caller → store; the first matching route wins. No match is a DENY with reason `no_store`. */
  routes: z.array(RouteSchema).default([]),
  dev: DevSchema.prefault({}),
  /** Largest bearer token accepted, in bytes; a larger one is `malformed_token`. */
  maxTokenBytes: z.number().int().min(256).default(16_384),
  log: LogSchema.prefault({}),
  cache: CacheSchema.prefault({}),
  metrics: MetricsSchema.prefault({}),
  decisionLog: DecisionLogSchema.prefault({}),
});

export type Config = z.infer<typeof ConfigSchema>;
export type LocalStoreConfig = z.infer<typeof LocalStoreSchema>;
export type DecisionLogConfig = z.infer<typeof DecisionLogSchema>;
export type IssuerConfig = z.infer<typeof IssuerSchema>;
export type RouteConfig = z.infer<typeof RouteSchema>;
export type ClaimMapping = z.infer<typeof ClaimMappingSchema>;
