import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { CedarValue, Entity } from '../cedar/types.js';
import { loadConfig } from '../config/index.js';
import type { Explanation } from '../core/decision.js';
import { StartupError } from '../core/errors.js';
import { LocalStoreEngine } from '../engines/local.js';
import { parseCliArgs } from './args.js';
import { parseUid } from './uid.js';

const USAGE = `authz-sidecar eval --store DIR|NAME --principal UID --action UID --resource UID
         [--context JSON] [--entities FILE] [--explain] [--json] [--config FILE] [--evaluator native|wasm]`;

const HELP = `${USAGE}

One decision from the command line: no server, no token. Exit 0 for ALLOW, 1 for DENY, 2 when the
request or the store is bad.

  --store DIR|NAME     a store folder, or the name of a store under the config's policies folder
  --principal UID      Cedar syntax, e.g. Payments::User::"alice" (or JSON {"type","id"})
  --action UID         e.g. Payments::Action::"InitiatePayment"
  --resource UID       e.g. Payments::Account::"acme-ops"
  --context JSON       the request context, a JSON object (default {})
  --entities FILE      a JSON file of the request's entities (Cedar's JSON entity format)
  --explain            every policy: scope, condition, the failing sub-expression and its values
  --json               the decision (and explanation) as JSON
  --config FILE        where NAME is looked up (policies.dir); default config/dev.yaml if present
  --evaluator E        native (default) or wasm
`;

/** Reads a JSON argument or file, naming the option in any error. */
function readJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new StartupError(`--${what}: not valid JSON (${(err as Error).message})`);
  }
}

function storeDir(store: string, config: string | undefined): { name: string; dir: string } {
  if (existsSync(store)) return { name: path.basename(path.resolve(store)), dir: path.resolve(store) };
  const file = config ?? (existsSync('config/dev.yaml') ? 'config/dev.yaml' : undefined);
  if (file) {
    const loaded = loadConfig({ configPath: file });
    const dir = path.resolve(loaded.baseDir, loaded.config.policies.dir, store);
    if (existsSync(dir)) return { name: store, dir };
    throw new StartupError(
      `--store ${store}: no folder ${store} under ${path.resolve(loaded.baseDir, loaded.config.policies.dir)}`,
    );
  }
  throw new StartupError(`--store ${store}: no such folder (and no --config to look a store name up in)`);
}

function printExplanation(e: Explanation | { unavailable: string }, out: NodeJS.WritableStream): void {
  if ('unavailable' in e) return void out.write(`no explanation: ${e.unavailable}\n`);
  out.write(`${e.summary}\n`);
  for (const p of e.policies) {
    const scope = (['principal', 'action', 'resource'] as const)
      .map((k) => `${k} ${p.scope[k] ? 'ok' : 'no'}`)
      .join(', ');
    const failed = p.failedAt
      ? ` (${p.failedAt.clause}) at ${p.failedAt.expression}${
          p.failedAt.values
            ? ` (${Object.entries(p.failedAt.values)
                .map(([k, v]) => `${k}: ${v}`)
                .join(', ')})`
            : ''
        }${p.failedAt.error ? `: ${p.failedAt.error}` : ''}`
      : '';
    out.write(`  ${p.effect.padEnd(6)} ${p.policyId}: scope ${scope}; condition ${p.condition}${failed}\n`);
  }
  if (e.notShown) out.write(`  (${e.notShown.count} more: ${e.notShown.reason})\n`);
}

/** `authz-sidecar eval`: one decision against a store folder, printed or as JSON. */
export async function evalCommand(
  argv: string[],
  out: NodeJS.WritableStream = process.stdout,
): Promise<number> {
  const { values } = parseCliArgs(
    argv,
    {
      store: { type: 'string' },
      principal: { type: 'string' },
      action: { type: 'string' },
      resource: { type: 'string' },
      context: { type: 'string' },
      entities: { type: 'string' },
      explain: { type: 'boolean' },
      json: { type: 'boolean' },
      config: { type: 'string' },
      evaluator: { type: 'string' },
    },
    USAGE,
    HELP,
  );
  for (const k of ['store', 'principal', 'action', 'resource'] as const)
    if (!values[k]) throw new StartupError(`--${k} is required\nusage: ${USAGE}`);
  if (values.evaluator && values.evaluator !== 'native' && values.evaluator !== 'wasm')
    throw new StartupError(`--evaluator: native or wasm, not ${values.evaluator}`);
  const context = values.context === undefined ? {} : readJson(values.context, 'context');
  if (context === null || typeof context !== 'object' || Array.isArray(context))
    throw new StartupError('--context: expected a JSON object');
  let entities: unknown = [];
  if (values.entities !== undefined) {
    if (!existsSync(values.entities)) throw new StartupError(`--entities: ${values.entities} does not exist`);
    entities = readJson(readFileSync(values.entities, 'utf8'), 'entities');
    if (!Array.isArray(entities)) throw new StartupError('--entities: expected a JSON array of entities');
  }
  const { name, dir } = storeDir(values.store!, values.config);
  const engine = new LocalStoreEngine(name, dir, {
    evaluator: (values.evaluator as 'native' | 'wasm' | undefined) ?? 'native',
    idPrefix: 'eval',
  });
  engine.load();
  const request = {
    principal: parseUid(values.principal!, 'principal'),
    action: parseUid(values.action!, 'action'),
    resource: parseUid(values.resource!, 'resource'),
    context: context as Record<string, CedarValue>,
    entities: (entities as Partial<Entity>[]).map((e) => ({ attrs: {}, parents: [], ...e }) as Entity),
  };
  const [answer] = await engine.decide([request]);
  if (!answer || answer.kind === 'failed')
    throw new StartupError(`the engine failed: ${answer?.message ?? 'no answer'}`);
  if (answer.kind === 'invalid') {
    if (values.json)
      out.write(
        `${JSON.stringify({ decision: 'DENY', reason: 'invalid_request', message: answer.message })}\n`,
      );
    else out.write(`invalid request: ${answer.message}\n`);
    return 2;
  }
  const decision = answer.allow ? 'ALLOW' : 'DENY';
  const explanation = values.explain ? engine.explain(request, decision) : undefined;
  if (values.json) {
    out.write(
      `${JSON.stringify({
        decision,
        store: name,
        storeVersion: answer.storeVersion,
        determiningPolicies: answer.determiningPolicies,
        errors: answer.errors,
        ...(explanation ? { explanation } : {}),
      })}\n`,
    );
  } else {
    out.write(
      `${decision}${answer.determiningPolicies.length ? ` (determining: ${answer.determiningPolicies.join(', ')})` : ''}\n`,
    );
    for (const e of answer.errors) out.write(`  error in ${e.policyId}: ${e.message}\n`);
    if (explanation) printExplanation(explanation, out);
  }
  return answer.allow ? 0 : 1;
}
