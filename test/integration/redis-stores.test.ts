import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { RedisConnection, RedisCounterStore, RedisSessionStore, TOTAL_WINDOW } from 'zg-gateway';
import { counterStoreContract } from '../helpers/counter-store-contract.js';
import { sessionStoreContract } from '../helpers/session-store-contract.js';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.js';

let redis: TestRedis;
let connection: RedisConnection;

before(async () => {
  redis = await startTestRedis();
  connection = new RedisConnection({ url: redis.url }).retain();
  assert.equal(await connection.waitUntilReady(5000), true);
});
after(async () => {
  await connection?.close();
  await redis?.stop();
});

/** A prefix no other test uses, so each store starts empty. */
const freshPrefix = (): string => `t-${randomUUID().slice(0, 8)}`;

counterStoreContract('RedisCounterStore', (now) => new RedisCounterStore({ connection, prefix: freshPrefix(), now }));

sessionStoreContract('RedisSessionStore', {
  create: ({ ttlMs }) => new RedisSessionStore<unknown>({ connection, namespace: 'contract', prefix: freshPrefix(), ttlMs }),
  elapse: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  shortTtlMs: 100,
});

describe('Redis stores: layout in Redis', () => {
  it('keeps a value as JSON under <prefix>:v1:<namespace>:<key> with a Redis TTL, bigints tagged', async () => {
    const prefix = freshPrefix();
    const store = new RedisSessionStore<{ spent: bigint; note: string }>({ connection, namespace: 'responses', prefix, ttlMs: 60_000 });
    await store.set('chatcmpl-1', { spent: 2n ** 80n, note: 'x' });
    const client = connection.client;
    assert.equal(await client.get(`${prefix}:v1:responses:chatcmpl-1`), `{"spent":{"$zgw_bigint":"${2n ** 80n}"},"note":"x"}`);
    const ttl = await client.pttl(`${prefix}:v1:responses:chatcmpl-1`);
    assert.ok(ttl > 59_000 && ttl <= 60_000, `PTTL ${ttl}`);
    assert.equal(await client.zcard(`${prefix}:v1:responses#index`), 1, 'the size index, not KEYS');
    await store.close();
  });

  it('keeps prefixes and namespaces apart', async () => {
    const [a, b] = [freshPrefix(), freshPrefix()];
    const first = new RedisSessionStore<string>({ connection, namespace: 'sessions', prefix: a });
    const second = new RedisSessionStore<string>({ connection, namespace: 'sessions', prefix: b });
    const other = new RedisSessionStore<string>({ connection, namespace: 'responses', prefix: a });
    await first.set('s', 'A');
    assert.equal(await second.get('s'), undefined);
    assert.equal(await other.get('s'), undefined);
    assert.equal(await other.size(), 0);
    await Promise.all([first.close(), second.close(), other.close()]);
  });

  it('counts down as Redis expires values, without any KEYS', async () => {
    const store = new RedisSessionStore<number>({ connection, namespace: 'n', prefix: freshPrefix(), ttlMs: 80 });
    await Promise.all(Array.from({ length: 50 }, (_, i) => store.set(`k${i}`, i)));
    await store.set('long', 1, 60_000);
    assert.equal(await store.size(), 51);
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal(await store.size(), 1);
    await store.close();
  });

  it('puts a counter window in its own key, expiring after the window after it; totals never expire', async () => {
    const prefix = freshPrefix();
    const now = Date.UTC(2030, 0, 1, 0, 0, 30);
    const counters = new RedisCounterStore({ connection, prefix, now: () => now });
    await counters.increment('apikey:a:rpm', 3, 60_000);
    await counters.increment('apikey:a:spend', 10n ** 30n, TOTAL_WINDOW);
    const index = Math.floor(now / 60_000);
    const windowKey = `${prefix}:v1:counter:60000:${index}:apikey:a:rpm`;
    assert.equal(await connection.client.get(windowKey), '3');
    const ttl = await connection.client.pttl(windowKey);
    assert.ok(ttl > 90_000 - 1000 + 5000 - 50 && ttl <= 90_000 + 5000, `PTTL ${ttl}: 30 s left of this window, 60 s of the next, 5 s margin`);
    assert.equal(await connection.client.get(`${prefix}:v1:counter:total:0:apikey:a:spend`), (10n ** 30n).toString());
    assert.equal(await connection.client.pttl(`${prefix}:v1:counter:total:0:apikey:a:spend`), -1);
    await counters.close();
  });

  it('does not close a shared connection until its last user lets go', async () => {
    const shared = new RedisConnection({ url: redis.url });
    assert.equal(await shared.waitUntilReady(5000), true);
    const one = new RedisSessionStore<string>({ connection: shared, namespace: 'a', prefix: freshPrefix() });
    const two = new RedisCounterStore({ connection: shared, prefix: freshPrefix() });
    await one.close();
    assert.equal(await two.increment('k', 1, 60_000), 1n, 'still open for the other store');
    await two.close();
    assert.equal(shared.ready, false);
  });
});
