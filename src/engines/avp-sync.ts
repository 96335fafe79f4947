import {
  GetPolicyCommand,
  GetPolicyTemplateCommand,
  GetSchemaCommand,
  ListPoliciesCommand,
  ListPolicyTemplatesCommand,
  type VerifiedPermissionsClient,
} from '@aws-sdk/client-verifiedpermissions';
import type { EntityUid } from '../cedar/types.js';
import type { AvpSyncStoreConfig } from '../config/index.js';
import { compileMemoryStore } from '../policy/compile-memory.js';
import { formatProblem, StoreLoadError } from '../policy/problems.js';
import { createAvpClient } from './avp-client.js';
import type { EngineAnswer, EngineRequest, StoreEngine, StoreStatus } from '../core/engine.js';
import { LocalStoreEngine } from './local.js';
import type {
  AvpSyncEngineOptions,
  AvpSyncOperation,
  PolicyEntry,
  Snapshot,
  SyncResult,
  TemplateEntry,
} from './avp-sync-types.js';

export type {
  AvpSyncEngineOptions,
  AvpSyncObserver,
  AvpSyncOperation,
  SyncResult,
} from './avp-sync-types.js';

const stamp = (d: Date | undefined): string => (d instanceof Date ? d.toISOString() : String(d ?? ''));

/**
 * The `avp-sync` engine: AVP is where policies are managed, this process is where they are
 * evaluated. It pulls the policy store's policies, templates, template-linked policies and schema
 * into the same CompiledStore a local store has and decides locally (the native evaluator, or
 * cedar-wasm), so a decision costs
 * microseconds and no AVP call.
 *
 * Every `refreshSeconds` it lists policies and templates and fetches only those whose
 * `lastUpdatedDate` changed or that are new (deletions show as absence; template-linked policies
 * come whole in the list); the schema is one GetSchema call. A refresh that fails, or whose result
 * does not validate, keeps the last good set. Past `maxStalenessSeconds` since the last good sync
 * every decision is a DENY (`engine_unavailable`) and the store is not ready.
 */
export class AvpSyncStoreEngine implements StoreEngine {
  readonly engine = 'avp-sync';
  readonly name: string;
  readonly config: AvpSyncStoreConfig;
  private readonly inner: LocalStoreEngine;
  private readonly client: VerifiedPermissionsClient;
  private readonly now: () => number;
  private readonly callTimeoutMs: number;
  private known: Snapshot | undefined;
  private lastGoodSyncAt: number | undefined;
  private lastError: string | undefined;
  private running: Promise<SyncResult> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly callCounts: Record<AvpSyncOperation, number> = {
    ListPolicies: 0,
    GetPolicy: 0,
    ListPolicyTemplates: 0,
    GetPolicyTemplate: 0,
    GetSchema: 0,
  };

  constructor(private readonly options: AvpSyncEngineOptions) {
    this.name = options.name;
    this.config = options.config;
    this.now = options.now ?? Date.now;
    this.callTimeoutMs = options.callTimeoutMs ?? 10_000;
    this.inner = new LocalStoreEngine(options.name, undefined, {
      idPrefix: `avp-sync:${options.name}`,
      ...(options.slicing ? { slicing: options.slicing } : {}),
      ...(options.sliceStats ? { stats: options.sliceStats } : {}),
      ...(options.evaluator ? { evaluator: options.evaluator } : {}),
      ...(options.verify ? { verify: options.verify } : {}),
      ...(options.evaluatorObserver ? { evaluatorObserver: options.evaluatorObserver } : {}),
    });
    this.client =
      options.client ??
      createAvpClient({
        region: options.config.region,
        ...(options.config.endpoint ? { endpoint: options.config.endpoint } : {}),
        maxAttempts: 3,
        maxSockets: 8,
        ...(options.sdk ? { sdk: options.sdk } : {}),
      });
  }

