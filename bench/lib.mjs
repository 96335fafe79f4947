// Helpers shared by the benchmarks (bench/run.mjs, bench/avp.mjs): pinning, ports, readiness.
import { spawn } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';

/**
 * Whether to pin: the server under test to core 0, the load generator to core 1. The machine's
 * cores, not this process's: once re-run under taskset, availableParallelism() is 1.
 */
export const pinned = os.cpus().length >= 2;

/** `[command, args]` that start `node ...args` pinned to core 0 when pinning. */
export function onCore0(args) {
  return pinned ? ['taskset', ['-c', '0', process.execPath, ...args]] : [process.execPath, args];
}

/**
 * Runs `main` with this process (the load generator) pinned to core 1: the script re-runs itself
 * under taskset once, passing its stdout (the markdown) and exit code through.
 */
export async function runOnCore1(main) {
  if (!pinned || process.env.BENCH_PINNED === '1') return main();
  const child = spawn('taskset', ['-c', '1', process.execPath, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, BENCH_PINNED: '1' },
  });
  child.on('exit', (code) => process.exit(code ?? 1));
}

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once `url` answers 2xx; throws after `ms`. */
export async function waitForUrl(url, ms = 30_000) {
  for (const until = Date.now() + ms; Date.now() < until;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not come up`);
}
