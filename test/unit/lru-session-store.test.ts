import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LruSessionStore, responseRecordBytes, type ResponseRecord, type SessionStore } from 'zg-gateway';
import { sessionStoreContract } from '../helpers/session-store-contract.js';

function fakeClock(start = 0): { now: () => number; advance: (ms: number) => void } {
  let time = start;
  return { now: () => time, advance: (ms) => (time += ms) };
}

function record(providerId: string, createdAt = 0): ResponseRecord {
  return { providerId, chatId: `chat-${providerId}`, usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 }, createdAt, model: 'test-model', upstreamModel: 'test-model', costNeuron: '11' };
}

describe('LruSessionStore', () => {
  it('stores, reads, deletes and counts', async () => {
    const store: SessionStore<ResponseRecord> = new LruSessionStore<ResponseRecord>();
    assert.equal(store.kind, 'lru');
    assert.equal(await store.get('missing'), undefined);
    await store.set('r1', record('a'));
    await store.set('r2', record('b'));
    assert.deepEqual(await store.get('r1'), record('a'));
    assert.equal(await store.size(), 2);
    await store.set('r1', record('c'));
    assert.equal((await store.get('r1'))?.providerId, 'c');
    assert.equal(await store.size(), 2);
    assert.equal(await store.delete('r1'), true);
    assert.equal(await store.delete('r1'), false);
    assert.equal(await store.get('r1'), undefined);
    assert.equal(await store.size(), 1);
    await store.close();
    assert.equal(await store.size(), 0);
    assert.equal(await store.get('r2'), undefined);
  });

  it('evicts the least recently used entry beyond maxEntries', async () => {
    const store = new LruSessionStore<string>({ maxEntries: 3 });
    await store.set('k1', 'v1');
    await store.set('k2', 'v2');
    await store.set('k3', 'v3');
    await store.set('k4', 'v4');
    assert.equal(await store.size(), 3);
    assert.equal(await store.get('k1'), undefined);
    // Reading k2 makes k3 the least recently used.
    assert.equal(await store.get('k2'), 'v2');
    await store.set('k5', 'v5');
    assert.equal(await store.get('k3'), undefined);
    assert.deepEqual([await store.get('k2'), await store.get('k4'), await store.get('k5')], ['v2', 'v4', 'v5']);
    assert.equal(await store.size(), 3);
  });

  it('keeps at most maxBytes as sizeOf counts them, evicting the least recently used first', async () => {
    const store = new LruSessionStore<string>({ maxEntries: 1000, maxBytes: 100, sizeOf: (value) => value.length });
    await store.set('a', 'x'.repeat(40));
    await store.set('b', 'y'.repeat(40));
    assert.equal(await store.get('a'), 'x'.repeat(40)); // a is now the most recently used
    await store.set('c', 'z'.repeat(40)); // 120 bytes > 100: b goes
    assert.equal(await store.get('b'), undefined);
    assert.equal(await store.get('a'), 'x'.repeat(40));
    assert.equal(await store.get('c'), 'z'.repeat(40));
    await store.set('huge', 'h'.repeat(101)); // larger than the whole bound: not kept, nothing else lost
    assert.equal(await store.get('huge'), undefined);
    assert.equal(await store.size(), 2);
    assert.throws(() => new LruSessionStore<string>({ maxBytes: 0 }), { code: 'invalid_config' });
  });

  it('counts a response record as a base plus its stored conversation', () => {
    const record = { chatId: 'c', provider: 'p', model: 'm' } as unknown as ResponseRecord;
    const base = responseRecordBytes(record);
    assert.ok(base > 0);
    const withConversation = { ...record, conversation: { response: {}, history: [], session: 's', bytes: 200_000 } };
    assert.equal(responseRecordBytes(withConversation), base + 200_000);
  });

  it('expires entries after the TTL, by the injected clock, without sleeping', async () => {
    const clock = fakeClock();
    const store = new LruSessionStore<string>({ ttlMs: 1000, now: clock.now });
    await store.set('early', 'x');
    clock.advance(600);
    await store.set('late', 'y');
    clock.advance(399);
    assert.equal(await store.get('early'), 'x');
    assert.equal(await store.size(), 2);
    clock.advance(1);
    assert.equal(await store.get('early'), undefined, 'expired exactly ttlMs after it was set');
    assert.equal(await store.get('late'), 'y');
    assert.equal(await store.size(), 1);
    assert.equal(await store.delete('early'), false);
    clock.advance(600);
    assert.equal(await store.size(), 0);
    assert.equal(await store.get('late'), undefined);
  });

  it('does not extend the TTL on read, and renews it on set', async () => {
    const clock = fakeClock(5_000);
    const store = new LruSessionStore<string>({ ttlMs: 100, now: clock.now });
    await store.set('k', 'v1');
    clock.advance(90);
    assert.equal(await store.get('k'), 'v1');
    clock.advance(10);
    assert.equal(await store.get('k'), undefined);
    await store.set('k', 'v2');
    clock.advance(99);
    assert.equal(await store.get('k'), 'v2');
  });

  it('honours a per-entry TTL and reports an expired entry as not deleted', async () => {
    const clock = fakeClock();
    const store = new LruSessionStore<string>({ now: clock.now });
    await store.set('short', 's', 50);
    await store.set('default', 'd');
    clock.advance(50);
    assert.equal(await store.delete('short'), false);
    assert.equal(await store.get('default'), 'd');
    clock.advance(30 * 60 * 1000 - 51);
    assert.equal(await store.get('default'), 'd');
    clock.advance(1);
    assert.equal(await store.get('default'), undefined, 'the default TTL is 30 minutes');
  });

  it('rejects invalid options and TTLs', async () => {
    assert.throws(() => new LruSessionStore({ maxEntries: 0 }), { name: 'GatewayError', code: 'invalid_config' });
    assert.throws(() => new LruSessionStore({ maxEntries: 2.5 }), { code: 'invalid_config' });
    assert.throws(() => new LruSessionStore({ ttlMs: 0 }), { code: 'invalid_config' });
    assert.throws(() => new LruSessionStore({ ttlMs: Number.NaN }), { code: 'invalid_config' });
    const store = new LruSessionStore<string>();
    await assert.rejects(store.set('k', 'v', -1), { code: 'internal_error' });
    assert.equal(await store.size(), 0);
  });
});

{
  let time = 1_000_000;
  sessionStoreContract('LruSessionStore', {
    create: ({ ttlMs }) => new LruSessionStore<unknown>({ ttlMs, now: () => time }),
    elapse: async (ms) => {
      time += ms;
    },
    shortTtlMs: 100,
  });
}
