import type { IncomingMessage } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';
import { AuthzError } from '../../core/errors.js';
import type { RepeatMiss } from '../../pipeline/pipeline.js';

/** Where the middleware leaves the limit for `readBodyText`. */
const MAX_BYTES = 'authz.maxBodyBytes';
/** Where the middleware leaves the body timeout and the moment the request arrived. */
const DEADLINE = 'authz.bodyDeadline';

/**
 * The body size limit of a door. A declared `Content-Length` over the limit is refused here,
 * before anything is read; a body without one (chunked) is counted as `readBodyText` reads it.
 * Either way the answer is the same `body_too_large` error, rendered by the door's error handler
 * (a 413 on the HTTP API, a ValidationException on the AVP door).
 *
 * Not hono's `bodyLimit`: it wraps `c.req.raw.body`, which makes @hono/node-server build a full
 * WHATWG Request with a web ReadableStream for every request — measured, that alone was about a
 * fifth of the CPU time of a cached decision. Reading the Node request directly is the fast path.
 */
export function limitBody(maxBytes: number, options: { timeoutMs?: number } = {}): MiddlewareHandler {
  const { timeoutMs } = options;
  return async (c, next) => {
    const declared = c.req.header('content-length');
    if (declared !== undefined && Number(declared) > maxBytes) throw tooLargeError(maxBytes);
    c.set(MAX_BYTES as never, maxBytes as never);
    if (timeoutMs !== undefined) c.set(DEADLINE as never, (Date.now() + timeoutMs) as never);
    await next();
  };
}

/**
 * A body the repeat fast path (front.ts) read before hono saw the request, left on the Node
 * request for the door that then handles it: its text or why it could not be read, and what the
 * repeat lookup learnt (handed to `Pipeline.decideRaw`, so a token is not verified twice).
 */
export interface ReadAhead {
  text?: string;
  error?: AuthzError;
  miss?: RepeatMiss;
}

const READ_AHEAD = Symbol('authz.readAhead');

export function setReadAhead(incoming: IncomingMessage, ahead: ReadAhead): void {
  (incoming as IncomingMessage & { [READ_AHEAD]?: ReadAhead })[READ_AHEAD] = ahead;
}

const incomingOf = (c: Context) => (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;

/** What the repeat lookup of the fast path learnt about this request, if it ran. */
export function repeatMissOf(c: Context): RepeatMiss | undefined {
  return (incomingOf(c) as { [READ_AHEAD]?: ReadAhead } | undefined)?.[READ_AHEAD]?.miss;
}

/**
 * The request body as text, at most the door's limit (`limitBody`): a larger body throws
 * `body_too_large` as soon as the limit is passed, without buffering the rest. A body that is not
 * complete by the door's deadline (`limitBody`'s `timeoutMs` after the request arrived: it
 * trickles, or stops short of its Content-Length) throws `request_timeout`, and the answer closes
 * the connection (the rest of the body would otherwise be waited for on it).
 */
export async function readBodyText(c: Context): Promise<string> {
  const maxBytes = (c.get(MAX_BYTES as never) as number | undefined) ?? Infinity;
  const incoming = incomingOf(c);
  if (!incoming || typeof incoming.on !== 'function') {
    // Not served by @hono/node-server (app.request() in tests): the whole body, then the check.
    const buf = Buffer.from(await c.req.arrayBuffer());
    if (buf.length > maxBytes) throw tooLargeError(maxBytes);
    return buf.toString('utf8');
  }
  const ahead = (incoming as { [READ_AHEAD]?: ReadAhead })[READ_AHEAD];
  try {
    if (ahead) {
      if (ahead.error) throw ahead.error;
      return ahead.text!;
    }
    if (incoming.readableEnded) throw new AuthzError('invalid_request', 'The request body was already read.');
    return await readIncoming(incoming, maxBytes, c.get(DEADLINE as never) as number | undefined);
  } catch (err) {
    if (err instanceof AuthzError && err.code === 'request_timeout') c.header('Connection', 'close');
    throw err;
  }
}

/**
 * A Node request's body as text: `body_too_large` past `maxBytes` (the rest is read and
 * discarded, so the answer can still go out on this socket), `request_timeout` when it is not
 * complete by `deadline` (ms since the epoch), `invalid_request` when the stream fails.
 */
export function readIncoming(
  incoming: IncomingMessage,
  maxBytes: number,
  deadline?: number,
): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer =
      deadline === undefined
        ? undefined
        : setTimeout(
            () => {
              cleanup();
              reject(new AuthzError('request_timeout', 'The request body was not received in time.'));
            },
            Math.max(0, deadline - Date.now()),
          );
    const cleanup = () => {
      if (timer) clearTimeout(timer);
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) return void chunks.push(chunk);
      // The rest is read and discarded (not destroyed: the 413 still goes out on this socket).
      cleanup();
      incoming.resume();
      reject(tooLargeError(maxBytes));
    };
    const onEnd = () => {
      cleanup();
      resolve(
        chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, size).toString('utf8'),
      );
    };
    const onError = (err: Error) => {
      cleanup();
      reject(new AuthzError('invalid_request', `The request body could not be read (${err.message}).`));
    };
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('error', onError);
  });
}

function tooLargeError(maxBytes: number): AuthzError {
  return new AuthzError('body_too_large', `The request body is larger than ${maxBytes} bytes.`);
}
