import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import '../cedar/v8-flags.js';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { LocalStoreEngine } from '../engines/local.js';
import { compileStore } from './compile-store.js';
import { formatProblem, StoreLoadError } from './problems.js';
import { inFileOrder, splitStatements } from './cedar-text.js';
import { readStoreFiles } from './read-store.js';
import type { CompiledStore } from './types.js';

const tempDirs: string[] = [];
afterEach(() => {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Writes a store folder under os.tmpdir() (file name → content) and returns its path. */
function storeDir(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'authz-store-'));
  tempDirs.push(dir);
  writeFiles(dir, files);
  return dir;
}

function writeFiles(dir: string, files: Record<string, string>) {
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), content);
  }
}

const load = (dir: string, name = 'test'): CompiledStore => compileStore(name, readStoreFiles(dir));

/** The located problems of a store that must fail to load, formatted as the CLI prints them. */
function problemsOf(files: Record<string, string>): string[] {
  const dir = storeDir(files);
  let caught: unknown;
  try {
    load(dir);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(StoreLoadError);
  const err = caught as StoreLoadError;
  expect(err.store).toBe('test');
  expect(err.problems.length).toBeGreaterThan(0);
  // The thrown message lists every problem too (that is what startup prints).
  for (const p of err.problems) expect(err.message).toContain(formatProblem(p));
  return err.problems.map(formatProblem);
}

const SCHEMA = `namespace App {
  entity Group in [Group];
  entity User in [Group] { level: Long, name?: String };
  entity Doc { owner: User, public: Bool };
  action read appliesTo { principal: User, resource: Doc };
  action write appliesTo { principal: User, resource: Doc };
}
`;

const TEMPLATE =
  '@id("share")\npermit (principal == ?principal, action == App::Action::"read", resource == ?resource);\n';

const link = (newId: string, templateId = 'share', user = 'u1', doc = 'd1') => ({
  templateId,
  newId,
  values: { '?principal': { type: 'App::User', id: user }, '?resource': { type: 'App::Doc', id: doc } },
});

describe('compileStore: policy ids', () => {
  it('takes ids from @id annotations', () => {
    const store = load(
      storeDir({
        'a.cedar':
          '@id("first")\npermit (principal, action, resource);\n@id("second")\nforbid (principal, action, resource);\n',
      }),
    );
    expect(Object.keys(store.policies).sort()).toEqual(['first', 'second']);
    expect(store.sources.second).toMatchObject({ file: 'a.cedar' });
  });

  it('falls back to <file>#<n>, the position in its file (templates count), stable across loads', () => {
    const files = {
      'a.cedar':
        'permit (principal, action, resource);\n' +
        '@id("tpl") permit (principal == ?principal, action, resource);\n' +
        'forbid (principal, action, resource) when { false };\n',
      'sub/b.cedar':
        'permit (principal, action, resource);\n@id("named") permit (principal, action, resource);\n',
    };
    const first = load(storeDir(files));
    expect(Object.keys(first.policies).sort()).toEqual(['a.cedar#0', 'a.cedar#2', 'named', 'sub/b.cedar#0']);
    expect(Object.keys(first.templates)).toEqual(['tpl']);
    expect(first.policies['a.cedar#2']).toContain('forbid');
    const again = load(storeDir(files));
    expect(Object.keys(again.policies).sort()).toEqual(Object.keys(first.policies).sort());
  });

  it('rejects a duplicate id, located at the second definition and naming the first file', () => {
    const problems = problemsOf({
      'a.cedar': '@id("dup")\npermit (principal, action, resource);\n',
      'b.cedar': '// comment\n\n  @id("dup") forbid (principal, action, resource);\n',
    });
    expect(problems).toEqual([expect.stringMatching(/^b\.cedar:3:3: duplicate policy id "dup".*a\.cedar/)]);
  });

  it('rejects an @id that repeats a fallback id', () => {
    const problems = problemsOf({
      'a.cedar':
        'permit (principal, action, resource);\n@id("a.cedar#0") forbid (principal, action, resource);\n',
    });
    expect(problems.join('\n')).toContain('duplicate policy id "a.cedar#0"');
  });

  // Ids are keys chosen by policy authors: names of Object.prototype members are ordinary ids.
  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty'])(
    'accepts and enforces a policy with @id("%s")',
    async (id) => {
      const dir = storeDir({
        'a.cedar': `@id("open") permit (principal, action, resource);\n@id("${id}") forbid (principal, action, resource) when { context has deny };\n`,
      });
      const engine = new LocalStoreEngine('test', dir);
      const store = engine.load();
      expect(Object.keys(store.policies).sort()).toEqual([id, 'open'].sort());
      const request = (context: Record<string, boolean>) => ({
        principal: { type: 'User', id: 'u' },
        action: { type: 'Action', id: 'a' },
        resource: { type: 'Doc', id: 'd' },
        context,
        entities: [],
      });
      const [allowed, denied] = await engine.decide([request({}), request({ deny: true })]);
      expect(allowed).toMatchObject({ kind: 'evaluated', allow: true, determiningPolicies: ['open'] });
      expect(denied).toMatchObject({ kind: 'evaluated', allow: false, determiningPolicies: [id] });
    },
  );
});

