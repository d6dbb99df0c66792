import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { TOTAL_WINDOW, type CounterStore } from 'zg-gateway';

/** A clock the contract moves by hand; the store under test must read time only through it. */
export interface ContractClock {
  now(): number;
  advance(ms: number): void;
}

/** Builds a fresh, empty store whose notion of now is `now`. */
export type CounterStoreFactory = (now: () => number) => CounterStore | Promise<CounterStore>;

/** 2025-01-06T12:00:00Z: a Monday, on a minute boundary. */
export const CONTRACT_START = Date.UTC(2025, 0, 6, 12, 0, 0);
const MINUTE = 60_000;

/**
 * The behaviour every CounterStore implementation must have (memory, Redis, ...). Call it at the top
 * level of a test file: `counterStoreContract('MemoryCounterStore', (now) => new MemoryCounterStore({ now }))`.
 */
export function counterStoreContract(name: string, factory: CounterStoreFactory): void {
  describe(`CounterStore contract: ${name}`, () => {
    let time = CONTRACT_START;
    const clock: ContractClock = { now: () => time, advance: (ms) => (time += ms) };
    let store: CounterStore;

    beforeEach(async () => {
      time = CONTRACT_START;
      store = await factory(clock.now);
    });
    afterEach(async () => {
      await store.close();
    });

    it('has a kind, and unknown counters read as 0n', async () => {
      assert.equal(typeof store.kind, 'string');
      assert.ok(store.kind.length > 0);
      assert.equal(await store.read('never-written', MINUTE), 0n);
      assert.deepEqual(await store.snapshot('never-written', MINUTE), { current: 0n, previous: 0n, windowStart: CONTRACT_START, now: CONTRACT_START });
    });

    it('adds number and bigint amounts and returns the new total of the window', async () => {
      assert.equal(await store.increment('c', 1, MINUTE), 1n);
      assert.equal(await store.increment('c', 41n, MINUTE), 42n);
      assert.equal(await store.read('c', MINUTE), 42n);
      const huge = 2n ** 70n + 3n;
      assert.equal(await store.increment('big', huge, MINUTE), huge);
      assert.equal(await store.increment('big', huge, MINUTE), 2n * huge, 'exact beyond 2^64');
    });

    it('keeps counters apart by key and by window length', async () => {
      await store.increment('a', 5, MINUTE);
      await store.increment('b', 7, MINUTE);
      await store.increment('a', 11, 1000);
      assert.equal(await store.read('a', MINUTE), 5n);
      assert.equal(await store.read('b', MINUTE), 7n);
      assert.equal(await store.read('a', 1000), 11n);
      assert.equal(await store.read('a', 3_600_000), 0n);
    });

    it('starts a new window at each multiple of windowMs', async () => {
      clock.advance(MINUTE - 1);
      await store.increment('w', 3, MINUTE);
      clock.advance(1);
      assert.equal(await store.read('w', MINUTE), 0n, 'the window that contains now is a new one');
      assert.equal(await store.increment('w', 2, MINUTE), 2n);
      const snapshot = await store.snapshot('w', MINUTE);
      assert.deepEqual(snapshot, { current: 2n, previous: 3n, windowStart: CONTRACT_START + MINUTE, now: CONTRACT_START + MINUTE });
    });

    it('reads the window containing `at`, and forgets windows older than the previous one', async () => {
      await store.increment('h', 4, MINUTE);
      clock.advance(MINUTE + 30_000);
      assert.equal(await store.read('h', MINUTE, CONTRACT_START + 10), 4n, 'the previous window is still readable');
      assert.equal((await store.snapshot('h', MINUTE)).previous, 4n);
      clock.advance(MINUTE);
      assert.equal((await store.snapshot('h', MINUTE)).previous, 0n);
      assert.equal(await store.read('h', MINUTE, CONTRACT_START), 0n);
    });

    it('accepts refunds: negative amounts and decrement, into the window that was charged', async () => {
      await store.increment('r', 10, MINUTE);
      assert.equal(await store.increment('r', -3, MINUTE), 7n);
      assert.equal(await store.decrement('r', 2n, MINUTE), 5n);
      clock.advance(MINUTE + 5);
      // The charge was in the previous window: refund it there, not in the current one.
      assert.equal(await store.decrement('r', 5, MINUTE, CONTRACT_START), 0n);
      assert.equal(await store.read('r', MINUTE, CONTRACT_START), 0n);
      assert.equal(await store.read('r', MINUTE), 0n);
      assert.equal(await store.increment('r', -1, MINUTE), -1n, 'a counter may go below zero');
    });

    it('does not write into a window that may already be dropped', async () => {
      await store.increment('old', 9, MINUTE);
      clock.advance(2 * MINUTE);
      assert.equal(await store.increment('old', -9, MINUTE, CONTRACT_START), 0n);
      assert.equal(await store.read('old', MINUTE, CONTRACT_START), 0n);
      assert.equal(await store.read('old', MINUTE), 0n);
    });

    it('never rolls a TOTAL_WINDOW counter over', async () => {
      await store.increment('t', 100n, TOTAL_WINDOW);
      clock.advance(5 * 365 * 24 * 3_600_000);
      assert.equal(await store.increment('t', 1, TOTAL_WINDOW), 101n);
      assert.deepEqual(await store.snapshot('t', TOTAL_WINDOW), { current: 101n, previous: 0n, windowStart: 0, now: time });
    });

    it('snapshot(amount) adds before it reads, atomically', async () => {
      await store.increment('s', 2, MINUTE);
      const snapshot = await store.snapshot('s', MINUTE, 3);
      assert.equal(snapshot.current, 5n);
      assert.equal(await store.read('s', MINUTE), 5n);
    });

    it('counts every one of many concurrent increments, each seeing a distinct total', async () => {
      const results = await Promise.all(Array.from({ length: 200 }, () => store.increment('burst', 1, MINUTE)));
      assert.deepEqual([...results].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)), Array.from({ length: 200 }, (_, i) => BigInt(i + 1)));
      const snapshots = await Promise.all(Array.from({ length: 50 }, () => store.snapshot('burst', MINUTE, 1n)));
      assert.equal(new Set(snapshots.map((s) => s.current)).size, 50);
      assert.equal(await store.read('burst', MINUTE), 250n);
    });

    it('reserves atomically in a long window placed at `at`: concurrent increments see distinct totals, refunds restore it exactly', async () => {
      // A monthly budget's counter: a 31-day window placed at the month's start (what KeyLimiter reserves against).
      const DAY = 24 * 3_600_000;
      const monthStart = Date.UTC(2025, 0, 1);
      const month = 31 * DAY;
      const totals = await Promise.all(Array.from({ length: 100 }, () => store.increment('budget', 1000n, month, monthStart)));
      assert.deepEqual([...totals].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)), Array.from({ length: 100 }, (_, i) => BigInt((i + 1) * 1000)));
      // Each that found the counter at or above 5000 before it gives its reservation back, as a refused admission does.
      await Promise.all(totals.map((total) => (total - 1000n >= 5000n ? store.decrement('budget', 1000n, month, monthStart) : undefined)));
      assert.equal(await store.read('budget', month, monthStart), 5000n);
      assert.equal(await store.read('budget', month), 5000n, 'now is in the same 31-day window');
      assert.equal(await store.increment('budget', 0n, month, monthStart), 5000n, 'adding 0 reads');
    });

    it('rejects invalid arguments with internal_error', async () => {
      const invalid = { name: 'GatewayError', code: 'internal_error' };
      await assert.rejects(store.increment('', 1, MINUTE), invalid);
      for (const windowMs of [0, -1, 1.5, Number.NaN, Number.NEGATIVE_INFINITY]) {
        await assert.rejects(store.increment('k', 1, windowMs), invalid, `windowMs ${windowMs}`);
        await assert.rejects(store.read('k', windowMs), invalid);
        await assert.rejects(store.snapshot('k', windowMs), invalid);
      }
      for (const amount of [1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60]) {
        await assert.rejects(store.increment('k', amount, MINUTE), invalid, `amount ${amount}`);
      }
      await assert.rejects(store.read('k', MINUTE, Number.NaN), invalid);
      assert.equal(await store.read('k', MINUTE), 0n, 'nothing was written');
    });
  });
}
