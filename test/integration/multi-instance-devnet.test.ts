import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runMultiProviderInferenceServer, type GatewayHandle } from 'zg-gateway';
import { startLocalDevnet, type LocalDevnet } from 'zg-devnet';
import { devnetGatewayOptions } from '../helpers/devnet-gateway.js';
import { chatOn, verifyOn } from '../helpers/instances.js';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.js';

/**
 * Three gateway instances with one wallet and one Redis in front of the 0G devnet: every answer,
 * whichever instance served it, is proven (`isValid: true`) through every instance, because the
 * record names the provider and chat id and every instance can ask that provider with the wallet.
 */
describe('three instances on one Redis, on the 0G devnet', () => {
  let devnet: LocalDevnet;
  let redis: TestRedis;
  const instances: GatewayHandle[] = [];

  before(async () => {
    [devnet, redis] = await Promise.all([startLocalDevnet({ providers: 3 }), startTestRedis()]);
    // One after the other: they share the wallet, and the first one's set-up transactions
    // (acknowledgements, sub-account funding) must not race the others' nonces.
    for (let i = 0; i < 3; i++) {
      instances.push(await runMultiProviderInferenceServer(devnetGatewayOptions(devnet, { store: { type: 'redis', url: redis.url, prefix: 'devnet' }, healthCheckInterval: 600_000 })));
    }
  });

  after(async () => {
    for (const instance of instances) await instance.close();
    await devnet?.stop();
    await redis?.stop();
  });

  test('every id verifies isValid: true from every instance', async (t) => {
    const served: Array<{ id: string; provider: string | null; on: number }> = [];
    for (let i = 0; i < 9; i++) {
      const answer = await chatOn(instances[i % 3] as GatewayHandle, undefined, `devnet question ${i}`, undefined, 'zg-devnet-chat');
      assert.equal(answer.status, 200);
      assert.ok(answer.id);
      served.push({ id: answer.id, provider: answer.provider, on: i % 3 });
    }
    assert.equal(new Set(served.map((answer) => answer.provider)).size, 3, 'answers came from all three providers');
    let verifies = 0;
    for (const { id, provider } of served) {
      for (const instance of instances) {
        const verified = await verifyOn(instance, undefined, id);
        assert.equal(verified.status, 200, `${id} through ${instance.url}`);
        assert.equal(verified.body.isValid, true, `${id} proven through ${instance.url}`);
        assert.equal(verified.body.verifiable, true);
        assert.equal(verified.body.provider?.toLowerCase(), provider?.toLowerCase());
        verifies += 1;
      }
    }
    t.diagnostic(`devnet: ${served.length} chats over 3 instances, ${verifies} verifies (${verifies - served.length} cross-instance), all isValid: true`);
  });
});