describe('compileStore: templates and links.json', () => {
  it('links templates; each link is a policy with its own id', () => {
    const store = load(
      storeDir({
        'schema.cedarschema': SCHEMA,
        'share.cedar': TEMPLATE,
        'links.json': JSON.stringify([link('share-u1-d1'), link('share-u2-d2', 'share', 'u2', 'd2')]),
      }),
    );
    expect(Object.keys(store.templates)).toEqual(['share']);
    expect(store.links.map((l) => l.newId)).toEqual(['share-u1-d1', 'share-u2-d2']);
  });

  it('rejects a link to an unknown template', () => {
    expect(
      problemsOf({ 'share.cedar': TEMPLATE, 'links.json': JSON.stringify([link('l1', 'nope')]) }),
    ).toEqual(['links.json: link "l1" names unknown template "nope"']);
  });

  it('rejects a link to a template named like an Object.prototype member', () => {
    expect(
      problemsOf({ 'share.cedar': TEMPLATE, 'links.json': JSON.stringify([link('l1', 'constructor')]) }),
    ).toEqual(['links.json: link "l1" names unknown template "constructor"']);
  });

  it('rejects a duplicate link id', () => {
    const problems = problemsOf({
      'share.cedar': TEMPLATE,
      'links.json': JSON.stringify([link('l1'), link('l2'), link('l1', 'share', 'u3', 'd3')]),
    });
    expect(problems).toEqual(['links.json: entry 2: duplicate link id "l1"']);
  });

  it.each([
    ['a static policy id', '@id("p1") permit (principal, action, resource);\n', 'p1'],
    ['a fallback id', 'permit (principal, action, resource);\n', 'extra.cedar#0'],
    ['a template id', '', 'share'],
  ])('rejects a link id that is %s', (_what, extra, newId) => {
    const problems = problemsOf({
      'share.cedar': TEMPLATE,
      'extra.cedar': extra,
      'links.json': JSON.stringify([link(newId)]),
    });
    expect(problems).toEqual([`links.json: link id "${newId}" is already a policy id`]);
  });

  it('rejects malformed entries, each by its index', () => {
    const problems = problemsOf({
      'share.cedar': TEMPLATE,
      'links.json': JSON.stringify([
        null,
        5,
        { templateId: 'share' },
        { templateId: 'share', newId: 'x', values: { '?principal': null } },
        { templateId: 'share', newId: 'y', values: { '?other': { type: 'App::User', id: 'u' } } },
        { templateId: 'share', newId: 'z', values: { '?principal': { type: 'App::User' } } },
        link('fine'),
      ]),
    });
    expect(problems).toHaveLength(6);
    problems.forEach((p, i) => expect(p).toMatch(new RegExp(`^links\\.json: entry ${i}: expected`)));
  });

  it('rejects links.json that is not an array, or not JSON', () => {
    expect(problemsOf({ 'share.cedar': TEMPLATE, 'links.json': '{"a": 1}' })).toEqual([
      'links.json: must be an array of {templateId, newId, values}',
    ]);
    expect(
      problemsOf({ 'share.cedar': TEMPLATE, 'links.json': '[\n  {"templateId": "share",,}\n]' }),
    ).toEqual([expect.stringMatching(/^links\.json(:\d+:\d+)?: invalid JSON/)]);
  });

  it('rejects a link that leaves a slot empty or names a malformed entity type', () => {
    expect(
      problemsOf({
        'share.cedar': TEMPLATE,
        'links.json': JSON.stringify([
          { templateId: 'share', newId: 'l1', values: { '?principal': { type: 'App::User', id: 'u' } } },
        ]),
      }).join('\n'),
    ).toMatch(/links\.json: .*\?resource/);
    expect(
      problemsOf({
        'share.cedar': TEMPLATE,
        'links.json': JSON.stringify([
          {
            templateId: 'share',
            newId: 'l1',
            values: {
              '?principal': { type: 'bad type', id: 'u' },
              '?resource': { type: 'App::Doc', id: 'd' },
            },
          },
        ]),
      }).join('\n'),
    ).toMatch(/^links\.json: /);
  });

  it('validates linked policies against the schema', () => {
    const problems = problemsOf({
      'schema.cedarschema': SCHEMA,
      'share.cedar':
        '@id("share")\npermit (principal == ?principal, action, resource) when { principal.nope };\n',
      'links.json': JSON.stringify([
        { templateId: 'share', newId: 'l1', values: { '?principal': { type: 'App::User', id: 'u' } } },
      ]),
    });
    expect(problems.join('\n')).toContain('nope');
  });
});

