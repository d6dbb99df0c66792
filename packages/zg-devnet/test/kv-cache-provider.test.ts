import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Wallet } from 'ethers';
import { DevnetError, startLocalDevnet, type DevnetProvider, type LocalDevnet } from 'zg-devnet';
import { authorizationFor, postChat, sseData } from './helpers/direct-client.js';
import { startDevnetWithAccounts } from './helpers/sdk-user.js';

interface Usage {
  prompt_tokens: number;
  prompt_tokens_details?: { cached_tokens: number };
}

function words(prefix: string, count: number): string {
  return Array.from({ length: count }, (_, index) => `${prefix}${index}`).join(' ');
}

/** A 1,000-token system prompt (role token included). */
const SYSTEM = { role: 'system', content: words('rule', 999) };

describe('simulated providers keep a KV prefix cache', () => {
  let devnet: LocalDevnet;
  let close: () => Promise<void>;
  let slow: DevnetProvider;
  let free: DevnetProvider;
  let wallet: Wallet;

  /** Sends a chat; resolves with the time to the first body byte and the usage. */
  const ask = async (provider: DevnetProvider, messages: unknown[], stream: boolean): Promise<{ ttftMs: number; usage: Usage; content: string }> => {
    const started = performance.now();
    const response = await postChat(provider, await authorizationFor(wallet, provider.address), { messages, stream, stream_options: { include_usage: true } });
    assert.equal(response.status, 200);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    const ttftMs = performance.now() - started;
    let text = new TextDecoder().decode(first.value);
    for (let next = await reader.read(); !next.done; next = await reader.read()) text += new TextDecoder().decode(next.value);
    if (!stream) {
      const body = JSON.parse(text) as { usage: Usage; choices: Array<{ message: { content: string } }> };
      return { ttftMs, usage: body.usage, content: body.choices[0]?.message.content ?? '' };
    }
    const events = sseData(text).filter((data) => data !== '[DONE]').map((data) => JSON.parse(data) as { usage?: Usage; choices: Array<{ delta?: { content?: string } }> });
    const usage = events.find((event) => event.usage)?.usage;
    assert.ok(usage, 'the stream carries usage');
    return { ttftMs, usage, content: events.map((event) => event.choices[0]?.delta?.content ?? '').join('') };
  };

  before(async () => {
    // 1 ms per uncached token: a cold 1,000-token prompt waits ~1 s, a warm one ~0.
    ({ devnet, close } = await startDevnetWithAccounts({ providers: [{ kvCache: { perUncachedTokenMs: 1, baseTtftMs: 5 } }, {}] }));
    [slow, free] = devnet.providers as [DevnetProvider, DevnetProvider];
    wallet = new Wallet(devnet.userPrivateKey);
  });
  after(async () => {
    await close?.();
  });

  it('a repeated conversation reports cached tokens (JSON and stream) and starts far sooner', async () => {
    const turn1 = [SYSTEM, { role: 'user', content: words('question', 40) }]; // 1,041 tokens
    const cold = await ask(slow, turn1, false);
    assert.deepEqual([cold.usage.prompt_tokens, cold.usage.prompt_tokens_details?.cached_tokens], [1041, 0]);
    assert.ok(cold.ttftMs >= 1000, `cold prefill of 1,041 tokens at 1 ms each, took ${cold.ttftMs.toFixed(0)} ms`);
    // The next turn carries the answer back: history and answer were cached (whole 16-token blocks).
    const turn2 = [...turn1, { role: 'assistant', content: cold.content }, { role: 'user', content: words('more', 30) }];
    const warm = await ask(slow, turn2, true);
    const expectedCached = Math.floor((1041 + 1 + cold.content.split(' ').length) / 16) * 16;
    assert.equal(warm.usage.prompt_tokens_details?.cached_tokens, expectedCached, 'the whole previous prompt and answer, in whole blocks');
    // Without the cache the warm turn would wait ≥ 1,070 ms of prefill (a timer, a lower bound); with it, only
    // the ~40 uncached tokens. Half the cold time leaves room for a loaded machine (the figures are the benchmark's).
    assert.ok(warm.ttftMs < cold.ttftMs / 2, `warm ${warm.ttftMs.toFixed(0)} ms vs cold ${cold.ttftMs.toFixed(0)} ms`);
    assert.deepEqual({ ...slow.kvCache, heldTokens: 0 }, { promptTokens: 1041 + warm.usage.prompt_tokens, cachedTokens: expectedCached, heldTokens: 0, evictedBlocks: 0 });
  });

  it('the cache belongs to one provider: another one is cold for the same prompt, and a provider that goes down forgets', async () => {
    const prompt = [SYSTEM, { role: 'user', content: 'again' }];
    assert.equal((await ask(free, prompt, false)).usage.prompt_tokens_details?.cached_tokens, 0, 'never seen here');
    assert.equal((await ask(free, prompt, false)).usage.prompt_tokens_details?.cached_tokens, 992, 'seen once: 62 whole blocks of the 1,002 tokens');
    assert.ok(slow.kvCache.heldTokens > 0);
    await slow.setFault({ mode: 'down' });
    // Let the client see its kept-alive connection cut before it sends again.
    await new Promise((resolve) => setTimeout(resolve, 200));
    await slow.setFault({ mode: 'none' });
    assert.equal(slow.kvCache.heldTokens, 0, 'a restart clears the cache');
    assert.equal((await ask(slow, prompt, false)).usage.prompt_tokens_details?.cached_tokens, 0);
    free.clearKvCache();
    assert.equal((await ask(free, prompt, false)).usage.prompt_tokens_details?.cached_tokens, 0, 'clearKvCache empties it');
  });
});

describe('KV cache options', () => {
  it('a cache of capacity 0 is off: usage carries no prompt_tokens_details', async () => {
    const { devnet, close } = await startDevnetWithAccounts({ providers: 1, kvCache: { capacityTokens: 0 } });
    try {
      const provider = devnet.providers[0] as DevnetProvider;
      const wallet = new Wallet(devnet.userPrivateKey);
      const body = { messages: [SYSTEM] };
      await postChat(provider, await authorizationFor(wallet, provider.address), body).then((response) => response.text());
      const usage = ((await (await postChat(provider, await authorizationFor(wallet, provider.address), body)).json()) as { usage: Usage }).usage;
      assert.equal(usage.prompt_tokens, 1000);
      assert.equal(usage.prompt_tokens_details, undefined);
    } finally {
      await close();
    }
  });

  it('bad kvCache options are refused before anything starts', async () => {
    await assert.rejects(startLocalDevnet({ kvCache: { blockTokens: 0 } }), (error: unknown) => DevnetError.isInstance(error) && error.code === 'invalid_options' && /kvCache.blockTokens/.test(error.message));
    await assert.rejects(startLocalDevnet({ providers: [{ kvCache: { perUncachedTokenMs: -1 } }] }), (error: unknown) => DevnetError.isInstance(error) && /providers\[0\]\.kvCache\.perUncachedTokenMs/.test(error.message));
  });
});
