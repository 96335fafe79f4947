#!/usr/bin/env node
// The soak (test/soak/run.ts) through Vite's SSR loader, as scripts/conformance.mjs does.
// Usage: npm run soak -- --minutes N [--rate R] [--write]   (--write puts the report in docs/RELIABILITY.md)
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { createServer } from 'vite';

const args = process.argv.slice(2);
const flag = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const minutes = Number(flag('minutes', '10'));
const rate = Number(flag('rate', '250'));
const write = args.includes('--write');
const server = await createServer({
  configFile: false,
  logLevel: 'error',
  appType: 'custom',
  server: { middlewareMode: true, hmr: false, watch: null },
  optimizeDeps: { noDiscovery: true, include: [] },
});
let code = 1;
try {
  const { runSoak } = await server.ssrLoadModule('/test/soak/run.ts');
  const started = new Date().toISOString();
  const r = await runSoak({ minutes, rate });
  const command = `npm run soak -- --minutes ${minutes} --rate ${rate}${write ? ' --write' : ''}`;
  console.log(r.report);
  if (write) {
    // Only the generated part (between the markers) is replaced: the prose around it stays.
    const generated = [
      '<!-- soak:begin (written by npm run soak -- --write) -->',
      `Produced by \`${command}\` (started ${started}, node ${process.version}, ${os.cpus().length} cores shared with other work).`,
      '',
      r.report,
      '<!-- soak:end -->',
    ].join('\n');
    const file = 'docs/RELIABILITY.md';
    const old = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const m = /<!-- soak:begin[\s\S]*<!-- soak:end -->/.exec(old);
    writeFileSync(
      file,
      m ? old.replace(m[0], () => generated) : `# Reliability: the soak\n\n${generated}\n${old}`,
    );
  }
  code = r.fiveXx === 0 && r.wrongAllows === 0 ? 0 : 1;
} finally {
  await server.close();
}
process.exit(code);
