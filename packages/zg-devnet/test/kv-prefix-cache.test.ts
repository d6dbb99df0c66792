import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KvPrefixCache, promptTokens, type PromptMessage } from 'zg-devnet';

/** `count` distinct words. */
function words(prefix: string, count: number): string {
  return Array.from({ length: count }, (_, index) => `${prefix}${index}`).join(' ');
}

const SYSTEM: PromptMessage = { role: 'system', content: words('sys', 99) }; // 100 tokens with its role token

describe('KvPrefixCache (fast, no devnet)', () => {
  it('tokenizes as prompt_tokens counts: one token per word (long words per 16 code points) plus one per message', () => {
    assert.deepEqual(promptTokens([{ role: 'user', content: 'hello  world' }]), ['<|user|>', 'hello', 'world']);
    assert.equal(promptTokens([{ role: 'user', content: 'x'.repeat(33) }]).length, 1 + 3);
    assert.equal(promptTokens([SYSTEM, { role: 'user', content: [{ type: 'text', text: 'a b' }] }]).length, 100 + 3);
  });

  it('finds nothing cold, then the whole blocks of a repeated prompt (at most prompt - 1 tokens)', () => {
    const cache = new KvPrefixCache({ blockTokens: 16 });
    const messages = [SYSTEM, { role: 'user', content: words('u', 27) }]; // 100 + 28 = 128 tokens, 8 blocks
    const cold = cache.lookup('m', messages);
    assert.deepEqual([cold.promptTokens, cold.cachedTokens], [128, 0]);
    cache.admit(cold);
    // All 8 blocks are cached, but one token is always computed: 7 blocks are reported.
    assert.equal(cache.lookup('m', messages).cachedTokens, 112);
    assert.deepEqual(cache.stats(), { promptTokens: 256, cachedTokens: 112, heldTokens: 128, evictedBlocks: 0 });
  });

  it('chains blocks: a shared system prompt hits up to where the prompts differ, a different seed or first block hits nothing', () => {
    const cache = new KvPrefixCache({ blockTokens: 10 });
    cache.admit(cache.lookup('m', [SYSTEM, { role: 'user', content: words('a', 50) }]));
    // 100 system tokens = 10 whole blocks; the user turn differs from its first token.
    assert.equal(cache.lookup('m', [SYSTEM, { role: 'user', content: words('b', 50) }]).cachedTokens, 100);
    assert.equal(cache.lookup('other-model', [SYSTEM, { role: 'user', content: words('a', 50) }]).cachedTokens, 0, 'the seed (model, tools) is part of every block');
    const changedFirstWord = { role: 'system', content: `changed ${words('sys', 98)}` };
    assert.equal(cache.lookup('m', [changedFirstWord, { role: 'user', content: words('a', 50) }]).cachedTokens, 0, 'a later block names its whole prefix');
  });

  it('caches the answer with the prompt, so the next turn of a conversation finds its whole history', () => {
    const cache = new KvPrefixCache({ blockTokens: 4 });
    const turn1: PromptMessage[] = [SYSTEM, { role: 'user', content: words('q', 19) }]; // 120 tokens
    const first = cache.lookup('m', turn1);
    cache.admit(first, words('answer', 19)); // + 20 tokens: 140, 35 blocks
    const turn2 = [...turn1, { role: 'assistant', content: words('answer', 19) }, { role: 'user', content: words('next', 9) }]; // 150 tokens
    assert.equal(cache.lookup('m', turn2).cachedTokens, 140);
  });

  it('holds at most capacityTokens, evicting least recently used blocks from the tail of a chain first', () => {
    const cache = new KvPrefixCache({ blockTokens: 10, capacityTokens: 150 });
    const a = [SYSTEM, { role: 'user', content: words('a', 49) }]; // 150 tokens, 15 blocks
    cache.admit(cache.lookup('m', a));
    assert.equal(cache.stats().heldTokens, 150);
    const b = [SYSTEM, { role: 'user', content: words('b', 49) }]; // shares 10 blocks with a, 5 new
    cache.admit(cache.lookup('m', b));
    const stats = cache.stats();
    assert.deepEqual([stats.heldTokens, stats.evictedBlocks], [150, 5], 'a’s own 5 tail blocks went, the shared system prompt stayed');
    assert.equal(cache.lookup('m', a).cachedTokens, 100, 'a still finds the system prompt');
    assert.equal(cache.lookup('m', b).cachedTokens, 140, 'b finds all but its last token');
  });

  it('turns off with capacityTokens 0, and clear() empties it', () => {
    const off = new KvPrefixCache({ capacityTokens: 0 });
    off.admit(off.lookup('m', [SYSTEM]));
    assert.equal(off.lookup('m', [SYSTEM]).cachedTokens, 0);
    const cache = new KvPrefixCache();
    cache.admit(cache.lookup('m', [SYSTEM]));
    cache.clear();
    assert.deepEqual(cache.stats(), { promptTokens: 0, cachedTokens: 0, heldTokens: 0, evictedBlocks: 0 });
    assert.equal(cache.lookup('m', [SYSTEM]).cachedTokens, 0);
  });

  it('prices time to first token by the uncached tokens: base + per-token cost', () => {
    const cache = new KvPrefixCache({ baseTtftMs: 50, perUncachedTokenMs: 0.2, blockTokens: 16 });
    const prompt = [{ role: 'system', content: words('s', 3999) }]; // 4,000 tokens
    const cold = cache.lookup('m', prompt);
    assert.equal(cache.ttftMs(cold), 50 + 0.2 * 4000);
    cache.admit(cold);
    const warm = cache.lookup('m', prompt);
    assert.equal(warm.cachedTokens, 3984);
    assert.ok(Math.abs(cache.ttftMs(warm) - (50 + 0.2 * 16)) < 1e-9);
  });

  it('runs at most prefillSlots prefills at once; an aborted waiter leaves the queue without taking a slot', async () => {
    const cache = new KvPrefixCache({ perUncachedTokenMs: 1, prefillSlots: 1, capacityTokens: 0 });
    const lookup = cache.lookup('m', [{ role: 'user', content: words('w', 29) }]); // 30 ms
    const started = performance.now();
    const aborted = new AbortController();
    const ended: string[] = [];
    const first = cache.prefill(lookup, new AbortController().signal).then(() => ended.push('first'));
    const gone = cache.prefill(lookup, aborted.signal).then(() => ended.push('gone'));
    const third = cache.prefill(lookup, new AbortController().signal).then(() => ended.push('third'));
    aborted.abort();
    await Promise.all([first, gone, third]);
    const elapsed = performance.now() - started;
    assert.deepEqual(ended, ['gone', 'first', 'third']);
    assert.ok(elapsed >= 58, `two 30 ms prefills in one slot take ≥ 60 ms, took ${elapsed.toFixed(1)}`);
  });

  it('rejects bad options', () => {
    assert.throws(() => new KvPrefixCache({ blockTokens: 0 }), /blockTokens must be ≥ 1/);
    assert.throws(() => new KvPrefixCache({ perUncachedTokenMs: -1 }), /must be a number ≥ 0/);
    assert.throws(() => new KvPrefixCache({ capacityTokens: 1.5 }), /must be an integer/);
    assert.throws(() => new KvPrefixCache({ nope: 1 } as never), /not a kvCache option/);
  });
});
