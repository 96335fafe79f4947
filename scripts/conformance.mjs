#!/usr/bin/env node
// Runs every Cedar integration test (hand-written + generated corpus) against the TypeScript
// evaluator and prints total / matched / mismatched / skipped with reasons. The TypeScript sources
// are loaded through Vite's SSR loader (a dev dependency via vitest), so no build step is needed.
// Flags: --verbose (list every mismatch), --validate (also compare shouldValidate with cedar-wasm).
import { createServer } from 'vite';

const server = await createServer({
  configFile: false,
  logLevel: 'error',
  appType: 'custom',
  server: { middlewareMode: true, hmr: false, watch: null },
  optimizeDeps: { noDiscovery: true, include: [] },
});
let code = 1;
try {
  const { main } = await server.ssrLoadModule('/src/cedar/conformance/run-all.ts');
  code = main(process.argv.slice(2));
} finally {
  await server.close();
}
process.exit(code);
