import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RetryBudget } from 'zg-gateway';

function fakeClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let time = start;
  return {
    now: () => time,
    advance: (ms) => {
      time += ms;
    },
  };
}

/** Acquires retries until refused (or `limit` tries); returns how many were granted. */
function drain(budget: RetryBudget, limit = 1000): number {
  let granted = 0;
  for (let index = 0; index < limit; index++) {
    if (!budget.tryAcquireRetry()) return granted;
    granted++;
  }
  return granted;
}

describe('RetryBudget', () => {
  it('grants ratio x requests plus the per-second floor, then refuses', () => {
    const clock = fakeClock();
    const budget = new RetryBudget({ ratio: 0.5, minPerSecond: 1, windowMs: 10_000, now: clock.now });
    for (let index = 0; index < 100; index++) budget.recordRequest();
    assert.equal(drain(budget), 50 + 10);
    assert.equal(budget.tryAcquireRetry(), false);
    assert.equal(budget.tryAcquireRetry(), false);
  });

  it('with no traffic only the floor is available', () => {
    const clock = fakeClock();
    const budget = new RetryBudget({ ratio: 0.5, minPerSecond: 1, windowMs: 10_000, now: clock.now });
    assert.equal(drain(budget), 10);
  });

  it('new requests enlarge a spent budget', () => {
    const clock = fakeClock();
    const budget = new RetryBudget({ ratio: 0.5, minPerSecond: 1, windowMs: 10_000, now: clock.now });
    assert.equal(drain(budget), 10);
    for (let index = 0; index < 8; index++) budget.recordRequest();
    assert.equal(drain(budget), 4, 'eight requests add four retries at ratio 0.5');
    assert.equal(budget.tryAcquireRetry(), false);
  });

  it('refills once the window has passed', () => {
    const clock = fakeClock();
    const budget = new RetryBudget({ ratio: 0.5, minPerSecond: 1, windowMs: 10_000, now: clock.now });
    for (let index = 0; index < 100; index++) budget.recordRequest();
    assert.equal(drain(budget), 60);
    clock.advance(5_000);
    assert.equal(budget.tryAcquireRetry(), false, 'still inside the window');
    clock.advance(5_001);
    // The old requests and retries have left the window: the floor is available again.
    assert.equal(drain(budget), 10);
    for (let index = 0; index < 20; index++) budget.recordRequest();
    assert.equal(drain(budget), 10);
    assert.equal(budget.tryAcquireRetry(), false);
  });
});
