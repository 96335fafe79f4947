import type { DecisionLogConfig } from '../config/schema.js';
import { createDecisionLog, type DecisionLog } from './decision-log.js';
import { openLogSink, type OwnedSink } from './log-sink.js';
import { openSpool } from './log-spool.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';

/**
 * The decision log as the config asks: its destination, its spool (`onFull: spool`), drops and
 * spool size counted. `resolve` makes a path relative to the config file absolute.
 * `closeOnFailure` releases both when the start fails later.
 */
export function openDecisionLog(
  config: DecisionLogConfig,
  resolve: (p: string) => string,
  logger: Logger,
  metrics: Metrics,
): { sink: OwnedSink; log: DecisionLog; closeOnFailure: () => Promise<void> } {
  const destination =
    config.destination === 'stdout' || config.destination === 'stderr'
      ? config.destination
      : resolve(config.destination);
  const sink = openLogSink(destination, (err) =>
    logger.error({ err: { message: err.message } }, 'decision log destination failed'),
  );
  let spool;
  try {
    spool =
      config.onFull === 'spool'
        ? openSpool({
            file: resolve(config.spool.path!),
            maxBytes: config.spool.maxBytes,
            onTornLine: () => logger.warn('decision log spool: a line cut short by a crash was discarded'),
          })
        : undefined;
  } catch (err) {
    void sink.close(0);
    throw err;
  }
  if (spool?.bytes)
    logger.info(
      { bytes: spool.bytes },
      'decision log spool holds lines from an earlier run; writing them out first',
    );
  const log = createDecisionLog(config, {
    sink,
    onDrop: metrics.decisionLogDropped,
    ...(spool ? { spool } : {}),
  });
  if (spool) metrics.decisionLogSpool(() => log.spooledBytes);
  return {
    sink,
    log,
    closeOnFailure: async () => {
      spool?.close();
      await sink.close(0);
    },
  };
}