describe('compileStore: schema validation and parse errors', () => {
  it('locates a validation error with file:line:column and the policy id', () => {
    const problems = problemsOf({
      'schema.cedarschema': SCHEMA,
      'ok.cedar':
        '@id("fine")\npermit (principal, action == App::Action::"read", resource) when { resource.public };\n',
      'bad.cedar':
        '// a comment\n\n@id("ok-too")\npermit (principal, action, resource);\n\n' +
        '@id("wrong-attr")\npermit (principal, action == App::Action::"read", resource)\nwhen { principal.levle > 3 };\n',
    });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^bad\.cedar:8:8: policy "wrong-attr": .*levle/);
  });

  it('locates a validation error of a policy without @id by its fallback id', () => {
    const problems = problemsOf({
      'schema.cedarschema': SCHEMA,
      'p.cedar':
        'permit (principal, action, resource);\nforbid (principal, action, resource)\n  when { resource.owner == 3 };\n',
    });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^p\.cedar:3:10: policy "p\.cedar#1": /);
  });

  it('reports every validation error of a store at once', () => {
    const problems = problemsOf({
      'schema.cedarschema': SCHEMA,
      'a.cedar': '@id("a")\npermit (principal, action, resource) when { principal.x };\n',
      'b.cedar': '@id("b")\npermit (principal, action, resource) when { principal.y };\n',
    });
    expect(problems).toEqual([
      expect.stringMatching(/^a\.cedar:2:\d+: policy "a": /),
      expect.stringMatching(/^b\.cedar:2:\d+: policy "b": /),
    ]);
  });

  it('rejects an unknown entity type against the schema', () => {
    const problems = problemsOf({
      'schema.cedarschema': SCHEMA,
      'a.cedar': '@id("a")\npermit (principal is App::Robot, action, resource);\n',
    });
    expect(problems[0]).toMatch(/^a\.cedar:2:\d+: policy "a": .*App::Robot/);
  });

  it('reports a parse error with its line and column', () => {
    const problems = problemsOf({
      'a.cedar':
        '@id("a") permit (principal, action, resource);\n\n@id("b") permit (principal, action, resource) when { principal. };\n',
    });
    expect(problems).toEqual([expect.stringMatching(/^a\.cedar:3:65: /)]);
  });

  it('counts lines by characters when the file has multi-byte text before the error', () => {
    const problems = problemsOf({
      'a.cedar': '// héllo wörld ✓\npermit (principal, action, resource) when { ) };\n',
    });
    expect(problems).toEqual([expect.stringMatching(/^a\.cedar:2:45: /)]);
  });

  it('reports a parse error in a .cedarschema file with its line', () => {
    const problems = problemsOf({
      'schema.cedarschema': 'entity User;\nentity ;\n',
      'a.cedar': 'permit (principal, action, resource);\n',
    });
    expect(problems).toEqual([expect.stringMatching(/^schema\.cedarschema:2:8: /)]);
  });

  it('accepts a JSON schema in schema.json and validates against it', () => {
    const jsonSchema = {
      App: {
        entityTypes: {
          User: { shape: { type: 'Record', attributes: { level: { type: 'Long' } } } },
          Doc: {},
        },
        actions: { read: { appliesTo: { principalTypes: ['User'], resourceTypes: ['Doc'] } } },
      },
    };
    const ok = load(
      storeDir({
        'schema.json': JSON.stringify(jsonSchema, null, 2),
        'a.cedar': '@id("a") permit (principal, action, resource) when { principal.level > 1 };\n',
      }),
    );
    expect(ok.schema).toEqual(jsonSchema);
    const problems = problemsOf({
      'schema.json': JSON.stringify(jsonSchema),
      'a.cedar': '@id("a")\npermit (principal, action, resource) when { principal.rank > 1 };\n',
    });
    expect(problems).toEqual([expect.stringMatching(/^a\.cedar:2:\d+: policy "a": .*rank/)]);
  });

  it('reports invalid JSON in schema.json with file and line', () => {
    const problems = problemsOf({
      'schema.json': '{\n  "App": {\n    "entityTypes": {,\n',
      'a.cedar': 'permit (principal, action, resource);\n',
    });
    expect(problems).toEqual([expect.stringMatching(/^schema\.json(:3:\d+)?: invalid JSON/)]);
  });

  it('reports a schema.json that is JSON but not a schema', () => {
    expect(
      problemsOf({
        'schema.json': '{"App": {"entityTypes": 5}}',
        'a.cedar': 'permit (principal, action, resource);',
      }),
    ).toEqual([expect.stringMatching(/^schema\.json: /)]);
  });

  it('allows one schema per store', () => {
    expect(
      problemsOf({
        'schema.cedarschema': SCHEMA,
        'schema.json': '{}',
        'a.cedar': 'permit (principal, action, resource);',
      }),
    ).toEqual([expect.stringMatching(/^schema\.json: a store has one schema; schema\.cedarschema/)]);
  });
});

