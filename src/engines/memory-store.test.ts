import { describe, expect, it } from 'vitest';
import { LocalStoreEngine } from './local.js';
import { compileMemoryStore } from '../policy/compile-memory.js';
import { StoreLoadError } from '../policy/problems.js';

const schema = JSON.stringify({
  App: {
    entityTypes: { User: { shape: { type: 'Record', attributes: { level: { type: 'Long' } } } }, Doc: {} },
    actions: { read: { appliesTo: { principalTypes: ['User'], resourceTypes: ['Doc'] } } },
  },
});

const request = (level: number) => ({
  principal: { type: 'App::User', id: 'u1' },
  action: { type: 'App::Action', id: 'read' },
  resource: { type: 'App::Doc', id: 'd1' },
  context: {},
  entities: [{ uid: { type: 'App::User', id: 'u1' }, attrs: { level }, parents: [] }],
});

describe('stores fed from memory', () => {
  it('compile like folders: ids are the given keys, links instantiate templates, the schema validates', async () => {
    const compiled = compileMemoryStore('mem', {
      policies: {
        'senior-read':
          'permit (principal, action == App::Action::"read", resource) when { principal.level >= 5 };',
      },
      templates: { 'owner-tpl': 'permit (principal == ?principal, action, resource == ?resource);' },
      links: [
        {
          templateId: 'owner-tpl',
          newId: 'u1-owns-d1',
          values: {
            '?principal': { type: 'App::User', id: 'u1' },
            '?resource': { type: 'App::Doc', id: 'd1' },
          },
        },
      ],
      schema,
      entities: [],
      origin: 'avp:PSTEST',
    });
    expect(compiled.version).toMatch(/^[0-9a-f]{12}$/);
    const engine = new LocalStoreEngine('mem', undefined, { idPrefix: 'test:mem' });
    engine.activate(compiled);
    const [senior, junior] = await engine.decide([request(7), request(1)]);
    expect(senior).toMatchObject({ kind: 'evaluated', allow: true });
    expect(senior?.kind === 'evaluated' && senior.determiningPolicies.sort()).toEqual([
      'senior-read',
      'u1-owns-d1',
    ]);
    expect(junior).toMatchObject({ kind: 'evaluated', allow: true, determiningPolicies: ['u1-owns-d1'] });
    expect(engine.status()).toMatchObject({ ready: true, version: compiled.version, policies: 2 });
  });

  it('a different content is a different version; the same content the same', () => {
    const base = { templates: {}, links: [], entities: [], origin: 'x' };
    const a = compileMemoryStore('m', { ...base, policies: { p: 'permit (principal, action, resource);' } });
    const b = compileMemoryStore('m', { ...base, policies: { p: 'permit (principal, action, resource);' } });
    const c = compileMemoryStore('m', { ...base, policies: { p: 'forbid (principal, action, resource);' } });
    expect(a.version).toBe(b.version);
    expect(c.version).not.toBe(a.version);
  });

  it('reports every problem located at its policy id', () => {
    let error: unknown;
    try {
      compileMemoryStore('m', {
        policies: {
          broken: 'permit (principal, action, resource) when { principal.level >= };',
          typo: 'permit (principal, action == App::Action::"raed", resource);',
        },
        templates: {},
        links: [],
        schema,
        entities: [],
        origin: 'avp:PSTEST',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(StoreLoadError);
    const problems = (error as StoreLoadError).problems;
    expect(problems.some((p) => p.file === 'avp:PSTEST/policies/broken')).toBe(true);
  });

  it('a store without a folder cannot load from disk', () => {
    expect(() => new LocalStoreEngine('mem').load()).toThrow(/no folder/);
  });
});
