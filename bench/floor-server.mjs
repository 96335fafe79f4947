// The benchmark floor: a bare hono endpoint that parses the same JSON body the sidecar gets and
// answers a small JSON. Everything the sidecar does is measured as a ratio to this.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const app = new Hono();
app.post('/floor', async (c) => {
  const body = await c.req.json();
  return c.json({ decision: body && typeof body === 'object' ? 'ALLOW' : 'DENY', decisionId: 'floor' });
});
const server = serve(
  { fetch: app.fetch, port: Number(process.env.PORT ?? 0), hostname: '127.0.0.1' },
  (info) => {
    process.stdout.write(`listening ${info.port}\n`);
  },
);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
