import { z } from 'zod';

/**
 * Config sections of the proxy and AuthZEN doors: the HTTP route table shared by the Envoy
 * (HTTP and gRPC) and nginx doors, the ext_authz door settings, the gRPC server and AuthZEN.
 */

const HTTP_METHOD = /^(\*|[A-Z]+)$/;
const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;
const headerName = z.string().regex(HEADER_NAME, 'a lowercase HTTP header name');

/** A Cedar entity type, with or without namespace (`Report`, `PaymentsApi::Report`). */
const cedarType = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*(::[A-Za-z_][A-Za-z0-9_]*)*$/, 'a Cedar entity type such as Ns::Type');

const HttpRouteSchema = z.strictObject({
  /** HTTP method in upper case (`GET`), or `*` for any method. */
  method: z.string().regex(HTTP_METHOD, 'an upper-case HTTP method or *'),
  /**
   * Path template as in API Gateway: literal segments and `{name}` parameters, and optionally a
   * greedy `{name+}` as the last segment (one or more segments). Example `/accounts/{accountId}`.
   */
  path: z.string().min(1),
  /** Action id; default `"<lowercase method> <path template>"` as AVP's API-linked stores name them. */
  action: z.string().min(1).optional(),
  /**
   * The resource; default `<namespace>::Application::"<namespace>"`. Here: a type (a name without
   * `::` is put in the namespace), the path parameter holding its id, and attributes taken from
   * path parameters (`{attribute: parameter}`); the resource entity is then passed to Cedar.
   */
  resource: z
    .strictObject({
      type: cedarType,
      idParameter: z.string().min(1),
      attributes: z.record(z.string().min(1), z.string().min(1)).default({}),
    })
    .optional(),
  /**
   * Query parameters passed to policies in `context.queryStringParameters`; default all of them.
   * With a Cedar schema, list the ones the action declares: an undeclared one fails validation.
   */
  query: z.array(z.string().min(1)).optional(),
});

export const HttpRoutesSchema = z.strictObject({
  /** Cedar namespace of the API's actions and application resource (AVP: the API's namespace). */
  namespace: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*(::[A-Za-z_][A-Za-z0-9_]*)*$/),
  /**
   * The policy store that answers every proxy request (carried as `DecisionRequest.store`). Omit
   * to route callers by the `routes` section like the token API does.
   */
  store: z.string().min(1).optional(),
  /**
   * What a request that matches no route gets: `deny` (default, reason `no_route`), or a fixed
   * action evaluated on the application resource with `{method, path}` in context.
   */
  unmatched: z.union([z.literal('deny'), z.strictObject({ action: z.string().min(1) })]).default('deny'),
  routes: z.array(HttpRouteSchema).default([]),
});

const UpstreamHeadersSchema = z.strictObject({
  /** Header carrying the principal, e.g. `Payments::User::"dev|alice"`. Default `x-authz-principal`. */
  principal: headerName.default('x-authz-principal'),
  /** Header carrying the decision id (the decision log's id). Default `x-authz-decision-id`. */
  decisionId: headerName.default('x-authz-decision-id'),
  /** Header carrying the caller type (`user`, `service`…). Default `x-authz-caller-type`. */
  callerType: headerName.default('x-authz-caller-type'),
});

/** First path segments of the sidecar's own endpoints (API, probes, metrics, AuthZEN). */
const OWN_SEGMENTS = ['v1', 'healthz', 'readyz', 'metrics', 'access', '.well-known'] as const;
const ownPath = (path: string) => (OWN_SEGMENTS as readonly string[]).includes(path.split('/')[1] ?? '');

