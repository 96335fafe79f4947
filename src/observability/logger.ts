import { pino, type Logger } from 'pino';

export type { Logger };

/** The process log (startup, reloads, errors) as JSON lines on stderr; decisions have their own log. */
export function createLogger(level: string, destination: NodeJS.WritableStream = process.stderr): Logger {
  return pino(
    { level, base: { service: 'authz-sidecar' }, timestamp: pino.stdTimeFunctions.isoTime },
    destination,
  );
}
