/**
 * Where the vendored Cedar integration tests live, and the generated corpus extracted from its
 * tarball (kept compressed in git; extracted once per machine into a temporary folder with `tar`).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const VENDOR_DIR = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '../../../testdata/cedar-conformance',
);

/** Extracts `corpus-tests.tar.gz` (if not already done) and returns the folder holding `corpus-tests/`. */
export function corpusRoot(): string {
  const root = join(tmpdir(), 'cedar-conformance-corpus');
  if (existsSync(join(root, 'corpus-tests', '.complete'))) return root;
  const staging = `${root}.${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  execFileSync('tar', ['xzf', join(VENDOR_DIR, 'corpus-tests.tar.gz'), '-C', staging]);
  execFileSync('touch', [join(staging, 'corpus-tests', '.complete')]);
  rmSync(root, { recursive: true, force: true });
  try {
    renameSync(staging, root);
  } catch {
    // Another process won the race; its copy is complete.
    rmSync(staging, { recursive: true, force: true });
  }
  return root;
}

/** The 22 hand-written tests, as paths relative to `VENDOR_DIR`. */
export function handwrittenTests(): string[] {
  const out: string[] = [];
  for (const d of readdirSync(join(VENDOR_DIR, 'tests')).sort())
    for (const f of readdirSync(join(VENDOR_DIR, 'tests', d)).sort())
      if (f.endsWith('.json')) out.push(`tests/${d}/${f}`);
  return out;
}

/** Every generated test, sorted, as paths relative to `corpusRoot()`. */
export function corpusTests(root: string): string[] {
  return readdirSync(join(root, 'corpus-tests'))
    .filter((f) => f.endsWith('.json') && !f.endsWith('.entities.json'))
    .sort()
    .map((f) => `corpus-tests/${f}`);
}

/** A caveat list (`corpus-….txt`): test path → note (the rest of the line, if any). */
export function caveatList(name: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of readFileSync(join(VENDOR_DIR, name), 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const [path, ...rest] = line.split('\t');
    m.set(path!.trim(), rest.join(' ').trim());
  }
  return m;
}