describe('compileStore: entities.json', () => {
  const entity = (attrs: Record<string, unknown>) => ({
    uid: { type: 'App::User', id: 'u1' },
    attrs,
    parents: [],
  });

  it('loads entities that fit the schema', () => {
    const store = load(
      storeDir({
        'schema.cedarschema': SCHEMA,
        'a.cedar': 'permit (principal, action, resource);',
        'entities.json': JSON.stringify([entity({ level: 3 })]),
      }),
    );
    expect(store.entities).toHaveLength(1);
  });

  it('rejects entities that do not fit the schema', () => {
    const problems = problemsOf({
      'schema.cedarschema': SCHEMA,
      'a.cedar': 'permit (principal, action, resource);',
      'entities.json': JSON.stringify([entity({ level: 'high' })]),
    });
    expect(problems).toEqual([expect.stringMatching(/^entities\.json: .*level/)]);
  });

  it('rejects an entity of an undeclared type and an entity graph with a cycle', () => {
    expect(
      problemsOf({
        'schema.cedarschema': SCHEMA,
        'a.cedar': 'permit (principal, action, resource);',
        'entities.json': JSON.stringify([{ uid: { type: 'App::Robot', id: 'r' }, attrs: {}, parents: [] }]),
      }),
    ).toEqual([expect.stringMatching(/^entities\.json: .*App::Robot/)]);
    expect(
      problemsOf({
        'a.cedar': 'permit (principal, action, resource);',
        'entities.json': JSON.stringify([
          { uid: { type: 'G', id: 'a' }, attrs: {}, parents: [{ type: 'G', id: 'b' }] },
          { uid: { type: 'G', id: 'b' }, attrs: {}, parents: [{ type: 'G', id: 'a' }] },
        ]),
      }),
    ).toEqual([expect.stringMatching(/^entities\.json: .*cycle/)]);
  });

  it('rejects entities.json that is not JSON, or not an array', () => {
    expect(
      problemsOf({
        'a.cedar': 'permit (principal, action, resource);',
        'entities.json': '[\n  {"uid": }\n]',
      }),
    ).toEqual([expect.stringMatching(/^entities\.json(:2:\d+)?: invalid JSON/)]);
    expect(problemsOf({ 'a.cedar': 'permit (principal, action, resource);', 'entities.json': '{}' })).toEqual(
      ['entities.json: must be an array of entities'],
    );
  });
});

