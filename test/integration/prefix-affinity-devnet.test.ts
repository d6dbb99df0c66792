import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { runMultiProviderInferenceServer, type GatewayHandle } from 'zg-gateway';
import { startLocalDevnet, type LocalDevnet } from 'zg-devnet';
import { devnetGatewayOptions, startDevnetGateway, type DevnetGateway } from '../helpers/devnet-gateway.js';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.js';

type Message = OpenAI.Chat.Completions.ChatCompletionMessageParam;

/** Affinity on, with blocks small enough for short test conversations. */
const AFFINITY = { enabled: true, blockChars: 128, balanceAbs: 4, balanceRel: 1.5 };

function client(gateway: GatewayHandle): OpenAI {
  return new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 30_000 });
}

interface Turn {
  provider: string;
  reason: string;
}

/** One turn of a conversation through the openai client, no session header: the answer joins the history. */
async function turn(openai: OpenAI, history: Message[], question: string, headers: Record<string, string> = {}): Promise<Turn> {
  history.push({ role: 'user', content: question });
  const { data, response } = await openai.chat.completions.create({ model: 'zg-devnet-chat', messages: history }, { headers }).withResponse();
  history.push({ role: 'assistant', content: data.choices[0]?.message.content ?? '' });
  return { provider: response.headers.get('x-provider-address') ?? '', reason: response.headers.get('x-route-reason') ?? '' };
}

const system = (topic: string): Message => ({ role: 'system', content: `You are an expert on ${topic}. Answer in two sentences, citing sources where you can. `.repeat(6) });
const question = (index: number): string => `Question ${index}: what changed in the ${index}th year, and why does it matter for the next one?`;

