import { readFile } from 'node:fs/promises';
import {
  createLocalJWKSet,
  errors,
  type JSONWebKeySet,
  type JWSHeaderParameters,
  type FlattenedJWSInput,
} from 'jose';
import { AuthzError } from '../core/errors.js';

export interface KeySourceStatus {
  loaded: boolean;
  keys: number;
  lastRefresh?: string;
  lastError?: string;
}

/** Where an issuer's keys come from. */
export type KeyLocation =
  { kind: 'uri'; uri: string } | { kind: 'file'; path: string } | { kind: 'discovery'; issuer: string };

export interface KeySourceOptions {
  location: KeyLocation;
  /** Background refresh period. */
  refreshSeconds: number;
  /** Least time between two fetches triggered by an unknown `kid`. */
  cooldownSeconds: number;
  fetchTimeoutMs?: number;
  now?: () => number;
}

type KeyResolver = ReturnType<typeof createLocalJWKSet>;

/** Key types of the asymmetric algorithms an issuer may use (see ASYMMETRIC_ALGORITHMS). */
const ASYMMETRIC_KTY = new Set(['RSA', 'EC', 'OKP']);

/**
 * An issuer's signing keys, kept in memory. Refreshed in the background; an unknown `kid` triggers
 * at most one refetch per cooldown; a failed fetch keeps the keys already held, so tokens signed
 * with known keys keep verifying while the JWKS endpoint is down.
 */
export class KeySource {
  private resolver?: KeyResolver;
  private keyCount = 0;
  private lastAttempt = -Infinity;
  private lastRefresh?: Date;
  private lastError?: string;
  private inflight?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private readonly now: () => number;

  constructor(private readonly options: KeySourceOptions) {
    this.now = options.now ?? Date.now;
  }

  /** First fetch, then periodic refresh. Never throws: a failed fetch is reported in status(). */
  async start(): Promise<void> {
    await this.refresh();
    // Tick often enough to retry an issuer whose keys never loaded; refresh loaded keys less often.
    const retryMs = Math.max(this.options.cooldownSeconds, 5) * 1000;
    const refreshMs = this.options.refreshSeconds * 1000;
    this.timer = setInterval(
      () => {
        const since = this.now() - this.lastAttempt;
        if ((this.resolver ? refreshMs : retryMs) <= since) void this.refresh();
      },
      Math.min(retryMs, refreshMs),
    );
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  status(): KeySourceStatus {
    return {
      loaded: this.resolver !== undefined,
      keys: this.keyCount,
      ...(this.lastRefresh ? { lastRefresh: this.lastRefresh.toISOString() } : {}),
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  /**
   * jose's key lookup, with one rate-limited refetch when the `kid` is unknown. A lookup that comes
   * while a fetch is in flight waits for that fetch: during a key rotation, every request carrying
   * the new `kid` gets the refetched keys, not only the one that started the fetch.
   */
  readonly getKey = async (header: JWSHeaderParameters, input: FlattenedJWSInput) => {
    if (!this.resolver || !this.hasKid(header)) {
      if (this.inflight) await this.inflight;
      else if (this.now() - this.lastAttempt >= this.options.cooldownSeconds * 1000) await this.refresh();
    }
    if (!this.resolver) throw new AuthzError('unknown_key', 'The issuer keys are not available.');
    try {
      return await this.resolver(header, input);
    } catch (err) {
      if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys)
        throw new AuthzError('unknown_key');
      throw err;
    }
  };

  private kids = new Set<string>();
  private hasKid(header: JWSHeaderParameters): boolean {
    return header.kid === undefined || this.kids.has(header.kid);
  }

  /** Fetches the key set now (single-flight). Keeps the current keys on failure. */
  refresh(): Promise<void> {
    if (this.inflight) return this.inflight;
    this.lastAttempt = this.now();
    this.inflight = this.fetchJwks()
      .then((jwks) => {
        this.resolver = createLocalJWKSet(jwks);
        this.keyCount = jwks.keys.length;
        this.kids = new Set(jwks.keys.map((k) => k.kid).filter((k): k is string => typeof k === 'string'));
        this.lastRefresh = new Date(this.now());
        this.lastError = undefined;
      })
      .catch((err: Error) => {
        this.lastError = err.message;
      })
      .finally(() => {
        this.inflight = undefined;
      });
    return this.inflight;
  }

  private async fetchJwks(): Promise<JSONWebKeySet> {
    const loc = this.options.location;
    let raw: unknown;
    if (loc.kind === 'file') raw = JSON.parse(await readFile(loc.path, 'utf8'));
    else {
      const uri = loc.kind === 'uri' ? loc.uri : await this.discoverJwksUri(loc.issuer);
      raw = await this.getJson(uri);
    }
    const jwks = raw as JSONWebKeySet;
    if (!jwks || !Array.isArray(jwks.keys)) throw new Error('the JWKS has no "keys" array');
    createLocalJWKSet(jwks); // throws on a malformed set before it replaces a good one
    // An empty or unusable set (a misbehaving endpoint, a proxy's placeholder) is a failed fetch
    // too: replacing the cached keys with it would refuse every token until the next good fetch.
    if (!jwks.keys.some((k) => ASYMMETRIC_KTY.has(String(k?.kty))))
      throw new Error('the JWKS has no usable signing key');
    return jwks;
  }

  private async discoverJwksUri(issuer: string): Promise<string> {
    const doc = (await this.getJson(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`)) as {
      issuer?: unknown;
      jwks_uri?: unknown;
    };
    // OpenID Connect Discovery 1.0 §4.3: the document must name the issuer it was fetched for,
    // or its keys could be another issuer's (a trailing slash is the only difference tolerated).
    const bare = (s: string) => s.replace(/\/$/, '');
    if (typeof doc.issuer !== 'string' || bare(doc.issuer) !== bare(issuer))
      throw new Error(`the discovery document names issuer ${JSON.stringify(doc.issuer)}, not ${issuer}`);
    if (typeof doc.jwks_uri !== 'string') throw new Error('the discovery document has no jwks_uri');
    return doc.jwks_uri;
  }

  private async getJson(uri: string): Promise<unknown> {
    const get = () =>
      fetch(uri, {
        signal: AbortSignal.timeout(this.options.fetchTimeoutMs ?? 5_000),
        headers: { accept: 'application/json' },
      });
    let res: Response;
    try {
      res = await get();
    } catch (err) {
      // fetch reuses pooled keep-alive connections; one the server has just closed fails before any
      // answer ("fetch failed", UND_ERR_SOCKET) and would leave the keys unloaded until the next
      // retry. A GET is safe to send again once. A timeout (not a TypeError) is not retried.
      if (!(err instanceof TypeError)) throw err;
      try {
        res = await get();
      } catch (again) {
        throw new Error(`GET ${uri} failed: ${networkCause(again)}`);
      }
    }
    if (!res.ok) throw new Error(`GET ${uri} answered ${res.status}`);
    return res.json();
  }
}

/** `fetch failed` says nothing; its cause's code (ECONNREFUSED, UND_ERR_SOCKET…) tells an operator why. */
function networkCause(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return err instanceof Error ? err.message : String(err);
}
