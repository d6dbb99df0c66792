import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { cliEnvironment, eventually, runCli, startCliServer } from '../helpers/cli-process.js';
import { startHostileUpstream, type HostileUpstream } from '../helpers/hostile-upstream.js';
import { startTestRedis, type TestRedis } from '../helpers/redis-server.js';

let redis: TestRedis;
let upstream: HostileUpstream;

before(async () => {
  redis = await startTestRedis();
  upstream = await startHostileUpstream('up');
});
after(async () => {
  await redis.stop();
  await upstream.close();
});

async function status(url: string, key: string | undefined): Promise<number> {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'keyed' }] }),
  });
  await response.text();
  return response.status;
}

test('keys create, list and revoke in Redis; a running gateway accepts new keys and refuses revoked ones within seconds', async () => {
  const env = cliEnvironment({ REDIS_URL: redis.url });
  const created = await runCli(['keys', 'create', 'alice', '--rpm', '100', '--budget', '5000', '--budget-period', 'month', '--models', 'm,n'], env);
  assert.equal(created.code, 0, created.stderr);
  const alice = created.stdout.trim();
  assert.match(alice, /^zgk-[A-Za-z0-9_-]{43}$/, 'stdout holds the key alone');
  assert.match(created.stderr, /created key "alice" \(fingerprint [0-9a-f]{12}, rpm=100 budget=5000\/month models=m,n\)\. This is the only time it is shown/);
  const duplicate = await runCli(['keys', 'create', 'alice'], env);
  assert.equal(duplicate.code, 1);
  assert.match(duplicate.stderr, /already exists/);

  const listed = await runCli(['keys', 'list', '--redis', redis.url], cliEnvironment());
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /^ID +FINGERPRINT +LIMITS +CREATED\nalice {2}[0-9a-f]{12} {2}rpm=100 budget=5000\/month models=m,n {2}\d{4}-/);
  const asJson = await runCli(['keys', 'list', '--json'], env);
  const document = JSON.parse(asJson.stdout) as { keys: Array<Record<string, unknown>> };
  assert.deepEqual(Object.keys(document.keys[0] ?? {}).sort(), ['budget', 'createdAt', 'disabled', 'fingerprint', 'id', 'models', 'rpm']);
  for (const output of [listed.stdout, asJson.stdout, listed.stderr]) {
    assert.ok(!output.includes(alice), 'list never prints a key');
    assert.doesNotMatch(output, /sha256:|[0-9a-f]{64}/, 'nor a hash');
  }

  const server = await startCliServer(['serve', '--redis', redis.url, '--upstream', `up=${upstream.baseUrl}`, '--set', 'openAICompatibleProviders.0.model=m', '--port', '0', '--log-format', 'json'], cliEnvironment());
  try {
    assert.equal(await status(server.url, alice), 200, 'a key from the store is accepted');
    assert.equal(await status(server.url, undefined), 401, 'the gateway requires keys once the store holds some');
    const bob = (await runCli(['keys', 'create', 'bob', '--json'], env)).stdout;
    const bobKey = (JSON.parse(bob) as { key: string }).key;
    assert.ok(await eventually(async () => (await status(server.url, bobKey)) === 200, 6000), 'a new key works within seconds');
    const revoked = await runCli(['keys', 'revoke', 'alice'], env);
    assert.equal(revoked.code, 0);
    assert.match(revoked.stderr, /revoked "alice"/);
    const revokedAt = Date.now();
    assert.ok(await eventually(async () => (await status(server.url, alice)) === 401, 6000), 'a revoked key is refused within seconds');
    assert.ok(Date.now() - revokedAt < 5000);
    assert.equal(await status(server.url, bobKey), 200);
    const unknown = await runCli(['keys', 'revoke', 'alice'], env);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no key "alice"/);
  } finally {
    assert.equal(await server.stop(), 0);
  }
  for (const output of [server.stdout(), server.stderr()]) assert.ok(!output.includes(alice), 'the gateway never logs a key');
  assert.ok(server.logs().some((record) => record.event === 'store_keys_changed'), 'the change was noticed by polling');
});

test('keys against a Redis that is not there: a clear error, exit code 1', async () => {
  const result = await runCli(['keys', 'list', '--redis', 'redis://:secret-password@127.0.0.1:1'], cliEnvironment(), 20_000);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /Cannot reach Redis at redis:\/\/\*\*\*@127\.0\.0\.1:1/);
  assert.doesNotMatch(result.stderr, /secret-password/);
});
