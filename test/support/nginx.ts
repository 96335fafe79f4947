import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './sidecar.js';

/** Where scripts/install-nginx.sh puts Debian's nginx (`apt-get download` + `dpkg -x`). */
export const NGINX_BIN = path.join(REPO_ROOT, '.cache/nginx/usr/sbin/nginx');

export interface RunningNginx {
  url: string;
  dir: string;
  errorLog(): string;
  stop(): Promise<void>;
}

/** A free loopback port (bind to 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, log: () => string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`nginx exited (${child.exitCode}):\n${log()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.end(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nginx did not listen on ${port} within ${ms} ms:\n${log()}`);
}

/**
 * Starts nginx in the foreground (no daemon, no master process, nothing outside a temp folder):
 * `http { ... }` is the given server block plus temp paths and logs inside that folder.
 */
export async function startNginx(serverBlock: (port: number) => string): Promise<RunningNginx> {
  if (!existsSync(NGINX_BIN)) {
    throw new Error(
      `nginx is not installed at ${NGINX_BIN}. Run \`bash scripts/install-nginx.sh\` (.ci/run does) to put Debian's nginx there.`,
    );
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'authz-nginx-'));
  for (const d of ['logs', 'body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(path.join(dir, d));
  const port = await freePort();
  const errorLog = path.join(dir, 'logs/error.log');
  writeFileSync(
    path.join(dir, 'nginx.conf'),
    `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${errorLog} info;
events { worker_connections 64; }
http {
  default_type application/octet-stream;
  access_log ${dir}/logs/access.log;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${serverBlock(port)}
}
`,
  );
  const child = spawn(NGINX_BIN, ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', errorLog], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const log = () => `${stderr}${existsSync(errorLog) ? readFileSync(errorLog, 'utf8') : ''}`;
  await waitForPort(port, child, log);
  return {
    url: `http://127.0.0.1:${port}`,
    dir,
    errorLog: log,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGQUIT');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
}
