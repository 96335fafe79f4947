import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './sidecar.js';

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, delay));
  }
}

/** A port that was free a moment ago on 127.0.0.1 (for peers that must know their port before they listen). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Starts a node:http server on an ephemeral port of 127.0.0.1. */
export async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ server: Server; url: string; port: number }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}`, port };
}

export async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

export interface CognitoLocal {
  /** `http://127.0.0.1:PORT`: the AWS API endpoint and the issuer domain. */
  url: string;
  close(): Promise<void>;
}

/**
 * Starts the real `cognito-local` (its CLI) in a temporary working directory on a free port of
 * 127.0.0.1. Its `createDefaultServer` factory reads `.cognito/` relative to the process's cwd and
 * the port from the environment at module load, so a child process is the clean way to give it a
 * private data folder and port. `UsernameAttributes: []` lets plain usernames sign in.
 */
export async function startCognitoLocal(): Promise<CognitoLocal> {
  const bin = path.join(REPO_ROOT, 'node_modules/cognito-local/lib/bin/start.js');
  for (let attempt = 1; ; attempt++) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cognito-local-'));
    mkdirSync(path.join(dir, '.cognito'));
    writeFileSync(
      path.join(dir, '.cognito/config.json'),
      JSON.stringify({ UserPoolDefaults: { UsernameAttributes: [] } }),
    );
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const child = spawn(process.execPath, [bin], {
      cwd: dir,
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: '1',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let gone = false;
    void exited.then(() => (gone = true));
    try {
      await waitFor(async () => {
        if (gone) throw new Error(`cognito-local exited: ${stderr.slice(-500)}`);
        const res = await fetch(`${url}/health`);
        return res.ok;
      }, 'cognito-local to listen');
    } catch (err) {
      await stopChild(child, exited);
      rmSync(dir, { recursive: true, force: true });
      // Someone took the port between freePort() and the child's listen: try another one.
      if (attempt < 3 && /EADDRINUSE/.test(stderr)) continue;
      throw err;
    }
    return {
      url,
      async close() {
        await stopChild(child, exited);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
}

async function stopChild(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  await exited;
}
