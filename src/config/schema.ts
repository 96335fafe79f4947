import { z } from 'zod';
import { AuthzenSchema, ExtAuthzSchema, GrpcSchema, HttpRoutesSchema } from './doors.js';

/**
 * Over 400 lines on purpose: the one validated schema of every config key, each with its
 * documentation comment (the README's configuration reference follows it); the doors' sections
 * already live in doors.ts.
 *
 * The one configuration schema. Every key has a default, so an empty file (or no file) is the
 * embedded default: HTTP on 127.0.0.1:8181 and every folder under `policies/` a local store.
 * Objects are strict: an unknown key is an error, never silently ignored.
 */

const ServerSchema = z
  .strictObject({
    /** Address the HTTP server binds. Default `127.0.0.1`: the sidecar serves its own host. */
    host: z.string().min(1).default('127.0.0.1'),
    /** HTTP port. Default 8181; 0 picks a free port. */
    port: z.number().int().min(0).max(65535).default(8181),
    /** Largest request body accepted, in bytes; larger bodies answer 413. Default 1 MiB (AVP's limit). */
    bodyLimitBytes: z.number().int().positive().default(1_048_576),
    /**
     * Grace period for in-flight requests on SIGTERM (and `close()`), in milliseconds: HTTP requests
     * and gRPC calls still running after it are cut off. Default 5000.
     */
    shutdownGraceMs: z.number().int().min(0).default(5_000),
    /**
     * On SIGTERM, how long the sidecar keeps serving with `/readyz` answering 503 (`draining: true`)
     * and gRPC health NOT_SERVING before it stops accepting connections, in milliseconds: time for
     * a load balancer or Kubernetes to take it out of rotation. Default 0 (stop accepting at once;
     * in Kubernetes a `preStop` sleep does the same job).
     */
    drainDelayMs: z.number().int().min(0).max(600_000).default(0),
    /**
     * Time to receive a request's headers, in milliseconds. Past it Node answers a bare 408 and
     * closes the connection (there is no request yet to answer in JSON). Default 10000; at most
     * `requestTimeoutMs`.
     */
    headersTimeoutMs: z.number().int().min(1).max(600_000).default(10_000),
    /**
     * Time to receive a whole request body, in milliseconds: a body that trickles or stops short of
     * its Content-Length answers 408 `request_timeout` (JSON, like every error) and the connection
     * is closed. Default 30000.
     */
    requestTimeoutMs: z.number().int().min(1).max(600_000).default(30_000),
    /** How long an idle keep-alive connection stays open, in milliseconds. Default 5000 (Node's). */
    keepAliveTimeoutMs: z.number().int().min(1).max(600_000).default(5_000),
    /**
     * Most requests served at once on the HTTP listener; one more answers 503 `overloaded` with
     * `Retry-After: 1` at once instead of queueing. `/healthz`, `/readyz` and `/metrics` are not
     * counted and always answer. Default 1024.
     */
    maxInFlight: z.number().int().min(1).max(1_000_000).default(1_024),
    /** Most items in one `/v1/authorize/batch` request (AVP's BatchIsAuthorized takes 30). */
    batchLimit: z.number().int().min(1).max(1000).default(30),
    /**
     * Whether `explain: true` is honoured on the token API (`/v1/authorize`, `/v1/authorize/batch`).
     * An explanation shows the policies' conditions and the values they saw; a deployment that does
     * not want callers to read them sets false (the request is then refused with 400 naming
     * `explain`). `/v1/is-authorized` (trusted local callers) always explains. Default true.
     */
    explainTokenApi: z.boolean().default(true),
  })
  .refine((s) => s.headersTimeoutMs <= s.requestTimeoutMs, {
    message: 'must be at most requestTimeoutMs',
    path: ['headersTimeoutMs'],
  });

