import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type { CedarValue, Entity, EntityUid } from '../../src/cedar/types.js';
import {
  AWS_JSON_CONTENT_TYPE,
  AwsError,
  decodeRequest,
  encodeAnswer,
  encodeUid,
  operationOf,
  parseBody,
  renderAwsError,
  validationError,
  type AvpQuestion,
} from '../../src/doors/avp/codec.js';
import type { EngineAnswer, EngineRequest } from '../../src/core/engine.js';
import { LocalStoreEngine } from '../../src/engines/local.js';
import { compileMemoryStore } from '../../src/policy/compile-memory.js';
import { compileStore } from '../../src/policy/compile-store.js';
import { readStoreFiles } from '../../src/policy/read-store.js';

/**
 * A local stand-in for Amazon Verified Permissions that speaks its wire protocol (AWS JSON 1.0)
 * to the real AWS SDK. Decisions use the sidecar's own AVP codec and cedar-wasm over an in-memory
 * policy store; the policy-management reads the sync engine needs are served from the same store,
 * which tests change through `PeerStore`. Faults on demand: slow, throttled, 5xx, malformed,
 * refusing connections.
 */

interface PeerPolicy {
  statement?: string;
  link?: { templateId: string; principal?: EntityUid; resource?: EntityUid };
  created: Date;
  updated: Date;
}

interface PeerTemplate {
  statement: string;
  created: Date;
  updated: Date;
}

/** What an identity source makes of a token: the principal entity and the claims for context. */
export type PeerIdentitySource = (
  token: string,
) => Promise<{ principal: Entity; context: Record<string, CedarValue> }>;

/** One AVP policy store held in memory. Every change bumps `lastUpdatedDate` of what changed. */
export class PeerStore {
  readonly policies = new Map<string, PeerPolicy>();
  readonly templates = new Map<string, PeerTemplate>();
  schema: string | undefined;
  private schemaDates = { created: new Date(), updated: new Date() };
  private engine: LocalStoreEngine;
  private dirty = true;
  private lastStamp = 0;

  constructor(readonly policyStoreId: string) {
    this.engine = new LocalStoreEngine(`peer-${policyStoreId}`, undefined, {
      idPrefix: `peer:${policyStoreId}`,
    });
  }

  /** A store loaded from a sample folder: `@id`s become policy ids, links.json template-linked policies. */
  static fromDir(policyStoreId: string, dir: string): PeerStore {
    const compiled = compileStore(policyStoreId, readStoreFiles(dir));
    const store = new PeerStore(policyStoreId);
    for (const [id, text] of Object.entries(compiled.templates)) store.putTemplate(id, text);
    for (const [id, text] of Object.entries(compiled.policies)) store.putPolicy(id, text);
    for (const link of compiled.links)
      store.putLink(link.newId, link.templateId, link.values['?principal'], link.values['?resource']);
    if (compiled.schema !== undefined) {
      const json =
        typeof compiled.schema === 'string'
          ? cedar.schemaToJson(compiled.schema)
          : { type: 'success', json: compiled.schema };
      if (json.type !== 'success') throw new Error('schema does not convert to JSON');
      store.setSchema(JSON.stringify(json.json));
    }
    return store;
  }

  /** A strictly increasing timestamp, so every change is visible by lastUpdatedDate. */
  private stamp(): Date {
    this.lastStamp = Math.max(Date.now(), this.lastStamp + 1);
    this.dirty = true;
    return new Date(this.lastStamp);
  }

  putPolicy(id: string, statement: string): void {
    const now = this.stamp();
    this.policies.set(id, { statement, created: this.policies.get(id)?.created ?? now, updated: now });
  }

  putLink(id: string, templateId: string, principal?: EntityUid, resource?: EntityUid): void {
    const now = this.stamp();
    this.policies.set(id, {
      link: { templateId, ...(principal ? { principal } : {}), ...(resource ? { resource } : {}) },
      created: this.policies.get(id)?.created ?? now,
      updated: now,
    });
  }

  deletePolicy(id: string): void {
    this.policies.delete(id);
    this.dirty = true;
  }

  putTemplate(id: string, statement: string): void {
    const now = this.stamp();
    this.templates.set(id, { statement, created: this.templates.get(id)?.created ?? now, updated: now });
  }

