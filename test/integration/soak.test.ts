import { describe, expect, it } from 'vitest';
import { runSoak } from '../soak/run.js';

/**
 * The soak's compressed schedule (test/soak/run.ts; `npm run soak` runs the long one): the real
 * sidecar as a child process under mixed load through every door while JWKS, policy files, the AVP
 * peer and the decision-log pipe misbehave, then SIGTERM. Every answer is checked against
 * cedar-wasm on the policy version that was live.
 */
describe('soak (compressed: 36 s)', () => {
  it(
    'no wrong ALLOW, no 5xx, no unexplained DENY, no lost decision-log line, a clean exit',
    { timeout: 100_000 },
    async () => {
      const r = await runSoak({ minutes: 0.6, rate: 120, log: () => {} });
      if (r.wrongAllows || r.fiveXx || r.wrongDenies) console.log(r.report);
      expect(r.requests).toBeGreaterThan(2_000);
      expect(r.wrongAllows).toBe(0);
      expect(r.fiveXx).toBe(0);
      expect(r.wrongDenies).toBe(0);
      expect(r.logLost).toBe(0);
      expect(r.exitCode).toBe(0);
      // the documented fail-closed windows were exercised
      expect(r.faults.find((f) => f.name.startsWith('AVP'))?.noticedMs).toBeDefined();
    },
  );
});
