import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryCounterStore, TOTAL_WINDOW } from 'zg-gateway';
import { CONTRACT_START, counterStoreContract } from '../helpers/counter-store-contract.js';

counterStoreContract('MemoryCounterStore', (now) => new MemoryCounterStore({ now }));

describe('MemoryCounterStore', () => {
  function fakeClock(start = CONTRACT_START): { now: () => number; advance: (ms: number) => void } {
    let time = start;
    return { now: () => time, advance: (ms) => (time += ms) };
  }

  it('drops windows once they are neither current nor previous, at the next sweep; totals stay', async () => {
    const clock = fakeClock();
    const store = new MemoryCounterStore({ now: clock.now, sweepIntervalMs: 1000 });
    for (let i = 0; i < 500; i++) await store.increment(`key-${i}`, 1, 60_000);
    await store.increment('spend', 10n ** 20n, TOTAL_WINDOW);
    assert.equal(store.size(), 501);
    clock.advance(60_000);
    await store.read('anything', 60_000);
    assert.equal(store.size(), 501, 'the previous window is kept for sliding estimates');
    clock.advance(59_999);
    await store.read('anything', 60_000);
    assert.equal(store.size(), 501);
    clock.advance(1);
    assert.equal(store.size(), 501, 'nothing is swept until the store is used');
    await store.read('anything', 60_000);
    assert.equal(store.size(), 501, 'nor more often than sweepIntervalMs');
    clock.advance(1000);
    await store.read('anything', 60_000);
    assert.equal(store.size(), 1, 'only the total remains');
    assert.equal(await store.read('spend', TOTAL_WINDOW), 10n ** 20n);
  });

  it('stays bounded under steady use: memory follows the keys in use, not the time run', async () => {
    const clock = fakeClock();
    const store = new MemoryCounterStore({ now: clock.now, sweepIntervalMs: 5000 });
    let largest = 0;
    for (let minute = 0; minute < 100; minute++) {
      for (let i = 0; i < 20; i++) {
        await store.increment(`k${i}`, 1, 60_000);
        clock.advance(100);
      }
      clock.advance(60_000 - 2000);
      largest = Math.max(largest, store.size());
    }
    assert.ok(largest <= 60, `held up to ${largest} windows for 20 keys (2000 written)`);
  });

  it('drops an expired window when it is touched, even before a sweep', async () => {
    const clock = fakeClock();
    const store = new MemoryCounterStore({ now: clock.now, sweepIntervalMs: 10 ** 9 });
    await store.increment('touch', 1, 1000);
    clock.advance(2000);
    assert.equal(await store.read('touch', 1000, CONTRACT_START), 0n);
    assert.equal(store.size(), 0);
  });

  it('deletes a window that returns to zero', async () => {
    const store = new MemoryCounterStore({ now: fakeClock().now });
    await store.increment('z', 3, 60_000);
    await store.decrement('z', 3, 60_000);
    assert.equal(store.size(), 0);
  });

  it('close() forgets everything and the store stays usable', async () => {
    const store = new MemoryCounterStore({ now: fakeClock().now });
    await store.increment('t', 5, TOTAL_WINDOW);
    await store.close();
    assert.equal(await store.read('t', TOTAL_WINDOW), 0n);
    assert.equal(await store.increment('t', 1, TOTAL_WINDOW), 1n);
  });

  it('rejects invalid options', () => {
    for (const sweepIntervalMs of [0, -5, 1.5, Number.NaN]) {
      assert.throws(() => new MemoryCounterStore({ sweepIntervalMs }), { code: 'invalid_config', param: 'sweepIntervalMs' });
    }
  });
});
