#!/usr/bin/env node
// Exits 0 when the sidecar on this host answers 2xx on PATH (default /healthz), else 1.
// For the image's HEALTHCHECK and Kubernetes exec probes: the slim image has no curl, and this
// script loads nothing of the sidecar (no wasm) and uses node:http rather than fetch (whose
// client costs another ~50 ms of CPU to load), so a probe costs little more than node's start.
//
//   node bin/healthcheck.js [/healthz | /readyz]
//
// It finds the server as the server finds its address: AUTHZ_HOST and AUTHZ_PORT (defaults
// 127.0.0.1 and 8181). Set AUTHZ_PORT when a config file moves the port.
import { get } from 'node:http';

const path = process.argv[2] ?? '/healthz';
const bound = process.env.AUTHZ_HOST;
// A wildcard bind (0.0.0.0, ::) is reachable on loopback.
const host = !bound || bound === '0.0.0.0' || bound === '::' ? '127.0.0.1' : bound;
const port = Number(process.env.AUTHZ_PORT || 8181);
const where = `http://${host.includes(':') ? `[${host}]` : host}:${port}${path}`;

const fail = (why) => {
  console.error(`${where}: ${why}`);
  process.exitCode = 1;
};

const req = get({ host, port, path, timeout: 3000 }, (res) => {
  let body = '';
  res.setEncoding('utf8');
  res.on('data', (chunk) => (body += chunk));
  res.on('end', () => {
    const status = res.statusCode ?? 0;
    // The orchestrator shows this in the probe's event: /readyz says which store or issuer is not ready.
    if (status < 200 || status > 299) fail(`HTTP ${status} ${body.slice(0, 1000)}`);
  });
});
req.on('timeout', () => req.destroy(new Error('timed out after 3 s')));
req.on('error', (err) => fail(err.message));