const PoliciesSchema = z.strictObject({
  /** Folder whose sub-folders are local policy stores (one store per folder). Default `policies`. */
  dir: z.string().min(1).default('policies'),
  /** Reload a store when its files change. Default true. */
  watch: z.boolean().default(true),
  /** Quiet period after the last change before reloading, in milliseconds. */
  reloadDebounceMs: z.number().int().min(0).default(150),
});

/** `on`: evaluate only the policies whose scope matches; `off`: every policy; `auto`: on above a threshold. */
const SlicingModeSchema = z.enum(['auto', 'on', 'off']);

/** `native`: the sidecar's TypeScript Cedar evaluator; `wasm`: cedar-wasm (Cedar's own Rust, compiled to wasm). */
const EvaluatorNameSchema = z.enum(['native', 'wasm']);

const EvaluatorSchema = z.strictObject({
  /**
   * Evaluator of every local and avp-sync store that does not set `stores.<name>.evaluator`.
   * Default `native`: proven against Cedar's conformance corpus and a differential fuzzer, and an
   * order of magnitude cheaper per decision than crossing into wasm. A store whose policies use
   * something the native evaluator does not implement runs on `wasm` and says so (log, /readyz,
   * `authz_store_evaluator`).
   */
  default: EvaluatorNameSchema.default('native'),
  verify: z
    .strictObject({
      /**
       * Fraction of native decisions decided again by cedar-wasm after the answer went out (never
       * delaying or changing it); a disagreement counts in `authz_evaluator_mismatches_total` and is
       * logged with the decision id. Default 0.001 (one in a thousand); 0 is off.
       */
      sampleRate: z.number().min(0).max(1).default(0.001),
      /** `switch` (default): a disagreement moves that store version to `wasm`; `count`: only reported. */
      onMismatch: z.enum(['switch', 'count']).default('switch'),
    })
    .prefault({}),
});

/**
 * A candidate store evaluated beside a live one: a sampled fraction of the live store's decisions
 * is decided again by the candidate off the request path (the answer is never changed or delayed),
 * and the flips are counted, logged and shown in /readyz. A string is short for `{ path }`.
 */
const ShadowSchema = z.preprocess(
  (v) => (typeof v === 'string' ? { path: v } : v),
  z
    .strictObject({
      /** A store folder (relative to the config file), watched and reloaded like any store. */
      path: z.string().min(1).optional(),
      /** Or another store of this config, by name. */
      store: z.string().min(1).optional(),
      /** Fraction of the live store's decisions decided again, 0 to 1. Default 1 (every one). */
      sampleRate: z.number().min(0).max(1).default(1),
      /** Decisions waiting for the candidate; beyond it they are not shadowed, and counted. Default 1,000. */
      queueSize: z.number().int().positive().default(1_000),
    })
    .refine((s) => (s.path === undefined) !== (s.store === undefined), {
      message: 'set exactly one of path (a store folder) or store (another store of this config)',
    }),
);

const LocalStoreSchema = z.strictObject({
  /** `local` (the default when `engine` is left out): cedar-wasm over a folder of policy files. */
  engine: z.literal('local'),
  /** Folder of the store; default `<policies.dir>/<store name>`. */
  path: z.string().min(1).optional(),
  /** Scope slicing for this store; default `slicing.default`. */
  slicing: SlicingModeSchema.optional(),
  /** `native` or `wasm` for this store; default `evaluator.default`. */
  evaluator: EvaluatorNameSchema.optional(),
  /** A candidate store shadowing this one; default none. */
  shadow: ShadowSchema.optional(),
});

