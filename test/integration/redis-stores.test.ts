import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before } from 'node:test';
import { RedisConnection, RedisCounterStore, RedisSessionStore } from 'zg-gateway';
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
