import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { runMultiProviderInferenceServer, type GatewayHandle, type Lease } from 'zg-gateway';
import { startLocalDevnet, type LocalDevnet } from 'zg-devnet';
import { devnetGatewayOptions } from '../helpers/devnet-gateway.js';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.js';

type Message = OpenAI.Chat.Completions.ChatCompletionMessageParam;

const AFFINITY = { enabled: true, blockChars: 128, balanceAbs: 4, balanceRel: 1.5, sharedReadTimeoutMs: 50 };

async function waitFor(what: string, condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe("the affinity load bound counts the other instances' in-flight requests (two instances, real Redis, devnet)", () => {
  let devnet: LocalDevnet;
  let redis: TestRedis;
  const instances: GatewayHandle[] = [];

  before(async () => {
    [devnet, redis] = await Promise.all([startLocalDevnet({ providers: 3 }), startTestRedis()]);
    // One after the other: they share the wallet (its set-up transactions must not race).
    for (let index = 0; index < 2; index++) {
      instances.push(await runMultiProviderInferenceServer(devnetGatewayOptions(devnet, { store: { type: 'redis', url: redis.url, prefix: 'fleetload' }, affinity: AFFINITY, healthCheckInterval: 3_600_000 })));
    }
  });

  after(async () => {
    for (const instance of instances) await instance.close();
    await devnet?.stop();
    await redis?.stop();
  });

  test("instance B sees instance A's in-flight requests on a provider and falls back for imbalance because of them", async () => {
    const [one, two] = instances as [GatewayHandle, GatewayHandle];
    const openai = new OpenAI({ baseURL: `${two.url}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 30_000 });
    const history: Message[] = [{ role: 'system', content: 'You are an expert on fleets. Answer in two sentences. '.repeat(8) }];
    const ask = async (question: string): Promise<{ provider: string; reason: string }> => {
      history.push({ role: 'user', content: question });
      const { data, response } = await openai.chat.completions.create({ model: 'zg-devnet-chat', messages: history }).withResponse();
      history.push({ role: 'assistant', content: data.choices[0]?.message.content ?? '' });
      return { provider: response.headers.get('x-provider-address') ?? '', reason: response.headers.get('x-route-reason') ?? '' };
    };
    const first = await ask('What is a fleet?');
    const second = await ask('And why does its load matter?');
    assert.equal(second.provider, first.provider, 'warm on B: the second turn stays');
    assert.match(second.reason, /^prefix-affinity: matched/);

    // Six requests in flight on that provider at instance A (leases, as its dispatcher takes them).
    const entry = one.gateway.registry.list().find((candidate) => candidate.id === first.provider);
    assert.ok(entry, 'A knows the provider');
    const leases: Lease[] = Array.from({ length: 6 }, () => one.gateway.registry.acquire(entry));
    try {
      await waitFor("B's reading of A's counts", () => two.gateway.affinity.stats().fleet?.others[first.provider] === 6);
      const third = await ask('What happens when one member is busy?');
      assert.notEqual(third.provider, first.provider, 'the bound held: another provider');
      assert.match(third.reason, /^prefix-affinity fallback: imbalance 6\.0 > 1\.5 \(6 vs 0 in flight\)/);
    } finally {
      for (const lease of leases) lease.release({ ok: true, stream: false });
    }
    await waitFor("B's reading without A's ended requests", () => (two.gateway.affinity.stats().fleet?.others[first.provider] ?? 0) === 0);
    const stats = two.gateway.affinity.stats().fleet;
    assert.ok(stats && stats.exchanges > 0 && stats.failures === 0, JSON.stringify(stats));
  });
});
