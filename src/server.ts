import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { LoadedConfig } from './config/index.js';
import { createHttpApp } from './doors/http/app.js';
import type { Logger } from './observability/logger.js';
import { createPipeline, type Pipeline } from './pipeline/pipeline.js';
import { createStoreRegistry, type StoreRegistry } from './policy/registry.js';

export interface Sidecar {
  /** Base URL of the HTTP server, e.g. `http://127.0.0.1:8181`. */
  url: string;
  port: number;
  pipeline: Pipeline;
  stores: StoreRegistry;
  close(): Promise<void>;
}

/**
 * Wires config → stores → pipeline → doors and starts listening. Throws StartupError when the
 * config or a store is bad, before anything listens.
 */
export async function startSidecar(loaded: LoadedConfig, logger: Logger): Promise<Sidecar> {
  const { config } = loaded;
  const stores = createStoreRegistry(loaded, {
    onReload: ({ store, result }) => {
      if (result.ok && result.changed)
        logger.info({ store, version: result.version }, 'policy store reloaded');
      else if (!result.ok)
        logger.error(
          { store, error: result.error },
          'policy store reload failed; the last good version keeps serving',
        );
    },
  });
  for (const s of stores.statuses())
    logger.info({ store: s.name, version: s.version, policies: s.policies }, 'policy store loaded');

  const pipeline = createPipeline({ stores });
  const app = createHttpApp({ pipeline, stores, bodyLimitBytes: config.server.bodyLimitBytes, logger });

  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: config.server.port, hostname: config.server.host }, () =>
      resolve(s),
    );
    s.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  const host = config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host;
  const url = `http://${host}:${port}`;
  logger.info({ url }, 'authz-sidecar listening');

  return {
    url,
    port,
    pipeline,
    stores,
    async close() {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          if ('closeAllConnections' in server) server.closeAllConnections();
          resolve();
        }, config.server.shutdownGraceMs);
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        if ('closeIdleConnections' in server) server.closeIdleConnections();
      });
      await stores.close();
    },
  };
}
