import path from 'node:path';
import { StartupError } from '../core/errors.js';
import { diffStores, formatDiff } from '../replay/store-diff.js';
import { parseCliArgs } from './args.js';
import { loadStore } from './replay.js';

const USAGE = 'authz-sidecar diff --store OLD --store NEW [--json]';

const HELP = `${USAGE}

Which policies, templates and template links were added, removed or changed (by id) between two
versions of a store folder, and whether the schema and the static entities changed. A policy is
changed when its parsed form differs: reformatting, comments and moving it to another file are
not changes. Both versions must load.

  --json    the diff as JSON

Exit 0: nothing changed. 1: something changed (as diff(1)). 2: bad options or a store that does
not load.
`;

/** `authz-sidecar diff --store OLD --store NEW`. */
export async function diffCommand(
  argv: string[],
  out: NodeJS.WritableStream = process.stdout,
): Promise<number> {
  try {
    const { values } = parseCliArgs(
      argv,
      { store: { type: 'string', multiple: true }, json: { type: 'boolean' } },
      USAGE,
      HELP,
    );
    const stores = values.store ?? [];
    if (stores.length !== 2)
      throw new StartupError(`--store twice: the old folder, then the new one\nusage: ${USAGE}`);
    const [a, b] = stores.map((dir, i) => {
      const resolved = path.resolve(dir);
      return loadStore(path.basename(resolved), resolved, i === 0 ? 'store (old)' : 'store (new)').compiled;
    });
    const d = diffStores(a!, b!);
    out.write(values.json ? `${JSON.stringify(d, null, 2)}\n` : formatDiff(d));
    const { added, removed, changed } = d.entities;
    return d.changes.length || d.schema !== 'unchanged' || added + removed + changed ? 1 : 0;
  } catch (err) {
    if (!(err instanceof StartupError)) throw err;
    process.stderr.write(`authz-sidecar diff: ${err.message}\n`);
    return 2;
  }
}