const SlicingSchema = z.strictObject({
  /** Mode of every store that does not set `stores.<name>.slicing` (also when `stores` is absent). */
  default: SlicingModeSchema.default('auto'),
  /** `auto` slices a store version with at least this many policies (static + template-linked). */
  autoThreshold: z.number().int().min(0).default(200),
  /** Preparsed slices kept per store (least recently used out). Bounds Cedar's memory. */
  cacheSize: z.number().int().min(1).max(1_000_000).default(2_000),
  /**
   * Cedar's wasm memory is grown once, when the first store slices, to at least this many MiB, so
   * that filling slice caches does not grow it step by step: in Node 20 each growth of a large wasm
   * memory costs a full GC (measured: filling 10,000 slices, p99 12.7 ms without, 1.0 ms with).
   * `auto` (default) reserves what a full slice cache takes anyway, about 20 KiB per slice
   * (`cacheSize` × 20 KiB: 39 MiB for the default 2,000; at most 2,048 MiB). A number is MiB, up to
   * 2,048 (the reservation goes through one string, and V8's strings stop short of 512 Mi
   * characters); 0 is off.
   */
  wasmMemoryMiB: z.union([z.literal('auto'), z.number().int().min(0).max(2_048)]).default('auto'),
});

/** Where an AVP policy store is. Shared by the `avp` and `avp-sync` engines. */
const AvpLocation = {
  /** The AVP policy store id (`PSEXAMPLEabcdefg111111`) or alias (`policy-store-alias/NAME`). Required. */
  policyStoreId: z.string().min(1).max(200),
  /** AWS region of the policy store, e.g. `eu-west-1`. Required. */
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'an AWS region such as eu-west-1'),
  /**
   * Endpoint URL instead of AVP's regional one (a VPC endpoint, or a local AVP-protocol server in
   * tests). Default: none (the SDK's endpoint for the region). Credentials always come from the
   * AWS SDK's default chain (environment, shared config/SSO, web identity/IRSA, container or
   * instance role); the config never holds them.
   */
  endpoint: z.url().optional(),
  /**
   * A JSON file of Cedar entities sent with every request (AVP stores no entities): typically the
   * group hierarchy and tenants that a local store keeps in its `entities.json`. Relative to the
   * config file. Default: none.
   */
  entitiesFile: z.string().min(1).optional(),
};

const AvpStoreSchema = z.strictObject({
  /** `avp`: every decision (that the cache does not answer) is a call to Amazon Verified Permissions. */
  engine: z.literal('avp'),
  ...AvpLocation,
  /** A candidate store shadowing this one (e.g. a local folder before moving off AVP); default none. */
  shadow: ShadowSchema.optional(),
  /**
   * `is-authorized` (default): IsAuthorized / BatchIsAuthorized with the principal the sidecar
   * derived from the token (its attributes and groups sent as entities). `with-token`:
   * IsAuthorizedWithToken / BatchIsAuthorizedWithToken for token callers, so AVP's identity
   * source maps the token itself (the sidecar still verifies it to route); requests with a stated
   * principal still use IsAuthorized.
   */
  mode: z.enum(['is-authorized', 'with-token']).default('is-authorized'),
  /**
   * In `with-token` mode, which AVP field carries the token: `auto` (default) sends ID tokens
   * (`token_use: id`) as `identityToken` and everything else as `accessToken`.
   */
  tokenField: z.enum(['auto', 'identity', 'access']).default('auto'),
  /**
   * Time budget per decision (per `decide` call, which runs its AVP calls in parallel), in
   * milliseconds, retries included. Past it the decision is a DENY with reason
   * `engine_unavailable`. Default 250.
   */
  timeBudgetMs: z.number().int().min(10).max(60_000).default(250),
  /** Retries of a call that was throttled, got a 5xx or failed to connect, within the budget. Default 2. */
  retries: z.number().int().min(0).max(10).default(2),
  /** First backoff step in milliseconds; the wait is random in [0, base·2^attempt), capped by the budget. Default 25. */
  retryBaseMs: z.number().int().min(1).max(10_000).default(25),
  circuitBreaker: z
    .strictObject({
      /** Consecutive failed calls that open the circuit (calls are then refused without going out). Default 5. */
      failureThreshold: z.number().int().min(1).max(1000).default(5),
      /** How long the circuit stays open before one probe call is let through, in milliseconds. Default 10000. */
      resetMs: z.number().int().min(10).max(3_600_000).default(10_000),
    })
    .prefault({}),
  /**
   * Requests sharing a principal or a resource go out as one BatchIsAuthorized call (at most 30)
   * when at least this many share it; smaller groups go as single IsAuthorized calls. AVP bills a
   * batch call like 30 single calls in its first price tier ($150 vs $5 per million), so the
   * default 30 never costs more than single calls; lower it (to 15 or 8 in the higher tiers, or
   * 2 for the fewest calls against the request quota) as docs/AVP.md explains. Default 30.
   */
  minBatchSize: z.number().int().min(2).max(30).default(30),
});

