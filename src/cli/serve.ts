import { loadConfig } from '../config/index.js';
import { createLogger } from '../observability/logger.js';
import { startSidecar } from '../server.js';
import { parseCliArgs } from './args.js';

const USAGE = 'authz-sidecar serve [--config PATH]';

/** Runs the sidecar until SIGTERM/SIGINT, then drains in-flight requests and exits. */
export async function serveCommand(argv: string[]): Promise<number | undefined> {
  const { values } = parseCliArgs(argv, { config: { type: 'string', short: 'c' } }, USAGE);
  const loaded = loadConfig({ configPath: values.config });
  const logger = createLogger(loaded.config.log.level);
  logger.info({ config: loaded.file ?? 'embedded default' }, 'starting authz-sidecar');
  const sidecar = await startSidecar(loaded, logger);
  // The first signal drains (readyz 503, then up to shutdownGraceMs for in-flight requests); a
  // second one, with the handlers gone, ends the process at once.
  const stop = async (signal: string) => {
    logger.info({ signal }, 'shutting down: draining');
    try {
      await sidecar.close();
      process.exit(0);
    } catch (err) {
      logger.error({ err: { message: (err as Error).message } }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  return undefined;
}
