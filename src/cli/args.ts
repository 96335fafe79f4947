import { parseArgs, type ParseArgsConfig } from 'node:util';
import { StartupError } from '../core/errors.js';

/** Asked for a command's help (`--help`, `-h`): main prints it on stdout and exits 0. */
export class HelpRequested extends Error {
  constructor(readonly text: string) {
    super(text);
  }
}

/**
 * `node:util` parseArgs with errors turned into a one-line usage message, and `--help`/`-h` on
 * every command (the usage and the options, `help` being the command's own text).
 */
export function parseCliArgs<T extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  options: T,
  usage: string,
  help = usage,
) {
  if (argv.includes('--help') || argv.includes('-h')) throw new HelpRequested(`usage: ${help}\n`);
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new StartupError(`${(err as Error).message}\nusage: ${usage}`);
  }
}