export const ExtAuthzSchema = z
  .strictObject({
    /**
     * Envoy HTTP ext_authz: the path prefix Envoy's `http_service.path_prefix` puts before the
     * original path. The door reads the original method and path from the request itself.
     * Default `/ext-authz`.
     */
    pathPrefix: z
      .string()
      .regex(/^\/[A-Za-z0-9._~/-]*[A-Za-z0-9._~-]$/, 'a path such as /ext-authz')
      .default('/ext-authz'),
    /**
     * nginx `auth_request`: the exact path the subrequest is sent to. Here (and only here) the
     * original URI and method are read from the two headers below, which nginx sets itself.
     * Default `/auth-request`.
     */
    authRequestPath: z
      .string()
      .regex(/^\/[A-Za-z0-9._~/-]*[A-Za-z0-9._~-]$/, 'a path such as /auth-request')
      .default('/auth-request'),
    /** Header with the original request URI (nginx `$request_uri`). Default `x-original-uri`. */
    originalUriHeader: headerName.default('x-original-uri'),
    /** Header with the original method (nginx `$request_method`). Default `x-original-method`. */
    originalMethodHeader: headerName.default('x-original-method'),
    /** Headers set for the upstream on ALLOW (and overwritten if the client sent them). */
    upstreamHeaders: UpstreamHeadersSchema.prefault({}),
  })
  // Under the Envoy prefix, the nginx path would be read as an Envoy request and vice versa.
  .refine((e) => !`${e.authRequestPath}/`.startsWith(`${e.pathPrefix}/`), {
    message: 'authRequestPath must not be under pathPrefix',
    path: ['authRequestPath'],
  })
  // On a path the sidecar serves itself, a proxy check would get that endpoint's 200 (an ALLOW)
  // or turn the endpoint into a check.
  .refine((e) => !ownPath(e.pathPrefix), {
    message: `pathPrefix must not be one of the sidecar's own paths (${OWN_SEGMENTS.map((s) => `/${s}`).join(', ')})`,
    path: ['pathPrefix'],
  })
  .refine((e) => !ownPath(e.authRequestPath), {
    message: `authRequestPath must not be one of the sidecar's own paths (${OWN_SEGMENTS.map((s) => `/${s}`).join(', ')})`,
    path: ['authRequestPath'],
  });

export const GrpcSchema = z
  .strictObject({
    /** Serve Envoy's gRPC ext_authz and `grpc.health.v1.Health`. Default false. */
    enabled: z.boolean().default(false),
    /** Address the gRPC server binds. Default `127.0.0.1`. */
    host: z.string().min(1).default('127.0.0.1'),
    /** gRPC port. Default 9191 (as OPA's Envoy plugin); 0 picks a free port. */
    port: z.number().int().min(0).max(65535).default(9191),
    /** Also listen on this Unix socket (Envoy: `pipe: {path: ...}`). Default none. */
    socketPath: z.string().min(1).optional(),
    /** How often a health `Watch` stream re-checks readiness, in milliseconds. Default 1000. */
    healthPollMs: z.number().int().min(10).default(1000),
  })
  .prefault({});

const SubjectTypeSchema = z.union([
  cedarType,
  z
    .strictObject({
      /** Cedar entity type of the principal. */
      entityType: cedarType,
      /** Caller type used to route to a store; default the AuthZEN subject type itself. */
      callerType: z.string().min(1).optional(),
      /** A subject property holding group names, turned into parent entities of `groupType`. */
      groupsProperty: z.string().min(1).optional(),
      /** Cedar entity type of those groups (required with `groupsProperty`). */
      groupType: cedarType.optional(),
    })
    .refine((s) => !s.groupsProperty || s.groupType, {
      message: 'groupsProperty needs a groupType',
      path: ['groupType'],
    }),
]);

export const AuthzenSchema = z
  .strictObject({
    /**
     * Serve the OpenID AuthZEN Authorization API 1.0 on the HTTP server. Its callers state the
     * subject, so it is for trusted local callers like `/v1/is-authorized`. Default true.
     */
    enabled: z.boolean().default(true),
    /** The `policy_decision_point` URL in the metadata; default the base URL of the request. */
    policyDecisionPoint: z.url().optional(),
    /**
     * AuthZEN subject type → Cedar principal type (and the caller type it routes as). A subject
     * type not listed here is used verbatim as both. Example `{user: Payments::User}`.
     */
    subjectTypes: z.record(z.string().min(1), SubjectTypeSchema).default({}),
    /** AuthZEN resource type → Cedar entity type; a type not listed is used verbatim. */
    resourceTypes: z.record(z.string().min(1), cedarType).default({}),
    /** Cedar type of actions: `action.name` becomes `<actionType>::"<name>"`. Default `Action`. */
    actionType: cedarType.default('Action'),
    /**
     * A Cedar context key that receives `action.properties` (Cedar actions carry no per-request
     * attributes), e.g. `action` makes `{"name": "delete", "properties": {"soft": true}}` readable
     * as `context.action.soft`; a request whose own context has that key is a 400. Default: none
     * (action properties are ignored).
     */
    actionPropertiesKey: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a Cedar identifier')
      .optional(),
    /**
     * A store for every AuthZEN request; omit to route by the subject's caller type (routes
     * without an `issuer` or `claim` condition, since a stated subject has neither).
     */
    store: z.string().min(1).optional(),
  })
  .prefault({});

export type HttpRoutesConfig = z.infer<typeof HttpRoutesSchema>;
export type HttpRouteConfig = z.infer<typeof HttpRouteSchema>;
export type ExtAuthzConfig = z.infer<typeof ExtAuthzSchema>;
export type GrpcConfig = z.infer<typeof GrpcSchema>;
export type AuthzenConfig = z.infer<typeof AuthzenSchema>;
