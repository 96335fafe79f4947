import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileStore, representativeLinks } from './compile-store.js';
import { StoreLoadError } from './problems.js';
import { readStoreFiles } from './read-store.js';
import type { TemplateLink } from './types.js';
import { generateTenantStore } from '../../scripts/gen-tenants.mjs';
import { tempDir } from '../../test/support/slicing.js';

const tmp = tempDir('links-at-scale');
afterAll(() => tmp.remove());

const link = (newId: string, principal: [string, string], resource?: [string, string]): TemplateLink => ({
  templateId: 't',
  newId,
  values: {
    '?principal': { type: principal[0], id: principal[1] },
    ...(resource ? { '?resource': { type: resource[0], id: resource[1] } } : {}),
  },
});

describe('representativeLinks', () => {
  it('keeps one link per template, slots and entity types; ids do not matter', () => {
    const links = [
      link('a', ['U', '1'], ['D', 'x']),
      link('b', ['U', '2'], ['D', 'y']),
      link('c', ['G', '1'], ['D', 'x']),
      link('d', ['U', '3']),
      { ...link('e', ['U', '4'], ['D', 'z']), templateId: 'other' },
    ];
    expect(representativeLinks(links).map((l) => l.newId)).toEqual(['a', 'c', 'd', 'e']);
  });

  it('keeps ids where they may matter (actions, enumerated types)', () => {
    const links = [
      link('a', ['App::Action', 'x']),
      link('b', ['App::Action', 'y']),
      link('c', ['Color', 'red']),
    ];
    const reps = representativeLinks(links, (t) => t.endsWith('::Action'));
    expect(reps.map((l) => l.newId)).toEqual(['a', 'b', 'c']);
  });
});

describe('a store with 10,000+ template links', () => {
  const dir = path.join(tmp.dir, 'big');
  const store = generateTenantStore(dir, { tenants: 7_000 });

  it('loads, with every link in the compiled store', () => {
    expect(store.links).toBeGreaterThan(10_000);
    const compiled = compileStore('big', readStoreFiles(dir));
    expect(compiled.links).toHaveLength(store.links);
  }, 120_000);

  it('still fails on a bad link among 10,000 good ones, as Cedar reports it', () => {
    const file = path.join(dir, 'links.json');
    const links = JSON.parse(readFileSync(file, 'utf8')) as TemplateLink[];
    links[4321] = {
      ...links[4321]!,
      values: { ...links[4321]!.values, '?resource': { type: 'Saas::Nope', id: 'x' } },
    };
    links[9876] = { ...links[9876]!, values: { '?principal': links[9876]!.values['?principal']! } };
    writeFileSync(file, JSON.stringify(links));
    let caught: unknown;
    try {
      compileStore('big', readStoreFiles(dir));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(StoreLoadError);
    // Cedar's linking error names the slot, not the link.
    expect((caught as Error).message).toMatch(/links\.json: .*slots were not provided.*\?resource/);
    // Once that link is fixed, the unknown entity type is reported with the link's id.
    links[9876] = JSON.parse(JSON.stringify(links[9875]!)) as TemplateLink;
    links[9876].newId = 'fixed';
    writeFileSync(file, JSON.stringify(links));
    let again: unknown;
    try {
      compileStore('big', readStoreFiles(dir));
    } catch (err) {
      again = err;
    }
    expect((again as Error).message).toContain(links[4321]!.newId);
    expect((again as Error).message).toMatch(/Saas::Nope/);
  }, 120_000);
});
