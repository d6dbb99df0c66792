/**
 * The vLLM-like test upstream with the devnet's simulated KV prefix cache: direct (usage, timing,
 * `/metrics` counters, restart), and behind the gateway, whose relay keeps
 * `prompt_tokens_details.cached_tokens` in JSON and streamed answers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runMultiProviderInferenceServer, type GatewayHandle } from 'zg-gateway';
import { startVllmLikeUpstream, type VllmLikeUpstream } from '../helpers/vllm-like-upstream.js';

interface Usage {
  prompt_tokens: number;
  prompt_tokens_details?: { cached_tokens: number };
}

const SYSTEM = { role: 'system', content: Array.from({ length: 499 }, (_, index) => `rule${index}`).join(' ') }; // 500 tokens

async function chat(baseUrl: string, messages: unknown[], stream: boolean, headers: Record<string, string> = {}): Promise<{ usage: Usage; content: string; ms: number }> {
  const started = performance.now();
  const response = await fetch(`${baseUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'm', messages, stream, stream_options: { include_usage: true } }),
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(response.status, 200);
  const text = await response.text();
  const ms = performance.now() - started;
  if (!stream) {
    const body = JSON.parse(text) as { usage: Usage; choices: Array<{ message: { content: string } }> };
    return { usage: body.usage, content: body.choices[0]?.message.content ?? '', ms };
  }
  const events = text
    .split('\n\n')
    .filter((event) => event.startsWith('data: ') && !event.includes('[DONE]'))
    .map((event) => JSON.parse(event.slice(6)) as { usage?: Usage; choices: Array<{ delta?: { content?: string } }> });
  const usage = events.find((event) => event.usage)?.usage;
  assert.ok(usage, 'the stream carries usage');
  return { usage, content: events.map((event) => event.choices[0]?.delta?.content ?? '').join(''), ms };
}

describe('vLLM-like upstream with a KV prefix cache', () => {
  let upstream: VllmLikeUpstream;
  before(async () => {
    upstream = await startVllmLikeUpstream('kv', { delayMs: 0, kvCache: { perUncachedTokenMs: 0.5, blockTokens: 16 } });
  });
  after(async () => {
    await upstream?.close();
  });

  it('reports cached tokens once a prefix was seen, starts sooner, counts in /metrics and forgets on restart', async () => {
    const turn1 = [SYSTEM, { role: 'user', content: 'first question' }]; // 503 tokens
    const cold = await chat(upstream.baseUrl, turn1, false);
    assert.deepEqual([cold.usage.prompt_tokens, cold.usage.prompt_tokens_details?.cached_tokens], [503, 0]);
    assert.ok(cold.ms >= 250, `503 cold tokens at 0.5 ms: ${cold.ms.toFixed(0)} ms`);
    const turn2 = [...turn1, { role: 'assistant', content: cold.content }, { role: 'user', content: 'and then?' }]; // 503 + 4 + 3
    const warm = await chat(upstream.baseUrl, turn2, true);
    assert.deepEqual([warm.usage.prompt_tokens, warm.usage.prompt_tokens_details?.cached_tokens], [510, 496], 'prompt and answer cached in whole 16-token blocks (507 → 496)');
    assert.ok(warm.ms < cold.ms / 3, `warm ${warm.ms.toFixed(0)} ms, cold ${cold.ms.toFixed(0)} ms`);
    const metrics = await (await fetch(upstream.baseUrl.replace(/\/v1$/, '/metrics'))).text();
    assert.match(metrics, /vllm:prefix_cache_queries_total\{[^}]*\} 1013\.0/);
    assert.match(metrics, /vllm:prefix_cache_hits_total\{[^}]*\} 496\.0/);
    upstream.restart();
    assert.equal((await chat(upstream.baseUrl, turn2, false)).usage.prompt_tokens_details?.cached_tokens, 0);
  });
});

describe('behind the gateway', () => {
  let upstreams: VllmLikeUpstream[];
  let gateway: GatewayHandle;
  before(async () => {
    upstreams = await Promise.all(['a', 'b'].map((name) => startVllmLikeUpstream(name, { delayMs: 0, kvCache: {} })));
    gateway = await runMultiProviderInferenceServer({
      openAICompatibleProviders: upstreams.map((upstream) => ({ name: upstream.name, baseUrl: upstream.baseUrl })),
      strategy: 'round-robin',
      port: 0,
      host: '127.0.0.1',
      logLevel: 'silent',
    });
  });
  after(async () => {
    await gateway?.close();
    await Promise.all((upstreams ?? []).map((upstream) => upstream.close()));
  });

  it('a pinned conversation finds its prefix on every later turn; cached_tokens is relayed as is (JSON and stream)', async () => {
    const base = `${gateway.url}/v1`;
    let messages: unknown[] = [SYSTEM];
    const cached: number[] = [];
    for (let turn = 0; turn < 4; turn++) {
      messages = [...messages, { role: 'user', content: `turn ${turn}` }];
      const answer = await chat(base, messages, turn % 2 === 1, { 'x-session-id': 'kv-conversation' });
      cached.push(answer.usage.prompt_tokens_details?.cached_tokens ?? -1);
      messages = [...messages, { role: 'assistant', content: answer.content }];
    }
    assert.equal(cached[0], 0);
    for (const [turn, tokens] of cached.entries()) if (turn > 0) assert.ok(tokens >= 496, `turn ${turn} found the history cached (${cached.join(', ')})`);
    const served = upstreams.map((upstream) => upstream.requests).sort();
    assert.deepEqual(served, [0, 4], 'one provider served the whole conversation');
  });
});
