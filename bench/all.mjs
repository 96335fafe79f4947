#!/usr/bin/env node
// `npm run bench`: every benchmark, one after another (never side by side: they pin cores), each
// in its own process, and docs/BENCHMARKS.md assembled from their sections:
//
//   bench/wrk.mjs    throughput with wrk: floor, is-authorized and authorize cached/uncached on
//                    both evaluators, Envoy HTTP, Cerbos 0.55; p99 at a fixed 2,000 req/s
//   bench/decide.mjs in-process decide() µs: sample store and 10 / 1,000 / 10,000 tenants, both evaluators
//   bench/load.mjs   load time of a 10,000-tenant store and where it goes
//   bench/run.mjs    batch, gRPC and token-flood rows (autocannon), RSS under a flood of unique requests
//   bench/avp.mjs    the AVP door, the avp engine's calls per 1,000 decisions, cache on and off
//   bench/scale.mjs  10 / 1,000 / 10,000 tenants, slicing on and off (also writes docs/SCALE.md)
//   bench/replay.mjs `authz-sidecar replay` over a log of 1,000,000 recorded decisions
//
//   node bench/all.mjs [--only wrk,decide,load,run,avp,scale,replay] [--quick]
//
// --quick shortens every run (to check the scripts work; its numbers are not worth quoting and it
// does not write docs/).
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = path.resolve(import.meta.dirname, '..');
const { values: opts } = parseArgs({
  options: {
    only: { type: 'string', default: 'wrk,decide,load,run,avp,scale,replay' },
    quick: { type: 'boolean', default: false },
  },
});
const only = new Set(opts.only.split(','));

const benches = [
  { name: 'wrk', args: opts.quick ? ['--duration', '2', '--rounds', '1'] : [] },
  { name: 'decide', args: opts.quick ? ['--seconds', '1', '--sizes', '10,1000'] : [] },
  { name: 'load', args: opts.quick ? ['--tenants', '1000', '--runs', '2'] : [] },
  {
    name: 'run',
    args: opts.quick
      ? ['--duration', '2', '--rounds', '1', '--flood', '20000', '--tokens', '2000', '--no-write']
      : ['--no-write'],
  },
  { name: 'avp', args: opts.quick ? ['--duration', '2', '--rounds', '1'] : [] },
  {
    name: 'scale',
    args: opts.quick ? ['--runs', '1', '--sizes', '10,1000', '--seconds', '2'] : ['--runs', '3', '--write'],
  },
  { name: 'replay', args: opts.quick ? ['--decisions', '20000', '--runs', '1'] : [] },
];

/** Runs one script; its stdout is its markdown section, its stderr progress (passed through). */
function runBench({ name, args }) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bench', `${name}.mjs`), ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code, signal) =>
      code === 0 ? resolve(out.trim()) : reject(new Error(`bench/${name}.mjs failed (${code ?? signal})`)),
    );
  });
}

execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });
const sections = [];
for (const bench of benches) {
  if (!only.has(bench.name)) continue;
  process.stderr.write(`\n== bench/${bench.name}.mjs ${bench.args.join(' ')}\n`);
  sections.push(await runBench(bench));
}
// The hand-written analysis of where the time goes goes last (it is not regenerated).
if (only.has('run')) sections.push(readFileSync(path.join(ROOT, 'bench/analysis.md'), 'utf8').trim());
const md = `${sections.join('\n\n')}\n`;
process.stdout.write(md);
if (!opts.quick && only.size === benches.length) {
  writeFileSync(path.join(ROOT, 'docs/BENCHMARKS.md'), md);
  // Formatted like every other file, so that a rerun's diff shows numbers, not whitespace.
  execFileSync('npx', ['prettier', '--write', 'docs/BENCHMARKS.md'], { cwd: ROOT, stdio: 'ignore' });
}
