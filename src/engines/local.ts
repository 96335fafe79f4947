import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { uidKey } from '../cedar/types.js';
import { compileStore, StoreLoadError } from '../policy/compile-store.js';
import { readStoreFiles } from '../policy/read-store.js';
import type { CompiledStore } from '../policy/types.js';
import type { EngineAnswer, EngineRequest, StoreEngine, StoreStatus } from './engine.js';

export type ReloadResult = { ok: true; version: string; changed: boolean } | { ok: false; error: string };

/**
 * A local policy store decided by cedar-wasm in this process. Fed from a folder (`load`,
 * `reload`) or from memory (`activate`, as the avp-sync engine does with what it pulled from AVP).
 *
 * The policy set and schema are preparsed once per version under an id fixed per store. Cedar
 * calls are synchronous, so replacing the preparsed set between two calls is an atomic swap, and
 * reusing the id keeps memory flat across reloads (cedar-wasm cannot drop a preparsed set).
 */
export class LocalStoreEngine implements StoreEngine {
  readonly engine = 'local';
  private current?: CompiledStore;
  /** Uids of the store's static entities: a request may not redefine them (no forged hierarchy). */
  private staticUids = new Set<string>();
  private loadedAt?: Date;
  private lastError?: string;
  private readonly preparsedId: string;

  /**
   * @param dir the store folder; omit it for a store fed from memory through `activate`.
   * @param preparsedId cedar-wasm's id for the preparsed set and schema (unique per process).
   */
  constructor(
    readonly name: string,
    readonly dir?: string,
    preparsedId = `local:${name}`,
  ) {
    this.preparsedId = preparsedId;
  }

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
    const changed = compiled.version !== this.current?.version;
    // Preparse cannot fail after compile checked the same input, but a throw here would escape
    // the watcher's timer and kill the process: keep it a failed reload instead.
    try {
      if (changed) this.activate(compiled);
    } catch (err) {
      this.lastError = (err as Error).message;
      return { ok: false, error: this.lastError };
    }
    this.lastError = undefined;
    return { ok: true, version: compiled.version, changed };
  }

  /**
   * Makes a compiled store the one that decides. Throws StoreLoadError when cedar-wasm refuses it;
   * the previous version then keeps serving.
   */
  activate(compiled: CompiledStore): void {
    const set = cedar.preparsePolicySet(this.preparsedId, {
      staticPolicies: compiled.policies,
      templates: compiled.templates,
      templateLinks: compiled.links,
    });
    if (set.type === 'failure')
      throw new StoreLoadError(
        this.name,
        set.errors.map((e) => ({ file: '(policy set)', message: e.message })),
      );
    if (compiled.schema !== undefined) {
      const schema = cedar.preparseSchema(this.preparsedId, compiled.schema as cedar.Schema);
      if (schema.type === 'failure')
        throw new StoreLoadError(
          this.name,
          schema.errors.map((e) => ({ file: '(schema)', message: e.message })),
        );
    }
    this.current = compiled;
    this.staticUids = new Set(compiled.entities.map((e) => uidKey(e.uid)));
    this.loadedAt = new Date();
  }

  get compiled(): CompiledStore | undefined {
    return this.current;
  }

  status(): StoreStatus {
    const c = this.current;
    return {
      name: this.name,
      engine: this.engine,
      ready: c !== undefined,
      ...(c ? { version: c.version, policies: Object.keys(c.policies).length + c.links.length } : {}),
      ...(this.loadedAt ? { loadedAt: this.loadedAt.toISOString() } : {}),
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  async decide(requests: EngineRequest[]): Promise<EngineAnswer[]> {
    return requests.map((r) => this.decideOne(r));
  }

  private decideOne(request: EngineRequest): EngineAnswer {
    const store = this.current;
    if (!store) return { kind: 'failed', reason: 'engine_unavailable', message: 'store not loaded' };
    if (this.staticUids.size > 0) {
      const clash = request.entities.find((e) => this.staticUids.has(uidKey(e.uid)));
      if (clash) {
        return {
          kind: 'invalid',
          message: `entity ${uidKey(clash.uid)} is defined by the store and cannot be supplied`,
          storeVersion: store.version,
        };
      }
    }
    let answer: cedar.AuthorizationAnswer;
    try {
      answer = cedar.statefulIsAuthorized({
        principal: request.principal,
        action: request.action,
        resource: request.resource,
        context: request.context as cedar.Context,
        entities: (store.entities.length
          ? [...store.entities, ...request.entities]
          : request.entities) as cedar.Entities,
        preparsedPolicySetId: this.preparsedId,
        ...(store.schema !== undefined
          ? { preparsedSchemaName: this.preparsedId, validateRequest: true }
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
