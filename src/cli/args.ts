import { parseArgs, type ParseArgsConfig } from 'node:util';
import { StartupError } from '../core/errors.js';

/** `node:util` parseArgs with errors turned into a one-line usage message. */
export function parseCliArgs<T extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  options: T,
  usage: string,
) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new StartupError(`${(err as Error).message}\nusage: ${usage}`);
  }
}
