import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runMultiProviderInferenceServer, type GatewayHandle, type KeyView } from 'zg-gateway';
import { silentLogger } from '../helpers/fakes.js';
import { startHostileUpstream, type HostileUpstream } from '../helpers/hostile-upstream.js';
import { asAdmin } from '../helpers/admin-fetch.js';

const ALICE = 'zgk-alice-0123456789abcdef';
const BOB = 'zgk-bob-0123456789abcdefgh';
const CAROL = 'zgk-carol-0123456789abcdef';
const DAVE = 'zgk-dave-0123456789abcdefg';
/** Prices of the upstream's model, neuron per token. */
const INPUT_PRICE = 1_000_000_007n;
const OUTPUT_PRICE = 2_000_000_011n;

async function chat(gateway: GatewayHandle, key: string | undefined, content: string, extra: Record<string, string> = {}): Promise<{ status: number; body: { error?: { code: string; message: string }; usage?: { prompt_tokens: number; completion_tokens: number } }; headers: Headers }> {
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}), ...extra },
    body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content }] }),
  });
  return { status: response.status, body: (await response.json()) as never, headers: response.headers };
}

describe('client keys, limits and budgets', () => {
  let upstream: HostileUpstream;
  let gateway: GatewayHandle;

  before(async () => {
    upstream = await startHostileUpstream('priced');
    gateway = await runMultiProviderInferenceServer(
      {
        openAICompatibleProviders: [{ name: 'priced', baseUrl: upstream.baseUrl, models: [{ id: 'm', inputPrice: INPUT_PRICE.toString(), outputPrice: OUTPUT_PRICE.toString() }] }],
        apiKeys: [
          { id: 'alice', key: ALICE, rpm: 5 },
          { id: 'bob', key: BOB, budget: { amount: (40n * INPUT_PRICE).toString(), period: 'day' } },
          { id: 'carol', key: CAROL, models: ['other-model'] },
          { id: 'dave', key: DAVE },
        ],
        port: 0,
      },
      { logger: silentLogger },
    );
  });

  after(async () => {
    await gateway?.close();
    await upstream?.close();
  });

  test('no key, a wrong key or a malformed header: 401 invalid_api_key, OpenAI-style; the scheme is case-insensitive', async () => {
    for (const key of [undefined, 'zgk-not-a-real-key-0000000000']) {
      const answer = await chat(gateway, key, 'hi');
      assert.equal(answer.status, 401);
      assert.equal(answer.body.error?.code, 'invalid_api_key');
    }
    const malformed = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: 'Basic abc' }, body: '{}' });
    assert.equal(malformed.status, 401);
    const lower = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `bearer ${DAVE}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'lower-case scheme' }] }),
    });
    assert.equal(lower.status, 200);
    const models = await fetch(`${gateway.url}/v1/models`);
    assert.equal(models.status, 401, '/v1/models needs a key too');
    assert.equal((await fetch(`${gateway.url}/v1/models`, { headers: { authorization: `Bearer ${DAVE}` } })).status, 200);
    assert.equal((await fetch(`${gateway.url}/health`)).status, 200, '/health needs none');
  });

  test('rpm holds under concurrency: 12 at once with rpm 5 admit exactly 5; the rest get 429 with Retry-After', async () => {
    const answers = await Promise.all(Array.from({ length: 12 }, (_, index) => chat(gateway, ALICE, `burst ${index}`)));
    const statuses = answers.map((answer) => answer.status).sort();
    assert.deepEqual(statuses, [...Array(5).fill(200), ...Array(7).fill(429)]);
    for (const refused of answers.filter((answer) => answer.status === 429)) {
      assert.equal(refused.body.error?.code, 'key_rate_limited');
      assert.ok(Number(refused.headers.get('retry-after')) >= 1);
    }
  });

  test('a model the key may not use: 403 model_not_allowed', async () => {
    const answer = await chat(gateway, CAROL, 'not mine');
    assert.equal(answer.status, 403);
    assert.equal(answer.body.error?.code, 'model_not_allowed');
  });

  test('spend adds up to usage × price exactly, and the budget stops the key with 402 budget_exceeded', async () => {
    let expected = 0n;
    let refused: Awaited<ReturnType<typeof chat>> | undefined;
    for (let index = 0; index < 20 && !refused; index++) {
      const answer = await chat(gateway, BOB, `spend ${index} with a few more words`);
      if (answer.status === 402) refused = answer;
      else {
        assert.equal(answer.status, 200);
        const usage = answer.body.usage;
        assert.ok(usage);
        const cost = BigInt(usage.prompt_tokens) * INPUT_PRICE + BigInt(usage.completion_tokens) * OUTPUT_PRICE;
        assert.equal(answer.headers.get('x-request-cost'), cost.toString());
        expected += cost;
      }
    }
    assert.ok(refused, 'the budget ran out');
    assert.equal(refused.body.error?.code, 'budget_exceeded');
    const keys = (await (await fetch(`${gateway.url}/admin/keys`, asAdmin(gateway))).json()) as { keys: KeyView[] };
    const bob = keys.keys.find((key) => key.id === 'bob');
    assert.equal(bob?.spend.totalNeuron, expected.toString());
    assert.equal(bob?.spend.budget?.remainingNeuron, '0');
    assert.ok(!JSON.stringify(keys).includes(BOB) && !JSON.stringify(keys).includes('sha256:'), 'no key or hash in /admin/keys');
  });
});

describe('safe defaults', () => {
  test('a non-loopback host without keys refuses to start, saying why; with allowUnauthenticated it starts', async () => {
    const upstream = await startHostileUpstream('u');
    try {
      const options = { openAICompatibleProviders: [{ name: 'u', baseUrl: upstream.baseUrl, model: 'm' }], port: 0, host: '0.0.0.0' };
      await assert.rejects(runMultiProviderInferenceServer(options, { logger: silentLogger }), (error: Error & { code?: string; param?: string }) => {
        assert.equal(error.code, 'invalid_config');
        assert.equal(error.param, 'host');
        assert.match(error.message, /anyone who reaches the port could spend/);
        return true;
      });
      const open = await runMultiProviderInferenceServer({ ...options, allowUnauthenticated: true, adminToken: 'a-long-admin-token-for-tests' }, { logger: silentLogger });
      try {
        assert.equal((await fetch(`${open.url}/admin/providers`)).status, 401, '/admin needs the token');
        assert.equal((await fetch(`${open.url}/admin/providers`, { headers: { authorization: 'BEARER a-long-admin-token-for-tests' } })).status, 200, 'scheme case-insensitive');
      } finally {
        await open.close();
      }
      const noToken = await runMultiProviderInferenceServer({ ...options, allowUnauthenticated: true }, { logger: silentLogger });
      try {
        const closed = await fetch(`${noToken.url}/admin/providers`);
        assert.equal(closed.status, 401, '/admin without the (generated) admin token is closed');
        assert.match(((await closed.json()) as { error: { message: string } }).error.message, /adminToken/);
      } finally {
        await noToken.close();
      }
    } finally {
      await upstream.close();
    }
  });

  test('CORS is off by default; configured origins get the headers and preflight answers', async () => {
    const upstream = await startHostileUpstream('u');
    const plain = await runMultiProviderInferenceServer({ openAICompatibleProviders: [{ name: 'u', baseUrl: upstream.baseUrl, model: 'm' }], port: 0 }, { logger: silentLogger });
    const withCors = await runMultiProviderInferenceServer(
      { openAICompatibleProviders: [{ name: 'u', baseUrl: upstream.baseUrl, model: 'm' }], port: 0, corsOrigins: ['https://app.example'] },
      { logger: silentLogger },
    );
    try {
      const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'cors' }] });
      const headers = { 'content-type': 'application/json', origin: 'https://app.example' };
      const none = await fetch(`${plain.url}/v1/chat/completions`, { method: 'POST', headers, body });
      assert.equal(none.headers.get('access-control-allow-origin'), null);
      const allowed = await fetch(`${withCors.url}/v1/chat/completions`, { method: 'POST', headers, body });
      assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://app.example');
      const other = await fetch(`${withCors.url}/v1/chat/completions`, { method: 'POST', headers: { ...headers, origin: 'https://evil.example' }, body });
      assert.equal(other.headers.get('access-control-allow-origin'), null);
      const preflight = await fetch(`${withCors.url}/v1/chat/completions`, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' } });
      assert.equal(preflight.status, 204);
      assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /POST/);
    } finally {
      await plain.close();
      await withCors.close();
      await upstream.close();
    }
  });
});
