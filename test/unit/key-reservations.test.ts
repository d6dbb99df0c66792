import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryCounterStore, type KeyTicket } from 'zg-gateway';
import { MINUTE, keyWith, refusal, settledCounts, setup, slowStore } from '../helpers/key-limiter-fixtures.js';

/** One answer: 10 prompt + 40 completion tokens, costing 1000 neuron. */
const ANSWER = { promptTokens: 10, completionTokens: 40 } as const;
const ANSWER_TOKENS = 50;
const ANSWER_COST = 1000n;

function admitted(results: Array<PromiseSettledResult<KeyTicket>>): KeyTicket[] {
  return results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
}

for (const [storeName, store] of [
  ['memory store', undefined],
  ['a store with delays (as several instances sharing Redis see it)', (now: () => number) => slowStore(new MemoryCounterStore({ now }))],
] as const) {
  describe(`KeyLimiter reservations, ${storeName}`, () => {
    it('budget worth 5 answers: of 200 concurrent admissions at most 5 pass, and the spend never passes the budget', async () => {
      const { limiter } = setup(store ? { store } : {});
      const key = keyWith({ budget: { amount: (5n * ANSWER_COST).toString(), period: 'day' } });
      const results = await Promise.allSettled(Array.from({ length: 200 }, () => limiter.admit(key, { model: 'm', estimatedCostNeuron: ANSWER_COST })));
      const counts = settledCounts(results);
      console.log(`# budget (${storeName}): admitted ${counts.admitted} of 200, limit 5 answers`);
      assert.deepEqual(counts, { admitted: 5, codes: ['budget_exceeded'] });
      await Promise.all(admitted(results).map(async (ticket) => (await ticket.commit(ANSWER, ANSWER_COST), ticket.release())));
      const spent = (await limiter.spend.periodSpend('k', key.limits.budget))?.spentNeuron;
      console.log(`# budget (${storeName}): spent ${spent} of ${5n * ANSWER_COST} neuron`);
      assert.equal(spent, 5n * ANSWER_COST);
      await refusal(limiter.admit(key, { model: 'm', estimatedCostNeuron: ANSWER_COST }), 'budget_exceeded');
    });

    it('tpm worth 10 answers: of 200 concurrent admissions exactly 10 pass; the window holds what they used', async () => {
      const { limiter, store: counters } = setup(store ? { store } : {});
      const key = keyWith({ tpm: 10 * ANSWER_TOKENS });
      const results = await Promise.allSettled(Array.from({ length: 200 }, () => limiter.admit(key, { model: 'm', estimatedTokens: ANSWER_TOKENS })));
      const counts = settledCounts(results);
      console.log(`# tpm (${storeName}): admitted ${counts.admitted} of 200, limit 10 answers`);
      assert.deepEqual(counts, { admitted: 10, codes: ['key_rate_limited'] });
      await Promise.all(admitted(results).map(async (ticket) => (await ticket.commit(ANSWER, 0n), ticket.release())));
      assert.equal(await counters.read('apikey:k:tpm', MINUTE), BigInt(10 * ANSWER_TOKENS), 'reservations settled to the actual, refusals given back');
    });
  });
}

