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
  const loaded = configFromObject({ ...raw, server }, baseDir);
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
