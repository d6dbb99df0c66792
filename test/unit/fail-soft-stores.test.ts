import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  FailSoftCounterStore,
  FailSoftSessionStore,
  GatewayError,
  LruSessionStore,
  MemoryCounterStore,
  TOTAL_WINDOW,
  type CounterStore,
  type SessionStore,
  type WindowSnapshot,
} from 'zg-gateway';
import { counterStoreContract } from '../helpers/counter-store-contract.js';
import { LogCapture } from '../helpers/devnet-gateway.js';
import { fakeClock } from '../helpers/fakes.js';
import { sessionStoreContract } from '../helpers/session-store-contract.js';

const outage = (): GatewayError => new GatewayError('store_unavailable', 'Redis at redis://***@db:6379 did not complete GET: connection refused');

/** A session store that can be broken and mended, counting the calls it gets. */
class BreakableSessions<V> implements SessionStore<V> {
  readonly kind = 'breakable';
  broken = false;
  calls = 0;
  constructor(readonly inner: LruSessionStore<V>) {}
  #use(): void {
    this.calls += 1;
    if (this.broken) throw outage();
  }
  async get(key: string) { this.#use(); return this.inner.get(key); }
  async set(key: string, value: V, ttlMs?: number) { this.#use(); return this.inner.set(key, value, ttlMs); }
  async delete(key: string) { this.#use(); return this.inner.delete(key); }
  async size() { this.#use(); return this.inner.size(); }
  async close() { await this.inner.close(); }
}

class BreakableCounters implements CounterStore {
  readonly kind = 'breakable';
  broken = false;
  calls = 0;
  constructor(readonly inner: MemoryCounterStore) {}
  #use(): void {
    this.calls += 1;
    if (this.broken) throw outage();
  }
  async increment(key: string, amount: number | bigint, windowMs: number, at?: number) { this.#use(); return this.inner.increment(key, amount, windowMs, at); }
  async decrement(key: string, amount: number | bigint, windowMs: number, at?: number) { this.#use(); return this.inner.decrement(key, amount, windowMs, at); }
  async read(key: string, windowMs: number, at?: number) { this.#use(); return this.inner.read(key, windowMs, at); }
  async snapshot(key: string, windowMs: number, amount?: number | bigint): Promise<WindowSnapshot> { this.#use(); return this.inner.snapshot(key, windowMs, amount); }
  async close() { await this.inner.close(); }
}

const events = (logs: LogCapture, event: string): Array<Record<string, unknown>> => logs.records().filter((line) => line.event === event);

{
  // While up, the wrappers must behave exactly like what they wrap.
  let time = 5_000_000;
  sessionStoreContract('FailSoftSessionStore over LruSessionStore', {
    create: ({ ttlMs }) => new FailSoftSessionStore<unknown>({ primary: new LruSessionStore<unknown>({ ttlMs, now: () => time }), name: 't', logger: new LogCapture().logger, whenUnreadable: 'reject', ttlMs, now: () => time }),
    elapse: async (ms) => {
      time += ms;
    },
    shortTtlMs: 100,
  });
  counterStoreContract('FailSoftCounterStore over MemoryCounterStore', (now) => new FailSoftCounterStore({ primary: new MemoryCounterStore({ now }), logger: new LogCapture().logger, now }));
}

describe('FailSoftSessionStore', () => {
  function setup(whenUnreadable: 'reject' | 'miss', maxPending = 100) {
    const clock = fakeClock(1_000_000);
    const logs = new LogCapture();
    const primary = new BreakableSessions(new LruSessionStore<string>({ ttlMs: 10_000, now: clock.now }));
    const store = new FailSoftSessionStore<string>({ primary, name: 'responses', logger: logs.logger, whenUnreadable, ttlMs: 10_000, maxPending, retryIntervalMs: 60_000, now: clock.now });
    return { clock, logs, primary, store };
  }

  it('serves from local state while the primary is down, logs the outage once, and never waits for the primary', async () => {
    const { logs, primary, store } = setup('reject');
    await store.set('before', 'p0');
    primary.broken = true;
    await store.set('during-0', 'p1');
    assert.equal(store.degraded, true);
    const callsAtOutage = primary.calls;
    for (let i = 1; i <= 50; i++) await store.set(`during-${i}`, `p${i}`);
    assert.equal(await store.get('during-7'), 'p7');
    await assert.rejects(store.get('before'), { code: 'store_unavailable' }, 'not known locally: the caller must not read it as absent');
    await assert.rejects(store.get('unknown'), { code: 'store_unavailable' });
    assert.equal(primary.calls, callsAtOutage, 'no call reached the primary during the outage');
    assert.equal(events(logs, 'store_unavailable').length, 1);
    assert.equal(store.pendingWrites, 51);
    await store.close();
  });

  it('reads as a miss in `miss` mode (session pins)', async () => {
    const { primary, store } = setup('miss');
    await store.set('pinned-before', '0xA');
    primary.broken = true;
    assert.equal(await store.get('pinned-before'), undefined);
    await store.set('pinned-during', '0xB');
    assert.equal(await store.get('pinned-during'), '0xB');
    await store.close();
  });

  it('catches up when the primary is back: every write, with the TTL it has left, logged once', async () => {
    const { clock, logs, primary, store } = setup('reject');
    primary.broken = true;
    await store.set('a', 'A');
    await store.set('short', 'S', 500);
    clock.advance(100);
    await store.set('b', 'B', 2000);
    await store.delete('a');
    await store.set('c', 'C');
    await store.recoverNow();
    assert.equal(store.degraded, true, 'still down: nothing reached the primary');
    primary.broken = false;
    await store.recoverNow();
    assert.equal(store.degraded, false);
    assert.equal(store.pendingWrites, 0);
    assert.equal(await primary.inner.get('a'), undefined, 'the delete was replayed');
    assert.equal(await primary.inner.get('c'), 'C');
    assert.equal(await primary.inner.get('short'), 'S');
    clock.advance(400);
    assert.equal(await primary.inner.get('short'), undefined, 'replayed with the TTL it had left, not a new one');
    assert.equal(await primary.inner.get('b'), 'B');
    const recovered = events(logs, 'store_recovered');
    assert.equal(recovered.length, 1);
    assert.equal(recovered[0]?.caughtUp, 4);
    assert.equal(recovered[0]?.dropped, 0);
    await store.close();
  });

  it('drops the oldest queued writes when the queue is full; they stay readable here only', async () => {
    const { logs, primary, store } = setup('reject', 3);
    primary.broken = true;
    for (const key of ['k1', 'k2', 'k3', 'k4', 'k5']) await store.set(key, key.toUpperCase());
    assert.equal(store.pendingWrites, 3);
    primary.broken = false;
    await store.recoverNow();
    assert.deepEqual(await Promise.all(['k1', 'k2', 'k3', 'k4', 'k5'].map((key) => primary.inner.get(key))), [undefined, undefined, 'K3', 'K4', 'K5']);
    assert.equal(await store.get('k1'), 'K1', 'a dropped write is still readable on this instance');
    assert.equal(events(logs, 'store_recovered')[0]?.dropped, 2);
    await store.close();
  });

  it('skips writes that expired during the outage', async () => {
    const { clock, primary, store } = setup('reject');
    primary.broken = true;
    await store.set('fleeting', 'F', 50);
    clock.advance(60);
    primary.broken = false;
    await store.recoverNow();
    assert.equal(await primary.inner.get('fleeting'), undefined);
    await store.close();
  });

  it('still refuses an invalid TTL with internal_error, without starting an outage', async () => {
    const { store } = setup('reject');
    await assert.rejects(store.set('k', 'v', -1), { code: 'internal_error' });
    assert.equal(store.degraded, false);
    await store.close();
  });
});

describe('FailSoftCounterStore', () => {
  function setup() {
    const clock = fakeClock(Date.UTC(2025, 0, 6, 12, 0, 0));
    const logs = new LogCapture();
    const primary = new BreakableCounters(new MemoryCounterStore({ now: clock.now }));
    const store = new FailSoftCounterStore({ primary, logger: logs.logger, retryIntervalMs: 60_000, now: clock.now });
    return { clock, logs, primary, store };
  }

  it('fails open to local counting, logs once, and adds what was counted to the primary when it is back', async () => {
    const { clock, logs, primary, store } = setup();
    await store.increment('spend', 100n, TOTAL_WINDOW);
    await store.increment('rpm', 2, 60_000);
    primary.broken = true;
    const snapshots: WindowSnapshot[] = [];
    for (let i = 0; i < 5; i++) snapshots.push(await store.snapshot('rpm', 60_000, 1n));
    assert.deepEqual(snapshots.map((s) => s.current), [1n, 2n, 3n, 4n, 5n], 'counted locally, from zero');
    await store.increment('spend', 2n ** 70n, TOTAL_WINDOW);
    await store.decrement('rpm', 1, 60_000);
    assert.equal(events(logs, 'store_unavailable').length, 1);
    assert.equal(store.degraded, true);
    clock.advance(60_000);
    primary.broken = false;
    await store.recoverNow();
    assert.equal(store.degraded, false);
    assert.equal(await store.read('spend', TOTAL_WINDOW), 100n + 2n ** 70n, 'the total is exact again');
    assert.equal((await store.snapshot('rpm', 60_000)).previous, 2n + 4n, 'changes went into the window they were made in');
    assert.equal(events(logs, 'store_recovered')[0]?.caughtUp, 2);
    await store.close();
  });

  it('rejects invalid arguments with internal_error, never as an outage', async () => {
    const { store } = setup();
    await assert.rejects(store.increment('', 1, 60_000), { code: 'internal_error' });
    await assert.rejects(store.snapshot('k', 0), { code: 'internal_error' });
    assert.equal(store.degraded, false);
    await store.close();
  });
});
