import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { runMultiProviderInferenceServer, type GatewayHandle } from 'zg-gateway';
import { silentLogger } from '../helpers/fakes.js';
import { scrape, valueOf } from '../helpers/prometheus-text.js';
import { startScriptedUpstream, type ScriptContext, type ScriptedUpstream } from '../helpers/scripted-upstream.js';

type Message = OpenAI.Chat.Completions.ChatCompletionMessageParam;

/**
 * An upstream that reports `cachedShare` of each prompt as cached (`usage.prompt_tokens_details.cached_tokens`),
 * in JSON answers and in a stream's last chunk: a provider whose KV cache behaves as the test says.
 */
function reporting(cachedShare: number) {
  return async ({ response, body, id, write, chunk }: ScriptContext): Promise<void> => {
    const promptTokens = Math.ceil(JSON.stringify(body.messages ?? []).length / 4);
    const usage = { prompt_tokens: promptTokens, completion_tokens: 3, total_tokens: promptTokens + 3, prompt_tokens_details: { cached_tokens: Math.floor(promptTokens * cachedShare) } };
    if (body.stream) {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      await write(chunk({ role: 'assistant', content: 'streamed answer' }));
      await write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', model: body.model, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], usage })}\n\n`);
      await write('data: [DONE]\n\n');
      response.end();
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ id, object: 'chat.completion', created: 1, model: body.model, choices: [{ index: 0, message: { role: 'assistant', content: 'an answer' }, finish_reason: 'stop' }], usage }));
  };
}

async function turn(openai: OpenAI, history: Message[], text: string, stream: boolean): Promise<{ provider: string; reason: string }> {
  history.push({ role: 'user', content: text });
  if (stream) {
    const { data, response } = await openai.chat.completions.create({ model: 'm', messages: history, stream: true, stream_options: { include_usage: true } }).withResponse();
    let content = '';
    for await (const piece of data) content += piece.choices[0]?.delta.content ?? '';
    history.push({ role: 'assistant', content });
    return { provider: response.headers.get('x-provider-address') ?? '', reason: response.headers.get('x-route-reason') ?? '' };
  }
  const { data, response } = await openai.chat.completions.create({ model: 'm', messages: history }).withResponse();
  history.push({ role: 'assistant', content: data.choices[0]?.message.content ?? '' });
  return { provider: response.headers.get('x-provider-address') ?? '', reason: response.headers.get('x-route-reason') ?? '' };
}

const SYSTEM = (topic: string): Message => ({ role: 'system', content: `You answer questions about ${topic}, briefly and with care. `.repeat(8) });

describe('cache-aware routing learns from the cached tokens providers report', () => {
  let cold: ScriptedUpstream;
  let warm: ScriptedUpstream;
  let gateway: GatewayHandle;

  before(async () => {
    cold = await startScriptedUpstream('cold', reporting(0));
    warm = await startScriptedUpstream('warm', reporting(0.9));
    gateway = await runMultiProviderInferenceServer(
      {
        openAICompatibleProviders: [
          { name: 'cold', baseUrl: cold.baseUrl, model: 'm' },
          { name: 'warm', baseUrl: warm.baseUrl, model: 'm' },
        ],
        port: 0,
        strategy: 'cache-aware',
        affinity: { blockChars: 64, providerCapacityTokens: 100_000 },
      },
      { logger: silentLogger },
    );
  });

  after(async () => {
    await gateway?.close();
    await cold?.close();
    await warm?.close();
  });

  test('a provider that reports misses where hits were expected has its capacity estimate cut; hit rates per provider in /metrics', async () => {
    const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const first: Message[] = [SYSTEM('rivers')];
    const second: Message[] = [SYSTEM('mountains')];
    const turns = { first: [] as string[], second: [] as string[] };
    for (let index = 0; index < 4; index++) {
      turns.first.push((await turn(openai, first, `river question ${index}`, false)).provider);
      turns.second.push((await turn(openai, second, `mountain question ${index}`, true)).provider);
    }
    assert.deepEqual(turns.first, ['cold', 'cold', 'cold', 'cold'], '`cache-aware` is round-robin behind affinity: the first conversation starts on cold and stays');
    assert.deepEqual(turns.second, ['warm', 'warm', 'warm', 'warm']);
    const providers = new Map(gateway.gateway.affinity.stats().index.providers.map((row) => [row.id, row]));
    const initial = Math.floor((100_000 * 4) / 64);
    assert.equal(providers.get('warm')?.capacity, initial, 'hits as predicted: the estimate stays');
    assert.ok((providers.get('cold')?.capacity ?? initial) < initial, `misses: cut to ${providers.get('cold')?.capacity}`);
    const samples = await scrape(`${gateway.url}/metrics`, gateway.adminToken);
    const tokens = (provider: string, kind: string): number => valueOf(samples, 'zg_gateway_prefix_cache_tokens_total', { provider, kind });
    assert.ok(tokens('cold', 'prompt') > 0 && tokens('cold', 'cached') === 0);
    assert.ok(tokens('warm', 'cached') > 0.85 * tokens('warm', 'prompt'), 'the stream\'s usage counted too');
    assert.equal(valueOf(samples, 'zg_gateway_affinity_decisions_total', { decision: 'matched' }), 6);
    assert.equal(valueOf(samples, 'zg_gateway_affinity_decisions_total', { decision: 'fallback-no-match' }), 2);
    assert.equal(valueOf(samples, 'zg_gateway_affinity_requests_total'), 8);
    assert.ok(valueOf(samples, 'zg_gateway_affinity_work_seconds_total') > 0);
    assert.ok(valueOf(samples, 'zg_gateway_affinity_index_bytes') > 0);
  });
});

describe('cache-aware routing with the Redis store down', () => {
  test('serves every request and keeps affinity on the local index', async () => {
    const upstreams = await Promise.all(['a', 'b'].map((name) => startScriptedUpstream(name, reporting(0.5))));
    // Nothing listens on port 1: Redis is down from the start.
    const gateway = await runMultiProviderInferenceServer(
      {
        openAICompatibleProviders: upstreams.map((upstream, index) => ({ name: ['a', 'b'][index] as string, baseUrl: upstream.baseUrl, model: 'm' })),
        port: 0,
        store: { type: 'redis', url: 'redis://127.0.0.1:1', commandTimeout: 100 },
        affinity: { enabled: true, blockChars: 64 },
      },
      { logger: silentLogger },
    );
    try {
      const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 });
      const history: Message[] = [SYSTEM('outages')];
      const served = [];
      for (let index = 0; index < 4; index++) served.push(await turn(openai, history, `outage question ${index}`, index % 2 === 1));
      assert.equal(new Set(served.map((item) => item.provider)).size, 1, JSON.stringify(served));
      for (const later of served.slice(1)) assert.match(later.reason, /^prefix-affinity: matched/);
      const shared = gateway.gateway.affinity.stats().shared;
      assert.equal(shared?.reads, 0, 'a store that is down is not waited for');
      assert.equal(shared?.roundTrips, 0);
    } finally {
      await gateway.close();
      await Promise.all(upstreams.map((upstream) => upstream.close()));
    }
  });
});
