import { StartupError } from '../errors.js';
import { serveCommand } from './serve.js';
import { testCommand } from './test.js';
import { tokenCommand } from './token.js';
import { validateCommand } from './validate.js';

const HELP = `authz-sidecar — an authorization sidecar (policy decision point) for Cedar policies

usage:
  authz-sidecar serve [--config PATH]     run the sidecar (config also from AUTHZ_CONFIG)
  authz-sidecar validate [DIR]            parse and validate every policy store (default ./policies)
  authz-sidecar test [DIR]                run every store's tests.yaml
  authz-sidecar token --sub ID [--group G]... [--claim NAME=VALUE]...
  authz-sidecar token --service --client-id ID [--scope S]...
                                          print a development token (dev key in .dev-keys/)
`;

/** CLI entry: returns the exit code (undefined while a server keeps running). */
export async function main(argv: string[]): Promise<number | undefined> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'serve':
        return await serveCommand(rest);
      case 'validate':
        return await validateCommand(rest);
      case 'test':
        return await testCommand(rest);
      case 'token':
        return await tokenCommand(rest);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(HELP);
        return command === undefined ? 2 : 0;
      default:
        process.stderr.write(`unknown command "${command}"\n\n${HELP}`);
        return 2;
    }
  } catch (err) {
    if (err instanceof StartupError) {
      process.stderr.write(`authz-sidecar: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
