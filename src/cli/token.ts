import { mintDevToken } from '../identity/dev-issuer.js';
import { StartupError } from '../core/errors.js';
import { parseCliArgs } from './args.js';

const USAGE = `authz-sidecar token --sub ID [--group G]... [--claim NAME=VALUE]...
       authz-sidecar token --service --client-id ID [--scope S]...
  common: [--expires-in SECONDS] [--issuer ISS] [--key-dir DIR (default .dev-keys)]`;

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
    },
    USAGE,
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
  try {
    const token = await mintDevToken({
      keyDir: values['key-dir'] ?? '.dev-keys',
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
    return 0;
  } catch (err) {
    throw new StartupError(`${(err as Error).message}\nusage: ${USAGE}`);
  }
}
