import '../cedar/v8-flags.js';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { uidKey } from '../cedar/types.js';
import { compileStore } from '../policy/compile-store.js';
import { StoreLoadError } from '../policy/problems.js';
import { readStoreFiles } from '../policy/read-store.js';
import type { CompiledStore } from '../policy/types.js';
import type { EngineAnswer, EngineRequest, StoreEngine, StoreStatus } from '../core/engine.js';
import { compileSchema, describeSchema, type DescribedSchema } from '../cedar/schema/index.js';
import type { DecisionValue, Explanation } from '../core/decision.js';
import {
  compileNative,
  decideNative,
  explainNative,
  NativeUnsupported,
  sameAnswer,
  type NativeVersion,
} from './native.js';
import { Slicer } from './slicing/slicer.js';

export type { Evaluator, EvaluatorObserver, LocalEngineOptions, ReloadResult } from './local-options.js';
import type { Evaluator, LocalEngineOptions, ReloadResult } from './local-options.js';

/** Everything one store version answers with; replaced as a whole on reload. */
interface ActiveVersion {
  compiled: CompiledStore;
  /** Uids of the store's static entities: a request may not redefine them (no forged hierarchy). */
  staticUids: Set<string>;
  policyCount: number;
  /** Present when this version is sliced; otherwise the whole set is preparsed under `setId`. */
  slicer?: Slicer;
  setId: string;
  schemaId?: string;
  /** Present while the native evaluator decides this version. */
  native?: NativeVersion;
  /** Why this version runs on cedar-wasm although `native` was configured. */
  fallback?: string;
  /** The schema described for discovery, built on first ask. */
  described?: DescribedSchema;
}

/**
 * A local policy store decided by cedar-wasm in this process.
 *
 * A version is activated whole: its schema (and, unsliced, its policy set) preparsed under ids that
 * alternate between two generations, then one assignment makes it current. Cedar calls are
 * synchronous, so a decision sees either the old version or the new one, never a mix, and a failed
 * activation leaves the serving version's preparsed sets untouched. Ids are reused, which keeps
 * memory flat across reloads (cedar-wasm cannot drop a preparsed set).
 *
 * A sliced version (large stores) preparses nothing up front: each decision evaluates only the
 * policies whose scope matches the request, preparsed per distinct subset in a bounded cache.
 */
export class LocalStoreEngine implements StoreEngine {
  readonly engine = 'local';
  private current?: ActiveVersion;
  private generation = 0;
  /** Formatted once per version: the pipeline reads status() on every request to key its cache. */
  private loadedAt?: string;
  private lastError?: string;

  /**
   * @param dir the store folder; omit it for a store fed from memory through `activate` (the
   *   avp-sync engine does that with what it pulls from AVP).
   */
  constructor(
    readonly name: string,
    readonly dir?: string,
    private readonly options: LocalEngineOptions = {},
  ) {}

  private folder(): string {
    if (this.dir === undefined) throw new Error(`policy store "${this.name}" has no folder to load from`);
    return this.dir;
  }

  /** First load: a store that does not parse or validate throws StoreLoadError (startup fails). */
  load(): CompiledStore {
    const compiled = compileStore(this.name, readStoreFiles(this.folder()));
    this.activate(compiled);
    return compiled;
  }

  /** Reload after an edit: a broken edit keeps the last good version serving. */
  reload(): ReloadResult {
    let compiled: CompiledStore;
    try {
      compiled = compileStore(this.name, readStoreFiles(this.folder()));
    } catch (err) {
      this.lastError =
        err instanceof StoreLoadError ? err.message : `cannot read store: ${(err as Error).message}`;
      return { ok: false, error: this.lastError };
    }
    const changed = compiled.version !== this.current?.compiled.version;
    // Preparse cannot fail after compile checked the same input, but a throw here would escape
    // the watcher's timer and kill the process: keep it a failed reload instead.
    if (changed) {
      try {
        this.activate(compiled);
      } catch (err) {
        this.lastError = (err as Error).message;
        return { ok: false, error: this.lastError };
      }
    }
    this.lastError = undefined;
    return { ok: true, version: compiled.version, changed };
  }

  /** Whether a version of this many policies is sliced. */
  slices(policyCount: number): boolean {
    const s = this.options.slicing;
    if (!s || s.mode === 'off') return false;
    return s.mode === 'on' || policyCount >= s.autoThreshold;
  }