const AvpSyncStoreSchema = z.strictObject({
  /**
   * `avp-sync`: policies, templates, template-linked policies and the schema are pulled from AVP
   * and evaluated locally with cedar-wasm; AVP is not called per decision.
   */
  engine: z.literal('avp-sync'),
  ...AvpLocation,
  /** A candidate store shadowing this one; default none. */
  shadow: ShadowSchema.optional(),
  /** Scope slicing of the pulled policies; default `slicing.default`. */
  slicing: SlicingModeSchema.optional(),
  /** `native` or `wasm` for the pulled policies; default `evaluator.default`. */
  evaluator: EvaluatorNameSchema.optional(),
  /** Seconds between two refreshes (only what changed since the last one is fetched). Default 60. */
  refreshSeconds: z.number().int().min(1).max(86_400).default(60),
  /**
   * Past this age of the last good sync, decisions are DENY (`engine_unavailable`) and `/readyz`
   * is red. Default 900 (15 minutes); must be more than `refreshSeconds`.
   */
  maxStalenessSeconds: z.number().int().min(2).max(604_800).default(900),
});

/** A store without `engine` is a local one. */
const StoreSchema = z.preprocess(
  (v) =>
    v && typeof v === 'object' && !Array.isArray(v) && !('engine' in v) ? { ...v, engine: 'local' } : v,
  z.discriminatedUnion('engine', [
    LocalStoreSchema,
    AvpStoreSchema,
    AvpSyncStoreSchema.refine((s) => s.maxStalenessSeconds > s.refreshSeconds, {
      message: 'must be more than refreshSeconds',
      path: ['maxStalenessSeconds'],
    }),
  ]),
);

