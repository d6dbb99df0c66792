import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { describe, it } from 'node:test';
import {
  ClientKeys,
  GatewayError,
  costOf,
  exceedsLimit,
  hashApiKey,
  msUntilFits,
  parseApiKeys,
  periodBounds,
  slidingUsage,
  type KeyView,
  type WindowSnapshot,
} from 'zg-gateway';

/** 2025-01-06T12:00:00Z, a Monday, on a minute boundary. */
const START = Date.UTC(2025, 0, 6, 12, 0, 0);
const ALICE_KEY = 'zgk-alice-0123456789abcdefghijklmnopqrstuvwxyzAB';
const BOB_KEY = 'zgk-bob-0123456789abcdefghijklmnopqrstuvwxyzABCD';
/** A 0G-like price: about 10^-7 0G per token, in neuron. */
const PRICE = { inputPerToken: 123_456_789_012n, outputPerToken: 987_654_321_098n };

function clientKeys() {
  let time = START;
  const keys = new ClientKeys({
    now: () => time,
    keys: parseApiKeys([
      { id: 'alice', key: ALICE_KEY, rpm: 100, tpm: 100_000, maxConcurrent: 3, models: ['m'], budget: { amount: '50000000000000000000', period: 'day' }, expiresAt: '2026-01-01' },
      { id: 'bob', key: BOB_KEY, disabled: true },
    ]),
  });
  return { keys, advance: (ms: number) => (time += ms) };
}

/** A deterministic sequence of usages (linear congruential), so the sums are reproducible. */
function* usages(count: number): Generator<{ promptTokens: number; completionTokens: number }> {
  let seed = 42;
  const next = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31);
  for (let i = 0; i < count; i++) yield { promptTokens: next() % 5000, completionTokens: next() % 2000 };
}

describe('costOf', () => {
  it('is promptTokens × input + completionTokens × output, exactly', () => {
    assert.equal(costOf({ promptTokens: 3, completionTokens: 4 }, { inputPerToken: 10n, outputPerToken: 100n }), 430n);
    assert.equal(costOf({ promptTokens: 0, completionTokens: 0 }, PRICE), 0n);
    const huge = { inputPerToken: 10n ** 30n + 1n, outputPerToken: 7n };
    assert.equal(costOf({ promptTokens: Number.MAX_SAFE_INTEGER, completionTokens: 1 }, huge), BigInt(Number.MAX_SAFE_INTEGER) * (10n ** 30n + 1n) + 7n);
  });

  it('refuses token counts that are not non-negative integers, and negative prices', () => {
    for (const usage of [{ promptTokens: -1, completionTokens: 0 }, { promptTokens: 0, completionTokens: 0.5 }, { promptTokens: Number.NaN, completionTokens: 0 }]) {
      assert.throws(() => costOf(usage, PRICE), { code: 'internal_error' });
    }
    assert.throws(() => costOf({ promptTokens: 1, completionTokens: 1 }, { inputPerToken: -1n, outputPerToken: 1n }), { code: 'internal_error' });
  });
});

describe('spend', () => {
  it('adds up to usage × price exactly over many commits', async () => {
    const { keys, advance } = clientKeys();
    const alice = keys.authenticate(`Bearer ${ALICE_KEY}`);
    let spent = 0n;
    let prompt = 0;
    let completion = 0;
    let count = 0;
    for (const usage of usages(600)) {
      const ticket = await keys.admit(alice, { model: 'm', estimatedTokens: 10 });
      const cost = costOf(usage, PRICE);
      await Promise.all([ticket.commit(usage, cost), ticket.commit(usage, cost)]);
      ticket.release();
      spent += cost;
      prompt += usage.promptTokens;
      completion += usage.completionTokens;
      count++;
      advance(10_000); // stay under rpm and tpm (at most 6 × 7000 tokens a minute)
    }
    const totals = await keys.spend.totals('alice');
    assert.deepEqual(totals, { requests: BigInt(count), promptTokens: BigInt(prompt), completionTokens: BigInt(completion), spendNeuron: spent });
    assert.equal(spent, BigInt(prompt) * PRICE.inputPerToken + BigInt(completion) * PRICE.outputPerToken);
    const [view] = await keys.describeKeys();
    assert.equal(view?.spend.totalNeuron, spent.toString());
    assert.equal(view?.spend.budget?.spentNeuron, spent.toString(), 'all 100 minutes fell in the same day');
  });

  it('keeps a key\'s counters by id across a reload, and starts a new budget period from 0', async () => {
    const { keys, advance } = clientKeys();
    const alice = keys.authenticate(`Bearer ${ALICE_KEY}`);
    await (await keys.admit(alice, { model: 'm' })).commit({ promptTokens: 2, completionTokens: 3 }, 1000n);
    keys.replaceAll(parseApiKeys([{ id: 'alice', hash: hashApiKey('zgk-rotated-alice-key-0123456789'), budget: { amount: 5000, period: 'day' } }]));
    advance(12 * 3_600_000);
    const [view] = await keys.describeKeys();
    assert.equal(view?.spend.totalNeuron, '1000');
    assert.equal(view?.usage.requests, 1);
    assert.deepEqual(view?.spend.budget, {
      period: 'day',
      spentNeuron: '0',
      remainingNeuron: '5000',
      startedAt: '2025-01-07T00:00:00.000Z',
      resetsAt: '2025-01-08T00:00:00.000Z',
    });
  });
});

