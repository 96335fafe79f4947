import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from '../../src/config/index.js';
import { createStoreRegistry } from '../../src/engines/registry.js';
import { ConfigMapVolume } from '../support/configmap.js';
import { loadSpec } from '../support/openapi.js';
import { REPO_ROOT } from '../support/sidecar.js';

/**
 * deploy/kubernetes/sidecar.yaml is an example people copy: its config must load, its policies
 * must validate, and its probes, ports and mounts must agree with the image and the server.
 */

type Obj = Record<string, unknown> & { kind?: string };
interface Container {
  name: string;
  args?: string[];
  ports?: { containerPort: number }[];
  startupProbe?: { exec?: { command: string[] } };
  readinessProbe?: { exec?: { command: string[] } };
  livenessProbe?: { exec?: { command: string[] } };
  securityContext?: Record<string, unknown>;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  resources?: { requests?: object; limits?: object };
}

const docs = parseAllDocuments(
  readFileSync(path.join(REPO_ROOT, 'deploy/kubernetes/sidecar.yaml'), 'utf8'),
).map((d) => d.toJS() as Obj);
const configMap = docs.find((d) => d.kind === 'ConfigMap') as Obj & {
  metadata: { name: string };
  data: Record<string, string>;
};
const deployment = docs.find((d) => d.kind === 'Deployment') as Obj & {
  spec: {
    template: {
      spec: {
        securityContext: Record<string, unknown>;
        initContainers?: (Container & { restartPolicy?: string })[];
        containers: Container[];
        volumes: { name: string; configMap?: { name: string; items: { key: string; path: string }[] } }[];
      };
    };
  };
};
const pod = deployment.spec.template.spec;
const sidecar = [...(pod.initContainers ?? []), ...pod.containers].find((c) => c.name === 'authz-sidecar')!;
const mount = sidecar.volumeMounts![0]!;
const volume = pod.volumes.find((v) => v.name === mount.name)!;

const tmp = mkdtempSync(path.join(tmpdir(), 'authz-deploy-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The sidecar's volume as the kubelet would lay it out, under a temporary folder. */
function materialize(): string {
  const dir = path.join(tmp, 'etc-authz-sidecar');
  new ConfigMapVolume(dir).publish(
    Object.fromEntries(volume.configMap!.items.map((i) => [i.path, configMap.data[i.key]!])),
  );
  return dir;
}

describe('deploy/kubernetes/sidecar.yaml', () => {
  it('mounts the ConfigMap read-only, every item from a key that exists, without subPath', () => {
    expect(volume.configMap!.name).toBe(configMap.metadata.name);
    for (const item of volume.configMap!.items) expect(configMap.data, item.key).toHaveProperty([item.key]);
    expect(mount.readOnly).toBe(true);
    expect(mount).not.toHaveProperty('subPath');
  });

  it('has a config that loads and stores that validate, as the pod sees them', async () => {
    const dir = materialize();
    const configArg = sidecar.args![sidecar.args!.indexOf('--config') + 1]!;
    expect(path.posix.dirname(configArg)).toBe(mount.mountPath);
    const loaded = loadConfig({ configPath: path.join(dir, path.posix.basename(configArg)), env: {} });
    const stores = createStoreRegistry(loaded, { watch: false });
    try {
      expect(stores.names()).toEqual(['services']);
      expect(stores.ready()).toBe(true);
      for (const route of loaded.config.routes) expect(stores.names()).toContain(route.store);
      expect(loaded.config.server.host).toBe('127.0.0.1');
      expect(sidecar.ports!.map((p) => p.containerPort)).toContain(loaded.config.server.port);
    } finally {
      await stores.close();
    }
  });

  it('probes health endpoints that exist, with the script the image ships', () => {
    const paths = loadSpec().paths as Record<string, unknown>;
    const dockerfile = readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^WORKDIR \/app$/m);
    for (const probe of [sidecar.startupProbe, sidecar.readinessProbe, sidecar.livenessProbe]) {
      const [node, script, endpoint] = probe!.exec!.command;
      expect(node).toBe('node');
      expect(script).toBe('/app/bin/healthcheck.js');
      expect(paths).toHaveProperty([endpoint!]);
    }
    expect(sidecar.readinessProbe!.exec!.command[2]).toBe('/readyz');
    expect(sidecar.livenessProbe!.exec!.command[2]).toBe('/healthz');
  });

  it('runs every container non-root on a read-only root filesystem, with requests and limits', () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
      expect(c.securityContext, c.name).toMatchObject({
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
      });
      expect(c.resources?.requests, c.name).toBeDefined();
      expect(c.resources?.limits, c.name).toBeDefined();
    }
  });
});
