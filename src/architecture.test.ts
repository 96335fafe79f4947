import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The import rules of docs/ARCHITECTURE.md, checked over src/: a module imports only from its own
 * folder or a folder on a lower floor, and no chain of imports comes back to where it started. The
 * floors are read from the document itself (its `floors` block), so the picture and the check
 * cannot drift apart.
 */
const ROOT = path.resolve(import.meta.dirname, '..');
const SRC = path.join(ROOT, 'src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : [];
  });
}

/** Relative imports (static, type-only and dynamic) of one file, as absolute .ts paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((m) => m[1]!);
  return specs.map((s) => path.resolve(path.dirname(file), s).replace(/\.js$/, '.ts'));
}

/** A file's room: its top folder under src/, or the file name for a top-level module. */
function room(file: string): string {
  return path.relative(SRC, file).split(path.sep)[0]!;
}

function floors(): Map<string, number> {
  const doc = readFileSync(path.join(ROOT, 'docs/ARCHITECTURE.md'), 'utf8');
  const block = /```floors\n([\s\S]*?)```/.exec(doc);
  if (!block) throw new Error('docs/ARCHITECTURE.md has no ```floors block');
  const rows = block[1]!.trim().split('\n').reverse(); // the document draws the top floor first
  const out = new Map<string, number>();
  rows.forEach((row, floor) => {
    for (const name of row.split(/\s+/).filter((n) => !n.startsWith('#') && n !== '')) out.set(name, floor);
  });
  return out;
}

const files = sources(SRC);
const graph = new Map(files.map((f) => [f, importsOf(f)]));

describe('architecture (docs/ARCHITECTURE.md)', () => {
  it('every folder of src/ has a floor in the document', () => {
    const known = floors();
    const rooms = [...new Set(files.map(room))].sort();
    expect(rooms.filter((r) => !known.has(r))).toEqual([]);
  });

  it('imports go only down a floor (or stay in their own folder)', () => {
    const known = floors();
    const violations: string[] = [];
    for (const [file, deps] of graph) {
      const from = room(file);
      for (const dep of deps) {
        const to = room(dep);
        if (to === from) continue;
        if (known.get(to)! >= known.get(from)!) {
          violations.push(`${path.relative(SRC, file)} -> ${path.relative(SRC, dep)}`);
        }
      }
    }
    expect(violations).toEqual([]);
  });

  it('no import circle between modules', () => {
    const state = new Map<string, 'open' | 'done'>();
    const circles: string[] = [];
    const visit = (file: string, trail: string[]): void => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        circles.push(
          [...trail.slice(trail.indexOf(file)), file].map((f) => path.relative(SRC, f)).join(' -> '),
        );
        return;
      }
      state.set(file, 'open');
      for (const dep of graph.get(file) ?? []) visit(dep, [...trail, file]);
      state.set(file, 'done');
    };
    for (const file of files) visit(file, []);
    expect(circles).toEqual([]);
  });

  it('the check sees an upward import when there is one', () => {
    // Guards the guard: a parse that found no imports would pass everything above.
    const pipeline = files.find((f) => f.endsWith('pipeline/pipeline.ts'))!;
    expect(graph.get(pipeline)!.map(room)).toContain('engines');
    expect(floors().get('pipeline')).toBeGreaterThan(floors().get('engines')!);
  });
});
