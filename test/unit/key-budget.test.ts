import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { START, keyWith, refusal, setup } from '../helpers/key-limiter-fixtures.js';

describe('KeyLimiter: budget', () => {
  it('refuses with 402 once the period is spent, names the period and reset, and resets', async () => {
    const { limiter, advance } = setup();
    const key = keyWith({ budget: { amount: '1000', period: 'day' } });
    for (const cost of [600n, 400n]) {
      const ticket = await limiter.admit(key, { model: 'm' });
      await ticket.commit({ promptTokens: 1, completionTokens: 1 }, cost);
      ticket.release();
    }
    const error = await refusal(limiter.admit(key, { model: 'm' }), 'budget_exceeded');
    assert.equal(error.status, 402);
    assert.equal(error.type, 'insufficient_quota');
    assert.deepEqual(error.details, { period: 'day', resets_at: '2025-01-07T00:00:00.000Z' });
    assert.equal(error.retryAfterMs, 12 * 3_600_000);
    assert.match(error.message, /daily budget; it resets at 2025-01-07T00:00:00.000Z/);
    assert.ok(!error.message.includes('1000') && !JSON.stringify(error.toJSON()).includes('1000'), 'no amounts');
    advance(12 * 3_600_000 - 1);
    await refusal(limiter.admit(key, { model: 'm' }), 'budget_exceeded');
    advance(1);
    assert.ok(await limiter.admit(key, { model: 'm' }), 'a new day, a new budget');
  });

  it('resets weekly budgets on Monday and monthly ones on the 1st (UTC); total never', async () => {
    const { limiter, setTime } = setup();
    const cases = [
      { period: 'week', spendAt: Date.UTC(2025, 0, 12, 23, 59), resets: '2025-01-13T00:00:00.000Z' },
      { period: 'month', spendAt: Date.UTC(2024, 1, 29, 8), resets: '2024-03-01T00:00:00.000Z' },
      { period: 'month', spendAt: Date.UTC(2024, 11, 31, 23, 59), resets: '2025-01-01T00:00:00.000Z' },
      { period: 'hour', spendAt: Date.UTC(2025, 0, 6, 12, 59, 30), resets: '2025-01-06T13:00:00.000Z' },
      { period: 'minute', spendAt: Date.UTC(2025, 0, 6, 12, 0, 59), resets: '2025-01-06T12:01:00.000Z' },
    ] as const;
    for (const [index, { period, spendAt, resets }] of cases.entries()) {
      setTime(spendAt);
      const key = keyWith({ budget: { amount: 1, period } }, `k${index}`);
      await (await limiter.admit(key, { model: 'm' })).commit({ promptTokens: 0, completionTokens: 1 }, 1n);
      const error = await refusal(limiter.admit(key, { model: 'm' }), 'budget_exceeded');
      assert.deepEqual(error.details, { period, resets_at: resets });
      assert.equal(error.retryAfterMs, Date.parse(resets) - spendAt);
      setTime(Date.parse(resets));
      assert.ok(await limiter.admit(key, { model: 'm' }), `${period} reset at ${resets}`);
    }
    setTime(START);
    const total = keyWith({ budget: { amount: 1, period: 'total' } }, 'forever');
    await (await limiter.admit(total, { model: 'm' })).commit({ promptTokens: 1, completionTokens: 0 }, 1n);
    setTime(START + 400 * 24 * 3_600_000);
    const error = await refusal(limiter.admit(total, { model: 'm' }), 'budget_exceeded');
    assert.deepEqual(error.details, { period: 'total', resets_at: null });
    assert.equal(error.retryAfterMs, undefined);
  });

  it('lets requests admitted together overshoot, records the overshoot exactly, then refuses', async () => {
    const { limiter } = setup();
    const key = keyWith({ budget: { amount: 1000, period: 'month' } });
    await (await limiter.admit(key, { model: 'm' })).commit({ promptTokens: 1, completionTokens: 0 }, 900n);
    const tickets = await Promise.all([1, 2, 3].map(() => limiter.admit(key, { model: 'm' })));
    await Promise.all(tickets.map((ticket) => ticket.commit({ promptTokens: 1, completionTokens: 0 }, 100n)));
    assert.equal((await limiter.spend.periodSpend('k', key.limits.budget))?.spentNeuron, 1200n);
    await refusal(limiter.admit(key, { model: 'm' }), 'budget_exceeded');
  });
});
