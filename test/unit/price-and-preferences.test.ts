import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { costOfUsage, estimatePromptTokens, LowestPriceStrategy, preferenceStrategies, type PickContext, type ProviderSnapshot } from 'zg-gateway';
import { FakeProvider, snapshots } from '../helpers/fakes.js';

function priced(id: string, index: number, inputPrice: bigint, outputPrice: bigint, inFlight = 0, extra: Partial<ProviderSnapshot> = {}): ProviderSnapshot {
  const base = snapshots([inFlight])[0] as ProviderSnapshot;
  return { ...base, id, index, descriptor: new FakeProvider(id, [{ id: 'm', inputPrice, outputPrice }]).descriptor, ...extra };
}

const context = (promptTokens: number, maxTokens: number | undefined): PickContext => ({ now: () => 0, random: () => 0, request: { model: 'm', promptTokens, maxTokens } });

describe('lowest-price', () => {
  test('picks the cheapest for this request: a long prompt favours cheap input, a long answer cheap output', () => {
    const strategy = new LowestPriceStrategy();
    const cheapInput = priced('cheap-input', 0, 1n, 100n);
    const cheapOutput = priced('cheap-output', 1, 100n, 1n);
    const longPrompt = strategy.pick([cheapInput, cheapOutput], context(10_000, 10));
    assert.equal(longPrompt.provider.id, 'cheap-input');
    assert.equal(longPrompt.reason, `lowest-price: ${10_000n * 1n + 10n * 100n} neuron (est.)`);
    assert.equal(strategy.pick([cheapInput, cheapOutput], context(10, 10_000)).provider.id, 'cheap-output');
    // No max_tokens: 256 completion tokens are assumed.
    assert.equal(strategy.pick([cheapInput, cheapOutput], context(100, undefined)).reason, `lowest-price: ${100n * 100n + 256n * 1n} neuron (est.)`);
  });

  test('ties go to the least loaded, then by rotation', () => {
    const strategy = new LowestPriceStrategy();
    const busy = priced('busy', 0, 5n, 5n, 3);
    const idle = priced('idle', 1, 5n, 5n, 0);
    const dear = priced('dear', 2, 50n, 50n, 0);
    assert.equal(strategy.pick([busy, idle, dear], context(10, 10)).provider.id, 'idle');
    const a = priced('a', 0, 5n, 5n);
    const b = priced('b', 1, 5n, 5n);
    assert.deepEqual([0, 1, 2, 3].map(() => strategy.pick([a, b], context(10, 10)).provider.id), ['a', 'b', 'a', 'b']);
  });

  test('tiered pricing applies the multiplier of the prompt\'s tier', () => {
    const offer = { id: 'm', inputPrice: 10n, outputPrice: 20n, tiers: [{ maxInputTokens: 1000, inputMultiplier: 1, outputMultiplier: 1 }, { maxInputTokens: 100_000, inputMultiplier: 2, outputMultiplier: 1.5 }] };
    assert.equal(costOfUsage(offer, { prompt_tokens: 500, completion_tokens: 10, total_tokens: 510 }), 500n * 10n + 10n * 20n);
    assert.equal(costOfUsage(offer, { prompt_tokens: 5000, completion_tokens: 10, total_tokens: 5010 }), 5000n * 20n + 10n * 30n);
  });

  test('prompt estimates count characters of every message, and a few per message', () => {
    assert.equal(estimatePromptTokens({ messages: [{ role: 'user', content: 'x'.repeat(400) }] }), 100 + 4);
    assert.equal(estimatePromptTokens({ messages: [{ role: 'user', content: [{ type: 'text', text: 'y'.repeat(40) }] }, { role: 'system', content: 'z'.repeat(8) }] }), 12 + 8);
    assert.equal(estimatePromptTokens({ prompt: 'p'.repeat(80) }), 20);
  });
});

describe('per-request sorts', () => {
  test('latency and throughput try unmeasured providers first, then the best figure', () => {
    const { latency, throughput } = preferenceStrategies();
    const measured = (id: string, index: number, ttfb: number | undefined, speed: number | undefined): ProviderSnapshot => {
      const base = priced(id, index, 1n, 1n);
      return { ...base, stats: { ...base.stats, ewmaTtfbMs: ttfb, outputTokensPerSecond: speed } };
    };
    const fast = measured('fast', 0, 20, 10);
    const slow = measured('slow', 1, 200, 90);
    const fresh = measured('fresh', 2, undefined, undefined);
    const first = latency.pick([fast, slow, fresh], context(1, 1));
    assert.equal('provider' in first ? first.provider.id : '', 'fresh');
    const best = latency.pick([fast, slow], context(1, 1));
    assert.deepEqual('provider' in best ? [best.provider.id, best.reason] : [], ['fast', 'sort-latency: 20 ms']);
    const quick = throughput.pick([fast, slow], context(1, 1));
    assert.deepEqual('provider' in quick ? [quick.provider.id, quick.reason] : [], ['slow', 'sort-throughput: 90 tokens/s']);
  });
});