describe('compileStore: version', () => {
  const files = {
    'schema.cedarschema': SCHEMA,
    'a.cedar': '@id("a") permit (principal, action == App::Action::"read", resource);\n',
    'entities.json': '[]',
  };

  it('is a 12-hex content hash, the same for the same content wherever it lives', () => {
    const v1 = load(storeDir(files)).version;
    expect(v1).toMatch(/^[0-9a-f]{12}$/);
    expect(load(storeDir(files)).version).toBe(v1);
    expect(load(storeDir(files), 'another-name').version).toBe(v1);
  });

  it.each([
    ['a policy edit', 'a.cedar', '@id("a") permit (principal, action == App::Action::"write", resource);\n'],
    ['a whitespace edit', 'a.cedar', `${files['a.cedar']}\n`],
    ['an entities edit', 'entities.json', '[ ]'],
    ['a schema edit', 'schema.cedarschema', `${SCHEMA}\n`],
    ['a new policy file', 'b.cedar', 'forbid (principal, action, resource) when { false };\n'],
    ['a new links file', 'links.json', '[]'],
  ])('changes on %s', (_what, file, content) => {
    const dir = storeDir(files);
    const before = load(dir).version;
    writeFiles(dir, { [file]: content });
    expect(load(dir).version).not.toBe(before);
  });

  it('does not change with tests.yaml, dotfiles or unrelated files', () => {
    const dir = storeDir(files);
    const before = load(dir).version;
    writeFiles(dir, {
      'tests.yaml': 'cases: []\n',
      'README.md': '# notes\n',
      '.a.cedar.swp': 'garbage',
      '.hidden/x.cedar': 'garbage',
    });
    expect(load(dir).version).toBe(before);
    writeFiles(dir, { 'tests.yaml': 'cases: [1]\n' });
    expect(load(dir).version).toBe(before);
  });
});

