import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { configFromObject } from '../../src/config/index.js';
import { createStoreRegistry, type StoreRegistry } from '../../src/engines/registry.js';
import { ConfigMapVolume } from '../support/configmap.js';
import { tempDir, waitFor } from '../support/temp.js';

/**
 * Policies mounted from a Kubernetes ConfigMap change by a symlink swap, not by edits in place:
 * every update must reload the store, not only the first one.
 */

const scratch = tempDir('authz-configmap-');
const tmp = scratch.dir;
let stores: StoreRegistry | undefined;
afterAll(async () => {
  await stores?.close();
  scratch.remove();
});

const policy = (n: number) => ({
  'policies/demo/policy.cedar': `// version ${n}\n@id("p${n}")\npermit (principal, action, resource);\n`,
});

describe('a store mounted from a ConfigMap', () => {
  it('reloads on every update', async () => {
    const volume = new ConfigMapVolume(path.join(tmp, 'mount'));
    volume.publish(policy(1));
    const loaded = configFromObject(
      { policies: { dir: 'mount/policies', watch: true, reloadDebounceMs: 20 } },
      tmp,
    );
    stores = createStoreRegistry(loaded);
    // Node sets up a recursive watch asynchronously (the first, and each one that follows a
    // swap): let it settle before the next update, as the kubelet's minute between syncs does.
    const settle = () => new Promise((r) => setTimeout(r, 400));
    await settle();
    const version = () => stores!.get('demo')!.status().version;
    const seen = [version()];
    for (const n of [2, 3, 4]) {
      volume.publish(policy(n));
      await waitFor(
        `update ${n} to load`,
        async () => (version() !== seen.at(-1) ? true : undefined),
        10_000,
      );
      seen.push(version());
      await settle();
    }
    expect(new Set(seen).size).toBe(4);
  });
});
