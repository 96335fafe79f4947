#!/usr/bin/env node
// Replay throughput (not a test): `npm run build && node bench/replay.mjs [--decisions 1000000] [--runs 3]`.
//
// Writes a replayable decision log of N decisions, each line built by the decision log's own
// `decisionLine` (so the shape is the real one): users of 50 tenants initiating payments from
// business and personal accounts of their own and other tenants (the `customers` store: schema,
// template links, entities), and services settling payments (`services`). Then runs
// `authz-sidecar replay` (the built CLI, as a user runs it) pinned to core 0 against a candidate
// copy of the sample stores with one permit widened, --runs times, and reports the median wall
// time (process start to exit, reading and parsing the log included) and decisions per second.
// Stdout is a markdown section for docs/BENCHMARKS.md; progress goes to stderr.
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  createWriteStream,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { median, pinned } from './lib.mjs';

const ROOT = path.resolve(import.meta.dirname, '..');
const { values: opts } = parseArgs({
  options: { decisions: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '3' } },
});
const N = Number(opts.decisions);
const RUNS = Number(opts.runs);

const { decisionLine } = await import(path.join(ROOT, 'dist/observability/decision-log.js'));
const work = mkdtempSync(path.join(os.tmpdir(), 'bench-replay-'));
const log = path.join(work, 'decisions.log');

const uid = (type, id) => ({ type, id });
/** The i-th recorded decision: a user's payment initiation or a service's settlement. */
function event(i) {
  const tenant = `t${i % 50}`;
  if (i % 5 === 4) {
    const scope = i % 10 === 4 ? 'payments/settle' : 'payments/read';
    const principal = uid('Payments::Service', i % 10 === 4 ? 'settlement-svc' : 'reporting-svc');
    const evaluated = {
      principal,
      action: uid('Payments::Action', 'SettlePayment'),
      resource: uid('Payments::Payment', `pay-${i}`),
      context: { token: { scope: [scope], client_id: principal.id } },
      entities: [
        { uid: principal, attrs: { scopes: [scope] }, parents: [] },
        {
          uid: uid('Payments::Payment', `pay-${i}`),
          attrs: {
            tenantId: tenant,
            amount: { __extn: { fn: 'decimal', arg: `${(i % 2000) + 1}.50` } },
            currency: 'EUR',
            destinationCountry: 'DE',
            status: 'APPROVED',
          },
          parents: [],
        },
      ],
    };
    const allow = scope === 'payments/settle';
    return { store: 'services', evaluated, allow, policies: allow ? ['settle-with-scope'] : [] };
  }
  const own = i % 7 !== 0;
  const accountType = i % 3 === 0 ? 'PERSONAL' : 'BUSINESS';
  const principal = uid('Payments::User', `dev|user-${i % 1000}`);
  const account = uid('Payments::Account', `acct-${i % 5000}`);
  const evaluated = {
    principal,
    action: uid('Payments::Action', 'InitiatePayment'),
    resource: account,
    context: { destinationCountry: 'DE' },
    entities: [
      {
        uid: principal,
        attrs: { tenantId: tenant },
        parents: [uid('Payments::UserGroup', 'PAYMENT_INITIATOR')],
      },
      { uid: account, attrs: { tenantId: own ? tenant : 'other', accountType, country: 'GB' }, parents: [] },
    ],
  };
  const allow = own && accountType === 'BUSINESS';
  return {
    store: 'customers',
    evaluated,
    allow,
    policies: allow ? ['initiator-business-accounts'] : own ? [] : ['tenant-isolation'],
  };
}

process.stderr.write(`writing ${N.toLocaleString()} decisions to ${log}\n`);
const out = createWriteStream(log);
for (let i = 0; i < N; i++) {
  const e = event(i);
  const line = decisionLine(
    {
      request: {
        subject: { kind: 'token', token: 'x' },
        action: e.evaluated.action,
        resource: e.evaluated.resource,
        context: {},
        entities: [],
      },
      decision: {
        decision: e.allow ? 'ALLOW' : 'DENY',
        decisionId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
        determiningPolicies: e.policies,
        errors: [],
        cached: false,
        store: e.store,
        storeVersion: 'v1',
        principal: e.evaluated.principal,
        callerType: e.store === 'services' ? 'service' : 'user',
      },
      durationSeconds: 0.00005,
      evaluated: e.evaluated,
    },
    Date.UTC(2026, 11, 1) + i,
    true,
  );
  if (!out.write(`${JSON.stringify(line)}\n`)) await new Promise((r) => out.once('drain', r));
}
await new Promise((r) => out.end(r));
const bytes = statSync(log).size;

const candidate = path.join(work, 'candidate');
cpSync(path.join(ROOT, 'policies'), candidate, { recursive: true });
const accounts = path.join(candidate, 'customers/accounts.cedar');
writeFileSync(
  accounts,
  readFileSync(accounts, 'utf8').replace(
    'when { resource.accountType == "BUSINESS" };',
    'when { resource.accountType == "BUSINESS" || resource.accountType == "PERSONAL" };',
  ),
);

const bin = path.join(ROOT, 'bin/authz-sidecar.js');
const times = [];
let report;
for (let r = 0; r < RUNS; r++) {
  const args = [bin, 'replay', '--log', log, '--store', candidate, '--json', '--allow-gains'];
  const started = performance.now();
  const run = pinned
    ? spawnSync('taskset', ['-c', '0', process.execPath, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 })
    : spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  const ms = performance.now() - started;
  if (run.status !== 0) throw new Error(`replay exited ${run.status}: ${run.stderr}`);
  report = JSON.parse(run.stdout);
  if (report.replayed !== N) throw new Error(`replayed ${report.replayed} of ${N}`);
  times.push(ms);
  process.stderr.write(`run ${r + 1}: ${(ms / 1e3).toFixed(2)} s\n`);
}
if (!process.env.KEEP) rmSync(work, { recursive: true, force: true });
else process.stderr.write(`kept ${work}\n`);

const ms = median(times);
const perSecond = N / (ms / 1e3);
const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
process.stdout.write(`## Replay throughput

\`node bench/replay.mjs --decisions ${N} --runs ${RUNS}\` on ${cpu}, Node ${process.version}, the replay
${pinned ? 'pinned to one core (taskset -c 0)' : 'on one process (not pinned: fewer than two cores)'}: \`authz-sidecar replay --log FILE --store
CANDIDATE --json\` over a replayable log of ${N.toLocaleString('en-US')} decisions (${(bytes / 2 ** 20).toFixed(0)} MiB; users of 50
tenants on the \`customers\` store, services on \`services\`), against the sample stores with one permit
widened. Wall time from process start to exit (start-up, reading, parsing, deciding, report), median
of ${RUNS} runs (${times.map((t) => (t / 1e3).toFixed(1)).join(', ')} s).

| decisions | median wall time | decisions/s | per minute | flips found |
|---:|---:|---:|---:|---:|
| ${N.toLocaleString('en-US')} | ${(ms / 1e3).toFixed(1)} s | ${Math.round(perSecond).toLocaleString('en-US')} | ${Math.round(perSecond * 60).toLocaleString('en-US')} | ${(report.denyToAllow.count + report.allowToDeny.count).toLocaleString('en-US')} |
`);
