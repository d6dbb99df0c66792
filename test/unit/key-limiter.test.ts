import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatewayError, MemoryCounterStore, type CounterStore } from 'zg-gateway';
import { MINUTE, keyWith, refusal, settledCounts, setup, slowStore } from '../helpers/key-limiter-fixtures.js';

describe('KeyLimiter: models', () => {
  it('admits allowed models and refuses others with 403 model_not_allowed, taking nothing', async () => {
    const { limiter } = setup();
    const key = keyWith({ models: ['m1', 'm2'], rpm: 1, maxConcurrent: 1 });
    const error = await refusal(limiter.admit(key, { model: 'm3' }), 'model_not_allowed');
    assert.equal(error.status, 403);
    assert.equal(error.type, 'permission_error');
    assert.equal(error.param, 'model');
    assert.match(error.message, /"m3"/);
    assert.equal(limiter.inFlight('k'), 0);
    const ticket = await limiter.admit(key, { model: 'm2' });
    assert.equal(limiter.inFlight('k'), 1, 'the refusal took no slot and no rpm');
    ticket.release();
    assert.ok(await limiter.admit(keyWith({}), { model: 'anything' }), 'no models list = every model');
  });
});

describe('KeyLimiter: rpm', () => {
  it('admits exactly rpm of 50 concurrent requests', async () => {
    const { limiter } = setup();
    const key = keyWith({ rpm: 20 });
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => limiter.admit(key, { model: 'm' })));
    assert.deepEqual(settledCounts(results), { admitted: 20, codes: ['key_rate_limited'] });
  });

  it('admits exactly rpm through a store with delays, as several instances sharing Redis would see', async () => {
    const { limiter, store } = setup({ store: (now) => slowStore(new MemoryCounterStore({ now })) });
    const key = keyWith({ rpm: 7 });
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => limiter.admit(key, { model: 'm' })));
    assert.deepEqual(settledCounts(results), { admitted: 7, codes: ['key_rate_limited'] });
    assert.equal(await store.read('apikey:k:rpm', MINUTE), 7n, 'every refused reservation was given back');
  });

  it('says when a full window frees up: Retry-After as a 429 with retryAfterMs', async () => {
    const { limiter, advance } = setup();
    const key = keyWith({ rpm: 10 });
    for (let i = 0; i < 10; i++) await limiter.admit(key, { model: 'm' });
    advance(30_000);
    const error = await refusal(limiter.admit(key, { model: 'm' }), 'key_rate_limited');
    assert.equal(error.status, 429);
    assert.equal(error.type, 'rate_limit_error');
    // The 10 requests must fade to 9 in the next window: 30 s to its start, then 10 % of it.
    assert.equal(error.retryAfterMs, 30_000 + 6_000);
    assert.deepEqual(error.details, { limit: 'rpm', retry_after_ms: 36_000 });
    assert.match(error.message, /\(10 requests per minute\); retry in 36 s/);
    advance(35_999);
    await refusal(limiter.admit(key, { model: 'm' }), 'key_rate_limited');
    advance(1);
    assert.ok(await limiter.admit(key, { model: 'm' }));
  });

  it('does not let a burst at a window boundary double the rate (sliding window)', async () => {
    const { limiter, advance } = setup();
    const key = keyWith({ rpm: 10 });
    advance(59_000);
    for (let i = 0; i < 10; i++) await limiter.admit(key, { model: 'm' });
    advance(1_000); // a new fixed window starts; a fixed-window limiter would admit 10 more now
    const error = await refusal(limiter.admit(key, { model: 'm' }), 'key_rate_limited');
    assert.equal(error.retryAfterMs, 6_000, 'the previous window must fade to 9 of 10');
    advance(5_999);
    await refusal(limiter.admit(key, { model: 'm' }), 'key_rate_limited');
    advance(1);
    assert.ok(await limiter.admit(key, { model: 'm' }));
    await refusal(limiter.admit(key, { model: 'm' }), 'key_rate_limited');
    // Over the minute after the burst, the key gets about rpm requests, not 2 × rpm.
    let admitted = 1;
    for (let second = 7; second <= 60; second++) {
      advance(1_000);
      try {
        await limiter.admit(key, { model: 'm' });
        admitted++;
      } catch (error) {
        assert.equal((error as GatewayError).code, 'key_rate_limited');
      }
    }
    assert.ok(admitted >= 9 && admitted <= 10, `admitted ${admitted} in the minute after a full burst`);
  });
});

