import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RedisConnection, RedisCounterStore, RedisSessionStore, redactRedisUrl, runMultiProviderInferenceServer } from 'zg-gateway';
import { LogCapture, waitFor } from '../helpers/devnet-gateway.js';
import { startHostileUpstream } from '../helpers/hostile-upstream.js';
import { chatOn, verifyOn } from '../helpers/instances.js';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.js';

describe('Redis stores when Redis is down, hung, or back', () => {
  let redis: TestRedis;
  let connection: RedisConnection;
  let sessions: RedisSessionStore<string>;
  let counters: RedisCounterStore;

  before(async () => {
    redis = await startTestRedis();
    connection = new RedisConnection({ url: redis.url, commandTimeoutMs: 200 });
    sessions = new RedisSessionStore<string>({ connection, namespace: 'sessions', prefix: 'outage' });
    counters = new RedisCounterStore({ connection, prefix: 'outage' });
    assert.equal(await connection.waitUntilReady(5000), true);
  });
  after(async () => {
    await sessions?.close();
    await counters?.close();
    await redis?.stop();
  });

  it('rejects at once with store_unavailable while Redis is stopped, and works again once it is restarted', async () => {
    await sessions.set('pin', '0xA');
    await redis.stop();
    const started = performance.now();
    await assert.rejects(sessions.get('pin'), { name: 'GatewayError', code: 'store_unavailable', status: 503 });
    await assert.rejects(sessions.set('pin', '0xB'), { code: 'store_unavailable' });
    await assert.rejects(counters.snapshot('k', 60_000, 1n), { code: 'store_unavailable' });
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 150, `three rejections took ${elapsed.toFixed(0)} ms: no command waits for a reconnection`);
    await redis.restart();
    assert.equal(await connection.waitUntilReady(5000), true, 'it reconnected by itself');
    assert.equal(await sessions.get('pin'), undefined, 'the restarted Redis kept nothing (no persistence in tests)');
    await sessions.set('pin', '0xC');
    assert.equal(await sessions.get('pin'), '0xC');
    assert.equal(await counters.increment('k', 2, 60_000), 2n, 'its scripts were loaded again');
  });

  it('rejects after the command timeout when Redis hangs, rather than hanging', async () => {
    redis.pause();
    try {
      const started = performance.now();
      await assert.rejects(sessions.get('pin'), { code: 'store_unavailable' });
      const elapsed = performance.now() - started;
      assert.ok(elapsed >= 150 && elapsed < 1000, `rejected after ${elapsed.toFixed(0)} ms (command timeout 200 ms)`);
    } finally {
      redis.resume();
    }
    assert.equal(await connection.waitUntilReady(5000), true);
    assert.equal(await sessions.get('pin'), '0xC');
  });

  it('never shows the password of the URL, in errors or in the redacted URL', async () => {
    assert.equal(redactRedisUrl('redis://default:p4ss@host:6379/1'), 'redis://***@host:6379/1');
    assert.equal(redactRedisUrl('rediss://:p4ss@host'), 'rediss://***@host');
    assert.equal(redactRedisUrl('redis://host:6379'), 'redis://host:6379');
    const port = redis.port;
    await redis.stop();
    const secret = new RedisConnection({ url: `redis://user:top-secret-pw@127.0.0.1:${port}`, connectTimeoutMs: 200 });
    const store = new RedisSessionStore<string>({ connection: secret, namespace: 'x' });
    try {
      const error = await store.get('k').then(() => undefined, (thrown: unknown) => thrown as Error);
      assert.ok(error, 'it rejected');
      assert.ok(!`${error.message}\n${error.stack ?? ''}`.includes('top-secret-pw'), error.message);
      assert.match(error.message, /redis:\/\/\*\*\*@127\.0\.0\.1/);
      assert.ok(!(secret.lastError ?? '').includes('top-secret-pw'));
    } finally {
      await store.close();
      await redis.restart();
    }
  });
});

describe('a gateway started while its Redis is down', () => {
  it('serves at once from local state, says so once, and joins Redis when it comes up', async () => {
    const redis = await startTestRedis();
    await redis.stop();
    const upstream = await startHostileUpstream('solo');
    const logs = new LogCapture();
    const gateway = await runMultiProviderInferenceServer(
      { openAICompatibleProviders: [{ name: 'solo', baseUrl: upstream.baseUrl, model: 'm' }], store: { type: 'redis', url: redis.url, prefix: 'late' }, port: 0 },
      { logger: logs.logger },
    );
    try {
      const answer = await chatOn(gateway, undefined, 'hello');
      assert.equal(answer.status, 200);
      assert.equal((await verifyOn(gateway, undefined, answer.id as string)).status, 200, 'known locally');
      assert.equal((await verifyOn(gateway, undefined, 'chatcmpl-unknown')).status, 503);
      const outages = logs.records().filter((line) => line.event === 'store_unavailable');
      assert.deepEqual(outages.map((line) => line.store).sort(), ['responses', 'sessions']);
      await redis.restart();
      assert.ok(await waitFor(() => logs.records().filter((line) => line.event === 'store_recovered').length === 2, 10_000));
      assert.equal((await verifyOn(gateway, undefined, 'chatcmpl-unknown')).status, 404, 'Redis answers again');
      assert.equal((await verifyOn(gateway, undefined, answer.id as string)).status, 200);
    } finally {
      await gateway.close();
      await upstream.close();
      await redis.stop();
    }
  });
});

describe('a Redis URL with a password', () => {
  it('is redacted in gateway.config and never logged', async () => {
    const upstream = await startHostileUpstream('quiet');
    const logs = new LogCapture();
    const closedPort = await startTestRedis().then(async (redis) => {
      await redis.stop();
      return redis.port;
    });
    const gateway = await runMultiProviderInferenceServer(
      { openAICompatibleProviders: [{ name: 'quiet', baseUrl: upstream.baseUrl, model: 'm' }], store: { type: 'redis', url: `redis://admin:pw-never-shown@127.0.0.1:${closedPort}/3` }, port: 0 },
      { logger: logs.logger },
    );
    try {
      assert.equal((gateway.config.store as { url: string }).url, `redis://***@127.0.0.1:${closedPort}/3`);
      assert.equal((await chatOn(gateway, undefined, 'hi')).status, 200);
      assert.ok(logs.records().some((line) => line.event === 'store_unavailable'));
      assert.ok(!logs.text().includes('pw-never-shown'), 'no log line carries the password');
    } finally {
      await gateway.close();
      await upstream.close();
    }
    assert.ok(!logs.text().includes('pw-never-shown'));
  });
});