  /**
   * Makes a compiled store the one that decides. Throws StoreLoadError when cedar-wasm refuses it;
   * the previous version then keeps serving.
   */
  activate(compiled: CompiledStore): void {
    const gen = this.generation + 1;
    // Policy sets and schemas live in separate Cedar caches, so one id serves both.
    const base = this.options.idPrefix ?? `local:${this.name}`;
    const id = `${base}#${gen % 2}`;
    const ids = { set: id, schema: id };
    const policyCount = Object.keys(compiled.policies).length + compiled.links.length;
    const sliced = this.slices(policyCount);
    if (!sliced) {
      const set = cedar.preparsePolicySet(ids.set, {
        staticPolicies: compiled.policies,
        templates: compiled.templates,
        templateLinks: compiled.links,
      });
      if (set.type === 'failure')
        throw new StoreLoadError(
          this.name,
          set.errors.map((e) => ({ file: '(policy set)', message: e.message })),
        );
    }
    if (compiled.schema !== undefined) {
      const schema = cedar.preparseSchema(ids.schema, compiled.schema as cedar.Schema);
      if (schema.type === 'failure')
        throw new StoreLoadError(
          this.name,
          schema.errors.map((e) => ({ file: '(schema)', message: e.message })),
        );
    }
    const slicer = sliced
      ? new Slicer(
          compiled,
          { prefix: `${base}:slice`, full: ids.set },
          this.options.slicing!.cacheSize,
          this.options.faults,
        )
      : undefined;
    let native: NativeVersion | undefined;
    let fallback: string | undefined;
    if ((this.options.evaluator ?? 'native') === 'native') {
      try {
        native = compileNative(compiled);
      } catch (err) {
        if (!(err instanceof NativeUnsupported)) throw err;
        fallback = err.message;
      }
    }
    this.current = {
      compiled,
      staticUids: new Set(compiled.entities.map((e) => uidKey(e.uid))),
      policyCount,
      setId: ids.set,
      ...(slicer ? { slicer } : {}),
      ...(compiled.schema !== undefined ? { schemaId: ids.schema } : {}),
      ...(native ? { native } : {}),
      ...(fallback !== undefined ? { fallback } : {}),
    };
    this.options.evaluatorObserver?.serving?.(this.name, native ? 'native' : 'wasm', fallback);
    this.generation = gen;
    this.loadedAt = new Date().toISOString();
    this.options.stats?.onCacheSize(this.name, 0);
  }

  get compiled(): CompiledStore | undefined {
    return this.current?.compiled;
  }

  /** Whether the serving version is sliced. */
  get sliced(): boolean {
    return this.current?.slicer !== undefined;
  }