describe('KeyLimiter: tpm', () => {
  it('reserves the estimate (900 used + 100 reserved fill the window; released, it frees), with exact Retry-After values', async () => {
    const { limiter, advance } = setup();
    const key = keyWith({ tpm: 1000 });
    const first = await limiter.admit(key, { model: 'm', estimatedTokens: 1000 });
    await first.commit({ promptTokens: 600, completionTokens: 300 }, 0n);
    first.release();
    const hundred = await limiter.admit(key, { model: 'm', estimatedTokens: 100 });
    await refusal(limiter.admit(key, { model: 'm' }), 'key_rate_limited');
    await hundred.release();
    const one = await limiter.admit(key, { model: 'm' });
    await one.release();
    const error = await refusal(limiter.admit(key, { model: 'm', estimatedTokens: 101 }), 'key_rate_limited');
    assert.equal(error.status, 429);
    // Next window: 900 × (60000 − e) / 60000 + 101 ≤ 1000 from e = 67 ms.
    assert.equal(error.retryAfterMs, 60_067);
    assert.deepEqual(error.details, { limit: 'tpm', retry_after_ms: 60_067 });
    advance(60_066);
    await refusal(limiter.admit(key, { model: 'm', estimatedTokens: 101 }), 'key_rate_limited');
    advance(1);
    assert.ok(await limiter.admit(key, { model: 'm', estimatedTokens: 101 }));
  });

  it('refuses once the window is used up, and caps an estimate above tpm at tpm', async () => {
    const { limiter, advance } = setup();
    const key = keyWith({ tpm: 50 });
    const whole = await limiter.admit(key, { model: 'm', estimatedTokens: 4096 });
    await refusal(limiter.admit(key, { model: 'm' }), 'key_rate_limited');
    await whole.release();
    const ticket = await limiter.admit(key, { model: 'm' });
    await ticket.commit({ promptTokens: 20, completionTokens: 30 }, 0n);
    await refusal(limiter.admit(key, { model: 'm' }), 'key_rate_limited');
    const big = await refusal(limiter.admit(key, { model: 'm', estimatedTokens: 4096 }), 'key_rate_limited');
    assert.equal(big.retryAfterMs, 2 * MINUTE, 'a request needing the whole tpm waits until both windows are empty');
    advance(2 * MINUTE);
    assert.ok(await limiter.admit(key, { model: 'm', estimatedTokens: 4096 }));
  });

  it('gives back the rpm reservation of a request refused for tpm or budget', async () => {
    const { limiter } = setup();
    const loader = await limiter.admit(keyWith({}), { model: 'm' });
    await loader.commit({ promptTokens: 10, completionTokens: 0 }, 5n);
    await refusal(limiter.admit(keyWith({ rpm: 1, tpm: 10 }), { model: 'm' }), 'key_rate_limited');
    await refusal(limiter.admit(keyWith({ rpm: 1, budget: { amount: 5, period: 'total' } }), { model: 'm' }), 'budget_exceeded');
    assert.ok(await limiter.admit(keyWith({ rpm: 1 }), { model: 'm' }), 'the single rpm slot is still free');
  });

  it('rejects an invalid estimate as an internal error, taking nothing', async () => {
    const { limiter } = setup();
    const key = keyWith({ maxConcurrent: 1 });
    for (const estimatedTokens of [-1, 1.5, Number.NaN]) await refusal(limiter.admit(key, { model: 'm', estimatedTokens }), 'internal_error');
    assert.equal(limiter.inFlight('k'), 0);
  });
});

