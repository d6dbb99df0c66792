import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runMultiProviderInferenceServer, type GatewayHandle } from 'zg-gateway';
import { silentLogger } from '../helpers/fakes.js';
import { startHostileUpstream, type HostileUpstream } from '../helpers/hostile-upstream.js';
import { chatOn, verifyOn } from '../helpers/instances.js';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.js';

const INPUT_PRICE = 1_000_000_007n;
const OUTPUT_PRICE = 2_000_000_011n;
const CONTENT = 'abcdefghijkl';
const ANSWER_TOKENS = 5 + CONTENT.length;
const ANSWER_COST = 5n * INPUT_PRICE + BigInt(CONTENT.length) * OUTPUT_PRICE;
const key = (name: string): string => `zgk-${name}-0123456789abcdef`;

/**
 * Two gateway instances sharing one Redis: reservations are made in Redis, so the limits hold across
 * instances; response ids and session pins are scoped to the key in the shared stores too.
 */
describe('two instances on one Redis: limits and scoping hold across instances', () => {
  let redis: TestRedis;
  let slow: HostileUpstream;
  let fastA: HostileUpstream;
  let fastB: HostileUpstream;
  const instances: GatewayHandle[] = [];

  before(async () => {
    redis = await startTestRedis();
    slow = await startHostileUpstream('slow', { kind: 'delay', ms: 600 });
    fastA = await startHostileUpstream('fast-a');
    fastB = await startHostileUpstream('fast-b');
    const priced = (id: string) => [{ id, inputPrice: INPUT_PRICE.toString(), outputPrice: OUTPUT_PRICE.toString() }];
    for (let i = 0; i < 2; i++) {
      instances.push(
        await runMultiProviderInferenceServer(
          {
            openAICompatibleProviders: [
              { name: 'slow', baseUrl: slow.baseUrl, models: priced('slow') },
              { name: 'fast-a', baseUrl: fastA.baseUrl, models: priced('m') },
              { name: 'fast-b', baseUrl: fastB.baseUrl, models: priced('m') },
            ],
            apiKeys: [
              { id: 'budget', key: key('budget'), budget: { amount: (5n * ANSWER_COST).toString(), period: 'day' } },
              { id: 'tpm', key: key('tpm'), tpm: 10 * ANSWER_TOKENS },
              { id: 'alice', key: key('alice') },
              { id: 'bob', key: key('bob') },
            ],
            store: { type: 'redis', url: redis.url, prefix: 'tenants' },
            healthCheckInterval: 600_000,
            port: 0,
          },
          { logger: silentLogger },
        ),
      );
    }
  });

  after(async () => {
    await Promise.all(instances.map((instance) => instance.close()));
    await Promise.all([slow, fastA, fastB].map((upstream) => upstream?.close()));
    await redis?.stop();
  });

  async function burst(id: string): Promise<number> {
    const answers = await Promise.all(
      Array.from({ length: 200 }, async (_, index) => {
        const response = await fetch(`${(instances[index % 2] as GatewayHandle).url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${key(id)}` },
          body: JSON.stringify({ model: 'slow', max_tokens: CONTENT.length, messages: [{ role: 'user', content: CONTENT }] }),
        });
        await response.arrayBuffer();
        return response.status;
      }),
    );
    return answers.filter((status) => status === 200).length;
  }

  test('budget worth 5 answers and tpm worth 10, 200 concurrent requests over both instances', async (t) => {
    const budget = await burst('budget');
    const tpm = await burst('tpm');
    t.diagnostic(`Redis, 2 instances: budget admitted ${budget} of 200 (limit 5 answers); tpm admitted ${tpm} of 200 (limit 10 answers)`);
    assert.ok(budget >= 1 && budget <= 5, `budget admitted ${budget}`);
    assert.ok(tpm >= 1 && tpm <= 10, `tpm admitted ${tpm}`);
  });

  test('an id served on one instance: its key verifies it on the other, another key gets 404', async () => {
    const [first, second] = instances as [GatewayHandle, GatewayHandle];
    const served = await chatOn(first, key('alice'), 'hello');
    assert.equal(served.status, 200);
    assert.equal((await verifyOn(second, key('alice'), served.id as string)).status, 200);
    const other = await verifyOn(second, key('bob'), served.id as string);
    assert.equal(other.status, 404);
    assert.equal(other.body.error?.code, 'response_not_found');
  });

  test('the same X-Session-Id from another key on another instance does not move the pin', async () => {
    const [first, second] = instances as [GatewayHandle, GatewayHandle];
    const pinnedAnswer = await chatOn(first, key('alice'), 'start', 'conversation');
    const pinned = pinnedAnswer.provider;
    const other = pinned === 'fast-a' ? 'fast-b' : 'fast-a';
    const response = await fetch(`${second.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key('bob')}`, 'x-session-id': 'conversation' },
      body: JSON.stringify({ model: 'm', provider: { only: [other] }, messages: [{ role: 'user', content: 'move it' }] }),
    });
    await response.arrayBuffer();
    assert.equal(response.headers.get('x-provider-address'), other);
    for (const instance of instances) {
      const again = await chatOn(instance, key('alice'), 'again', 'conversation');
      assert.equal(again.provider, pinned, 'alice stays on her provider, on both instances');
    }
  });
});