  setSchema(json: string | undefined): void {
    const now = this.stamp();
    this.schema = json;
    this.schemaDates = { created: this.schemaDates.created, updated: now };
  }

  get schemaUpdated(): Date {
    return this.schemaDates.updated;
  }

  /** The engine deciding over the current content (recompiled after a change). */
  decider(): LocalStoreEngine {
    if (this.dirty) {
      const policies: Record<string, string> = {};
      const links = [];
      for (const [id, p] of this.policies) {
        if (p.statement !== undefined) policies[id] = p.statement;
        else if (p.link)
          links.push({
            templateId: p.link.templateId,
            newId: id,
            values: {
              ...(p.link.principal ? { '?principal': p.link.principal } : {}),
              ...(p.link.resource ? { '?resource': p.link.resource } : {}),
            },
          });
      }
      this.engine.activate(
        compileMemoryStore(this.engine.name, {
          policies,
          templates: Object.fromEntries([...this.templates].map(([id, t]) => [id, t.statement])),
          links,
          ...(this.schema !== undefined ? { schema: this.schema } : {}),
          entities: [],
          origin: `peer:${this.policyStoreId}`,
        }),
      );
      this.dirty = false;
    }
    return this.engine;
  }
}

/** Faults the peer applies to the next calls (counts) or to all of them (`delayMs`). */
export interface PeerFaults {
  /** Wait this long before answering every call. */
  delayMs?: number;
  /** Answer the next N calls with ThrottlingException (400); Infinity for all. */
  throttle?: number;
  /** Answer the next N calls with InternalServerException (500). */
  serverError?: number;
  /** Answer the next N calls with a 200 whose body is not JSON. */
  malformed?: number;
  /** Answer the next N calls with a 200 whose JSON has a decision that is neither ALLOW nor DENY. */
  badShape?: number;
  /** Only these operations are faulted (default: all). */
  operations?: string[];
  /**
   * Only requests whose user-agent contains this are faulted (default: all). Tests give each
   * engine its own (the SDK's `customUserAgent`), so a call another engine abandoned earlier
   * cannot use up a fault meant for this one.
   */
  userAgent?: string;
}

