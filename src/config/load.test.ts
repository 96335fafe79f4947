import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StartupError } from '../core/errors.js';
import { createStoreRegistry } from '../engines/registry.js';
import { configFromObject, loadConfig, resolveFromConfig } from './index.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'authz-config-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Writes a config file in the temp folder and returns its absolute path. */
function configFile(text: string, name = 'authz.yaml'): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** The StartupError message loadConfig throws for these options. */
function errorOf(options: Parameters<typeof loadConfig>[0]): string {
  let caught: unknown;
  try {
    loadConfig(options);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(StartupError);
  return (caught as Error).message;
}

// The defaults newcomers rely on (each section of later features carries its own defaults too).
const DEFAULTS = {
  server: {
    host: '127.0.0.1',
    port: 8181,
    bodyLimitBytes: 1_048_576,
    shutdownGraceMs: 5_000,
    drainDelayMs: 0,
    headersTimeoutMs: 10_000,
    requestTimeoutMs: 30_000,
    keepAliveTimeoutMs: 5_000,
    maxInFlight: 1_024,
    batchLimit: 30,
    explainTokenApi: true,
  },
  policies: { dir: 'policies', watch: true, reloadDebounceMs: 150 },
  slicing: { default: 'auto', autoThreshold: 200, cacheSize: 2_000, wasmMemoryMiB: 'auto' },
  issuers: [],
  routes: [],
  dev: {},
  maxTokenBytes: 16_384,
  log: { level: 'info' },
  grpc: { enabled: false, host: '127.0.0.1', port: 9191, healthPollMs: 1000 },
  extAuthz: {
    pathPrefix: '/ext-authz',
    authRequestPath: '/auth-request',
    originalUriHeader: 'x-original-uri',
    originalMethodHeader: 'x-original-method',
    upstreamHeaders: {
      principal: 'x-authz-principal',
      decisionId: 'x-authz-decision-id',
      callerType: 'x-authz-caller-type',
    },
  },
  authzen: { enabled: true, subjectTypes: {}, resourceTypes: {}, actionType: 'Action' },
  cache: {
    decisions: { enabled: true, maxEntries: 10_000, allowTtlMs: 60_000, denyTtlMs: 10_000 },
    tokens: { enabled: true, maxEntries: 10_000, ttlMs: 300_000 },
  },
  metrics: { enabled: true, defaultMetrics: true },
  decisionLog: {
    enabled: true,
    destination: 'stdout',
    onlyDenies: false,
    allowSampleRate: 1,
    maskPaths: [],
    bufferSize: 10_000,
  },
  avpDoor: { enabled: false, host: '127.0.0.1', port: 8182, policyStores: {} },
};

describe('loadConfig: defaults', () => {
  it('with no file and no env, is the embedded default (127.0.0.1:8181, policies/)', () => {
    const loaded = loadConfig({ env: {}, cwd: dir });
    expect(loaded.config).toMatchObject(DEFAULTS);
    expect(loaded.config.stores).toBeUndefined();
    expect(loaded.file).toBeUndefined();
    expect(loaded.baseDir).toBe(dir);
    expect(resolveFromConfig(loaded, loaded.config.policies.dir)).toBe(path.join(dir, 'policies'));
  });

  it.each([
    ['an empty file', ''],
    ['a file of comments', '# nothing set yet\n'],
    ['an empty mapping', '{}\n'],
  ])('treats %s as the default', (_what, text) => {
    const file = configFile(text);
    const loaded = loadConfig({ configPath: file, env: {} });
    expect(loaded.config).toMatchObject(DEFAULTS);
    expect(loaded.file).toBe(file);
  });

  it('fills defaults around the keys a file sets', () => {
    const loaded = loadConfig({
      configPath: configFile('server:\n  port: 9000\npolicies:\n  watch: false\n'),
      env: {},
    });
    expect(loaded.config.server).toEqual({ ...DEFAULTS.server, port: 9000 });
    expect(loaded.config.policies).toEqual({ ...DEFAULTS.policies, watch: false });
  });

  it('resolves relative paths against the config file folder, not the cwd', () => {
    const sub = path.join(dir, 'etc');
    mkdirSync(sub);
    configFile('policies:\n  dir: ../shared-policies\n', 'etc/authz.yaml');
    const loaded = loadConfig({ configPath: 'etc/authz.yaml', cwd: dir, env: {} });
    expect(loaded.file).toBe(path.join(sub, 'authz.yaml'));
    expect(loaded.baseDir).toBe(sub);
    expect(resolveFromConfig(loaded, loaded.config.policies.dir)).toBe(path.join(dir, 'shared-policies'));
  });
});

describe('the default store set', () => {
  const policy = '@id("p") permit (principal, action, resource);\n';

  it('makes every folder under policies.dir a store (no dotfolders, no files)', async () => {
    for (const name of ['billing', 'alpha', '.git']) {
      mkdirSync(path.join(dir, 'policies', name), { recursive: true });
      writeFileSync(path.join(dir, 'policies', name, 'p.cedar'), policy);
    }
    writeFileSync(path.join(dir, 'policies', 'README.md'), '# stores\n');
    const loaded = loadConfig({ env: {}, cwd: dir });
    const stores = createStoreRegistry(loaded, { watch: false });
    try {
      expect(stores.names().sort()).toEqual(['alpha', 'billing']);
      expect(stores.ready()).toBe(true);
    } finally {
      await stores.close();
    }
  });

  it('serves only the listed stores when `stores` is given', async () => {
    for (const name of ['one', 'two']) {
      mkdirSync(path.join(dir, 'policies', name), { recursive: true });
      writeFileSync(path.join(dir, 'policies', name, 'p.cedar'), policy);
    }
    const loaded = configFromObject({ stores: { two: {} } }, dir);
    const stores = createStoreRegistry(loaded, { watch: false });
    try {
      expect(stores.names()).toEqual(['two']);
    } finally {
      await stores.close();
    }
  });

  it('fails startup naming policies.dir when the folder is missing', () => {
    expect(() => createStoreRegistry(loadConfig({ env: {}, cwd: dir }), { watch: false })).toThrow(
      /policies folder .*policies does not exist \(config key policies\.dir\)/,
    );
  });

  it('fails startup naming stores.<name>.path when a listed store folder is missing', () => {
    const loaded = configFromObject({ stores: { ghost: { path: 'nowhere' } } }, dir);
    expect(() => createStoreRegistry(loaded, { watch: false })).toThrow(/stores\.ghost\.path/);
  });
});

describe('loadConfig: errors name the key and the file', () => {
  it('rejects an unknown top-level key', () => {
    const file = configFile('server:\n  port: 9000\nlisten: 8080\n');
    const message = errorOf({ configPath: file, env: {} });
    expect(message).toContain(file);
    expect(message).toContain('- key "listen": unknown key');
  });

  it('rejects an unknown nested key, with its full path', () => {
    const file = configFile('server:\n  prot: 9000\npolicies:\n  whatch: false\n');
    const message = errorOf({ configPath: file, env: {} });
    expect(message).toContain(file);
    expect(message).toContain('- key "server.prot": unknown key');
    expect(message).toContain('- key "policies.whatch": unknown key');
  });

  it('rejects an unknown key inside a store entry', () => {
    const file = configFile('stores:\n  customers:\n    engine: local\n    paht: x\n');
    const message = errorOf({ configPath: file, env: {} });
    expect(message).toContain(file);
    expect(message).toContain('- key "stores.customers.paht": unknown key');
  });

  it.each([
    ['server.port', 'server:\n  port: "8181"\n'],
    ['server.port', 'server:\n  port: 81.5\n'],
    ['server.port', 'server:\n  port: 70000\n'],
    ['server.bodyLimitBytes', 'server:\n  bodyLimitBytes: 0\n'],
    ['server.host', 'server:\n  host: ""\n'],
    ['policies.watch', 'policies:\n  watch: "yes"\n'],
    ['policies.dir', 'policies:\n  dir: 5\n'],
    ['log.level', 'log:\n  level: loud\n'],
    ['server', 'server: 5\n'],
    ['server', 'server:\n'],
    ['policies', 'policies: [a, b]\n'],
    ['stores.customers.engine', 'stores:\n  customers:\n    engine: opa\n'],
    ['stores.customers.policyStoreId', 'stores:\n  customers:\n    engine: avp\n    region: eu-west-1\n'],
    ['stores.bad name!', 'stores:\n  "bad name!": {}\n'],
  ])('rejects a wrong type or value at %s', (key, text) => {
    const file = configFile(text);
    const message = errorOf({ configPath: file, env: {} });
    expect(message).toContain(`invalid configuration in ${file}`);
    expect(message).toContain(`- key "${key}": `);
  });

  it('lists every problem at once', () => {
    const file = configFile('server:\n  port: "x"\n  bogus: 1\nnope: 2\npolicies:\n  dir: 5\n');
    const lines = errorOf({ configPath: file, env: {} }).split('\n').slice(1);
    expect(lines.sort()).toEqual(
      [
        '- key "server.port": expected number, received string',
        '- key "server.bogus": unknown key',
        '- key "policies.dir": expected string, received number',
        '- key "nope": unknown key',
      ].sort(),
    );
  });

  it('reports bad YAML with the file and the line', () => {
    const file = configFile('server:\n  port: 9000\n  host: [127.0.0.1\n');
    const message = errorOf({ configPath: file, env: {} });
    expect(message).toMatch(new RegExp(`^config file ${file}: invalid YAML: .*line \\d+`, 's'));
  });

  it('reports duplicate keys as bad YAML', () => {
    const file = configFile('server:\n  port: 1\n  port: 2\n');
    expect(errorOf({ configPath: file, env: {} })).toMatch(/invalid YAML: .*unique/);
  });

  it.each([
    ['a list', '- server\n- policies\n'],
    ['a scalar', 'just some text\n'],
    ['a number', '42\n'],
  ])('rejects a top level that is %s, not a mapping', (_what, text) => {
    const file = configFile(text);
    expect(errorOf({ configPath: file, env: {} })).toBe(
      `config file ${file}: the top level must be a mapping of keys`,
    );
  });

  it('reports a file that does not exist', () => {
    const file = path.join(dir, 'missing.yaml');
    expect(errorOf({ configPath: file, env: {} })).toBe(`config file ${file}: cannot read it (ENOENT)`);
  });

  it('reports a path that is a folder', () => {
    expect(errorOf({ configPath: dir, env: {} })).toBe(`config file ${dir}: cannot read it (EISDIR)`);
  });

  it('names the embedded default when there is no file', () => {
    expect(errorOf({ env: { AUTHZ_PORT: 'http' } })).toContain('the embedded default config');
  });
});

describe('loadConfig: where the file comes from', () => {
  it('reads AUTHZ_CONFIG (relative to the cwd)', () => {
    configFile('server:\n  port: 7001\n', 'env.yaml');
    const loaded = loadConfig({ env: { AUTHZ_CONFIG: 'env.yaml' }, cwd: dir });
    expect(loaded.file).toBe(path.join(dir, 'env.yaml'));
    expect(loaded.config.server.port).toBe(7001);
  });

  it('prefers --config over AUTHZ_CONFIG', () => {
    const fromEnv = configFile('server:\n  port: 7001\n', 'env.yaml');
    const fromFlag = configFile('server:\n  port: 7002\n', 'flag.yaml');
    const loaded = loadConfig({ configPath: fromFlag, env: { AUTHZ_CONFIG: fromEnv } });
    expect(loaded.file).toBe(fromFlag);
    expect(loaded.config.server.port).toBe(7002);
  });

  it('uses --config even when AUTHZ_CONFIG names a broken file', () => {
    const broken = configFile('server: [\n', 'broken.yaml');
    const good = configFile('server:\n  port: 7003\n', 'good.yaml');
    expect(loadConfig({ configPath: good, env: { AUTHZ_CONFIG: broken } }).config.server.port).toBe(7003);
  });

  it('ignores an empty AUTHZ_CONFIG', () => {
    expect(loadConfig({ env: { AUTHZ_CONFIG: '' }, cwd: dir }).file).toBeUndefined();
  });
});

describe('loadConfig: AUTHZ_HOST and AUTHZ_PORT', () => {
  it('override the file', () => {
    const file = configFile('server:\n  host: 10.0.0.1\n  port: 9000\n  bodyLimitBytes: 2048\n');
    const loaded = loadConfig({ configPath: file, env: { AUTHZ_HOST: '0.0.0.0', AUTHZ_PORT: '9100' } });
    expect(loaded.config.server).toMatchObject({ host: '0.0.0.0', port: 9100, bodyLimitBytes: 2048 });
  });

  it('override the embedded default', () => {
    const loaded = loadConfig({ env: { AUTHZ_HOST: '::1', AUTHZ_PORT: '0' }, cwd: dir });
    expect(loaded.config.server).toMatchObject({ host: '::1', port: 0 });
  });

  it('leave other keys of the file checked', () => {
    const file = configFile('server:\n  prot: 1\n');
    expect(errorOf({ configPath: file, env: { AUTHZ_PORT: '9000' } })).toContain(
      '- key "server.prot": unknown key',
    );
  });

  it('do not hide a `server` that is not a mapping', () => {
    const file = configFile('server: 5\n');
    const message = errorOf({ configPath: file, env: { AUTHZ_PORT: '9000', AUTHZ_HOST: '0.0.0.0' } });
    expect(message).toContain(file);
    expect(message).toContain('- key "server": ');
  });

  it.each(['abc', '70000', '80.5', '-1', '0x50', '1e3', ' ', ' 8080', '65536'])(
    'rejects AUTHZ_PORT=%j naming the variable, server.port and the file',
    (value) => {
      const file = configFile('server:\n  port: 9000\n');
      const message = errorOf({ configPath: file, env: { AUTHZ_PORT: value } });
      expect(message).toContain('AUTHZ_PORT');
      expect(message).toContain('server.port');
      expect(message).toContain(file);
    },
  );

  it('accepts every port 0-65535 in AUTHZ_PORT', () => {
    for (const port of [0, 1, 8181, 65535])
      expect(loadConfig({ env: { AUTHZ_PORT: String(port) }, cwd: dir }).config.server.port).toBe(port);
  });
});

describe('configFromObject', () => {
  it('validates an object the same way and names its source', () => {
    expect(() => configFromObject({ server: { port: 'x' } }, dir, 'the test config')).toThrow(
      /invalid configuration in the test config:\n- key "server\.port": /,
    );
    expect(configFromObject({}, dir).config).toMatchObject(DEFAULTS);
  });

  it('refuses a header timeout longer than the request timeout (Node would throw at listen)', () => {
    expect(() =>
      configFromObject(
        { server: { headersTimeoutMs: 2_000, requestTimeoutMs: 1_000 } },
        dir,
        'the test config',
      ),
    ).toThrow(/key "server\.headersTimeoutMs": must be at most requestTimeoutMs/);
  });
});

describe('extAuthz paths', () => {
  it("refuses a proxy path on the sidecar's own endpoints, naming the key", () => {
    const cases: [unknown, RegExp][] = [
      [{ extAuthz: { pathPrefix: '/v1' } }, /key "extAuthz\.pathPrefix": pathPrefix must not be one of/],
      [{ extAuthz: { pathPrefix: '/healthz/x' } }, /key "extAuthz\.pathPrefix"/],
      [
        { extAuthz: { authRequestPath: '/readyz' } },
        /key "extAuthz\.authRequestPath": authRequestPath must not/,
      ],
      [{ extAuthz: { authRequestPath: '/access/check' } }, /key "extAuthz\.authRequestPath"/],
    ];
    for (const [raw, message] of cases) expect(() => configFromObject(raw, '/tmp')).toThrow(message);
    // A path that only starts with the same letters is another path.
    expect(
      configFromObject({ extAuthz: { pathPrefix: '/v1-checks' } }, '/tmp').config.extAuthz.pathPrefix,
    ).toBe('/v1-checks');
  });
});

describe('unknown keys: did you mean?', () => {
  it('suggests the nearest known key at the same place, and nothing when none is near', () => {
    const cases: [unknown, RegExp][] = [
      [
        { server: { bodyLimitByte: 10 } },
        /key "server\.bodyLimitByte": unknown key \(did you mean bodyLimitBytes\?\)/,
      ],
      [{ decisonLog: {} }, /key "decisonLog": unknown key \(did you mean decisionLog\?\)/],
      [{ cache: { decisions: { maxentries: 5 } } }, /did you mean maxEntries\?/],
      [{ server: { completelyDifferent: 1 } }, /key "server\.completelyDifferent": unknown key$/m],
    ];
    for (const [raw, message] of cases) expect(() => configFromObject(raw, '/tmp')).toThrow(message);
  });
});