describe('ClientKeys.describeKeys', () => {
  it('shows what /admin/keys will: limits, usage, spend, remaining budget, state; never a key or hash', async () => {
    const { keys, advance } = clientKeys();
    const alice = keys.authenticate(`Bearer ${ALICE_KEY}`);
    const done = await keys.admit(alice, { model: 'm' });
    await done.commit({ promptTokens: 1000, completionTokens: 500 }, costOf({ promptTokens: 1000, completionTokens: 500 }, PRICE));
    done.release();
    const open = await keys.admit(alice, { model: 'm' });
    advance(30_000);
    const views: KeyView[] = await keys.describeKeys();
    const spent = 1000n * PRICE.inputPerToken + 500n * PRICE.outputPerToken;
    assert.deepEqual(views, [
      {
        id: 'alice',
        fingerprint: alice.fingerprint,
        limits: { rpm: 100, tpm: 100_000, maxConcurrent: 3, models: ['m'], maxPriority: null, budget: { amount: '50000000000000000000', period: 'day' } },
        // The open request's reservation (1 token, its default estimate) counts in the window until it settles.
        usage: { requests: 1, promptTokens: 1000, completionTokens: 500, inFlight: 1, requestsLastMinute: 2, tokensLastMinute: 1501 },
        spend: {
          totalNeuron: spent.toString(),
          budget: {
            period: 'day',
            spentNeuron: spent.toString(),
            remainingNeuron: (50_000_000_000_000_000_000n - spent).toString(),
            startedAt: '2025-01-06T00:00:00.000Z',
            resetsAt: '2025-01-07T00:00:00.000Z',
          },
        },
        expiresAt: '2026-01-01T00:00:00.000Z',
        expired: false,
        disabled: false,
      },
      {
        id: 'bob',
        fingerprint: keys.registry.list()[1]?.fingerprint,
        limits: { rpm: null, tpm: null, maxConcurrent: null, models: null, maxPriority: null, budget: null },
        usage: { requests: 0, promptTokens: 0, completionTokens: 0, inFlight: 0, requestsLastMinute: 0, tokensLastMinute: 0 },
        spend: { totalNeuron: '0', budget: null },
        expiresAt: null,
        expired: false,
        disabled: true,
      },
    ]);
    const json = JSON.stringify(views);
    for (const secret of [ALICE_KEY, BOB_KEY, hashApiKey(ALICE_KEY).slice(7), hashApiKey(BOB_KEY).slice(7)]) assert.ok(!json.includes(secret));
    open.release();
    advance(60_000);
    const [later] = await keys.describeKeys();
    assert.deepEqual([later?.usage.inFlight, later?.usage.requestsLastMinute, later?.usage.tokensLastMinute], [0, 1, 750], 'the sliding estimate fades');
  });

  it('shows remaining 0, not a negative amount, after an overshoot; refuses with 402', async () => {
    let time = START;
    const keys = new ClientKeys({ now: () => time, keys: parseApiKeys([{ id: 'small', key: ALICE_KEY, budget: { amount: 10, period: 'hour' } }]) });
    const key = keys.authenticate(`Bearer ${ALICE_KEY}`);
    await (await keys.admit(key, { model: 'any' })).commit({ promptTokens: 1, completionTokens: 1 }, 25n);
    const [view] = await keys.describeKeys();
    assert.deepEqual([view?.spend.budget?.spentNeuron, view?.spend.budget?.remainingNeuron], ['25', '0']);
    await assert.rejects(keys.admit(key, { model: 'any' }), (error: unknown) => GatewayError.isInstance(error) && error.status === 402);
    time += 3_600_000;
    assert.ok(await keys.admit(key, { model: 'any' }));
    await keys.close();
  });
});

