/* eslint-disable @typescript-eslint/no-explicit-any -- gRPC messages of protos loaded at run time are untyped */
/**
 * The soak: the real sidecar (a child process, bin/authz-sidecar.js) under steady mixed load at a
 * fixed rate while a scripted schedule of faults plays out; every answer is checked against an
 * independent oracle (cedar-wasm's isAuthorized on the policy files of the version that was live).
 * `npm run soak -- --minutes N [--write]`; test/integration/soak.test.ts runs a compressed one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { envoyProtoDirs, PROTO_OPTIONS } from '../../src/doors/grpc/protos.js';
import { makeKey, nowSeconds, sign, type TestKey } from '../support/keys.js';
import { startAvpPeer, PeerStore, type AvpPeer } from '../support/avp-peer.js';
import { storeIdOf, TEST_CREDENTIALS } from '../support/avp-fixtures.js';
import { freePort, listen, closeServer } from '../support/peers.js';
import { REPO_ROOT } from '../support/sidecar.js';
import { tempDir } from '../support/temp.js';

const ISS = 'https://soak.test/pool';
const RELOAD_WINDOW_MS = 5_000; // after a policy change either version may answer

// ---- the soak store: small policies the oracle evaluates with cedar-wasm directly -------------
const BASE = `@id("readers")
permit (principal in Payments::UserGroup::"VIEWER", action == Payments::Action::"Read", resource)
when { principal has tenantId && resource has tenantId && principal.tenantId == resource.tenantId };
`;
const WRITERS = `@id("writers")
permit (principal in Payments::UserGroup::"WRITER", action == Payments::Action::"Write", resource)
when { principal has tenantId && resource has tenantId && principal.tenantId == resource.tenantId };
`;
const SERVICES = `@id("svc-read")
permit (principal == Payments::Service::"svc-acme", action == Payments::Action::"Read", resource)
when { resource has tenantId && resource.tenantId == "acme" };
`;
const WIDE_WRITERS = `@id("writers")
permit (principal in Payments::UserGroup::"WRITER", action in [Payments::Action::"Write", Payments::Action::"Delete"], resource)
when { principal has tenantId && resource has tenantId && principal.tenantId == resource.tenantId };
`;
const NARROW_READERS = `@id("readers")
permit (principal in Payments::UserGroup::"VIEWER", action == Payments::Action::"Read", resource)
when { principal has tenantId && resource has tenantId && principal.tenantId == resource.tenantId && resource has public && resource.public };
`;
const BROKEN = `@id("writers")\npermit (principal in Payments::UserGroup::"WRITER", action == , resource) when {`;
const VERSIONS: Record<string, Record<string, string>> = {
  v1: { 'readers.cedar': BASE, 'writers.cedar': WRITERS, 'services.cedar': SERVICES },
  widened: { 'readers.cedar': BASE, 'writers.cedar': WIDE_WRITERS, 'services.cedar': SERVICES },
  narrowed: { 'readers.cedar': NARROW_READERS, 'writers.cedar': WIDE_WRITERS, 'services.cedar': SERVICES },
};

interface Uid {
  type: string;
  id: string;
}
interface Ent {
  uid: Uid;
  attrs: Record<string, unknown>;
  parents: Uid[];
}
const G = (id: string): Uid => ({ type: 'Payments::UserGroup', id });

const oracleCache = new Map<string, boolean>();
function oracle(
  version: string,
  req: { principal: Uid; action: Uid; resource: Uid; context: any; entities: Ent[] },
): boolean {
  const k = `${version}|${JSON.stringify(req)}`;
  const hit = oracleCache.get(k);
  if (hit !== undefined) return hit;
  const files = VERSIONS[version]!;
  const a = cedar.isAuthorized({
    principal: req.principal,
    action: req.action,
    resource: req.resource,
    context: req.context,
    entities: req.entities as any,
    policies: { staticPolicies: Object.values(files).join('\n') },
  });
  if (a.type === 'failure') throw new Error(`oracle failed: ${a.errors.map((e) => e.message).join('; ')}`);
  const allow = a.response.decision === 'allow';
  if (oracleCache.size < 50_000) oracleCache.set(k, allow);
  return allow;
}
/** The customers store as the AVP peer holds it: the oracle for the avp store (never edited). */
const AVP_POLICIES = readdirSync(path.join(REPO_ROOT, 'policies/customers'))
  .filter((f) => f.endsWith('.cedar'))
  .map((f) => readFileSync(path.join(REPO_ROOT, 'policies/customers', f), 'utf8'))
  .filter((text) => !text.includes('?principal')) // the delegation template: its links name carol and dan, never alice
  .join('\n');

const AVP_SCHEMA = readFileSync(path.join(REPO_ROOT, 'policies/customers/schema.cedarschema'), 'utf8');

// ---- a JWKS server that can go down, slow down and rotate -------------------------------------
interface Jwks {
  uri: string;
  mode: 'up' | 'down' | 'slow';
  keys: TestKey[];
  requests: number;
  close(): Promise<void>;
}
async function startJwks(keys: TestKey[]): Promise<Jwks> {
  const state: Jwks = { uri: '', mode: 'up', keys, requests: 0, close: async () => {} };
  const { server, url } = await listen((req, res) => {
    state.requests++;
    if (state.mode === 'down') return void req.socket.destroy();
    const send = () =>
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ keys: state.keys.map((k) => k.publicJwk) }));
    if (state.mode === 'slow') setTimeout(send, 3_000);
    else send();
  });
  state.uri = `${url}/jwks.json`;
  state.close = () => closeServer(server);
  return state;
}

