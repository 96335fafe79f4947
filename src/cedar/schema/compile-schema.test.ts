import { describe, expect, it } from 'vitest';
import { compileSchema } from './compiled.js';
import { SchemaValidationError } from './errors.js';
import { SCHEMA } from './test-cases.js';

describe('compileSchema', () => {
  const s = compileSchema(SCHEMA);
  it('qualifies names and resolves common types', () => {
    const user = s.model.entityTypes.get('App::User')!;
    expect(user.shape.attrs.get('addr')?.type).toMatchObject({ kind: 'record' });
    expect(user.shape.attrs.get('age')).toEqual({ type: { kind: 'long' }, required: false });
    expect(user.shape.attrs.get('manager')?.type).toEqual({ kind: 'entity', name: 'App::User' });
    expect(user.shape.attrs.get('ip')?.type).toEqual({ kind: 'extension', name: 'ipaddr' });
    expect(user.tags).toEqual({ kind: 'string' });
    expect(s.model.entityTypes.get('Root')!.shape.attrs.get('t')?.type).toEqual({
      kind: 'entity',
      name: 'App::Team',
    });
  });
  it('parent types are transitive through memberOfTypes', () => {
    expect([...s.model.entityTypes.get('App::User')!.allowedParentTypes].sort()).toEqual([
      'App::Org',
      'App::Team',
    ]);
    expect([...s.model.entityTypes.get('App::Org')!.allowedParentTypes]).toEqual([]);
  });
  it('enums, actions, groups', () => {
    expect([...s.model.entityTypes.get('App::Color')!.enumIds!]).toEqual(['red', 'green']);
    const view = s.model.actions.get('App::Action::"view"')!;
    expect([...view.principalTypes].sort()).toEqual(['App::Team', 'App::User']);
    expect([...view.resourceTypes]).toEqual(['App::Doc']);
    expect(view.entity.parents.map((p) => p.key).sort()).toEqual([
      'App::Action::"read"',
      'App::Action::"write"',
    ]);
    const read = s.model.actions.get('App::Action::"read"')!;
    expect(read.principalTypes.size).toBe(0);
    expect(read.context.attrs.size).toBe(0);
    expect(s.model.actions.get('Action::"top"')).toBeDefined();
  });
  it('refuses what cedar-wasm refuses', () => {
    expect(() => compileSchema('entity A = { x: Nope };')).toThrow(SchemaValidationError);
    expect(() =>
      compileSchema({
        '': {
          entityTypes: { A: { shape: { type: 'Record', attributes: {}, additionalAttributes: true } } },
          actions: {},
        },
      }),
    ).toThrow(/additionalAttributes/);
  });
});
