import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEV_ISSUER, mintDevToken } from '../identity/dev-issuer.js';
import { StartupError } from '../core/errors.js';
import { parseCliArgs } from './args.js';

const USAGE = `authz-sidecar token --sub ID [--group G]... [--claim NAME=VALUE]...
       authz-sidecar token --service --client-id ID [--scope S]...
  common: [--expires-in SECONDS] [--issuer ISS] [--key-dir DIR] [--config PATH]`;

const HELP = `${USAGE}

Prints a development token signed with the dev issuer's key, the one the sidecar running the dev
config trusts. The token goes to stdout; which key and issuer signed it goes to stderr.

  --sub ID             a user token (an ID token shaped like Cognito's) for this subject
  --group G            a cognito:groups entry (repeatable)
  --claim NAME=VALUE   any other claim, e.g. custom:tenantId=acme (repeatable)
  --service            a service token (a client-credentials access token) instead
  --client-id ID       the service's client id (with --service)
  --scope S            a scope of the service token (repeatable)
  --expires-in SECONDS lifetime (default 3600). The sidecar allows the issuer's clockSkewSeconds
                       (default 60) past exp and before nbf, so a token stays valid up to a minute
                       after it expires.
  --issuer ISS         the iss claim (default ${DEV_ISSUER})
  --key-dir DIR        the key folder; created if missing only when given here
  --config PATH        the config whose dev.keyDir holds the key (default: AUTHZ_CONFIG, else the
                       project's config/dev.yaml), found the way the server finds it
`;

/** The project root: two folders up from src/cli and dist/cli. */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The dev key folder exactly as the server finds it: the config's `dev.keyDir`, relative to the
 * config file. Read with a plain YAML look-up (not the whole config schema: `token` must stay fast
 * and must not need the rest of the config to be valid).
 */
async function keyDirOf(configPath: string): Promise<string> {
  const { parse } = await import('yaml');
  const raw = parse(readFileSync(configPath, 'utf8')) as { dev?: { keyDir?: unknown } } | null;
  const dir = raw?.dev?.keyDir;
  if (typeof dir !== 'string' || dir === '')
    throw new StartupError(
      `${configPath} has no dev.keyDir: it runs no development issuer (pass --key-dir to pick a key folder)`,
    );
  return path.resolve(path.dirname(configPath), dir);
}

/** Prints a development token signed with the dev key (generated on first use). */
export async function tokenCommand(
  argv: string[],
  out: NodeJS.WritableStream = process.stdout,
): Promise<number> {
  const { values } = parseCliArgs(
    argv,
    {
      sub: { type: 'string' },
      group: { type: 'string', multiple: true },
      claim: { type: 'string', multiple: true },
      service: { type: 'boolean' },
      'client-id': { type: 'string' },
      scope: { type: 'string', multiple: true },
      'expires-in': { type: 'string' },
      issuer: { type: 'string' },
      'key-dir': { type: 'string' },
      config: { type: 'string' },
    },
    USAGE,
    HELP,
  );
  const claims: Record<string, string> = {};
  for (const c of values.claim ?? []) {
    const at = c.indexOf('=');
    if (at <= 0) throw new StartupError(`--claim expects NAME=VALUE, got "${c}"\nusage: ${USAGE}`);
    claims[c.slice(0, at)] = c.slice(at + 1);
  }
  const expiresIn = values['expires-in'] !== undefined ? Number(values['expires-in']) : undefined;
  if (expiresIn !== undefined && !Number.isInteger(expiresIn))
    throw new StartupError(`--expires-in expects whole seconds\nusage: ${USAGE}`);
  let keyDir: string;
  if (values['key-dir']) keyDir = path.resolve(values['key-dir']);
  else {
    const configPath = path.resolve(
      values.config ?? process.env.AUTHZ_CONFIG ?? path.join(ROOT, 'config/dev.yaml'),
    );
    if (!existsSync(configPath)) throw new StartupError(`--config: ${configPath} does not exist`);
    keyDir = await keyDirOf(configPath);
    // Never a new key by accident (run from another folder, another config): only the server, or
    // an explicit --key-dir, creates one.
    if (!existsSync(path.join(keyDir, 'private.jwk.json')))
      throw new StartupError(
        `no development key in ${keyDir} (dev.keyDir of ${configPath}): start the sidecar with that config once (npm start) to create it, or pass --key-dir`,
      );
  }
  try {
    const token = await mintDevToken({
      keyDir,
      kind: values.service ? 'service' : 'user',
      ...(values.issuer ? { issuer: values.issuer } : {}),
      ...(values.sub ? { sub: values.sub } : {}),
      groups: values.group ?? [],
      claims,
      ...(values['client-id'] ? { clientId: values['client-id'] } : {}),
      scopes: values.scope ?? [],
      ...(expiresIn !== undefined ? { expiresInSeconds: expiresIn } : {}),
    });
    out.write(`${token}\n`);
    const kid = (JSON.parse(readFileSync(path.join(keyDir, 'private.jwk.json'), 'utf8')) as { kid?: string })
      .kid;
    process.stderr.write(`signed with key ${kid} in ${keyDir}, issuer ${values.issuer ?? DEV_ISSUER}\n`);
    return 0;
  } catch (err) {
    throw new StartupError(`${(err as Error).message}\nusage: ${USAGE}`);
  }
}