const AvpDoorSchema = z.strictObject({
  /**
   * Serve the AVP JSON 1.0 protocol (IsAuthorized, BatchIsAuthorized, IsAuthorizedWithToken,
   * BatchIsAuthorizedWithToken) so AWS SDK code can point `endpoint` at the sidecar. Default false.
   */
  enabled: z.boolean().default(false),
  /**
   * Address of the AVP door's own listener. Loopback only (127.0.0.0/8, ::1, localhost): the
   * door trusts the principal a request states and SigV4 signatures are not checked, so it must
   * never be reachable from another host. Default `127.0.0.1`.
   */
  host: z
    .string()
    .refine((h) => /^127(\.\d{1,3}){3}$/.test(h) || h === '::1' || h === 'localhost', {
      message: 'the AVP door binds to a loopback address only (127.x.x.x, ::1, localhost)',
    })
    .default('127.0.0.1'),
  /** Port of the AVP door. Default 8182; 0 picks a free port. */
  port: z.number().int().min(0).max(65535).default(8182),
  /**
   * AVP policy store id → local store name. A `policyStoreId` not listed here selects the store of
   * that name, if there is one. Default: none.
   */
  policyStores: z.record(z.string().min(1), z.string().min(1)).default({}),
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

const DecisionLogSchema = z
  .strictObject({
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
     * Record with each decision what `authz-sidecar replay` needs to decide it again: the request as
     * its store saw it (`request`: principal, action, resource, the whole context with the token's
     * claims the store was given, and the request's entities with the verified principal's), and
     * which mask paths hid a value (`masked`). Never the token itself. The privacy cost: lines carry
     * every entity attribute and claim a decision used, lines about twice as long; mask what must not
     * be kept (`context.x` also masks `request.context.x`), and a masked line is reported by replay
     * as not replayable. Default false.
     */
    replayable: z.boolean().default(false),
    /**
     * Lines held in memory while the destination is busy; beyond it lines are dropped and counted in
     * `authz_decision_logs_dropped_total`, so logging never slows a decision. Default 10,000.
     */
    bufferSize: z.number().int().positive().default(10_000),
    /**
     * What a full buffer does while the destination does not take lines. `drop` (default): lines are
     * dropped and counted, an ALLOW before a DENY; costs nothing, loses lines under a long stall.
     * `spool`: lines go to a bounded file on local disk (`spool.path`), written out in order when
     * the destination recovers and after a restart; drops (ALLOW first) only once the spool is full.
     */
    onFull: z.enum(['drop', 'spool']).default('drop'),
    spool: z
      .strictObject({
        /** The spool file, on local disk that survives a restart (relative to the config file). Required with `onFull: spool`. */
        path: z.string().min(1).optional(),
        /** Bytes the spool may hold; beyond it lines are dropped and counted. Default 256 MiB. */
        maxBytes: z
          .number()
          .int()
          .positive()
          .default(256 * 1024 * 1024),
      })
      .prefault({}),
  })
  .refine((l) => l.onFull !== 'spool' || l.spool.path !== undefined, {
    message: 'decisionLog.spool.path is required when decisionLog.onFull is spool',
    path: ['spool', 'path'],
  });

export const ConfigSchema = z.strictObject({
  server: ServerSchema.prefault({}),
  policies: PoliciesSchema.prefault({}),
  /**
   * Explicit stores by name. When absent, every folder under `policies.dir` is a local store;
   * when present, only the stores listed here are served.
   */
  stores: z
    .record(z.string().regex(/^[A-Za-z0-9_.-]+$/, 'store names use letters, digits, _ . -'), StoreSchema)
    .optional(),
  /** The AVP-protocol door (off by default). */
  avpDoor: AvpDoorSchema.prefault({}),
  /** Scope slicing: evaluate only the policies that can apply to a request (large stores). */
  slicing: SlicingSchema.prefault({}),
  /** Which Cedar evaluator decides for local and avp-sync stores, and how it is checked. */
  evaluator: EvaluatorSchema.prefault({}),
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
  /** The gRPC server (Envoy ext_authz gRPC and gRPC health); off by default. */
  grpc: GrpcSchema,
  /** Envoy HTTP ext_authz and nginx auth_request door. */
  extAuthz: ExtAuthzSchema.prefault({}),
  /** (method, path) → Cedar action, resource and context for the proxy doors; none: every request is denied. */
  httpRoutes: HttpRoutesSchema.optional(),
  /** The OpenID AuthZEN Authorization API door. */
  authzen: AuthzenSchema,
});

export type Config = z.infer<typeof ConfigSchema>;
export type LocalStoreConfig = z.infer<typeof LocalStoreSchema>;
export type DecisionLogConfig = z.infer<typeof DecisionLogSchema>;
export type AvpStoreConfig = z.infer<typeof AvpStoreSchema>;
export type AvpSyncStoreConfig = z.infer<typeof AvpSyncStoreSchema>;
export type StoreConfig = LocalStoreConfig | AvpStoreConfig | AvpSyncStoreConfig;
export type AvpDoorConfig = z.infer<typeof AvpDoorSchema>;
export type ShadowConfig = z.infer<typeof ShadowSchema>;
export type SlicingConfig = z.infer<typeof SlicingSchema>;
export type SlicingMode = z.infer<typeof SlicingModeSchema>;
export type EvaluatorName = z.infer<typeof EvaluatorNameSchema>;
export type EvaluatorConfig = z.infer<typeof EvaluatorSchema>;
export type IssuerConfig = z.infer<typeof IssuerSchema>;
export type RouteConfig = z.infer<typeof RouteSchema>;
export type ClaimMapping = z.infer<typeof ClaimMappingSchema>;
