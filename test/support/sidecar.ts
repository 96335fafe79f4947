import { readdirSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { configFromObject } from '../../src/config/index.js';
import { createLogger } from '../../src/observability/logger.js';
import { startSidecar, type Sidecar } from '../../src/server.js';

export const REPO_ROOT = path.resolve(import.meta.dirname, '../..');

/** Starts the real sidecar on an ephemeral port with the given config (relative paths from the repo root). */
export async function startTestSidecar(
  raw: Record<string, unknown> = {},
  baseDir = REPO_ROOT,
): Promise<Sidecar> {
  const server = { port: 0, ...((raw.server as object) ?? {}) };
  // Tests read decisions from responses; a test about the decision log turns it on.
  const decisionLog = { enabled: false, ...((raw.decisionLog as object) ?? {}) };
  const grpc = { port: 0, ...((raw.grpc as object) ?? {}) };
  const loaded = configFromObject({ ...raw, server, decisionLog, grpc }, baseDir);
  return startSidecar(loaded, createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'));
}

/** POSTs JSON and returns status and parsed body. */
export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json: json as Record<string, unknown> };
}

/** Sends a request with its target exactly as given (fetch would resolve `..` and re-encode). */
export function rawRequest(
  url: string,
  method: string,
  target: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: import('node:http').IncomingHttpHeaders; text: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, method, path: target, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** GETs a URL and returns status and parsed JSON body. */
export async function getJson(url: string) {
  const res = await fetch(url);
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    text,
    json: JSON.parse(text) as Record<string, unknown>,
  };
}

/** The sample stores under policies/ (every folder is a store), sorted. */
export function sampleStores(): string[] {
  return readdirSync(path.join(REPO_ROOT, 'policies'), { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
}
