import { describe, expect, it } from 'vitest';
import { configFromObject } from './index.js';
import { REPO_ROOT } from '../../test/support/sidecar.js';

const load = (raw: unknown) => configFromObject(raw, REPO_ROOT).config;
const problem = (raw: unknown) => {
  try {
    load(raw);
  } catch (err) {
    return (err as Error).message;
  }
  return 'no error';
};

describe('config: stores by engine', () => {
  it('a store without `engine` is local; avp and avp-sync stores get their defaults', () => {
    const config = load({
      stores: {
        customers: {},
        remote: { engine: 'avp', policyStoreId: 'PSEXAMPLEabcdefg111111', region: 'eu-west-1' },
        synced: { engine: 'avp-sync', policyStoreId: 'PSEXAMPLEabcdefg222222', region: 'us-east-1' },
      },
    });
    expect(config.stores!.customers).toEqual({ engine: 'local' });
    expect(config.stores!.remote).toEqual({
      engine: 'avp',
      policyStoreId: 'PSEXAMPLEabcdefg111111',
      region: 'eu-west-1',
      mode: 'is-authorized',
      tokenField: 'auto',
      timeBudgetMs: 250,
      retries: 2,
      retryBaseMs: 25,
      circuitBreaker: { failureThreshold: 5, resetMs: 10_000 },
      minBatchSize: 30,
    });
    expect(config.stores!.synced).toEqual({
      engine: 'avp-sync',
      policyStoreId: 'PSEXAMPLEabcdefg222222',
      region: 'us-east-1',
      refreshSeconds: 60,
      maxStalenessSeconds: 900,
    });
    expect(config.avpDoor).toEqual({ enabled: false, host: '127.0.0.1', port: 8182, policyStores: {} });
  });

  it('a bad store names its key', () => {
    expect(problem({ stores: { x: { engine: 'opa' } } })).toMatch(
      /key "stores\.x\.engine": Invalid discriminator value/,
    );
    expect(problem({ stores: { x: { engine: 'avp', region: 'eu-west-1' } } })).toMatch(
      /key "stores\.x\.policyStoreId"/,
    );
    expect(problem({ stores: { x: { engine: 'avp', policyStoreId: 'p', region: 'Ireland' } } })).toMatch(
      /key "stores\.x\.region": an AWS region/,
    );
    expect(
      problem({ stores: { x: { engine: 'avp', policyStoreId: 'p', region: 'eu-west-1', mode: 'token' } } }),
    ).toMatch(/key "stores\.x\.mode"/);
    expect(
      problem({
        stores: {
          x: { engine: 'avp', policyStoreId: 'p', region: 'eu-west-1', circuitBreaker: { resetMs: -1 } },
        },
      }),
    ).toMatch(/key "stores\.x\.circuitBreaker\.resetMs"/);
    expect(
      problem({
        stores: { x: { engine: 'avp', policyStoreId: 'p', region: 'eu-west-1', path: 'policies/x' } },
      }),
    ).toMatch(/key "stores\.x\.path": unknown key/);
    expect(
      problem({
        stores: {
          x: {
            engine: 'avp-sync',
            policyStoreId: 'p',
            region: 'eu-west-1',
            refreshSeconds: 600,
            maxStalenessSeconds: 300,
          },
        },
      }),
    ).toMatch(/key "stores\.x\.maxStalenessSeconds": must be more than refreshSeconds/);
  });

  it('the AVP door binds to loopback only', () => {
    expect(load({ avpDoor: { enabled: true, host: '::1' } }).avpDoor.host).toBe('::1');
    expect(problem({ avpDoor: { enabled: true, host: '0.0.0.0' } })).toMatch(
      /key "avpDoor\.host": the AVP door binds to a loopback address only/,
    );
    expect(problem({ avpDoor: { host: '10.1.2.3' } })).toMatch(/avpDoor\.host/);
  });
});
