import type { CedarValue, Entity, EntityUid } from '../cedar/types.js';
import type { HttpRouteConfig, HttpRoutesConfig } from '../config/index.js';
import { StartupError } from '../core/errors.js';
import { normalizeTarget } from './normalize-path.js';

/**
 * The HTTP route table shared by the Envoy HTTP, Envoy gRPC and nginx doors: (method, request
 * target) → Cedar action, resource, context and entities, following AVP's API-linked stores:
 * action `<ns>::Action::"get /accounts/{accountId}"`, resource `<ns>::Application::"<ns>"`,
 * context `{pathParameters, queryStringParameters}`.
 *
 * The target is normalised first (see normalize-path.ts). When several routes match, the most
 * specific wins: segment by segment, a literal beats a `{parameter}`, which beats a greedy
 * `{parameter+}`; then a named method beats `*`; then the route listed first.
 */
export interface HttpRouteTable {
  /** The store every proxy request goes to, if the config names one. */
  readonly store?: string;
  readonly namespace: string;
  map(method: string, target: string): RouteMatch;
}

/** Where a request goes in Cedar terms, or why it goes nowhere (a DENY with that reason). */
export type RouteMatch =
  | {
      ok: true;
      /** The route's template, or undefined for the configured unmatched action. */
      route?: string;
      action: EntityUid;
      resource: EntityUid;
      context: Record<string, CedarValue>;
      entities: Entity[];
    }
  | { ok: false; reason: 'no_route' | 'invalid_request'; message: string };

type Segment = { kind: 'literal'; value: string } | { kind: 'param'; name: string; greedy: boolean };

interface CompiledRoute {
  config: HttpRouteConfig;
  segments: Segment[];
  actionId: (method: string) => string;
}

/** Compiles the route table; a bad template throws StartupError naming `httpRoutes.routes.N`. */
export function createHttpRouteTable(config: HttpRoutesConfig): HttpRouteTable {
  const problems: string[] = [];
  const seen = new Set<string>();
  const routes: CompiledRoute[] = [];
  config.routes.forEach((route, i) => {
    const where = `httpRoutes.routes.${i}`;
    const parsed = parseTemplate(route.path);
    if (typeof parsed === 'string') {
      problems.push(`- key "${where}.path": ${parsed}`);
      return;
    }
    const names = parsed.flatMap((s) => (s.kind === 'param' ? [s.name] : []));
    const shape = `${route.method} ${parsed.map((s) => (s.kind === 'literal' ? s.value : s.greedy ? '{+}' : '{}')).join('/')}`;
    if (seen.has(shape)) problems.push(`- key "${where}": the same method and path as an earlier route`);
    seen.add(shape);
    if (route.resource) {
      for (const param of [route.resource.idParameter, ...Object.values(route.resource.attributes)]) {
        if (!names.includes(param))
          problems.push(`- key "${where}.resource": "${param}" is not a parameter of ${route.path}`);
      }
    }
    const template = route.path;
    routes.push({
      config: route,
      segments: parsed,
      actionId: (method) =>
        route.action ?? `${(route.method === '*' ? method : route.method).toLowerCase()} ${template}`,
    });
  });
  if (problems.length) throw new StartupError(`invalid configuration:\n${problems.join('\n')}`);

  const ns = config.namespace;
  const actionType = `${ns}::Action`;
  const application: EntityUid = { type: `${ns}::Application`, id: ns };
  const qualify = (type: string) => (type.includes('::') ? type : `${ns}::${type}`);

  function map(rawMethod: string, rawTarget: string): RouteMatch {
    const method = rawMethod.toUpperCase();
    if (!/^[A-Z]+$/.test(method)) return invalid('the method is not an HTTP method');
    const normalized = normalizeTarget(rawTarget);
    if (!normalized.ok) return invalid(normalized.problem);
    const { segments, query, path } = normalized.target;

    let best: { route: CompiledRoute; params: Record<string, string>; rank: number[] } | undefined;
    for (const route of routes) {
      if (route.config.method !== '*' && route.config.method !== method) continue;
      const params = matchSegments(route.segments, segments);
      if (!params) continue;
      // Specificity: segment weights first, then a named method over `*`.
      const rank = [...route.segments.map(weight), -1, route.config.method === '*' ? 0 : 1];
      if (!best || compareRank(rank, best.rank) > 0) best = { route, params, rank };
    }

    if (!best) {
      if (config.unmatched === 'deny')
        return { ok: false, reason: 'no_route', message: 'No route matches this request.' };
      return {
        ok: true,
        action: { type: actionType, id: config.unmatched.action },
        resource: application,
        context: { method, path },
        entities: [],
      };
    }

    const { route, params } = best;
    const queryParameters: Record<string, string> = {};
    const names = route.config.query ?? [...query.keys()];
    for (const name of names) {
      const values = query.get(name);
      if (!values) continue;
      // Frameworks disagree on which of several values wins, so the policy cannot know which one the app reads.
      if (values.length > 1) return invalid(`the query parameter "${name}" is repeated`);
      queryParameters[name] = values[0]!;
    }

    let resource = application;
    const entities: Entity[] = [];
    if (route.config.resource) {
      const r = route.config.resource;
      resource = { type: qualify(r.type), id: params[r.idParameter]! };
      const attrs: Record<string, CedarValue> = {};
      for (const [attribute, param] of Object.entries(r.attributes)) attrs[attribute] = params[param]!;
      // A resource with no attributes from the path is the store's own entity (its static
      // entities know its tenant), not one the request builds: supplying it would shadow the store's.
      if (Object.keys(attrs).length) entities.push({ uid: resource, attrs, parents: [] });
    }
    return {
      ok: true,
      route: route.config.path,
      action: { type: actionType, id: route.actionId(method) },
      resource,
      context: { pathParameters: params, queryStringParameters: queryParameters },
      entities,
    };
  }

  return { namespace: ns, ...(config.store ? { store: config.store } : {}), map };
}

