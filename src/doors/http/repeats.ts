import { bearerFrom } from '../shared/bearer.js';
import { writeJson, type FrontMatch, type FrontMatcher } from './front.js';
import { decisionJson, statusOf } from './render.js';

/**
 * The HTTP API's part of the repeat fast path (front.ts): `POST /v1/is-authorized` (no caller to
 * verify) and `POST /v1/authorize` with a bearer header, keyed as their doors key them for
 * `Pipeline.decideRaw`, answered as their doors answer. A repeat is always an evaluated answer
 * (the cache keeps nothing else), so the token API's 401 never comes from here.
 */
const isAuthorized: FrontMatch = {
  route: '/v1/is-authorized',
  body: true,
  key: (text) => ({ raw: { door: 'is-authorized', text: text! }, token: null }),
  write: (res, d) => writeJson(res, statusOf(d), decisionJson(d, false)),
};

export function apiRepeats(): FrontMatcher {
  return (req) => {
    if (req.method !== 'POST') return undefined;
    if (req.url === '/v1/is-authorized') return isAuthorized;
    if (req.url !== '/v1/authorize') return undefined;
    return {
      route: '/v1/authorize',
      body: true,
      // No header: the token may be a body field, known only after parsing (token undefined).
      key: (text) => ({
        raw: { door: 'authorize', text: text! },
        token: bearerFrom(req.headers.authorization),
      }),
      write: (res, d) => writeJson(res, statusOf(d), decisionJson(d, true)),
    };
  };
}
