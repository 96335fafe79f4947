import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compileStore } from './compile-store.js';
import { listStoreDirs, readStoreFiles } from './read-store.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'authz-read-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const write = (rel: string, content: string) => {
  mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
  writeFileSync(path.join(dir, rel), content);
};

describe('readStoreFiles', () => {
  it('reads the store files of a folder and its sub-folders, and nothing else', () => {
    write('b.cedar', 'b');
    write('a.cedar', 'a');
    write('nested/c.cedar', 'c');
    write('schema.cedarschema', 's');
    write('entities.json', '[]');
    write('links.json', '[]');
    write('tests.yaml', 'cases: []');
    write('README.md', '#');
    write('.hidden.cedar', 'h');
    write('.git/x.cedar', 'x');
    write('nested/entities.json.bak', 'x');
    expect(readStoreFiles(dir).map((f) => f.path)).toEqual([
      'a.cedar',
      'b.cedar',
      'entities.json',
      'links.json',
      'nested/c.cedar',
      'schema.cedarschema',
    ]);
  });

  it('reads symlinked files, as a Kubernetes ConfigMap mounts them (through ..data)', () => {
    // The layout kubelet writes: files are links through `..data`, itself a link to a dated folder.
    write('..2024_01_01/deny.cedar', '@id("deny-all") forbid (principal, action, resource);\n');
    write('..2024_01_01/allow.cedar', '@id("allow-all") permit (principal, action, resource);\n');
    symlinkSync('..2024_01_01', path.join(dir, '..data'));
    symlinkSync('..data/deny.cedar', path.join(dir, 'deny.cedar'));
    symlinkSync('..data/allow.cedar', path.join(dir, 'allow.cedar'));
    const files = readStoreFiles(dir);
    expect(files.map((f) => f.path)).toEqual(['allow.cedar', 'deny.cedar']);
    // A forbid in a linked file must not be lost (that would turn its DENYs into ALLOWs).
    expect(Object.keys(compileStore('cm', files).policies).sort()).toEqual(['allow-all', 'deny-all']);
  });

  it('fails on a dangling symlinked store file instead of dropping it', () => {
    write('a.cedar', 'permit (principal, action, resource);');
    symlinkSync('missing.cedar', path.join(dir, 'forbids.cedar'));
    expect(() => readStoreFiles(dir)).toThrow(/ENOENT/);
  });

  it('does not follow a symlinked folder (no loops)', () => {
    write('a.cedar', 'a');
    symlinkSync('.', path.join(dir, 'loop'));
    expect(readStoreFiles(dir).map((f) => f.path)).toEqual(['a.cedar']);
  });
});

describe('listStoreDirs', () => {
  it('lists folders (sorted, no dot folders, no files)', () => {
    write('zeta/a.cedar', 'a');
    write('alpha/a.cedar', 'a');
    write('.git/HEAD', 'x');
    write('notes.txt', 'x');
    expect(listStoreDirs(dir)).toEqual(['alpha', 'zeta']);
  });
});