describe('sliding window arithmetic', () => {
  const W = 60_000;
  /** The snapshot as it will look `ms` later, when nothing more is counted. */
  function later(snapshot: WindowSnapshot, ms: number): WindowSnapshot {
    const now = snapshot.now + ms;
    const windowsPassed = Math.floor((now - snapshot.windowStart) / W);
    const windowStart = snapshot.windowStart + windowsPassed * W;
    if (windowsPassed === 0) return { ...snapshot, now };
    if (windowsPassed === 1) return { current: 0n, previous: snapshot.current, windowStart, now };
    return { current: 0n, previous: 0n, windowStart, now };
  }

  it('msUntilFits is the first millisecond at which the need fits (checked against exceedsLimit)', () => {
    let seed = 7;
    const next = (n: number): number => (seed = (seed * 48_271) % 2_147_483_647) % n;
    for (let i = 0; i < 2000; i++) {
      const limit = 1 + next(200);
      const snapshot: WindowSnapshot = { current: BigInt(next(limit + 20)), previous: BigInt(next(limit + 20)), windowStart: START, now: START + next(W) };
      const need = BigInt(1 + next(limit));
      const wait = msUntilFits(snapshot, W, limit, need);
      const context = inspect({ snapshot, limit, need, wait });
      assert.equal(exceedsLimit(later(snapshot, wait), W, limit, need), false, `fits after the wait: ${context}`);
      if (wait > 0) assert.equal(exceedsLimit(later(snapshot, wait - 1), W, limit, need), true, `not a millisecond earlier: ${context}`);
    }
  });

  it('weights the previous window by the share still inside the sliding window', () => {
    const at = (elapsed: number): WindowSnapshot => ({ current: 4n, previous: 60n, windowStart: START, now: START + elapsed });
    assert.equal(slidingUsage(at(0), W), 64n);
    assert.equal(slidingUsage(at(30_000), W), 34n);
    assert.equal(slidingUsage(at(59_999), W), 5n, 'rounded up for display');
    assert.equal(exceedsLimit(at(30_000), W, 34, 0n), false);
    assert.equal(exceedsLimit(at(30_000), W, 34, 1n), true);
  });

  it('places budget periods on UTC calendar bounds', () => {
    const wednesday = Date.UTC(2025, 0, 8, 17, 30, 15, 500);
    assert.deepEqual(periodBounds('minute', wednesday), { start: Date.UTC(2025, 0, 8, 17, 30), end: Date.UTC(2025, 0, 8, 17, 31) });
    assert.deepEqual(periodBounds('hour', wednesday), { start: Date.UTC(2025, 0, 8, 17), end: Date.UTC(2025, 0, 8, 18) });
    assert.deepEqual(periodBounds('day', wednesday), { start: Date.UTC(2025, 0, 8), end: Date.UTC(2025, 0, 9) });
    assert.deepEqual(periodBounds('week', wednesday), { start: Date.UTC(2025, 0, 6), end: Date.UTC(2025, 0, 13) });
    assert.deepEqual(periodBounds('week', Date.UTC(2025, 0, 6)), { start: Date.UTC(2025, 0, 6), end: Date.UTC(2025, 0, 13) });
    assert.deepEqual(periodBounds('week', Date.UTC(2025, 0, 5, 23, 59)), { start: Date.UTC(2024, 11, 30), end: Date.UTC(2025, 0, 6) });
    assert.deepEqual(periodBounds('month', wednesday), { start: Date.UTC(2025, 0, 1), end: Date.UTC(2025, 1, 1) });
    assert.deepEqual(periodBounds('month', Date.UTC(2024, 11, 31, 23)), { start: Date.UTC(2024, 11, 1), end: Date.UTC(2025, 0, 1) });
    assert.deepEqual(periodBounds('total', wednesday), { start: 0, end: null });
  });
});
