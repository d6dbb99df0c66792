import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runMultiProviderInferenceServer, type GatewayHandle } from 'zg-gateway';
import { LogCapture, waitFor } from '../helpers/devnet-gateway.js';
import { startHostileUpstream, type HostileUpstream } from '../helpers/hostile-upstream.js';
import { chatOn, verifyOn } from '../helpers/instances.js';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.js';

const OPEN_KEY = 'zgk-open-0123456789abcdef';
const LIMITED_KEY = 'zgk-limited-0123456789abcd';

/**
 * Three gateway instances sharing one Redis, in front of the same three plain OpenAI-compatible
 * upstreams: what one instance served, pinned or counted, the others see; and what happens when
 * Redis stops and comes back.
 */
describe('three instances on one Redis', () => {
  let redis: TestRedis;
  let upstreams: HostileUpstream[];
  const logs = [new LogCapture(), new LogCapture(), new LogCapture()];
  let instances: GatewayHandle[] = [];
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };

  before(async () => {
    process.on('unhandledRejection', onUnhandled);
    redis = await startTestRedis();
    upstreams = await Promise.all(['up-a', 'up-b', 'up-c'].map((name) => startHostileUpstream(name)));
    for (const capture of logs) {
      instances.push(
        await runMultiProviderInferenceServer(
          {
            openAICompatibleProviders: upstreams.map((upstream) => ({ name: upstream.name, baseUrl: upstream.baseUrl, model: 'm' })),
            apiKeys: [
              { id: 'open', key: OPEN_KEY },
              { id: 'limited', key: LIMITED_KEY, rpm: 6 },
            ],
            store: { type: 'redis', url: redis.url, prefix: 'multi' },
            healthCheckInterval: 600_000,
            port: 0,
          },
          { logger: capture.logger },
        ),
      );
    }
  });

  after(async () => {
    await Promise.all(instances.map((instance) => instance.close()));
    await Promise.all((upstreams ?? []).map((upstream) => upstream.close()));
    await redis?.stop();
    process.off('unhandledRejection', onUnhandled);
  });

  test('an id served by one instance is verified by the other two', async (t) => {
    let crossVerifies = 0;
    for (let i = 0; i < 9; i++) {
      const served = instances[i % 3] as GatewayHandle;
      const answer = await chatOn(served, OPEN_KEY, `hello ${i}`);
      assert.equal(answer.status, 200);
      assert.ok(answer.id);
      for (const other of instances.filter((instance) => instance !== served)) {
        const verified = await verifyOn(other, OPEN_KEY, answer.id);
        assert.equal(verified.status, 200, `${answer.id} served by instance ${i % 3} is known to the others`);
        assert.equal(verified.body.provider, answer.provider);
        assert.equal(verified.body.verifiable, false, 'a plain upstream cannot prove its answers');
        assert.equal(verified.body.isValid, false);
        crossVerifies += 1;
      }
    }
    assert.equal((await verifyOn(instances[1] as GatewayHandle, OPEN_KEY, 'chatcmpl-never-served')).status, 404);
    t.diagnostic(`9 chats, ${crossVerifies} cross-instance verifies, 0 failures`);
  });

  test('a session pinned on one instance holds on the others', async () => {
    const first = await chatOn(instances[0] as GatewayHandle, OPEN_KEY, 'start', 'conversation-1');
    assert.equal(first.status, 200);
    const unpinned = new Set<string | null>();
    for (let i = 0; i < 6; i++) {
      const instance = instances[1 + (i % 2)] as GatewayHandle;
      const pinned = await chatOn(instance, OPEN_KEY, `turn ${i}`, 'conversation-1');
      assert.equal(pinned.status, 200);
      assert.equal(pinned.provider, first.provider, `turn ${i} stayed on the pinned provider`);
      unpinned.add((await chatOn(instance, OPEN_KEY, `loose ${i}`)).provider);
    }
    assert.ok(unpinned.size > 1, 'without the pin the same instances spread requests over providers');
  });

  test('a client key rpm of 6 admits 6 of 12 requests spread over the three instances', async (t) => {
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => chatOn(instances[i % 3] as GatewayHandle, LIMITED_KEY, `r${i}`)));
    const admitted = answers.filter((answer) => answer.status === 200).length;
    assert.equal(admitted, 6);
    assert.deepEqual(new Set(answers.filter((answer) => answer.status !== 200).map((answer) => `${answer.status} ${answer.code}`)), new Set(['429 key_rate_limited']));
    t.diagnostic(`rpm 6 across 3 instances: ${admitted} of 12 admitted`);
  });

  test('Redis stopped: chats go on, unknown ids are 503, one log line per store; restarted: records caught up', async (t) => {
    await redis.stop();
    const served: Array<{ id: string; on: number }> = [];
    let failures = 0;
    for (let i = 0; i < 30; i++) {
      const on = i % 3;
      const answer = await chatOn(instances[on] as GatewayHandle, OPEN_KEY, `during ${i}`, i % 2 === 0 ? `outage-session-${i % 4}` : undefined);
      if (answer.status !== 200 || !answer.id) failures += 1;
      else served.push({ id: answer.id, on });
    }
    assert.equal(failures, 0, 'every chat was served during the outage');
    const keyed = await chatOn(instances[0] as GatewayHandle, LIMITED_KEY, 'limited during the outage');
    assert.equal(keyed.status, 200, 'rate limits fail open to per-instance counting (the key had used its minute in Redis)');
    for (const instance of instances) {
      const unknown = await verifyOn(instance, OPEN_KEY, 'chatcmpl-unknown-during-outage');
      assert.equal(unknown.status, 503);
      assert.equal(unknown.body.error?.code, 'verify_unavailable');
    }
    const sample = served[0] as { id: string; on: number };
    assert.equal((await verifyOn(instances[sample.on] as GatewayHandle, OPEN_KEY, sample.id)).status, 200, 'the serving instance knows it locally');
    assert.equal((await verifyOn(instances[(sample.on + 1) % 3] as GatewayHandle, OPEN_KEY, sample.id)).status, 503, 'another instance cannot know it yet');
    for (const [index, capture] of logs.entries()) {
      const outages = capture.records().filter((line) => line.event === 'store_unavailable').map((line) => line.store);
      assert.deepEqual(outages.sort(), ['counters', 'responses', 'sessions'], `instance ${index}: one line per store, not per request`);
      assert.equal(capture.records().filter((line) => line.event === 'session_store_failed' || line.event === 'key_commit_failed').length, 0);
      assert.ok(!capture.text().includes('top-secret'));
    }

    const restartedAt = Date.now();
    await redis.restart();
    const caughtUp = await waitFor(async () => {
      for (const { id, on } of served) {
        for (const other of [1, 2].map((step) => instances[(on + step) % 3] as GatewayHandle)) {
          if ((await verifyOn(other, OPEN_KEY, id)).status !== 200) return false;
        }
      }
      return true;
    }, 15_000);
    assert.ok(caughtUp, 'every record served during the outage became known to every instance');
    const catchUpMs = Date.now() - restartedAt;
    for (const capture of logs) {
      const recovered = capture.records().filter((line) => line.event === 'store_recovered');
      assert.deepEqual(recovered.map((line) => line.store).sort(), ['counters', 'responses', 'sessions']);
    }
    const afterwards = await chatOn(instances[2] as GatewayHandle, OPEN_KEY, 'after the outage');
    assert.equal(afterwards.status, 200);
    assert.equal((await verifyOn(instances[0] as GatewayHandle, OPEN_KEY, afterwards.id as string)).status, 200, 'shared again');
    assert.deepEqual(unhandled, []);
    t.diagnostic(`outage: ${served.length} chats served, 0 failed, ${served.length * 2} cross-instance verifies after catch-up (${catchUpMs} ms after restart)`);
  });
});
