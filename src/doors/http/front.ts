import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Decision, RawRequest } from '../../core/decision.js';
import type { Pipeline } from '../../pipeline/pipeline.js';
import { readIncoming, setReadAhead, type ReadAhead } from './body-limit.js';
import type { LoadGate } from './load.js';
import { authorizationCount } from '../shared/bearer.js';

/**
 * The repeat fast path: the HTTP server's first look at a request, before hono. A byte-identical
 * repeat of an answered question by the same verified caller (`Pipeline.repeat`) is answered
 * here on Node's own request and response; everything else (a miss, an error, a request this
 * path does not take) goes on to hono unchanged, with the body and the lookup's result left on
 * the request for the door (`ReadAhead`), so nothing is read, parsed or verified twice.
 *
 * Why: the hono floor costs ~20% more CPU than a bare node:http answer (its Request, Context,
 * middleware chain and Response objects); a cached decision paid all of it on top of its own
 * work (docs/BENCHMARKS.md "Where the time goes now").
 *
 * What hono's middlewares do on the way is kept: the request is counted by the same `LoadGate`
 * (`server.maxInFlight`; when full, hono answers the 503), counted in `authz_http_requests_total`
 * under the route pattern hono would report, a declared body over the limit or a chunked body is
 * left to hono (413), and while draining every request goes to hono (`Connection: close`).
 */

/** A request a door's fast path takes: how to key it, and how to answer a cached decision. */
export interface FrontMatch {
  /** The `route` label hono would count it under (its route pattern). */
  route: string;
  /** Whether the key needs the body (read here, at most the body limit, within the body timeout). */
  body: boolean;
  /** The repeat key; `token` undefined: a repeat cannot be known before parsing, go to hono. */
  key(text: string | undefined): { raw: RawRequest; token: string | null | undefined };
  /** Writes the answer of a cached decision; returns its status. */
  write(res: ServerResponse, decision: Decision): number;
  /** Called before the request goes on to hono (the Envoy door keeps the raw target). */
  beforeFallback?(req: IncomingMessage): void;
}

/** A door's part of the fast path: the match of a request it owns, or undefined. */
export type FrontMatcher = (req: IncomingMessage) => FrontMatch | undefined;

export interface FrontDeps {
  pipeline: Pipeline;
  gate: LoadGate;
  matchers: FrontMatcher[];
  bodyLimitBytes: number;
  bodyTimeoutMs?: number;
  draining?: () => boolean;
  recordRequest?: (route: string, method: string, status: number) => void;
  /** A failure writing an answer here (logged; the connection is closed). */
  onError?: (err: unknown) => void;
}

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/** `next` behind the fast path: hono's listener. */
export function createFront(deps: FrontDeps, next: RequestListener): RequestListener {
  const { pipeline, gate, matchers, bodyLimitBytes, bodyTimeoutMs, draining, recordRequest, onError } = deps;

  const match = (req: IncomingMessage): FrontMatch | undefined => {
    for (const m of matchers) {
      const found = m(req);
      if (found) return found;
    }
    return undefined;
  };

  /** A body this path can read whole: declared, and within the limit. */
  const bodyFits = (req: IncomingMessage, needed: boolean) => {
    const declared = req.headers['content-length'];
    if (req.headers['transfer-encoding'] !== undefined) return false;
    if (declared === undefined) return !needed;
    const n = Number(declared);
    return n <= bodyLimitBytes;
  };

  return (req, res) => {
    const m = match(req);
    if (!m) return next(req, res);
    const fallback = (ahead?: ReadAhead) => {
      if (ahead) setReadAhead(req, ahead);
      m.beforeFallback?.(req);
      next(req, res);
    };
    // Two `Authorization` headers is the door's 400 (bearer.ts): hono's path answers it.
    if (draining?.() || !bodyFits(req, m.body) || authorizationCount(req.rawHeaders) > 1) return fallback();
    if (!gate.enter()) return fallback();

    const attempt = (text: string | undefined) => {
      let key: ReturnType<FrontMatch['key']>;
      try {
        key = m.key(text);
      } catch {
        gate.leave();
        return fallback(text === undefined ? undefined : { text });
      }
      if (key.token === undefined) {
        gate.leave();
        return fallback(text === undefined ? undefined : { text });
      }
      pipeline.repeat(key.raw, key.token).then(
        (found) => {
          if (!found.decision) {
            gate.leave();
            return fallback(text === undefined ? { miss: found.miss } : { text, miss: found.miss });
          }
          let status: number;
          try {
            status = m.write(res, found.decision);
          } catch (err) {
            gate.leave();
            onError?.(err);
            res.destroy();
            return;
          }
          gate.leave();
          recordRequest?.(m.route, req.method!, status);
        },
        () => {
          // `repeat` does not fail (a token failure is a miss); if it did, the full path decides.
          gate.leave();
          fallback(text === undefined ? undefined : { text });
        },
      );
    };

    if (!m.body) return attempt(undefined);
    const deadline = bodyTimeoutMs === undefined ? undefined : Date.now() + bodyTimeoutMs;
    readIncoming(req, bodyLimitBytes, deadline).then(attempt, (error: ReadAhead['error']) => {
      gate.leave();
      fallback({ error });
    });
  };
}

/** Writes a JSON answer with its length (what hono's `c.body(text, status, headers)` sends). */
export function writeJson(
  res: ServerResponse,
  status: number,
  text: string,
  headers?: Record<string, string>,
): number {
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
  return status;
}