describe('KeyLimiter reservations: settling', () => {
  it('an estimate above the actual: fewer pass at once (ceil(budget / estimate)), and the unused part is released on commit', async () => {
    const { limiter } = setup();
    const key = keyWith({ budget: { amount: (5n * ANSWER_COST).toString(), period: 'day' } });
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => limiter.admit(key, { model: 'm', estimatedCostNeuron: 2n * ANSWER_COST })));
    assert.equal(settledCounts(results).admitted, 3, 'reserved 2000 each: 0, 2000, 4000 were below 5000');
    await Promise.all(admitted(results).map((ticket) => ticket.commit(ANSWER, ANSWER_COST)));
    assert.equal((await limiter.spend.periodSpend('k', key.limits.budget))?.spentNeuron, 3n * ANSWER_COST, 'only the actual remains');
    assert.ok(await limiter.admit(key, { model: 'm', estimatedCostNeuron: 2n * ANSWER_COST }), 'the released part admits more');
  });

  it('an overrun is charged: an actual above the estimate is recorded whole', async () => {
    const { limiter } = setup();
    const key = keyWith({ budget: { amount: 10_000, period: 'day' }, tpm: 1000 });
    const ticket = await limiter.admit(key, { model: 'm', estimatedTokens: 10, estimatedCostNeuron: 100n });
    await ticket.commit({ promptTokens: 30, completionTokens: 70 }, 2500n);
    await ticket.release();
    assert.equal((await limiter.spend.periodSpend('k', key.limits.budget))?.spentNeuron, 2500n);
    assert.equal((await limiter.spend.totals('k')).spendNeuron, 2500n);
    assert.equal(await limiter.spend.totals('k').then((totals) => totals.promptTokens + totals.completionTokens), 100n);
  });

  it('a request released without a commit (it failed, used nothing) gives its whole reservation back', async () => {
    const { limiter, store } = setup();
    const key = keyWith({ budget: { amount: 5000, period: 'total' }, tpm: 100 });
    const tickets = await Promise.all([1, 2].map(() => limiter.admit(key, { model: 'm', estimatedTokens: 50, estimatedCostNeuron: 2500n })));
    await refusal(limiter.admit(key, { model: 'm', estimatedTokens: 1 }), 'key_rate_limited');
    await Promise.all(tickets.map((ticket) => ticket.release()));
    assert.equal(await store.read('apikey:k:tpm', MINUTE), 0n);
    assert.equal((await limiter.spend.totals('k')).spendNeuron, 0n);
    assert.ok(await limiter.admit(key, { model: 'm', estimatedTokens: 100, estimatedCostNeuron: 5000n }));
  });

  it('commit after release records the actual once and gives nothing back twice', async () => {
    const { limiter } = setup();
    const key = keyWith({ budget: { amount: 5000, period: 'day' } });
    const ticket = await limiter.admit(key, { model: 'm', estimatedCostNeuron: 800n });
    await ticket.release();
    await ticket.commit(ANSWER, 300n);
    await ticket.release();
    assert.equal((await limiter.spend.periodSpend('k', key.limits.budget))?.spentNeuron, 300n);
  });

  it('a reservation is given back to the period it was taken in, the actual charged to the current one', async () => {
    const { limiter, setTime } = setup();
    const key = keyWith({ budget: { amount: 1000, period: 'day' } });
    setTime(Date.UTC(2025, 0, 6, 23, 59, 59));
    const ticket = await limiter.admit(key, { model: 'm', estimatedCostNeuron: 900n });
    assert.equal((await limiter.spend.periodSpend('k', key.limits.budget))?.spentNeuron, 900n, 'reserved in the 6th');
    setTime(Date.UTC(2025, 0, 7, 0, 0, 1));
    await ticket.commit(ANSWER, 400n);
    assert.equal((await limiter.spend.periodSpend('k', key.limits.budget))?.spentNeuron, 400n, 'charged in the 7th');
    setTime(Date.UTC(2025, 0, 6, 23, 59, 59));
    assert.equal((await limiter.spend.periodSpend('k', key.limits.budget))?.spentNeuron, 0n, 'the 6th got its reservation back');
  });

  it('a refused admission gives back what it reserved for tpm when the budget refuses it', async () => {
    const { limiter, store } = setup();
    const key = keyWith({ budget: { amount: 10, period: 'day' }, tpm: 1000 });
    await (await limiter.admit(key, { model: 'm' })).commit(ANSWER, 10n);
    await refusal(limiter.admit(key, { model: 'm', estimatedTokens: 500, estimatedCostNeuron: 5n }), 'budget_exceeded');
    assert.equal(await store.read('apikey:k:tpm', MINUTE), BigInt(ANSWER_TOKENS));
    assert.equal((await limiter.spend.periodSpend('k', key.limits.budget))?.spentNeuron, 10n);
  });

  it('admitUnmetered (verify) counts against rpm and maxConcurrent only', async () => {
    const { limiter } = setup();
    const key = keyWith({ rpm: 2, maxConcurrent: 1, tpm: 1, budget: { amount: 1, period: 'total' }, models: ['other'] });
    const first = await limiter.admitUnmetered(key);
    await refusal(limiter.admitUnmetered(key), 'key_concurrency_exceeded');
    await first.release();
    await (await limiter.admitUnmetered(key)).release();
    await refusal(limiter.admitUnmetered(key), 'key_rate_limited');
  });
});
