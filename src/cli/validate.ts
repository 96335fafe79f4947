import path from 'node:path';
import { LocalStoreEngine } from '../engines/local.js';
import { formatProblem, StoreLoadError } from '../policy/problems.js';
import { parseCliArgs } from './args.js';
import { storesIn } from './stores-in.js';

const USAGE = 'authz-sidecar validate [policies-dir]';

/** Loads every store under a folder (default `policies`) and prints each problem with file and line. */
export async function validateCommand(
  argv: string[],
  out: NodeJS.WritableStream = process.stdout,
): Promise<number> {
  const { positionals } = parseCliArgs(argv, {}, USAGE);
  const dir = path.resolve(positionals[0] ?? 'policies');
  const stores = storesIn(dir);
  let failed = 0;
  for (const store of stores) {
    try {
      const compiled = new LocalStoreEngine(store.name, store.dir).load();
      const policies = Object.keys(compiled.policies).length + compiled.links.length;
      const templates = Object.keys(compiled.templates).length;
      out.write(
        `ok    ${store.name}: ${policies} policies, ${templates} templates, version ${compiled.version}\n`,
      );
    } catch (err) {
      failed++;
      const lines =
        err instanceof StoreLoadError
          ? err.problems.map((p) =>
              formatProblem({ ...p, file: path.relative(process.cwd(), path.join(store.dir, p.file)) }),
            )
          : [(err as Error).message];
      out.write(`FAIL  ${store.name}\n${lines.map((l) => `  ${l}`).join('\n')}\n`);
    }
  }
  out.write(`${stores.length - failed} valid, ${failed} invalid\n`);
  return failed ? 1 : 0;
}
