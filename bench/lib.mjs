// Helpers shared by the benchmarks (bench/run.mjs, bench/avp.mjs): pinning, ports, readiness.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
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

/**
 * The container memory limit of deploy/kubernetes/sidecar.yaml (`limits: memory: NMi`), in MiB.
 * Node sizes its heap from the memory it may use: in that container ~256 MiB of V8 heap; on this
 * 24 GiB machine, 4 GiB, so V8 lets garbage pile up far longer before it collects. A benchmark of
 * the sidecar's memory that is to say what the pod will see runs it under the same limit.
 */
export function manifestMemoryLimitMiB() {
  const manifest = readFileSync(new URL('../deploy/kubernetes/sidecar.yaml', import.meta.url), 'utf8');
  const m = /limits:\s*\n\s*cpu:[^\n]*\n\s*memory:\s*(\d+)Mi/.exec(manifest);
  return m ? Number(m[1]) : undefined;
}

/**
 * A memory cgroup limited to `mib` (cgroup v2, else v1), for one process to join before it execs,
 * or undefined when this machine does not let us make one (not root, no memory controller).
 * Returns the folder whose `cgroup.procs` the process writes itself into.
 */
export function memoryCgroup(mib) {
  const name = `authz-bench-${process.pid}`;
  const bytes = String(mib * 1048576);
  const attempts = [
    ['/sys/fs/cgroup', 'memory.max'],
    ['/sys/fs/cgroup/unified', 'memory.max'],
    ['/sys/fs/cgroup/memory', 'memory.limit_in_bytes'],
  ];
  for (const [root, file] of attempts) {
    try {
      const dir = path.join(root, name);
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, file), bytes);
      process.on('exit', () => {
        try {
          rmdirSync(dir);
        } catch {
          /* still has a member; the OS keeps an empty group harmlessly */
        }
      });
      return dir;
    } catch {
      /* try the next layout */
    }
  }
  return undefined;
}

/** `onCore0`, inside a memory cgroup folder when given (the process joins it, then execs). */
export function onCore0Limited(args, cgroup) {
  if (!cgroup) return onCore0(args);
  const [cmd, argv] = onCore0(args);
  return ['sh', ['-c', `echo $$ > "${cgroup}/cgroup.procs" && exec "$@"`, 'sh', cmd, ...argv]];
}
