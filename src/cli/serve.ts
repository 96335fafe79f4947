import { loadConfig } from '../config/index.js';
import { createLogger } from '../observability/logger.js';
import { startSidecar } from '../server.js';
import { parseCliArgs } from './args.js';

const USAGE = 'authz-sidecar serve [--config PATH]';
const HELP = `${USAGE}

Runs the sidecar. The config is --config (-c), else the file named by AUTHZ_CONFIG, else the
embedded default (every folder under ./policies a store, HTTP on 127.0.0.1:8181). AUTHZ_HOST and
AUTHZ_PORT override the listen address. SIGTERM drains and exits.
`;

/** Runs the sidecar until SIGTERM/SIGINT, then drains in-flight requests and exits. */
export async function serveCommand(argv: string[]): Promise<number | undefined> {
  const { values } = parseCliArgs(argv, { config: { type: 'string', short: 'c' } }, USAGE, HELP);
  const loaded = loadConfig({ configPath: values.config });
  const logger = createLogger(loaded.config.log.level);
  logger.info({ config: loaded.file ?? 'embedded default' }, 'starting authz-sidecar');
  const sidecar = await startSidecar(loaded, logger);
  // The first signal drains (readyz 503, then up to shutdownGraceMs for in-flight requests); a
  // second one (SIGTERM or SIGINT) ends the process at once.
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting without waiting for the drain');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down: draining');
    sidecar.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err: { message: (err as Error).message } }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return undefined;
}