describe('cache-aware routing on the 0G devnet (round-robin behind it)', () => {
  let setup: DevnetGateway;
  let openai: OpenAI;

  before(async () => {
    setup = await startDevnetGateway({ devnet: { providers: 3 }, gateway: { affinity: AFFINITY, healthCheckInterval: 3_600_000 } });
    openai = client(setup.gateway);
  });

  after(async () => {
    await setup?.close();
  });

  test('a 6-turn conversation without any header stays on the provider of its first turn', async (t) => {
    const history: Message[] = [system('glaciers')];
    const turns: Turn[] = [];
    for (let index = 1; index <= 6; index++) turns.push(await turn(openai, history, question(index)));
    const first = turns[0]?.provider;
    assert.ok(first);
    assert.deepEqual(
      turns.slice(1).map((served) => served.provider),
      Array(5).fill(first),
      'turns 2-6 on the first provider (round-robin alone would rotate over three)',
    );
    for (const later of turns.slice(1)) assert.match(later.reason, /^prefix-affinity: matched \d+\/\d+ blocks$/);
    // With X-Affinity: off the next turn is the strategy's (round-robin moves on).
    const off = await turn(openai, history, question(7), { 'x-affinity': 'off' });
    assert.ok(!off.reason.startsWith('prefix-affinity'), off.reason);
    const decisions = setup.gateway.gateway.affinity.stats().decisions;
    assert.ok(decisions.matched >= 5 && decisions['opted-out'] >= 1, JSON.stringify(decisions));
    t.diagnostic(`turns: ${turns.map((served) => `${served.provider.slice(0, 8)} (${served.reason})`).join(', ')}`);
  });

  test('two conversations with different system prompts spread over providers, each staying on its own', async () => {
    const histories: Message[][] = [[system('volcanoes')], [system('tidal power')]];
    const served: Turn[][] = [[], []];
    for (let index = 1; index <= 4; index++) {
      for (const [which, history] of histories.entries()) served[which]?.push(await turn(openai, history, question(index)));
    }
    const [one, two] = served.map((turns) => new Set(turns.map((item) => item.provider)));
    assert.equal(one?.size, 1, 'the first conversation on one provider');
    assert.equal(two?.size, 1, 'the second conversation on one provider');
    assert.notDeepEqual([...(one ?? [])], [...(two ?? [])], 'on different providers');
  });

  test('under a burst of one prefix the warm provider stays within the load bound', async () => {
    const gateway = setup.gateway;
    const providers = setup.devnet.providers;
    const history: Message[] = [system('a burst')];
    const warm = (await turn(openai, history, question(1))).provider;
    for (const provider of providers) await provider.setFault({ mode: 'delay-first-byte', ms: 600 });
    try {
      const burst = Array.from({ length: 18 }, (_, index) => turn(openai, [...history], `${question(2)} (variant ${index})`));
      // Everything placed (each placement takes its slot synchronously); read the in-flight counts while all wait.
      const deadline = Date.now() + 5000;
      while (gateway.gateway.registry.totalInFlight() < 18 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
      const inFlight = gateway.gateway.registry.list().map((entry) => ({ id: entry.id, inFlight: entry.inFlight }));
      const results = await Promise.all(burst);
      const counts = inFlight.map((entry) => entry.inFlight);
      const least = Math.min(...counts);
      const warmCount = inFlight.find((entry) => entry.id.toLowerCase() === warm.toLowerCase())?.inFlight ?? 0;
      assert.equal(counts.reduce((sum, count) => sum + count, 0), 18, JSON.stringify(inFlight));
      assert.ok(warmCount > least, `affinity still favours the warm provider: ${JSON.stringify(inFlight)}`);
      assert.ok(warmCount - least <= AFFINITY.balanceAbs + 1, `the warm provider within balanceAbs (+1) of the least loaded: ${JSON.stringify(inFlight)}`);
      assert.ok(results.some((served) => served.reason.startsWith('prefix-affinity fallback: imbalance')), 'some fell back for imbalance');
      assert.ok(results.some((served) => served.reason.startsWith('prefix-affinity: matched')), 'some matched');
    } finally {
      for (const provider of providers) await provider.setFault({ mode: 'none' });
    }
  });

  test('a provider removed mid-conversation: the next turn is served elsewhere and the conversation re-pins there', async () => {
    const history: Message[] = [system('the removal')];
    const first = await turn(openai, history, question(1));
    const second = await turn(openai, history, question(2));
    assert.equal(second.provider, first.provider);
    assert.equal(await setup.gateway.providers.remove(first.provider), true);
    const third = await turn(openai, history, question(3));
    assert.notEqual(third.provider, first.provider);
    assert.match(third.reason, /^prefix-affinity fallback: no warm provider/, 'the removed provider\'s entries were dropped');
    const fourth = await turn(openai, history, question(4));
    const fifth = await turn(openai, history, question(5));
    assert.equal(fourth.provider, third.provider, 're-pinned on the provider that took over');
    assert.equal(fifth.provider, third.provider);
    assert.match(fourth.reason, /^prefix-affinity: matched/);
  });
});

describe('cache-aware routing across two instances sharing Redis, on the 0G devnet', () => {
  let devnet: LocalDevnet;
  let redis: TestRedis;
  const instances: GatewayHandle[] = [];

  before(async () => {
    [devnet, redis] = await Promise.all([startLocalDevnet({ providers: 3 }), startTestRedis()]);
    // One after the other: they share the wallet (its set-up transactions must not race).
    for (let index = 0; index < 2; index++) {
      instances.push(
        await runMultiProviderInferenceServer(
          devnetGatewayOptions(devnet, { store: { type: 'redis', url: redis.url, prefix: 'affinity' }, affinity: { ...AFFINITY, sharedReadTimeoutMs: 50 }, healthCheckInterval: 3_600_000 }),
        ),
      );
    }
  });

  after(async () => {
    for (const instance of instances) await instance.close();
    await devnet?.stop();
    await redis?.stop();
  });

  test('a conversation whose turns alternate between the instances keeps its provider', async (t) => {
    const clients = instances.map(client);
    // Move the second instance's round-robin on, so without the shared index it would pick another provider.
    await turn(clients[1] as OpenAI, [system('warming up')], question(0));
    const history: Message[] = [system('alternating instances')];
    const turns: Turn[] = [];
    for (let index = 1; index <= 6; index++) {
      // Let the fire-and-forget write of the previous turn land.
      await new Promise((resolve) => setTimeout(resolve, 20));
      turns.push(await turn(clients[index % 2 === 1 ? 0 : 1] as OpenAI, history, question(index)));
    }
    assert.equal(new Set(turns.map((served) => served.provider)).size, 1, JSON.stringify(turns));
    for (const later of turns.slice(1)) assert.match(later.reason, /^prefix-affinity: matched/);
    const shared = instances[1]?.gateway.affinity.stats().shared;
    assert.ok(shared && shared.reads >= 1 && shared.failures === 0, JSON.stringify(shared));
    t.diagnostic(`second instance's shared index: ${JSON.stringify(shared)}`);
  });
});