  status(): StoreStatus {
    const c = this.current;
    return {
      name: this.name,
      engine: this.engine,
      ready: c !== undefined,
      ...(c ? { version: c.compiled.version, policies: c.policyCount } : {}),
      ...(c?.slicer ? { slicing: { cachedSlices: c.slicer.cached } } : {}),
      ...(c ? { evaluator: c.native ? ('native' as const) : ('wasm' as const) } : {}),
      ...(c?.fallback !== undefined ? { evaluatorFallback: c.fallback } : {}),
      ...(this.loadedAt ? { loadedAt: this.loadedAt } : {}),
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  servingVersion(): string | undefined {
    return this.current?.compiled.version;
  }

  async decide(requests: EngineRequest[]): Promise<EngineAnswer[]> {
    // A plain loop (see ../cedar/v8-flags.ts for the V8 crash that first showed around array
    // builtins calling into cedar-wasm; the flag is the fix, the loop costs nothing).
    const answers: EngineAnswer[] = [];
    for (const r of requests) answers.push(this.decideOne(r));
    return answers;
  }

  /** The evaluator deciding the serving version, and why it is not the configured one. */
  get evaluator(): { evaluator: Evaluator; reason?: string } | undefined {
    const c = this.current;
    if (!c) return undefined;
    if (c.native) return { evaluator: 'native' };
    return c.fallback !== undefined ? { evaluator: 'wasm', reason: c.fallback } : { evaluator: 'wasm' };
  }

  private decideOne(request: EngineRequest): EngineAnswer {
    const active = this.current;
    if (!active) return { kind: 'failed', reason: 'engine_unavailable', message: 'store not loaded' };
    if (!active.native) return this.decideWasm(active, request);
    const clash = this.staticClash(active, request);
    if (clash) return clash;
    const native = active.native;
    let answer: EngineAnswer;
    try {
      if (active.slicer) {
        const ids = active.slicer.select(request);
        const policies = ids?.map((id) => native.byId.get(id)!);
        this.options.stats?.onDecision(this.name, policies?.length ?? active.policyCount, 'none');
        answer = decideNative(native, request, active.compiled.version, policies);
      } else {
        this.options.stats?.onDecision(this.name, active.policyCount, 'none');
        answer = decideNative(native, request, active.compiled.version);
      }
    } catch (err) {
      return { kind: 'failed', reason: 'engine_error', message: (err as Error).message };
    }
    const verify = this.options.verify;
    if (verify && verify.sampleRate > 0 && (this.options.random ?? Math.random)() < verify.sampleRate)
      this.recheck(active, request, answer);
    return answer;
  }

  /**
   * Decides a request again with cedar-wasm after the native answer has gone out (never delaying
   * or changing it) and reports a disagreement; with `onMismatch: switch` this version is then
   * decided by cedar-wasm until the next one.
   */
  private recheck(active: ActiveVersion, request: EngineRequest, nativeAnswer: EngineAnswer): void {
    setImmediate(() => {
      if (this.current !== active || !active.native) return;
      let wasm: EngineAnswer;
      try {
        wasm = this.decideWasm(active, request);
      } catch {
        return;
      }
      if (wasm.kind === 'failed' || sameAnswer(nativeAnswer, wasm)) return;
      this.options.evaluatorObserver?.mismatch?.(this.name, {
        ...(request.decisionId ? { decisionId: request.decisionId } : {}),
        native: nativeAnswer,
        wasm,
      });
      if (this.options.verify?.onMismatch !== 'count') {
        delete active.native;
        active.fallback = 'the native evaluator disagreed with cedar-wasm on a sampled decision';
        this.options.evaluatorObserver?.serving?.(this.name, 'wasm', active.fallback);
      }
    });
  }

  explain(request: EngineRequest, decision: DecisionValue): Explanation | { unavailable: string } {
    const active = this.current;
    if (!active) return { unavailable: 'the store is not loaded' };
    if (!active.native)
      return {
        unavailable: `the store runs on cedar-wasm (${active.fallback ?? 'configured'}), which cannot explain`,
      };
    const ids = active.slicer?.select(request);
    const policies = ids?.map((id) => active.native!.byId.get(id)!);
    const out = explainNative(active.native, request, decision, policies);
    return 'invalid' in out ? { unavailable: `the request is not valid: ${out.invalid}` } : out;
  }

  /**
   * The serving version's schema as a caller reads it (discovery), or undefined when the store has
   * no schema (or is not loaded).
   */
  describe(): DescribedSchema | undefined {
    const c = this.current;
    if (!c || c.compiled.schema === undefined) return undefined;
    c.described ??= describeSchema(
      (c.native?.schema ?? compileSchema(c.compiled.schema as string | object)).model,
    );
    return c.described;
  }

  private staticClash(active: ActiveVersion, request: EngineRequest): EngineAnswer | undefined {
    if (active.staticUids.size === 0) return undefined;
    const clash = request.entities.find((e) => active.staticUids.has(uidKey(e.uid)));
    if (!clash) return undefined;
    return {
      kind: 'invalid',
      message: `entity ${uidKey(clash.uid)} is defined by the store and cannot be supplied`,
      storeVersion: active.compiled.version,
    };
  }

  private decideWasm(active: ActiveVersion, request: EngineRequest): EngineAnswer {
    const store = active.compiled;
    const clash = this.staticClash(active, request);
    if (clash) return clash;
    let policySetId = active.setId;
    let statics = store.entities;
    let answer: cedar.AuthorizationAnswer;
    try {
      if (active.slicer) {
        const plan = active.slicer.plan(request);
        if (!plan.ok) return { kind: 'failed', reason: 'engine_error', message: plan.message };
        policySetId = plan.policySetId;
        statics = plan.entities;
        this.options.stats?.onDecision(this.name, plan.policies, plan.cache);
        if (plan.cache === 'miss') this.options.stats?.onCacheSize(this.name, active.slicer.cached);
      } else this.options.stats?.onDecision(this.name, active.policyCount, 'none');
      answer = cedar.statefulIsAuthorized({
        principal: request.principal,
        action: request.action,
        resource: request.resource,
        context: request.context as cedar.Context,
        entities: (statics.length ? [...statics, ...request.entities] : request.entities) as cedar.Entities,
        preparsedPolicySetId: policySetId,
        ...(active.schemaId !== undefined
          ? { preparsedSchemaName: active.schemaId, validateRequest: true }
          : {}),
      });
    } catch (err) {
      return { kind: 'failed', reason: 'engine_error', message: (err as Error).message };
    }
    if (answer.type === 'failure') {
      return {
        kind: 'invalid',
        message: answer.errors.map((e) => e.message).join('; '),
        storeVersion: store.version,
      };
    }
    const { decision, diagnostics } = answer.response;
    return {
      kind: 'evaluated',
      allow: decision === 'allow',
      determiningPolicies: diagnostics.reason,
      errors: diagnostics.errors.map((e) => ({ policyId: e.policyId, message: e.error.message })),
      storeVersion: store.version,
    };
  }

  async close(): Promise<void> {}
}