  /**
   * The first sync, then refreshes on the interval. Never throws: a failed first sync leaves the
   * store not ready (and the next refresh tries again). Waits for the first sync at most
   * `startWaitMs` (default 15 s), so a blackholed endpoint does not hold up startup.
   */
  async start(startWaitMs = 15_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const first = this.syncNow();
    await Promise.race([first, new Promise((resolve) => (timer = setTimeout(resolve, startWaitMs)))]);
    clearTimeout(timer);
    void first.finally(() => this.schedule());
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      void this.syncNow().finally(() => this.schedule());
    }, this.config.refreshSeconds * 1000);
    this.timer.unref();
  }

  /** Seconds since the last good sync; undefined before the first one. */
  syncAgeSeconds(): number | undefined {
    return this.lastGoodSyncAt === undefined ? undefined : (this.now() - this.lastGoodSyncAt) / 1000;
  }

  /** Policy-management calls made so far, by operation. */
  calls(): Record<AvpSyncOperation, number> {
    return { ...this.callCounts };
  }

  /** Whether the serving version evaluates scope slices. */
  get sliced(): boolean {
    return this.inner.sliced;
  }

  get evaluator() {
    return this.inner.evaluator;
  }

  private stale(): boolean {
    const age = this.syncAgeSeconds();
    return age === undefined || age > this.config.maxStalenessSeconds;
  }

  status(): StoreStatus {
    const inner = this.inner.status();
    const age = this.syncAgeSeconds();
    return {
      name: this.name,
      engine: this.engine,
      ready: inner.ready && !this.stale(),
      ...(inner.version ? { version: inner.version, policies: inner.policies } : {}),
      ...(inner.slicing ? { slicing: inner.slicing } : {}),
      ...(inner.evaluator ? { evaluator: inner.evaluator } : {}),
      ...(inner.evaluatorFallback ? { evaluatorFallback: inner.evaluatorFallback } : {}),
      ...(inner.loadedAt ? { loadedAt: inner.loadedAt } : {}),
      ...(this.lastGoodSyncAt !== undefined
        ? {
            lastSyncAt: new Date(this.lastGoodSyncAt).toISOString(),
            syncAgeSeconds: Math.round(age! * 10) / 10,
          }
        : {}),
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  describe() {
    return this.inner.describe();
  }

  servingVersion(): string | undefined {
    return this.stale() ? undefined : this.inner.servingVersion();
  }

  async decide(requests: EngineRequest[]): Promise<EngineAnswer[]> {
    if (this.stale()) {
      const age = this.syncAgeSeconds();
      const message =
        age === undefined
          ? 'no policies synced from AVP yet'
          : `policies last synced ${Math.round(age)} s ago, more than maxStalenessSeconds (${this.config.maxStalenessSeconds})`;
      return requests.map(() => ({ kind: 'failed', reason: 'engine_unavailable', message }));
    }
    return this.inner.decide(requests);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
    this.client.destroy();
  }

  /** Syncs now (a sync already running is joined, not doubled). */
  syncNow(): Promise<SyncResult> {
    this.running ??= this.sync().finally(() => (this.running = undefined));
    return this.running;
  }

  private async sync(): Promise<SyncResult> {
    const started = performance.now();
    const fetched = { policies: 0, templates: 0 };
    const done = (r: Omit<SyncResult, 'durationSeconds' | 'fetched'>): SyncResult => {
      const result = { ...r, fetched, durationSeconds: (performance.now() - started) / 1000 };
      this.options.observer?.sync?.({ store: this.name, result });
      return result;
    };
    let next: Snapshot;
    try {
      next = await this.pull(fetched);
    } catch (err) {
      this.lastError = `sync from AVP failed: ${describeError(err)}`;
      return done({ ok: false, changed: false, error: this.lastError });
    }
    const changed = !this.known || !sameSnapshot(this.known, next) || !this.inner.compiled;
    if (changed) {
      try {
        const compiled = compileMemoryStore(this.name, {
          policies: Object.fromEntries(
            [...next.policies].flatMap(([id, p]) => (p.kind === 'static' ? [[id, p.statement]] : [])),
          ),
          templates: Object.fromEntries([...next.templates].map(([id, t]) => [id, t.statement])),
          links: [...next.policies.values()].flatMap((p) => (p.kind === 'link' ? [p.link] : [])),
          ...(next.schema !== undefined ? { schema: next.schema } : {}),
          entities: this.options.staticEntities ?? [],
          origin: `avp:${this.config.policyStoreId}`,
        });
        this.inner.activate(compiled);
      } catch (err) {
        this.lastError =
          err instanceof StoreLoadError
            ? `policies from AVP do not validate; the last good set keeps serving:\n${err.problems.map(formatProblem).join('\n')}`
            : `cannot activate policies from AVP: ${(err as Error).message}`;
        return done({ ok: false, changed: false, error: this.lastError });
      }
    }
    this.known = next;
    this.lastGoodSyncAt = this.now();
    this.lastError = undefined;
    return done({ ok: true, changed, version: this.inner.status().version! });
  }

  /** One AVP call with a timeout, counted. */
  private call<O>(operation: AvpSyncOperation, run: (abortSignal: AbortSignal) => Promise<O>): Promise<O> {
    this.callCounts[operation]++;
    return run(AbortSignal.timeout(this.callTimeoutMs));
  }

  /** Lists everything, fetches what is new or changed since the last good snapshot. */
  private async pull(fetched: SyncResult['fetched']): Promise<Snapshot> {
    const policyStoreId = this.config.policyStoreId;
    const known = this.known;
    const policies = new Map<string, PolicyEntry>();
    const toFetch: { id: string; lastUpdated: string }[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.call('ListPolicies', (abortSignal) =>
        this.client.send(new ListPoliciesCommand({ policyStoreId, maxResults: 50, nextToken }), {
          abortSignal,
        }),
      );
      for (const item of page.policies ?? []) {
        const id = item.policyId;
        if (!id) throw new Error('ListPolicies returned a policy without policyId');
        const lastUpdated = stamp(item.lastUpdatedDate);
        const def = item.definition;
        if (def?.templateLinked) {
          const { policyTemplateId, principal, resource } = def.templateLinked;
          if (!policyTemplateId) throw new Error(`template-linked policy ${id} has no policyTemplateId`);
          const values: Record<string, EntityUid> = {};
          if (principal?.entityType && principal.entityId !== undefined)
            values['?principal'] = { type: principal.entityType, id: principal.entityId };
          if (resource?.entityType && resource.entityId !== undefined)
            values['?resource'] = { type: resource.entityType, id: resource.entityId };
          policies.set(id, {
            lastUpdated,
            kind: 'link',
            link: { templateId: policyTemplateId, newId: id, values },
          });
        } else if (def?.static || item.policyType === 'STATIC') {
          const had = known?.policies.get(id);
          if (had?.kind === 'static' && had.lastUpdated === lastUpdated) policies.set(id, had);
          else toFetch.push({ id, lastUpdated });
        } else {
          throw new Error(`policy ${id} has an unknown definition type`);
        }
      }
      nextToken = page.nextToken || undefined;
    } while (nextToken);

    const templates = new Map<string, TemplateEntry>();
    const templatesToFetch: { id: string; lastUpdated: string }[] = [];
    nextToken = undefined;
    do {
      const page = await this.call('ListPolicyTemplates', (abortSignal) =>
        this.client.send(new ListPolicyTemplatesCommand({ policyStoreId, maxResults: 50, nextToken }), {
          abortSignal,
        }),
      );
      for (const item of page.policyTemplates ?? []) {
        const id = item.policyTemplateId;
        if (!id) throw new Error('ListPolicyTemplates returned a template without policyTemplateId');
        const lastUpdated = stamp(item.lastUpdatedDate);
        const had = known?.templates.get(id);
        if (had && had.lastUpdated === lastUpdated) templates.set(id, had);
        else templatesToFetch.push({ id, lastUpdated });
      }
      nextToken = page.nextToken || undefined;
    } while (nextToken);

    await eachLimited(toFetch, 8, async ({ id, lastUpdated }) => {
      const out = await this.call('GetPolicy', (abortSignal) =>
        this.client.send(new GetPolicyCommand({ policyStoreId, policyId: id }), { abortSignal }),
      );
      const statement = out.definition?.static?.statement;
      if (typeof statement !== 'string') throw new Error(`GetPolicy ${id} returned no static statement`);
      fetched.policies++;
      policies.set(id, { lastUpdated, kind: 'static', statement });
    });
    await eachLimited(templatesToFetch, 8, async ({ id, lastUpdated }) => {
      const out = await this.call('GetPolicyTemplate', (abortSignal) =>
        this.client.send(new GetPolicyTemplateCommand({ policyStoreId, policyTemplateId: id }), {
          abortSignal,
        }),
      );
      if (typeof out.statement !== 'string') throw new Error(`GetPolicyTemplate ${id} returned no statement`);
      fetched.templates++;
      templates.set(id, { lastUpdated, statement: out.statement });
    });

    let schema: string | undefined;
    try {
      const out = await this.call('GetSchema', (abortSignal) =>
        this.client.send(new GetSchemaCommand({ policyStoreId }), { abortSignal }),
      );
      schema = out.schema;
    } catch (err) {
      // A policy store without a schema answers ResourceNotFoundException for its schema.
      if ((err as { name?: string }).name !== 'ResourceNotFoundException') throw err;
      if ((err as { resourceType?: string }).resourceType === 'POLICY_STORE') throw err;
    }
    return { policies, templates, schema };
  }
}

function sameSnapshot(a: Snapshot, b: Snapshot): boolean {
  if (a.schema !== b.schema) return false;
  if (a.policies.size !== b.policies.size || a.templates.size !== b.templates.size) return false;
  for (const [id, p] of b.policies) {
    const old = a.policies.get(id);
    if (!old || old.lastUpdated !== p.lastUpdated || old.kind !== p.kind) return false;
    if (p.kind === 'link' && JSON.stringify(p.link) !== JSON.stringify((old as typeof p).link)) return false;
  }
  for (const [id, t] of b.templates) {
    const old = a.templates.get(id);
    if (!old || old.lastUpdated !== t.lastUpdated) return false;
  }
  return true;
}

async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function describeError(err: unknown): string {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e?.$metadata?.httpStatusCode;
  return `${e?.name ?? 'Error'}${status ? ` (HTTP ${status})` : ''}: ${String(e?.message ?? err).slice(0, 300)}`;
}
