import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './sidecar.js';

/** A fresh folder under os.tmpdir(); call `remove()` in afterAll/afterEach. */
export function tempDir(prefix = 'authz-test-'): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A temp copy of the repo's sample stores (`policies/`). */
export function copyOfSamplePolicies(): { dir: string; remove(): void } {
  const temp = tempDir('authz-policies-');
  cpSync(path.join(REPO_ROOT, 'policies'), temp.dir, { recursive: true });
  return temp;
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 3_000,
  intervalMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