describe('KeyLimiter: concurrency and tickets', () => {
  it('holds maxConcurrent slots, counted exactly under concurrent admits', async () => {
    const { limiter } = setup();
    const key = keyWith({ maxConcurrent: 5 });
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => limiter.admit(key, { model: 'm' })));
    assert.deepEqual(settledCounts(results), { admitted: 5, codes: ['key_concurrency_exceeded'] });
    const error = (results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason as GatewayError;
    assert.equal(error.status, 429);
    assert.equal(error.retryAfterMs, 1000);
    assert.equal(limiter.inFlight('k'), 5);
    const tickets = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    tickets[0]?.release();
    assert.ok(await limiter.admit(key, { model: 'm' }));
  });

  it('releases each slot exactly once, whatever the order and however often', async () => {
    const { limiter } = setup();
    const key = keyWith({ maxConcurrent: 10 });
    const tickets = await Promise.all(Array.from({ length: 10 }, () => limiter.admit(key, { model: 'm' })));
    for (let round = 0; round < 3; round++) {
      for (const index of [3, 7, 0, 9, 1, 4, 8, 2, 6, 5]) {
        tickets[index]?.release();
        tickets[(index * 3) % 10]?.release();
      }
    }
    assert.equal(limiter.inFlight('k'), 0);
    assert.ok(tickets.every((ticket) => ticket.released));
    const next = await limiter.admit(key, { model: 'm' });
    assert.equal(limiter.inFlight('k'), 1, 'a late release of an old ticket cannot free a new slot');
    tickets[0]?.release();
    assert.equal(limiter.inFlight('k'), 1);
    next.release();
  });

  it('commits exactly once, before or after release; a failed request only releases', async () => {
    const { limiter } = setup();
    const key = keyWith({ maxConcurrent: 2 });
    const early = await limiter.admit(key, { model: 'm' });
    const late = await limiter.admit(key, { model: 'm' });
    const first = early.commit({ promptTokens: 10, completionTokens: 5 }, 7n);
    assert.equal(early.commit({ promptTokens: 999, completionTokens: 999 }, 999n), first, 'later commits return the first');
    await first;
    early.release();
    late.release();
    await late.commit({ promptTokens: 1, completionTokens: 2 }, 3n);
    await late.commit({ promptTokens: 1, completionTokens: 2 }, 3n);
    const failed = await limiter.admit(key, { model: 'm' });
    failed.release();
    assert.equal(failed.committed, false);
    assert.deepEqual(await limiter.spend.totals('k'), { requests: 2n, promptTokens: 11n, completionTokens: 7n, spendNeuron: 10n });
  });

  it('refuses invalid usage without using up the commit', async () => {
    const { limiter } = setup();
    const ticket = await limiter.admit(keyWith({}), { model: 'm' });
    await assert.rejects(ticket.commit({ promptTokens: -1, completionTokens: 0 }, 1n), { code: 'internal_error' });
    await assert.rejects(ticket.commit({ promptTokens: 1.5, completionTokens: 0 }, 1n), { code: 'internal_error' });
    await assert.rejects(ticket.commit({ promptTokens: 1, completionTokens: 0 }, -1n), { code: 'internal_error' });
    assert.equal(ticket.committed, false);
    await ticket.commit({ promptTokens: 4, completionTokens: 0 }, 2n);
    assert.deepEqual(await limiter.spend.totals('k'), { requests: 1n, promptTokens: 4n, completionTokens: 0n, spendNeuron: 2n });
  });

  it('gives back the slot of a refused admission, and fails closed when the store fails', async () => {
    const failing = (now: () => number): CounterStore => {
      const inner = new MemoryCounterStore({ now });
      return { ...slowStore(inner), kind: 'failing', snapshot: async () => Promise.reject(new Error('store down')) };
    };
    const { limiter } = setup({ store: failing });
    const key = keyWith({ maxConcurrent: 1, rpm: 5 });
    await assert.rejects(limiter.admit(key, { model: 'm' }), /store down/);
    assert.equal(limiter.inFlight('k'), 0);

    const healthy = setup().limiter;
    const limited = keyWith({ maxConcurrent: 1, rpm: 1 });
    (await healthy.admit(limited, { model: 'm' })).release();
    await refusal(healthy.admit(limited, { model: 'm' }), 'key_rate_limited');
    assert.equal(healthy.inFlight('k'), 0);
  });
});
