import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { ResponseRecord, SessionStore } from 'zg-gateway';

/** How the contract drives one SessionStore implementation. */
export interface SessionStoreHarness {
  /** A new store whose default TTL is `ttlMs`, holding nothing another test wrote. */
  create(options: { ttlMs: number }): SessionStore<unknown> | Promise<SessionStore<unknown>>;
  /** Lets `ms` pass for the store: advances a fake clock, or sleeps for a store on real time. */
  elapse(ms: number): Promise<void>;
  /** The TTL used by expiry tests, ms: short for a store on real time (Redis: ~100), anything on a fake clock. */
  shortTtlMs: number;
}

function record(providerId: string, extra: Partial<ResponseRecord> = {}): ResponseRecord {
  return {
    providerId,
    chatId: `chat-${providerId}`,
    usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
    createdAt: 1_736_164_800_123,
    model: 'test-model',
    upstreamModel: 'org/test-model',
    costNeuron: '12345678901234567890123',
    ...extra,
  };
}

/**
 * The behaviour every SessionStore implementation must have (in-process LRU, Redis, ...), in the
 * style of the CounterStore contract. Call it at the top level of a test file:
 * `sessionStoreContract('LruSessionStore', { create, elapse, shortTtlMs })`.
 */
export function sessionStoreContract(name: string, harness: SessionStoreHarness): void {
  describe(`SessionStore contract: ${name}`, () => {
    const ttl = harness.shortTtlMs;
    let store: SessionStore<unknown>;

    beforeEach(async () => {
      store = await harness.create({ ttlMs: 30 * 60 * 1000 });
    });
    afterEach(async () => {
      await store.close();
    });

    it('has a kind; a missing key reads as undefined, is not deleted, and is not counted', async () => {
      assert.equal(typeof store.kind, 'string');
      assert.ok(store.kind.length > 0);
      assert.equal(await store.get('never-set'), undefined);
      assert.equal(await store.delete('never-set'), false);
      assert.equal(await store.size(), 0);
    });

    it('sets, gets, deletes and counts response records', async () => {
      await store.set('chatcmpl-1', record('0xA'));
      await store.set('chatcmpl-2', record('0xB'));
      assert.deepEqual(await store.get('chatcmpl-1'), record('0xA'));
      assert.deepEqual(await store.get('chatcmpl-2'), record('0xB'));
      assert.equal(await store.size(), 2);
      assert.equal(await store.delete('chatcmpl-1'), true);
      assert.equal(await store.delete('chatcmpl-1'), false, 'already deleted');
      assert.equal(await store.get('chatcmpl-1'), undefined);
      assert.equal(await store.size(), 1);
    });

    it('reads a property that was undefined as undefined', async () => {
      await store.set('no-usage', record('0xC', { usage: undefined, costNeuron: undefined }));
      const back = (await store.get('no-usage')) as ResponseRecord;
      assert.equal(back.providerId, '0xC');
      assert.equal(back.usage, undefined);
      assert.equal(back.costNeuron, undefined);
    });

    it('replaces a value, without counting the key twice', async () => {
      await store.set('pin', '0xA');
      await store.set('pin', '0xB');
      assert.equal(await store.get('pin'), '0xB');
      assert.equal(await store.size(), 1);
      await store.set('pin', { nested: ['x', 1, true, null] });
      assert.deepEqual(await store.get('pin'), { nested: ['x', 1, true, null] });
    });

    it('keeps keys apart however they are spelled', async () => {
      const keys = ['a', 'a:b', 'a:b:c', 'A', ' a', 'ключ', '会话-🙂', 'chatcmpl-x#index', '*', '{tag}'];
      for (const [index, key] of keys.entries()) await store.set(key, index);
      for (const [index, key] of keys.entries()) assert.equal(await store.get(key), index, key);
      assert.equal(await store.size(), keys.length);
    });

    it('keeps strings, numbers, booleans, null, nested objects and bigints', async () => {
      const value = { text: 'héllo "quoted" \n', number: -1.5, flag: false, nothing: null, list: [{ deep: { deeper: [1, 2] } }], spent: 2n ** 70n + 1n, negative: -3n };
      await store.set('mixed', value);
      assert.deepEqual(await store.get('mixed'), value);
      await store.set('bare-bigint', 12345678901234567890n);
      assert.equal(await store.get('bare-bigint'), 12345678901234567890n);
    });

    it('keeps large values whole', async () => {
      const big = 'x'.repeat(1024 * 1024) + '🙂';
      await store.set('large-string', big);
      assert.equal(await store.get('large-string'), big);
      const many = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`field-${i}`, record(`0x${i}`)]));
      await store.set('large-object', many);
      assert.deepEqual(await store.get('large-object'), many);
    });

    it('expires an entry after its TTL: absent everywhere, not counted, not deleted', async () => {
      const short = await harness.create({ ttlMs: ttl });
      try {
        await short.set('brief', record('0xA'));
        await short.set('lasting', record('0xB'), ttl * 50);
        assert.deepEqual(await short.get('brief'), record('0xA'));
        await harness.elapse(ttl + 60);
        assert.equal(await short.get('brief'), undefined);
        assert.equal(await short.delete('brief'), false);
        assert.equal(await short.size(), 1, 'only the entry with the longer TTL is counted');
        assert.deepEqual(await short.get('lasting'), record('0xB'));
      } finally {
        await short.close();
      }
    });

    it('honours a per-entry TTL shorter than the default', async () => {
      await store.set('short', 's', ttl);
      await store.set('default', 'd');
      await harness.elapse(ttl + 60);
      assert.equal(await store.get('short'), undefined);
      assert.equal(await store.get('default'), 'd');
      assert.equal(await store.size(), 1);
    });

    it('does not extend the TTL on read, and renews it on set', async () => {
      await store.set('read-me', 'v', ttl);
      await harness.elapse(ttl / 2);
      await store.get('read-me');
      await harness.elapse(ttl / 2 + 60);
      assert.equal(await store.get('read-me'), undefined, 'reading did not extend it');
      await store.set('renew-me', 'v1', ttl);
      await store.set('renew-me', 'v2', ttl * 50);
      await harness.elapse(ttl + 60);
      assert.equal(await store.get('renew-me'), 'v2', 'the second set gave it the new TTL');
    });

    it('rejects a TTL that is not a positive number with internal_error, storing nothing', async () => {
      for (const bad of [0, -1, Number.NaN]) {
        await assert.rejects(store.set('bad-ttl', 'v', bad), { name: 'GatewayError', code: 'internal_error' }, `ttl ${bad}`);
      }
      assert.equal(await store.get('bad-ttl'), undefined);
      assert.equal(await store.size(), 0);
    });

    it('counts every one of many concurrent writes, and reads each back', async () => {
      await Promise.all(Array.from({ length: 300 }, (_, i) => store.set(`burst-${i}`, record(`0x${i}`))));
      assert.equal(await store.size(), 300);
      const read = await Promise.all(Array.from({ length: 300 }, (_, i) => store.get(`burst-${i}`)));
      read.forEach((value, i) => assert.equal((value as ResponseRecord).providerId, `0x${i}`));
      const deleted = await Promise.all(Array.from({ length: 300 }, (_, i) => (i % 3 === 0 ? store.delete(`burst-${i}`) : Promise.resolve(false))));
      assert.equal(deleted.filter(Boolean).length, 100);
      assert.equal(await store.size(), 200);
    });

    it('ends concurrent writes of one key with one of the values written, counted once', async () => {
      const values = Array.from({ length: 50 }, (_, i) => `0x${i}`);
      await Promise.all(values.map((value) => store.set('contended', value)));
      assert.ok(values.includes((await store.get('contended')) as string));
      assert.equal(await store.size(), 1);
      const [, deleted] = await Promise.all([store.set('contended', 'again'), store.delete('contended')]);
      assert.equal(deleted, true, 'the delete ran after the set it was issued after');
      assert.equal(await store.get('contended'), undefined);
    });

    it('close() resolves, and again', async () => {
      const other = await harness.create({ ttlMs: ttl });
      await other.set('k', 'v');
      await other.close();
      await other.close();
    });
  });
}
