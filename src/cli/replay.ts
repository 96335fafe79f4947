import { createReadStream, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { StartupError } from '../core/errors.js';
import { LocalStoreEngine } from '../engines/local.js';
import { formatProblem, StoreLoadError } from '../policy/problems.js';
import type { CompiledStore } from '../policy/types.js';
import { Replayer, type Candidate } from '../replay/replay.js';
import { formatReport } from '../replay/report.js';
import { diffStores } from '../replay/store-diff.js';
import { parseCliArgs } from './args.js';
import { storesIn } from './stores-in.js';

const USAGE = `authz-sidecar replay --log FILE... --store [NAME=]DIR... [--baseline [NAME=]DIR...]
         [--json] [--allow-gains] [--examples N]`;

const HELP = `${USAGE}

Decides every decision recorded in a decision log (written with decisionLog.replayable: true) again
against candidate policy stores, and reports what would change: how many were replayed, skipped
(and why), unchanged, and every flip grouped by direction (DENY→ALLOW first) and by the policies
that now determine it, with example decision ids.

  --log FILE         a decision log (repeatable; - reads stdin). Other lines (the sidecar's own
                     log on the same stdout) are ignored.
  --store DIR        a candidate store folder, or a folder of store folders (a whole candidate
                     policies folder); each store is matched to recorded decisions by its folder
                     name. NAME=DIR names it explicitly. Repeatable.
  --baseline DIR     the stores serving when the log was recorded, same forms: the report starts
                     with the policies added, removed or changed (authz-sidecar diff).
  --json             the report as JSON
  --allow-gains      exit 0 even when a decision flips from DENY to ALLOW
  --examples N       decision ids shown per group (default 3)

Exit 0: no DENY→ALLOW flip (or --allow-gains). 1: at least one DENY→ALLOW flip. 2: bad options, or
a log or store that cannot be read.
`;

/** `[NAME=]DIR` → the stores it names: a store folder, or each store in a folder of them. */
function storesOf(spec: string, option: string): { name: string; dir: string }[] {
  const eq = spec.indexOf('=');
  const named =
    eq > 0 && !existsSync(spec) ? { name: spec.slice(0, eq), dir: spec.slice(eq + 1) } : undefined;
  const dir = path.resolve(named?.dir ?? spec);
  if (!existsSync(dir)) throw new StartupError(`--${option} ${spec}: ${dir} does not exist`);
  const found = storesIn(dir);
  if (named) {
    if (found.length !== 1 || found[0]!.dir !== dir)
      throw new StartupError(`--${option} ${spec}: NAME=DIR takes one store folder, not a folder of stores`);
    return [{ name: named.name, dir }];
  }
  return found;
}

/** Loads one store version, its problems formatted (file and line) into a StartupError. */
export function loadStore(
  name: string,
  dir: string,
  option: string,
): { engine: LocalStoreEngine; compiled: CompiledStore } {
  const engine = new LocalStoreEngine(name, dir, { evaluator: 'native', idPrefix: `${option}:${name}` });
  try {
    return { engine, compiled: engine.load() };
  } catch (err) {
    if (err instanceof StoreLoadError)
      throw new StartupError(
        `--${option}: store ${name} (${dir}) does not load:\n${err.problems
          .map((p) => `  ${formatProblem({ ...p, file: path.join(dir, p.file) })}`)
          .join('\n')}`,
      );
    throw new StartupError(`--${option}: store ${name} (${dir}): ${(err as Error).message}`);
  }
}

const asList = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** `authz-sidecar replay`: recorded decisions against candidate stores; exit 1 on a DENY→ALLOW flip. */
export async function replayCommand(
  argv: string[],
  out: NodeJS.WritableStream = process.stdout,
  stdin: NodeJS.ReadableStream = process.stdin,
): Promise<number> {
  try {
    return await replay(argv, out, stdin);
  } catch (err) {
    if (!(err instanceof StartupError)) throw err;
    process.stderr.write(`authz-sidecar replay: ${err.message}\n`);
    return 2;
  }
}

async function replay(
  argv: string[],
  out: NodeJS.WritableStream,
  stdin: NodeJS.ReadableStream,
): Promise<number> {
  const { values } = parseCliArgs(
    argv,
    {
      log: { type: 'string', multiple: true },
      store: { type: 'string', multiple: true },
      baseline: { type: 'string', multiple: true },
      json: { type: 'boolean' },
      'allow-gains': { type: 'boolean' },
      examples: { type: 'string' },
    },
    USAGE,
    HELP,
  );
  const logs = asList(values.log);
  if (!logs.length) throw new StartupError(`--log is required\nusage: ${USAGE}`);
  if (!asList(values.store).length) throw new StartupError(`--store is required\nusage: ${USAGE}`);
  const examples = values.examples === undefined ? 3 : Number(values.examples);
  if (!Number.isInteger(examples) || examples < 0)
    throw new StartupError(`--examples: a whole number, not ${values.examples}`);
  for (const log of logs)
    if (log !== '-' && (!existsSync(log) || !statSync(log).isFile()))
      throw new StartupError(`--log ${log}: no such file`);

  const candidates = new Map<string, Candidate>();
  const compiled = new Map<string, CompiledStore>();
  for (const spec of asList(values.store))
    for (const { name, dir } of storesOf(spec, 'store')) {
      if (candidates.has(name)) throw new StartupError(`--store: store ${name} is given twice`);
      const loaded = loadStore(name, dir, 'store');
      candidates.set(name, loaded.engine);
      compiled.set(name, loaded.compiled);
    }
  const diffs = [];
  for (const spec of asList(values.baseline))
    for (const { name, dir } of storesOf(spec, 'baseline')) {
      const candidate = compiled.get(name);
      if (!candidate) throw new StartupError(`--baseline: store ${name} has no candidate (--store)`);
      diffs.push(diffStores(loadStore(name, dir, 'baseline').compiled, candidate));
    }

  const started = performance.now();
  const replayer = new Replayer(candidates, { examples });
  for (const log of logs) {
    const input = log === '-' ? stdin : createReadStream(log);
    const lines = createInterface({ input, crlfDelay: Infinity });
    try {
      for await (const line of lines) await replayer.add(line);
    } catch (err) {
      throw new StartupError(`--log ${log}: ${(err as Error).message}`);
    }
  }
  const report = { ...(diffs.length ? { diffs } : {}), ...(await replayer.finish()) };
  const elapsedMs = performance.now() - started;
  out.write(
    values.json
      ? `${JSON.stringify({ ...report, elapsedMs: Math.round(elapsedMs) }, null, 2)}\n`
      : formatReport(report, elapsedMs),
  );
  return report.denyToAllow.count && !values['allow-gains'] ? 1 : 0;
}
