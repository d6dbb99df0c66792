import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { test } from 'node:test';
import { runMultiProviderInferenceServer } from 'zg-gateway';
import { silentLogger } from '../helpers/fakes.js';
import { startHostileUpstream } from '../helpers/hostile-upstream.js';

test('providers added and removed under load: removed ones finish their requests and get no new ones, added ones take traffic, nothing fails', async () => {
  const upstreams = await Promise.all(['one', 'two', 'three'].map((name) => startHostileUpstream(name, { kind: 'delay', ms: 40 })));
  const [one, two, three] = upstreams;
  assert.ok(one && two && three);
  const gateway = await runMultiProviderInferenceServer(
    { openAICompatibleProviders: [{ name: 'one', baseUrl: one.baseUrl, model: 'm' }, { name: 'two', baseUrl: two.baseUrl, model: 'm' }], port: 0, strategy: 'least-connections' },
    { logger: silentLogger },
  );
  const served: Array<{ status: number; provider: string | null; at: number }> = [];
  // When each attempt was sent, from the gateway's own events (exact, whatever the machine's speed).
  const sent: Array<{ provider: string; at: number }> = [];
  const onAttempt = (message: unknown): void => {
    sent.push({ provider: (message as { providerId: string }).providerId, at: Date.now() });
  };
  subscribe('zg-gateway:attempt:start', onAttempt);
  let running = true;
  const worker = async (): Promise<void> => {
    while (running) {
      const response = await fetch(`${gateway.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "m", stream: served.length % 2 === 0, messages: [{ role: "user", content: "load" }] }) }).catch((error: Error) => { throw new Error(`${error.message}: ${String(error.cause)}`); });
      await response.text();
      served.push({ status: response.status, provider: response.headers.get('x-provider-address'), at: Date.now() });
    }
  };
  // Each phase lasts until the gateway has answered `count` more requests (at least 300 ms), so a
  // loaded machine lengthens the phases instead of thinning them.
  const servedMore = async (count: number): Promise<void> => {
    const target = served.length + count;
    const started = Date.now();
    while (served.length < target || Date.now() - started < 300) await new Promise((resolve) => setTimeout(resolve, 20));
  };
  try {
    const workers = Array.from({ length: 8 }, () => worker());
    await servedMore(15);
    const addedAt = Date.now();
    assert.equal(await gateway.providers.add({ name: 'three', baseUrl: three.baseUrl, models: ['m'], weight: 2 }), 'three');
    await servedMore(15);
    const removalStarted = Date.now();
    const attemptsBeforeRemoval = sent.length;
    const removing = gateway.providers.remove('one');
    const state = gateway.providers.list().find((member) => member.id === 'one')?.state;
    assert.ok(state === 'draining' || state === undefined, `one is draining or already gone (it may have had nothing in flight), not ${state}`);
    assert.equal(await removing, true);
    const removedAt = Date.now();
    assert.ok(!gateway.providers.list().some((member) => member.id === 'one'));
    await servedMore(15);
    running = false;
    await Promise.all(workers);
    assert.ok(served.length > 40, `${served.length} requests served`);
    assert.deepEqual([...new Set(served.map((answer) => answer.status))], [200], 'no request failed');
    assert.ok(served.some((answer) => answer.provider === 'three' && answer.at > addedAt), 'the added provider takes traffic');
    // remove() marks the provider draining before it returns: every attempt recorded after that point came later.
    const lateOnes = sent.slice(attemptsBeforeRemoval).filter((attempt) => attempt.provider === 'one');
    assert.deepEqual(lateOnes, [], 'no request was sent to the removed provider once its removal began');
    assert.ok(sent.some((attempt) => attempt.provider === 'one'), 'it had been serving before');
    assert.ok(removedAt - removalStarted < 2000, 'draining finished once its in-flight requests did');
    assert.equal(gateway.inFlight(), 0);
    assert.equal(await gateway.providers.remove('nobody'), false);
  } finally {
    running = false;
    unsubscribe('zg-gateway:attempt:start', onAttempt);
    await gateway.close();
    for (const upstream of upstreams) await upstream.close();
  }
});