export interface AvpPeer {
  url: string;
  port: number;
  stores: Map<string, PeerStore>;
  /** Calls received, by operation (faulted ones included). */
  calls: Record<string, number>;
  faults: PeerFaults;
  resetCalls(): void;
  totalCalls(operations?: string[]): number;
  /** Resolves once no request has been handled for 100 ms (abandoned calls finish in the background). */
  idle(): Promise<void>;
  /** Stops listening (connections are refused) until `restore()`. */
  refuse(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export interface AvpPeerOptions {
  stores?: PeerStore[];
  /** AVP's identity source for the *WithToken operations. */
  identitySource?: PeerIdentitySource;
  port?: number;
}

const iso = (d: Date) => d.toISOString();

export async function startAvpPeer(options: AvpPeerOptions = {}): Promise<AvpPeer> {
  const stores = new Map((options.stores ?? []).map((s) => [s.policyStoreId, s]));
  // Compile up front: the peer shares the process (and its event loop) with the engines under test.
  for (const s of stores.values()) s.decider();
  const calls: Record<string, number> = {};
  const faults: PeerFaults = {};
  const sockets = new Set<import('node:net').Socket>();

  const storeOf = (id: unknown): PeerStore => {
    const store = typeof id === 'string' ? stores.get(id) : undefined;
    if (!store)
      throw new AwsError('ResourceNotFoundException', `Policy store ${String(id)} not found.`, {
        resourceId: String(id),
        resourceType: 'POLICY_STORE',
      });
    return store;
  };

  const evaluate = async (store: PeerStore, requests: EngineRequest[]): Promise<EngineAnswer[]> =>
    store.decider().decide(requests);

  const answerOrThrow = (a: EngineAnswer, path: string) => {
    if (a.kind === 'invalid') throw validationError([{ path, message: a.message }]);
    if (a.kind === 'failed') throw new AwsError('InternalServerException', a.message);
    return encodeAnswer({ allow: a.allow, determiningPolicies: a.determiningPolicies, errors: a.errors });
  };

  const withIdentity = async (
    token: string,
    q: AvpQuestion,
  ): Promise<{ request: EngineRequest; principal: EntityUid }> => {
    if (!options.identitySource)
      throw new AwsError('ValidationException', 'This policy store has no identity source.');
    let identity;
    try {
      identity = await options.identitySource(token);
    } catch {
      throw validationError([{ path: 'identityToken', message: 'The token is not valid.' }]);
    }
    return {
      principal: identity.principal.uid,
      request: {
        principal: identity.principal.uid,
        action: q.action,
        resource: q.resource,
        context: { ...q.context, ...identity.context },
        entities: [identity.principal, ...q.entities],
      },
    };
  };

  async function dataPlane(operation: string, body: Record<string, unknown>): Promise<unknown> {
    const decoded = decodeRequest(operation, body);
    const store = storeOf(decoded.policyStoreId);
    switch (decoded.operation) {
      case 'IsAuthorized': {
        const q = decoded.question;
        const [a] = await evaluate(store, [
          {
            principal: q.principal,
            action: q.action,
            resource: q.resource,
            context: q.context,
            entities: q.entities,
          },
        ]);
        return answerOrThrow(a!, '(request)');
      }
      case 'IsAuthorizedWithToken': {
        const { request, principal } = await withIdentity(decoded.token.value, decoded.question);
        const [a] = await evaluate(store, [request]);
        return { ...answerOrThrow(a!, '(request)'), principal: encodeUid(principal) };
      }
      case 'BatchIsAuthorized': {
        const answers = await evaluate(
          store,
          decoded.questions.map((q) => ({
            principal: q.principal,
            action: q.action,
            resource: q.resource,
            context: q.context,
            entities: q.entities,
          })),
        );
        return {
          results: answers.map((a, i) => ({
            request: decoded.echo[i],
            ...answerOrThrow(a, `requests[${i}]`),
          })),
        };
      }
      case 'BatchIsAuthorizedWithToken': {
        const resolved = await Promise.all(
          decoded.questions.map((q) => withIdentity(decoded.token.value, q)),
        );
        const answers = await evaluate(
          store,
          resolved.map((r) => r.request),
        );
        return {
          principal: encodeUid(resolved[0]!.principal),
          results: answers.map((a, i) => ({
            request: decoded.echo[i],
            ...answerOrThrow(a, `requests[${i}]`),
          })),
        };
      }
    }
  }

  function page<T>(items: T[], body: Record<string, unknown>) {
    const start = typeof body.nextToken === 'string' ? Number(body.nextToken) : 0;
    const size = typeof body.maxResults === 'number' ? body.maxResults : 10;
    const slice = items.slice(start, start + size);
    return { slice, ...(start + size < items.length ? { nextToken: String(start + size) } : {}) };
  }

  function policyOut(store: PeerStore, id: string, p: PeerPolicy, withStatement: boolean) {
    return {
      policyStoreId: store.policyStoreId,
      policyId: id,
      policyType: p.link ? 'TEMPLATE_LINKED' : 'STATIC',
      definition: p.link
        ? {
            templateLinked: {
              policyTemplateId: p.link.templateId,
              ...(p.link.principal ? { principal: encodeUid(p.link.principal) } : {}),
              ...(p.link.resource ? { resource: encodeUid(p.link.resource) } : {}),
            },
          }
        : { static: withStatement ? { statement: p.statement } : {} },
      createdDate: iso(p.created),
      lastUpdatedDate: iso(p.updated),
    };
  }

  function management(operation: string, body: Record<string, unknown>): unknown {
    const store = storeOf(body.policyStoreId);
    switch (operation) {
      case 'ListPolicies': {
        const { slice, nextToken } = page([...store.policies], body);
        return {
          policies: slice.map(([id, p]) => policyOut(store, id, p, false)),
          ...(nextToken ? { nextToken } : {}),
        };
      }
      case 'GetPolicy': {
        const p = store.policies.get(String(body.policyId));
        if (!p)
          throw new AwsError('ResourceNotFoundException', 'Policy not found.', {
            resourceId: String(body.policyId),
            resourceType: 'POLICY',
          });
        return policyOut(store, String(body.policyId), p, true);
      }
      case 'ListPolicyTemplates': {
        const { slice, nextToken } = page([...store.templates], body);
        return {
          policyTemplates: slice.map(([id, t]) => ({
            policyStoreId: store.policyStoreId,
            policyTemplateId: id,
            createdDate: iso(t.created),
            lastUpdatedDate: iso(t.updated),
          })),
          ...(nextToken ? { nextToken } : {}),
        };
      }
      case 'GetPolicyTemplate': {
        const t = store.templates.get(String(body.policyTemplateId));
        if (!t)
          throw new AwsError('ResourceNotFoundException', 'Policy template not found.', {
            resourceId: String(body.policyTemplateId),
            resourceType: 'POLICY_TEMPLATE',
          });
        return {
          policyStoreId: store.policyStoreId,
          policyTemplateId: String(body.policyTemplateId),
          statement: t.statement,
          createdDate: iso(t.created),
          lastUpdatedDate: iso(t.updated),
        };
      }
      case 'GetSchema': {
        if (store.schema === undefined)
          throw new AwsError('ResourceNotFoundException', 'Schema not found.', {
            resourceId: store.policyStoreId,
            resourceType: 'SCHEMA',
          });
        return {
          policyStoreId: store.policyStoreId,
          schema: store.schema,
          createdDate: iso(store.schemaUpdated),
          lastUpdatedDate: iso(store.schemaUpdated),
          namespaces: [],
        };
      }
      default:
        throw new AwsError('UnknownOperationException', `Operation ${operation} is not served by the peer.`);
    }
  }

  const take = (key: 'throttle' | 'serverError' | 'malformed' | 'badShape'): boolean => {
    const n = faults[key];
    if (!n || n <= 0) return false;
    faults[key] = n - 1;
    return true;
  };

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const operation = operationOf(req.headers['x-amz-target'] as string | undefined) ?? '(none)';
    calls[operation] = (calls[operation] ?? 0) + 1;
    const send = (status: number, body: string, headers: Record<string, string> = {}) => {
      if (res.destroyed) return;
      res.writeHead(status, { 'content-type': AWS_JSON_CONTENT_TYPE, ...headers });
      res.end(body);
    };
    const faulted =
      (!faults.operations || faults.operations.includes(operation)) &&
      (!faults.userAgent || String(req.headers['user-agent'] ?? '').includes(faults.userAgent));
    if (faulted && faults.delayMs) await new Promise((r) => setTimeout(r, faults.delayMs));
    if (faulted && take('throttle')) {
      const r = renderAwsError(new AwsError('ThrottlingException', 'Rate exceeded'));
      return send(r.status, r.body, r.headers);
    }
    if (faulted && take('serverError')) {
      const r = renderAwsError(new AwsError('InternalServerException', 'Internal failure'));
      return send(r.status, r.body, r.headers);
    }
    if (faulted && take('malformed')) return send(200, '{"decision": "ALLOW", "determiningPol');
    if (faulted && take('badShape'))
      return send(200, JSON.stringify({ decision: 'MAYBE', determiningPolicies: [], errors: [] }));
    try {
      const body = parseBody(Buffer.concat(chunks).toString('utf8'));
      const out = (
        [
          'IsAuthorized',
          'BatchIsAuthorized',
          'IsAuthorizedWithToken',
          'BatchIsAuthorizedWithToken',
        ] as string[]
      ).includes(operation)
        ? await dataPlane(operation, body)
        : management(operation, body);
      send(200, JSON.stringify(out));
    } catch (err) {
      const e =
        err instanceof AwsError ? err : new AwsError('InternalServerException', (err as Error).message);
      const r = renderAwsError(e);
      send(r.status, r.body, r.headers);
    }
  }

  let inFlight = 0;
  const server = http.createServer((req, res) => {
    inFlight++;
    void handle(req, res).finally(() => inFlight--);
  });
  server.keepAliveTimeout = 60_000;
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(options.port ?? 0);
  const port = (server.address() as AddressInfo).port;

  const stop = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });

  const peerObj: AvpPeer = {
    url: `http://127.0.0.1:${port}`,
    port,
    stores,
    calls,
    faults,
    resetCalls() {
      for (const k of Object.keys(calls)) delete calls[k];
    },
    totalCalls(operations) {
      return Object.entries(calls)
        .filter(([op]) => !operations || operations.includes(op))
        .reduce((n, [, c]) => n + c, 0);
    },
    async idle() {
      for (let waited = 0; inFlight > 0 && waited < 10_000; waited += 10)
        await new Promise((r) => setTimeout(r, 10));
    },
    refuse: stop,
    restore: () => listen(port),
    close: async () => {
      if (server.listening) await stop();
    },
  };
  return peerObj;
}