// Files of more than 100 statements are parsed in chunks (faster: wasm has no on-stack
// replacement). Ids, offsets, errors and their locations must be exactly those of one parse.
describe('compileStore: large policy files (parsed in chunks)', () => {
  /** Builds a file statement by statement, remembering each one's text, byte offset and line. */
  function fileOf(statements: { before: string; text: string }[]) {
    let content = '';
    const placed = statements.map(({ before, text }) => {
      content += before;
      const at = {
        text,
        offset: Buffer.byteLength(content, 'utf8'),
        line: content.split(/\r\n|\r|\n/).length,
      };
      content += text;
      return at;
    });
    return { content, placed };
  }

  /** Statements with strings and comments full of `;`, `//` and quotes, templates and @ids mixed in. */
  function tricky(n: number, newline = '\n') {
    return Array.from({ length: n }, (_, i) => {
      const before =
        i % 3 === 0
          ? `${newline}// policy ${i}; "unclosed quote; permit (principal, action, resource);${newline}`
          : i % 3 === 1
            ? `${newline}${newline}  `
            : newline;
      const id = i % 11 === 5 ? `@id("named;${i}//") ` : '';
      const scope =
        i % 7 === 3
          ? `principal == ?principal, action, resource`
          : `principal == User::"u${i};é//", action, resource`;
      const text =
        `${id}${i % 2 ? 'forbid' : 'permit'} (${scope})${newline}` +
        `when { context.note != "${i}; // \\" ; \\u{3b}" && context.n != ${i} };`;
      return { before, text };
    });
  }

  const idOf = (i: number, text: string) => (text.startsWith('@id(') ? `named;${i}//` : `p.cedar#${i}`);

  it('cuts only after a `;` token: never in a string or a comment (ended by \\n or \\r)', () => {
    const text =
      '@id("a;b") permit(principal, action, resource) when { context.s like "x;//y" };\n' +
      '// a comment; with "quotes\n' +
      'forbid(principal, action, resource) when { context.t == "\\";" };\r' +
      '// a comment ended by CR; "\rpermit(principal, action, resource) when { ";" == "" };\n' +
      'permit(principal, action, resource);';
    expect(splitStatements(text, 1)).toEqual([
      '@id("a;b") permit(principal, action, resource) when { context.s like "x;//y" };',
      '\n// a comment; with "quotes\nforbid(principal, action, resource) when { context.t == "\\";" };',
      '\r// a comment ended by CR; "\rpermit(principal, action, resource) when { ";" == "" };',
      '\npermit(principal, action, resource);',
    ]);
    expect(splitStatements(text, 2).join('')).toBe(text);
    const parts = cedar.policySetTextToParts(text);
    expect(parts.type === 'success' && parts.policies).toHaveLength(4);
  });

  it.each([
    ['\\n', '\n'],
    ['\\r\\n', '\r\n'],
    ['\\r', '\r'],
  ])(
    'gives ids <file>#<n> in file order, with each text and offset, over 250 statements (%s)',
    (_name, nl) => {
      const statements = tricky(250, nl);
      const { content, placed } = fileOf(statements);
      const store = load(storeDir({ 'p.cedar': content }));
      const whole = cedar.policySetTextToParts(content);
      if (whole.type !== 'success') throw new Error('the test file must parse');
      expect(Object.keys(store.policies).length + Object.keys(store.templates).length).toBe(250);
      for (const [i, p] of placed.entries()) {
        const id = idOf(i, p.text);
        expect(store.sources[id]).toEqual({ file: 'p.cedar', offset: p.offset, text: p.text });
        expect((i % 7 === 3 ? store.templates : store.policies)[id]).toBe(p.text);
      }
      // The same parts as one parse of the whole file.
      expect(Object.values(store.policies).sort()).toEqual([...whole.policies].sort());
      expect(Object.values(store.templates).sort()).toEqual([...whole.policy_templates].sort());
    },
  );

  it('decides with the policy each id names', async () => {
    const statements = Array.from({ length: 150 }, (_, i) => ({
      before: i ? '\n' : '',
      text: `${i === 120 ? 'forbid' : 'permit'} (principal == User::"u${i}", action, resource);`,
    }));
    const dir = storeDir({ 'p.cedar': fileOf(statements).content });
    const engine = new LocalStoreEngine('test', dir, {
      slicing: { mode: 'off', autoThreshold: 0, cacheSize: 10 },
    });
    engine.load();
    const ask = (user: string) => ({
      principal: { type: 'User', id: user },
      action: { type: 'Action', id: 'a' },
      resource: { type: 'Doc', id: 'd' },
      context: {},
      entities: [],
    });
    const [u7, u120, u101] = await engine.decide([ask('u7'), ask('u120'), ask('u101')]);
    expect(u7).toMatchObject({ allow: true, determiningPolicies: ['p.cedar#7'] });
    expect(u120).toMatchObject({ allow: false, determiningPolicies: ['p.cedar#120'] });
    expect(u101).toMatchObject({ allow: true, determiningPolicies: ['p.cedar#101'] });
  });

  it('reports a syntax error in a late chunk at Cedar’s line and column', () => {
    const statements = tricky(250);
    // Statement 230 (the third chunk) is broken: `when { ) }`.
    statements[230] = {
      before: '\n// broken; "\n',
      text: 'permit (principal, action, resource) when { ) };',
    };
    const { content, placed } = fileOf(statements);
    const problems = problemsOf({ 'p.cedar': content });
    expect(problems).toEqual([expect.stringMatching(new RegExp(`^p\\.cedar:${placed[230]!.line}:45: `))]);
    // Exactly what one parse of the whole file says.
    const whole = cedar.policySetTextToParts(content);
    expect(whole.type).toBe('failure');
    if (whole.type === 'failure') expect(problems[0]).toContain(whole.errors[0]!.message);
  });

  it('reports an unclosed string in a late chunk as one parse does', () => {
    const statements = tricky(250);
    statements[240] = { before: '\n', text: 'permit (principal, action, resource) when { "a\\\n;" == "" };' };
    const { content, placed } = fileOf(statements);
    const problems = problemsOf({ 'p.cedar': content });
    expect(problems).toEqual([
      expect.stringMatching(new RegExp(`^p\\.cedar:${placed[240]!.line}:\\d+: .*invalid token`)),
    ]);
  });

  it('locates a validation error and a duplicate id in a late chunk', () => {
    const statements = Array.from({ length: 300 }, (_, i) => ({
      before: i % 2 ? '\n// "; \n' : '\n',
      text: `permit (principal, action == App::Action::"read", resource) when { "${i};//" != "" };`,
    }));
    statements[263] = {
      before: '\n',
      text: 'permit (principal, action == App::Action::"read", resource)\nwhen { resource.owner == 3 };',
    };
    statements[281] = { before: '\n', text: '@id("p.cedar#7") permit (principal, action, resource);' };
    const { content, placed } = fileOf(statements);
    expect(problemsOf({ 'schema.cedarschema': SCHEMA, 'p.cedar': content })).toEqual([
      expect.stringMatching(
        new RegExp(`^p\\.cedar:${placed[281]!.line}:1: duplicate policy id "p\\.cedar#7"`),
      ),
    ]);
    statements[281] = { before: '\n', text: 'permit (principal, action, resource);' };
    const second = fileOf(statements);
    expect(problemsOf({ 'schema.cedarschema': SCHEMA, 'p.cedar': second.content })).toEqual([
      expect.stringMatching(
        new RegExp(`^p\\.cedar:${second.placed[263]!.line + 1}:8: policy "p\\.cedar#263": `),
      ),
    ]);
  });

  it('falls back to parsing statement by statement should the texts not match', () => {
    const { content, placed } = fileOf(tricky(30, '\r\n'));
    const parts = cedar.policySetTextToParts(content);
    if (parts.type !== 'success') throw new Error('the test file must parse');
    const expected = placed.map((p, i) => ({
      kind: i % 7 === 3 ? 'template' : 'policy',
      text: p.text,
      offset: p.offset,
    }));
    expect(inFileOrder(content, parts)).toEqual(expected);
    // Parts that match no statement (say, were Cedar to print them differently): each statement alone.
    expect(
      inFileOrder(content, { policies: parts.policies.map((t) => `${t} `), policy_templates: [] }),
    ).toEqual(expected);
  });
});