// ---- statistics -------------------------------------------------------------------------------
const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

export interface SoakOptions {
  minutes: number;
  rate?: number;
  write?: boolean;
  log?: (line: string) => void;
}
export interface SoakResult {
  requests: number;
  fiveXx: number;
  wrongAllows: number;
  wrongDenies: number;
  documentedDenies: Record<string, number>;
  unexplained: string[];
  decisionsTotal: number;
  logLinesRead: number;
  logDropped: number;
  logLost: number;
  rssPeakMb: number;
  exitCode: number | null;
  shutdownMs: number;
  inFlightAtSigterm: number;
  inFlightFailedAtSigterm: number;
  phases: {
    name: string;
    requests: number;
    p50: number;
    p99: number;
    fiveXx: number;
    wrongAllows: number;
    wrongDenies: number;
    documented: number;
  }[];
  faults: { name: string; noticedMs: number | undefined; recoveredMs: number | undefined; note: string }[];
  report: string;
}

type Door =
  | 'authorize'
  | 'batch'
  | 'is-authorized'
  | 'avp-store'
  | 'ext-authz'
  | 'grpc'
  | 'authzen'
  | 'avp-door'
  | 'soak2';

export async function runSoak(opts: SoakOptions): Promise<SoakResult> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const T = opts.minutes * 60_000;
  const rate = opts.rate ?? 250;
  const tmp = tempDir('authz-soak-');
  const policiesDir = path.join(tmp.dir, 'policies');
  const writeVersion = (store: string, v: string | Record<string, string>) => {
    const dir = path.join(policiesDir, store);
    mkdirSync(dir, { recursive: true });
    const files = typeof v === 'string' ? VERSIONS[v]! : v;
    for (const [f, text] of Object.entries(files)) writeFileSync(path.join(dir, f), text);
  };
  writeVersion('soak', 'v1');
  cpSync(path.join(REPO_ROOT, 'policies/api'), path.join(policiesDir, 'api'), { recursive: true });

  const [k1, k2] = await Promise.all([makeKey('soak-k1'), makeKey('soak-k2')]);
  const jwks = await startJwks([k1]);
  const peer: AvpPeer = await startAvpPeer({
    stores: [PeerStore.fromDir(storeIdOf('customers'), path.join(REPO_ROOT, 'policies/customers'))],
  });
  const port = await freePort();
  const grpcPort = await freePort();
  const avpDoorPort = await freePort();
  const devYaml = (await import('yaml')).parse(readFileSync(path.join(REPO_ROOT, 'config/dev.yaml'), 'utf8'));
  const config = {
    server: { port, host: '127.0.0.1', shutdownGraceMs: 3_000, drainDelayMs: 500 },
    grpc: { enabled: true, port: grpcPort, host: '127.0.0.1' },
    policies: { dir: policiesDir, watch: true },
    log: { level: 'warn' },
    decisionLog: { enabled: true },
    issuers: [
      {
        name: 'soak',
        issuer: ISS,
        jwksUri: jwks.uri,
        audiences: ['soak-app', 'svc-acme', 'svc-globex'],
        tokenUse: ['id', 'access'],
        algorithms: ['RS256'],
        jwksCooldownSeconds: 1,
        principalIdFormat: 'sub',
        groupIdFormat: 'name',
        entityTypes: { user: 'Payments::User', group: 'Payments::UserGroup', service: 'Payments::Service' },
        attributes: { 'custom:tenantId': 'tenantId' },
      },
    ],
    routes: [
      { callerType: 'user', issuer: 'soak', store: 'soak' },
      { callerType: 'service', issuer: 'soak', store: 'soak' },
      { callerType: 'user', store: 'soak' },
    ],
    avpDoor: { enabled: true, port: avpDoorPort },
    stores: {
      soak: { engine: 'local' },
      api: { engine: 'local' },
      'avp-customers': {
        engine: 'avp',
        policyStoreId: storeIdOf('customers'),
        region: 'us-east-1',
        endpoint: peer.url,
        retries: 1,
        retryBaseMs: 5,
        timeBudgetMs: 400,
        circuitBreaker: { failureThreshold: 20, resetMs: 2_000 },
        entitiesFile: path.join(REPO_ROOT, 'policies/customers/entities.json'),
      },
    },
    httpRoutes: devYaml.httpRoutes,
    authzen: { ...devYaml.authzen, store: 'soak' },
  };
  const configPath = path.join(tmp.dir, 'authz.yaml');
  writeFileSync(configPath, JSON.stringify(config, null, 2));

  // ---- the child ----
  const t0ref = { t0: 0 };
  const child: ChildProcess = spawn(
    process.execPath,
    [path.join(REPO_ROOT, 'bin/authz-sidecar.js'), 'serve', '--config', configPath],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
        AWS_EC2_METADATA_DISABLED: 'true',
      },
    },
  );
  let stderr = '';
  const killChild = () => child.kill('SIGKILL');
  process.once('exit', killChild);
  child.stderr!.on('data', (d: Buffer) => {
    if (stderr.length < 200_000) stderr += d.toString();
  });
  let logLinesRead = 0;
  const rl = createInterface({ input: child.stdout! });
  rl.on('line', (line) => {
    if (line.includes('"decision"')) logLinesRead++;
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (i > 300) throw new Error(`the sidecar did not come up:\n${stderr}`);
    const ok = await fetch(`${base}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  let rssPeak = 0;
  const rssTimer = setInterval(() => {
    try {
      const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (m) rssPeak = Math.max(rssPeak, Number(m[1]) / 1024);
    } catch {
      /* gone */
    }
  }, 500);

  // ---- gRPC client ----
  const envoy = grpc.loadPackageDefinition(
    protoLoader.loadSync('envoy/service/auth/v3/external_auth.proto', {
      ...PROTO_OPTIONS,
      includeDirs: envoyProtoDirs(),
    }),
  ) as any;
  const authz = new envoy.envoy.service.auth.v3.Authorization(
    `127.0.0.1:${grpcPort}`,
    grpc.credentials.createInsecure(),
  );
  const grpcCheck = (pathQ: string, bearer: string) =>
    new Promise<{ code: number; http?: number | string; err?: string }>((resolve) =>
      authz.Check(
        {
          attributes: {
            request: {
              http: {
                method: 'GET',
                path: pathQ,
                host: 'payments.example.com',
                scheme: 'https',
                protocol: 'HTTP/1.1',
                headers: {
                  ':method': 'GET',
                  ':path': pathQ,
                  ':authority': 'payments.example.com',
                  authorization: `Bearer ${bearer}`,
                },
              },
            },
          },
        },
        { deadline: Date.now() + 5_000 },
        (err: grpc.ServiceError | null, res: any) =>
          resolve(
            err
              ? { code: -1, err: `${err.code} ${err.details}` }
              : { code: res.status?.code ?? 0, http: res.denied_response?.status?.code },
          ),
      ),
    );

  // ---- callers ----
  const users = [
    { sub: 'ann', tenant: 'acme', groups: ['VIEWER'] },
    { sub: 'bob', tenant: 'acme', groups: ['WRITER', 'VIEWER'] },
    { sub: 'cat', tenant: 'globex', groups: ['VIEWER', 'WRITER'] },
    { sub: 'dov', tenant: 'globex', groups: [] as string[] },
  ];
  const services = ['svc-acme', 'svc-globex'];
  type Caller = { kind: 'user'; u: (typeof users)[number] } | { kind: 'service'; id: string };
  const callers: Caller[] = [
    ...users.map((u) => ({ kind: 'user' as const, u })),
    ...services.map((id) => ({ kind: 'service' as const, id })),
  ];
  const tokenOf = async (c: Caller, key: TestKey) => {
    const now = nowSeconds();
    return c.kind === 'user'
      ? sign(key, {
          iss: ISS,
          sub: c.u.sub,
          aud: 'soak-app',
          token_use: 'id',
          'cognito:groups': c.u.groups,
          'custom:tenantId': c.u.tenant,
          iat: now,
          exp: now + 7200,
        })
      : sign(key, {
          iss: ISS,
          sub: c.id,
          client_id: c.id,
          token_use: 'access',
          scope: 'soak/read',
          iat: now,
          exp: now + 7200,
        });
  };
  const tokens = {
    k1: await Promise.all(callers.map((c) => tokenOf(c, k1))),
    k2: await Promise.all(callers.map((c) => tokenOf(c, k2))),
  };
  const principalEntities = (c: Caller): Ent[] =>
    c.kind === 'user'
      ? [
          {
            uid: { type: 'Payments::User', id: c.u.sub },
            attrs: { tenantId: c.u.tenant },
            parents: c.u.groups.map(G),
          },
          ...c.u.groups.map((g) => ({ uid: G(g), attrs: {}, parents: [] })),
        ]
      : [{ uid: { type: 'Payments::Service', id: c.id }, attrs: {}, parents: [] }];
  const principalUid = (c: Caller): Uid =>
    c.kind === 'user' ? { type: 'Payments::User', id: c.u.sub } : { type: 'Payments::Service', id: c.id };

  // ---- schedule ----
  const at = (f: number) => Math.round(f * T);
  let live = 'v1'; // the version the oracle believes live
  const versionChanges: { t: number; from: string; to: string }[] = [];
  const setVersion = (to: string, now: number) => {
    versionChanges.push({ t: now, from: live, to });
    live = to;
  };
  let signWith: 'k1' | 'k2' = 'k1';
  let newKeyShare = 0; // share of requests signed with k2 before the rotation is published
  let soak2Live = false;
  let floodRate = 0;
  let draining = false;
  const faults: {
    name: string;
    start: number;
    end: number;
    affected: (r: Rec) => boolean;
    note: string;
    noticed?: number;
    recovered?: number;
  }[] = [];
  interface Rec {
    t: number;
    door: Door;
    status: number;
    decision?: string;
    reason?: string;
    key: 'k1' | 'k2';
    who: string;
    storeVersion?: string;
    ms: number;
    expect: boolean[];
  }
  const phaseName = (t: number): string => {
    const f = t / T;
    if (f < 0.1) return '0 baseline';
    if (f < 0.2) return '1 jwks down (+ unpublished new key)';
    if (f < 0.28) return '2 jwks slow (3 s)';
    if (f < 0.32) return '3 jwks back, rotated';
    if (f < 0.48) return '4 policy widened/narrowed';
    if (f < 0.58) return '5 policy broken, then fixed';
    if (f < 0.66) return '6 store folder added/removed';
    if (f < 0.78) return '7 avp throttles/5xx/hangs';
    if (f < 0.86) return '8 decision-log reader stalls';
    if (f < 0.91) return '9 unique-key flood';
    if (f < 0.97) return '10 steady';
    return '11 SIGTERM';
  };
  const steps: [number, string, () => void | Promise<void>][] = [
    [0.1, 'jwks down', () => void (jwks.mode = 'down')],
    [0.12, 'tokens signed with a new, unpublished key (10%)', () => void (newKeyShare = 0.1)],
    [0.2, 'jwks slow', () => void (jwks.mode = 'slow')],
    [
      0.28,
      'jwks back with rotated keys (k2 only)',
      () => {
        jwks.keys = [k2];
        jwks.mode = 'up';
      },
    ],
    [
      0.3,
      'all new tokens signed with k2',
      () => {
        signWith = 'k2';
        newKeyShare = 0;
      },
    ],
    [
      0.32,
      'policy widened (writers may Delete)',
      () => {
        writeVersion('soak', 'widened');
        setVersion('widened', now());
      },
    ],
    [
      0.4,
      'policy narrowed (readers need resource.public)',
      () => {
        writeVersion('soak', 'narrowed');
        setVersion('narrowed', now());
      },
    ],
    [0.48, 'policy broken (syntax error)', () => writeVersion('soak', { 'writers.cedar': BROKEN })],
    [
      0.54,
      'policy fixed (back to v1)',
      () => {
        writeVersion('soak', 'v1');
        setVersion('v1', now());
      },
    ],
    [
      0.58,
      'store folder soak2 added',
      () => {
        writeVersion('soak2', 'v1');
        soak2Live = true;
      },
    ],
    [
      0.62,
      'store folder soak2 removed',
      () => {
        rmSync(path.join(policiesDir, 'soak2'), { recursive: true, force: true });
        soak2Live = false;
      },
    ],
    [0.66, 'avp throttles', () => void (peer.faults.throttle = Infinity)],
    [
      0.7,
      'avp 5xx',
      () => {
        delete peer.faults.throttle;
        peer.faults.serverError = Infinity;
      },
    ],
    [
      0.74,
      'avp hangs (5 s)',
      () => {
        delete peer.faults.serverError;
        peer.faults.delayMs = 5_000;
      },
    ],
    [0.78, 'avp healthy', () => void delete peer.faults.delayMs],
    [0.8, 'decision-log reader stalls', () => void child.stdout!.pause()],
    [0.86, 'decision-log reader resumes', () => void child.stdout!.resume()],
    [0.86, 'unique-key flood', () => void (floodRate = rate)],
    [0.91, 'flood ends', () => void (floodRate = 0)],
  ];
  faults.push(
    {
      name: 'JWKS down; tokens of an unpublished key',
      start: at(0.12),
      end: at(0.28),
      affected: (r) => r.key === 'k2' && r.status === 401,
      note: 'new-key tokens: documented 401 until the JWKS is back; old-key tokens keep working from the cached key set',
    },
    {
      name: 'JWKS slow (3 s), then rotated',
      start: at(0.2),
      end: at(0.28),
      affected: (r) => r.key === 'k2' && r.status === 401,
      note: 'recovered = first k2 token accepted after the rotated set is served',
    },
    {
      name: 'policy widened',
      start: at(0.32),
      end: at(0.32),
      affected: () => false,
      note: 'noticed = first answer only the new version explains',
    },
    {
      name: 'policy narrowed',
      start: at(0.4),
      end: at(0.4),
      affected: () => false,
      note: 'noticed = first answer only the new version explains',
    },
    {
      name: 'AVP throttles / 5xx / hangs',
      start: at(0.66),
      end: at(0.78),
      affected: (r) => r.door === 'avp-store' && r.reason === 'engine_unavailable',
      note: 'documented DENY engine_unavailable; recovered = first evaluated avp answer after',
    },
  );

  // ---- load ----
  const recs: Rec[] = [];
  const fiveXxSamples: string[] = [];
  const unexplained: string[] = [];
  let inFlight = 0;
  let seq = 0;
  const now = () => performance.now() - t0ref.t0;
  const resources = (tenant: string, unique: boolean, extra: Record<string, unknown> = {}) => ({
    uid: { type: 'Payments::Account', id: unique ? `acct-${tenant}-${seq++}` : `acct-${tenant}-1` },
    attrs: { tenantId: tenant, ...extra },
    parents: [] as Uid[],
  });
  const actions = ['Read', 'Write', 'Delete'];
  const doors: Door[] = [
    'authorize',
    'authorize',
    'batch',
    'is-authorized',
    'is-authorized',
    'avp-store',
    'ext-authz',
    'grpc',
    'authzen',
    'avp-door',
  ];
  const soak2Statuses: Record<string, number> = {};

  const oneRequest = async (flood: boolean) => {
    const t = now();
    const door: Door = flood
      ? 'is-authorized'
      : soak2Live && seq % 20 === 0
        ? 'soak2'
        : doors[seq % doors.length]!;
    const caller = callers[Math.floor(Math.random() * callers.length)]!;
    const tenant = Math.random() < 0.5 ? 'acme' : 'globex';
    const unique = flood || Math.random() < 0.3;
    const res = resources(tenant, unique, Math.random() < 0.5 ? { public: true } : {});
    const action = { type: 'Payments::Action', id: actions[Math.floor(Math.random() * 3)]! };
    const key: 'k1' | 'k2' = signWith === 'k2' || Math.random() < newKeyShare ? 'k2' : 'k1';
    const token = tokens[key][callers.indexOf(caller)]!;
    // The versions that may answer now: the live one, and the previous for a window after a change.
    const candidates = new Set([live]);
    for (const c of versionChanges) if (t - c.t < RELOAD_WINDOW_MS) candidates.add(c.from);
    const oracleReq = {
      principal: principalUid(caller),
      action,
      resource: res.uid,
      context: {},
      entities: [...principalEntities(caller), res],
    };
    let expect: boolean[] = [...candidates].map((v) => oracle(v, oracleReq));
    // A version written while the request was in flight may answer it too (checked when it returns).
    let oracleFor: ((v: string) => boolean) | undefined = (v) => oracle(v, oracleReq);
    const rec: Rec = { t, door, status: 0, key, who: `${callers.indexOf(caller)}|${tenant}`, ms: 0, expect };
    inFlight++;
    const started = performance.now();
    try {
      const body = {
        action,
        resource: { type: res.uid.type, id: res.uid.id, attributes: res.attrs, parents: [] },
        context: {},
      };
      if (door === 'authorize' || door === 'batch') {
        const r = await fetch(`${base}/v1/authorize${door === 'batch' ? '/batch' : ''}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify(door === 'batch' ? { items: [body, body] } : body),
        });
        rec.status = r.status;
        const j: any = await r.json().catch(() => ({}));
        const d = door === 'batch' ? j.results?.[0] : j;
        rec.decision = d?.decision;
        rec.reason = d?.reason ?? j.error?.code ?? j.code;
        if (door === 'batch' && j.results && j.results[1]?.decision !== d?.decision)
          unexplained.push(`batch items disagree at ${Math.round(t)} ms`);
      } else if (door === 'is-authorized' || door === 'soak2' || door === 'avp-store') {
        const store = door === 'is-authorized' ? 'soak' : door === 'soak2' ? 'soak2' : 'avp-customers';
        let payload: any;
        if (door === 'avp-store') {
          // alice (PAYMENT_INITIATOR of acme) views an account: the customers store as AVP holds it.
          const acct = {
            uid: { type: 'Payments::Account', id: unique ? `acme-${seq++}` : 'acme-ops' },
            attrs: { tenantId: tenant, accountType: 'BUSINESS', country: 'GB' },
            parents: [{ type: 'Payments::Tenant', id: tenant }],
          };
          const p = {
            uid: { type: 'Payments::User', id: 'alice' },
            attrs: { tenantId: 'acme' },
            parents: [G('PAYMENT_INITIATOR')],
          };
          const a = { type: 'Payments::Action', id: 'ViewAccount' };
          payload = { store, principal: p.uid, action: a, resource: acct.uid, entities: [p, acct] };
          const staticEnts = JSON.parse(
            readFileSync(path.join(REPO_ROOT, 'policies/customers/entities.json'), 'utf8'),
          );
          const k = `avp|${tenant}`;
          let allow = oracleCache.get(k);
          if (allow === undefined) {
            const out = cedar.isAuthorized({
              principal: p.uid,
              action: a,
              resource: acct.uid,
              context: {},
              entities: [p, acct, ...staticEnts],
              schema: AVP_SCHEMA,
              validateRequest: false,
              policies: { staticPolicies: AVP_POLICIES },
            });
            if (out.type === 'failure') throw new Error(out.errors.map((e) => e.message).join('; '));
            allow = out.response.decision === 'allow';
            oracleCache.set(k, allow);
          }
          expect = [allow];
          rec.expect = expect;
          oracleFor = undefined;
        } else {
          payload = {
            store,
            principal: oracleReq.principal,
            action,
            resource: res.uid,
            entities: oracleReq.entities,
          };
          if (door === 'soak2') {
            rec.expect = expect = [];
            oracleFor = undefined;
          }
        }
        const r = await fetch(`${base}/v1/is-authorized`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(payload),
        });
        rec.status = r.status;
        const j: any = await r.json().catch(() => ({}));
        rec.decision = j.decision;
        rec.reason = j.reason ?? j.error?.code;
        rec.storeVersion = j.storeVersion;
        if (door === 'soak2')
          soak2Statuses[`${soak2Live ? 'folder present' : 'folder removed'}: ${r.status}`] =
            (soak2Statuses[`${soak2Live ? 'folder present' : 'folder removed'}: ${r.status}`] ?? 0) + 1;
      } else if (door === 'avp-door') {
        // The AVP protocol (AWS JSON 1.0) on the sidecar's AVP door, deciding with the soak store.
        const r = await fetch(`http://127.0.0.1:${avpDoorPort}/`, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-amz-json-1.0',
            'x-amz-target': 'VerifiedPermissions.IsAuthorized',
          },
          body: JSON.stringify({
            policyStoreId: 'soak',
            principal: { entityType: oracleReq.principal.type, entityId: oracleReq.principal.id },
            action: { actionType: action.type, actionId: action.id },
            resource: { entityType: res.uid.type, entityId: res.uid.id },
            entities: {
              entityList: oracleReq.entities.map((e) => ({
                identifier: { entityType: e.uid.type, entityId: e.uid.id },
                attributes: Object.fromEntries(
                  Object.entries(e.attrs).map(([k, v]) => [
                    k,
                    typeof v === 'boolean' ? { boolean: v } : { string: v },
                  ]),
                ),
                parents: e.parents.map((p) => ({ entityType: p.type, entityId: p.id })),
              })),
            },
          }),
        });
        rec.status = r.status;
        const j: any = await r.json().catch(() => ({}));
        rec.decision = j.decision;
        rec.reason = j.__type ?? j.message;
      } else if (door === 'authzen') {
        const u = caller.kind === 'user' ? caller.u : users[0]!;
        const subj = { type: 'user', id: u.sub, properties: { groups: u.groups, tenantId: u.tenant } };
        const r = await fetch(`${base}/access/v1/evaluation`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            subject: subj,
            action: { name: action.id },
            resource: { type: 'account', id: res.uid.id, properties: res.attrs },
          }),
        });
        rec.status = r.status;
        const j: any = await r.json().catch(() => ({}));
        rec.decision = j.decision === true ? 'ALLOW' : j.decision === false ? 'DENY' : undefined;
        const uc: Caller = { kind: 'user', u };
        oracleFor = (v) =>
          oracle(v, { ...oracleReq, principal: principalUid(uc), entities: [...principalEntities(uc), res] });
        rec.expect = expect = [...candidates].map(oracleFor);
      } else if (door === 'ext-authz') {
        const r = await fetch(`${base}/ext-authz/accounts/${res.uid.id}`, {
          method: 'GET',
          headers: { authorization: `Bearer ${token}` },
        });
        await r.arrayBuffer();
        rec.status = r.status >= 500 ? r.status : 200;
        rec.decision = r.status === 200 ? 'ALLOW' : r.status === 401 ? 'UNAUTHENTICATED' : 'DENY';
        rec.expect = [];
      } else {
        const g = await grpcCheck(`/accounts/${res.uid.id}`, token);
        rec.status = g.code === -1 ? 500 : 200;
        if (g.err) rec.reason = g.err;
        rec.decision =
          g.code === 0
            ? 'ALLOW'
            : g.code === 16 || g.http === 401 || g.http === 'Unauthorized'
              ? 'UNAUTHENTICATED'
              : 'DENY';
        rec.expect = [];
      }
    } catch (e) {
      rec.status = draining ? -2 : 599;
      const cause = (e as { cause?: { code?: string } }).cause;
      rec.reason = cause?.code ?? String((e as Error).message);
    } finally {
      inFlight--;
      rec.ms = performance.now() - started;
      const writtenMeanwhile = versionChanges.filter((c) => c.t >= t).map((c) => c.to);
      if (oracleFor && rec.expect.length > 0 && writtenMeanwhile.length > 0)
        rec.expect = [...new Set([...candidates, ...writtenMeanwhile])].map(oracleFor);
      recs.push(rec);
    }
  };

  // ---- run ----
  t0ref.t0 = performance.now();
  let stepIdx = 0;
  let ticker: NodeJS.Timeout | undefined;
  const TICK = 20;
  let carry = 0;
  const pending = new Set<Promise<void>>();
  const fire = (flood: boolean) => {
    if (inFlight > 400) return; // the generator's own bound: a stalled sidecar must not take the client down
    const p = oneRequest(flood);
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };
  const sigtermAt = at(0.97);
  let sigtermSent = 0;
  let inFlightAtSigterm = 0;
  let metricsBefore = '';
  await new Promise<void>((resolve) => {
    ticker = setInterval(() => {
      const t = now();
      while (stepIdx < steps.length && t >= at(steps[stepIdx]![0])) {
        const [, what, fn] = steps[stepIdx++]!;
        log(`[soak] ${(t / 1000).toFixed(1)} s: ${what}`);
        void fn();
      }
      if (t >= sigtermAt) {
        clearInterval(ticker);
        resolve();
        return;
      }
      carry += ((rate + floodRate) * TICK) / 1000;
      const n = Math.floor(carry);
      carry -= n;
      const floods = Math.round((n * floodRate) / (rate + floodRate));
      for (let i = 0; i < n; i++) fire(i < floods);
    }, TICK);
  });
  // Metrics just before SIGTERM (the oracle of the decision log), then SIGTERM with requests in flight.
  metricsBefore = await fetch(`${base}/metrics`).then(
    (r) => r.text(),
    () => '',
  );
  const sigtermStart = performance.now();
  const lastBatch: Promise<void>[] = [];
  draining = true;
  for (let i = 0; i < 50; i++) {
    const p = oneRequest(false);
    lastBatch.push(p);
  }
  await new Promise((r) => setTimeout(r, 10)); // let them reach the sidecar
  inFlightAtSigterm = inFlight;
  child.kill('SIGTERM');
  sigtermSent = performance.now();
  const exitCode = await Promise.race([exited, new Promise<null>((r) => setTimeout(() => r(null), 20_000))]);
  const shutdownMs = performance.now() - sigtermSent;
  await Promise.all(lastBatch);
  await Promise.all([...pending]);
  clearInterval(rssTimer);
  rl.close();
  authz.close();
  await jwks.close();
  await peer.close();
  if (exitCode === null) child.kill('SIGKILL');
  tmp.remove();
  void sigtermStart;

  // ---- judge ----
  const documented: Record<string, number> = {};
  const doc = (why: string) => (documented[why] = (documented[why] ?? 0) + 1);
  const inWin = (t: number, a: number, b: number) => t >= a && t <= b;
  let wrongAllows = 0;
  let wrongDenies = 0;
  let fiveXx = 0;
  const phaseStats = new Map<string, { ms: number[]; fiveXx: number; wa: number; wd: number; doc: number }>();
  let inFlightFailedAtSigterm = 0;
  const wrongDenyKinds: Record<string, number> = {};
  const sigtermOutcomes: Record<string, number> = {};
  const firstSeen = new Map<string, number>(); // consistency oracle for the Envoy doors
  for (const r of recs.sort((a, b) => a.t - b.t)) {
    const ph = phaseName(r.t);
    const s = phaseStats.get(ph) ?? { ms: [], fiveXx: 0, wa: 0, wd: 0, doc: 0 };
    phaseStats.set(ph, s);
    s.ms.push(r.ms);
    if (r.door === 'soak2') continue; // an observation (see the report), not judged
    if (r.t >= sigtermAt)
      sigtermOutcomes[r.status === -2 ? `failed: ${r.reason}` : `answered ${r.status}`] =
        (sigtermOutcomes[r.status === -2 ? `failed: ${r.reason}` : `answered ${r.status}`] ?? 0) + 1;
    if (r.status === -2) {
      inFlightFailedAtSigterm++;
      continue;
    }
    if (r.status >= 500) {
      fiveXx++;
      s.fiveXx++;
      if (fiveXxSamples.length < 10)
        fiveXxSamples.push(`${r.door} ${r.status} ${r.reason ?? ''} at ${Math.round(r.t)} ms`);
      continue;
    }
    const allowed = r.status === 200 && r.decision === 'ALLOW';
    if (r.door === 'ext-authz' || r.door === 'grpc') {
      // No Cedar oracle: the api store never changes, so an answer must match the first healthy one
      // (401s of unpublished-key tokens are the documented JWKS window).
      if (r.decision === 'UNAUTHENTICATED' && r.key === 'k2' && r.t < at(0.3)) {
        doc('401: token of an unpublished key while the JWKS is down/slow');
        s.doc++;
        continue;
      }
      const k = `${r.door}|${r.who}`;
      const first = firstSeen.get(k);
      if (first === undefined) firstSeen.set(k, allowed ? 1 : 0);
      else if (allowed && first === 0) {
        wrongAllows++;
        s.wa++;
        unexplained.push(`${r.door} ALLOW where the healthy answer was DENY at ${Math.round(r.t)} ms`);
      } else if (!allowed && first === 1) {
        wrongDenies++;
        s.wd++;
        unexplained.push(`${r.door} ${r.decision} at ${Math.round(r.t)} ms`);
      }
      continue;
    }
    const anyAllow = r.expect.some(Boolean);
    const allAllow = r.expect.length > 0 && r.expect.every(Boolean);
    if (allowed && !anyAllow) {
      wrongAllows++;
      s.wa++;
      unexplained.push(`WRONG ALLOW ${r.door} at ${Math.round(r.t)} ms (expect ${r.expect})`);
    } else if (!allowed && allAllow) {
      let why: string | undefined;
      if (r.status === 401 && r.key === 'k2' && r.t < at(0.3))
        why = '401: token of an unpublished key while the JWKS is down/slow';
      else if (
        r.door === 'avp-store' &&
        r.reason === 'engine_unavailable' &&
        inWin(r.t, at(0.66), at(0.78) + 3_000)
      )
        why = 'DENY engine_unavailable: AVP throttling/5xx/hanging (+3 s circuit reset)';
      if (why) {
        doc(why);
        s.doc++;
      } else {
        wrongDenies++;
        s.wd++;
        wrongDenyKinds[`${r.door} ${r.status} ${r.decision ?? ''} ${r.reason ?? ''} (${phaseName(r.t)})`] =
          (wrongDenyKinds[
            `${r.door} ${r.status} ${r.decision ?? ''} ${r.reason ?? ''} (${phaseName(r.t)})`
          ] ?? 0) + 1;
        if (unexplained.length < 40)
          unexplained.push(
            `wrong DENY ${r.door} ${r.status} ${r.decision ?? ''} ${r.reason ?? ''} at ${Math.round(r.t)} ms (${phaseName(r.t)})`,
          );
      }
    }
  }
  // fault noticed / recovered
  for (const f of faults) {
    for (const r of recs) {
      if (f.noticed === undefined && r.t >= f.start && f.affected(r)) f.noticed = r.t - f.start;
    }
  }
  const fault = (n: string) => faults.find((f) => f.name === n)!;
  // recovery: first good answer of the affected kind after the fault ended
  const firstAfter = (t: number, ok: (r: Rec) => boolean) => recs.find((r) => r.t >= t && ok(r));
  const kRec = firstAfter(
    at(0.28),
    (r) => r.key === 'k2' && r.status === 200 && (r.door === 'authorize' || r.door === 'batch'),
  );
  fault('JWKS down; tokens of an unpublished key').recovered = kRec && kRec.t - at(0.28);
  fault('JWKS slow (3 s), then rotated').recovered = kRec && kRec.t - at(0.28);
  const avpRec = firstAfter(
    at(0.78),
    (r) => r.door === 'avp-store' && r.status === 200 && r.reason !== 'engine_unavailable',
  );
  fault('AVP throttles / 5xx / hangs').recovered = avpRec && avpRec.t - at(0.78);
  // a policy change is noticed at the first answer only the new version explains
  const onlyNew = (from: string, to: string, start: number) =>
    recs.find((r) => {
      if (r.t < start || r.door !== 'is-authorized' || r.status !== 200) return false;
      return false;
    }) && from + to;
  void onlyNew;
  // A policy change is noticed at the first answer of the soak store under a new storeVersion.
  const versioned = recs.filter((r) => r.door === 'is-authorized' && r.status === 200 && r.storeVersion);
  const versionAt = (t: number) => [...versioned].reverse().find((r) => r.t < t)?.storeVersion;
  for (const [name, t] of [
    ['policy widened', at(0.32)],
    ['policy narrowed', at(0.4)],
    ['policy fixed (back to v1)', at(0.54)],
  ] as const) {
    const before = versionAt(t);
    const hit = versioned.find((r) => r.t >= t && r.storeVersion !== before);
    const f =
      faults.find((x) => x.name === name) ??
      faults[faults.push({ name, start: t, end: t, affected: () => false, note: '' }) - 1]!;
    f.noticed = hit && hit.t - t;
    f.note = 'noticed = first answer under a new storeVersion (the watcher reloads; no restart)';
  }
  const brokenVersions = new Set(
    versioned.filter((r) => r.t >= at(0.48) + 1_000 && r.t < at(0.54)).map((r) => r.storeVersion),
  );
  const lastGood = versionAt(at(0.48));
  const brokenNote = `while broken, answers came from ${brokenVersions.size} storeVersion(s); ${brokenVersions.size === 1 && brokenVersions.has(lastGood) ? 'the last good one' : 'NOT only the last good one'}`;
  faults.push({
    name: 'policy broken',
    start: at(0.48),
    end: at(0.54),
    affected: () => false,
    note: brokenNote,
  });
  if (!(brokenVersions.size <= 1 && (brokenVersions.size === 0 || brokenVersions.has(lastGood))))
    unexplained.push(brokenNote);

  const metric = (name: string) => {
    let sum = 0;
    for (const line of metricsBefore.split('\n'))
      if (line.startsWith(name) && !line.startsWith('#')) sum += Number(line.split(' ').pop());
    return sum;
  };
  const decisionsTotal = metric('authz_decisions_total');
  const logDropped = metric('authz_decision_logs_dropped_total');
  const logLost = Math.max(0, decisionsTotal - logDropped - logLinesRead);
  const phases = [...phaseStats.entries()]
    .sort((a, b) => Number(a[0].split(' ')[0]) - Number(b[0].split(' ')[0]))
    .map(([name, s]) => ({
      name,
      requests: s.ms.length,
      p50: pct(s.ms, 50),
      p99: pct(s.ms, 99),
      fiveXx: s.fiveXx,
      wrongAllows: s.wa,
      wrongDenies: s.wd,
      documented: s.doc,
    }));

  const fmt = (n: number | undefined) => (n === undefined ? '—' : `${(n / 1000).toFixed(2)} s`);
  const lines = [
    `| phase | requests | p50 ms | p99 ms | 5xx | wrong ALLOW | wrong DENY | documented fail-closed |`,
    `|---|---:|---:|---:|---:|---:|---:|---:|`,
    ...phases.map(
      (p) =>
        `| ${p.name} | ${p.requests} | ${p.p50.toFixed(1)} | ${p.p99.toFixed(1)} | ${p.fiveXx} | ${p.wrongAllows} | ${p.wrongDenies} | ${p.documented} |`,
    ),
    `| **total** | ${recs.length} | ${pct(
      recs.map((r) => r.ms),
      50,
    ).toFixed(1)} | ${pct(
      recs.map((r) => r.ms),
      99,
    ).toFixed(
      1,
    )} | ${fiveXx} | ${wrongAllows} | ${wrongDenies} | ${Object.values(documented).reduce((a, b) => a + b, 0)} |`,
    '',
    `| fault | noticed after | recovered after fault end | note |`,
    `|---|---:|---:|---|`,
    ...faults.map((f) => `| ${f.name} | ${fmt(f.noticed)} | ${fmt(f.recovered)} | ${f.note} |`),
    '',
    `- decisions made (authz_decisions_total before SIGTERM): ${decisionsTotal}; decision-log lines read: ${logLinesRead}; counted drops (authz_decision_logs_dropped_total): ${logDropped}; lost beyond counted drops: ${logLost} (lines of the decisions between the scrape and exit are read but not in the total, so read may exceed made − dropped)`,
    `- store folder soak2 added then removed under policies.dir (answers by status): ${
      Object.entries(soak2Statuses)
        .map(([k, v]) => `${k} → ${v}`)
        .join('; ') || 'none'
    }`,
    `- RSS peak of the sidecar: ${rssPeak.toFixed(0)} MiB`,
    `- SIGTERM with ${inFlightAtSigterm} requests in flight: exit code ${exitCode}, after ${(shutdownMs / 1000).toFixed(2)} s; in-flight requests that failed (connection closed): ${inFlightFailedAtSigterm}`,
    `- documented fail-closed answers: ${
      Object.entries(documented)
        .map(([k, v]) => `${k}: ${v}`)
        .join('; ') || 'none'
    }`,
    `- 5xx samples: ${fiveXxSamples.join('; ') || 'none'}`,
    `- requests launched around SIGTERM: ${Object.entries(sigtermOutcomes)
      .map(([k, v]) => `${k} → ${v}`)
      .join('; ')}`,
    `- wrong DENYs by kind: ${
      Object.entries(wrongDenyKinds)
        .map(([k, v]) => `${k} → ${v}`)
        .join('; ') || 'none'
    }`,
    `- unexplained: ${unexplained.slice(0, 20).join('; ') || 'none'}`,
  ];
  const report = lines.join('\n');
  return {
    requests: recs.length,
    fiveXx,
    wrongAllows,
    wrongDenies,
    documentedDenies: documented,
    unexplained,
    decisionsTotal,
    logLinesRead,
    logDropped,
    logLost,
    rssPeakMb: rssPeak,
    exitCode,
    shutdownMs,
    inFlightAtSigterm,
    inFlightFailedAtSigterm,
    phases,
    faults: faults.map((f) => ({
      name: f.name,
      noticedMs: f.noticed,
      recoveredMs: f.recovered,
      note: f.note,
    })),
    report,
  };
}