function invalid(message: string): RouteMatch {
  return { ok: false, reason: 'invalid_request', message: `The request path is refused: ${message}.` };
}

/** `/accounts/{accountId}` → segments; a string is the problem with the template. */
function parseTemplate(path: string): Segment[] | string {
  if (!path.startsWith('/')) return 'a path template starts with /';
  if (path.includes('?') || path.includes('#')) return 'a path template has no query or fragment';
  const parts = path === '/' ? [] : path.slice(1).split('/');
  const segments: Segment[] = [];
  const names = new Set<string>();
  for (const [i, part] of parts.entries()) {
    if (part === '') return 'a path template has no empty segments (// or a trailing /)';
    if (part === '.' || part === '..') return 'a path template has no . or .. segments';
    const param = /^\{([A-Za-z_][A-Za-z0-9_]*)(\+?)\}$/.exec(part);
    if (param) {
      const [, name, plus] = param as unknown as [string, string, string];
      if (names.has(name)) return `the parameter {${name}} appears twice`;
      if (plus && i !== parts.length - 1) return `the greedy parameter {${name}+} must be the last segment`;
      names.add(name);
      segments.push({ kind: 'param', name, greedy: plus === '+' });
    } else if (/[{}%]/.test(part)) {
      return `the segment "${part}" is neither a literal nor a {parameter} (write literals decoded)`;
    } else {
      segments.push({ kind: 'literal', value: part });
    }
  }
  return segments;
}

function matchSegments(template: Segment[], segments: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < template.length; i++) {
    const t = template[i]!;
    if (t.kind === 'param' && t.greedy) {
      if (segments.length <= i) return undefined;
      params[t.name] = segments.slice(i).join('/');
      return params;
    }
    const s = segments[i];
    if (s === undefined) return undefined;
    if (t.kind === 'literal') {
      if (t.value !== s) return undefined;
    } else {
      params[t.name] = s;
    }
  }
  return segments.length === template.length ? params : undefined;
}

function weight(s: Segment): number {
  return s.kind === 'literal' ? 3 : s.greedy ? 1 : 2;
}

function compareRank(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
