import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { createLogger, runMultiProviderInferenceServer, type GatewayHandle, type KeyView } from 'zg-gateway';
import { waitFor } from '../helpers/devnet-gateway.js';
import { silentLogger } from '../helpers/fakes.js';
import { startHostileUpstream, type HostileUpstream } from '../helpers/hostile-upstream.js';
import { startSlowStreamUpstream, type SlowStreamUpstream } from '../helpers/slow-stream-upstream.js';

/** Prices of every upstream's models, neuron per token. */
const INPUT_PRICE = 1_000_000_007n;
const OUTPUT_PRICE = 2_000_000_011n;
const ADMIN_TOKEN = 'admin-token-0123456789abcdef';
/** Every concurrency request sends this (12 characters, echoed back) with max_tokens 12. */
const CONTENT = 'abcdefghijkl';
/** The hostile upstream's usage for it: 5 prompt tokens, one completion token per character. */
const ANSWER_TOKENS = 5 + CONTENT.length;
const ANSWER_COST = 5n * INPUT_PRICE + BigInt(CONTENT.length) * OUTPUT_PRICE;
const key = (name: string): string => `zgk-${name}-0123456789abcdef`;

type Answer = { status: number; body: Record<string, unknown> & { error?: { code: string; message: string }; id?: string }; headers: Headers };

async function post(gateway: GatewayHandle, path: string, apiKey: string | undefined, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(`${gateway.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}), ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Answer['body'], headers: response.headers };
}

function chat(gateway: GatewayHandle, apiKey: string, model: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<Answer> {
  return post(gateway, '/v1/chat/completions', apiKey, { model, messages: [{ role: 'user', content: CONTENT }], ...extra }, headers);
}

async function keyView(gateway: GatewayHandle, id: string): Promise<KeyView> {
  const response = await fetch(`${gateway.url}/admin/keys`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  const keys = (await response.json()) as { keys: KeyView[] };
  const view = keys.keys.find((entry) => entry.id === id);
  assert.ok(view, `key ${id} listed`);
  return view;
}

describe('limits hold under 200 concurrent requests', () => {
  let upstream: HostileUpstream;
  let gateway: GatewayHandle;

  before(async () => {
    // Every answer takes 600 ms: all 200 requests are admitted (or refused) before the first one ends.
    upstream = await startHostileUpstream('slow', { kind: 'delay', ms: 600 });
    gateway = await runMultiProviderInferenceServer(
      {
        openAICompatibleProviders: [{ name: 'slow', baseUrl: upstream.baseUrl, models: [{ id: 'm', inputPrice: INPUT_PRICE.toString(), outputPrice: OUTPUT_PRICE.toString() }] }],
        apiKeys: [
          { id: 'budget', key: key('budget'), budget: { amount: (5n * ANSWER_COST).toString(), period: 'day' } },
          { id: 'budget-nomax', key: key('budget-nomax'), budget: { amount: (5n * ANSWER_COST).toString(), period: 'day' } },
          { id: 'tpm', key: key('tpm'), tpm: 10 * ANSWER_TOKENS },
          { id: 'tpm-nomax', key: key('tpm-nomax'), tpm: 10 * ANSWER_TOKENS },
          { id: 'rpm', key: key('rpm'), rpm: 7 },
          { id: 'concurrent', key: key('concurrent'), maxConcurrent: 7 },
        ],
        adminToken: ADMIN_TOKEN,
        port: 0,
      },
      { logger: silentLogger },
    );
  });

  after(async () => {
    await gateway?.close();
    await upstream?.close();
  });

  async function burst(id: string, extra: Record<string, unknown> = { max_tokens: CONTENT.length }): Promise<{ admitted: number; codes: string[] }> {
    const answers = await Promise.all(Array.from({ length: 200 }, () => chat(gateway, key(id), 'm', extra)));
    const refused = answers.filter((answer) => answer.status !== 200);
    return { admitted: answers.length - refused.length, codes: [...new Set(refused.map((answer) => answer.body.error?.code ?? String(answer.status)))] };
  }

  test('budget worth 5 answers: at most 5 answered, spend within the budget', async (t) => {
    const { admitted, codes } = await burst('budget');
    // Spend is committed just after each answer is written: wait until the last one is in.
    await waitFor(async () => (await keyView(gateway, 'budget')).spend.totalNeuron === (BigInt(admitted) * ANSWER_COST).toString());
    const view = await keyView(gateway, 'budget');
    const budget = 5n * ANSWER_COST;
    t.diagnostic(`budget: admitted ${admitted} of 200 (limit 5 answers); spent ${view.spend.totalNeuron} of ${budget} neuron`);
    assert.ok(admitted >= 1 && admitted <= 5, `admitted ${admitted}`);
    assert.deepEqual(codes, ['budget_exceeded']);
    assert.equal(view.spend.totalNeuron, (BigInt(admitted) * ANSWER_COST).toString());
    assert.ok(BigInt(view.spend.totalNeuron) <= budget);
  });

  test('tpm worth 10 answers: at most 10 answered, tokens within tpm', async (t) => {
    const { admitted, codes } = await burst('tpm');
    await waitFor(async () => (await keyView(gateway, 'tpm')).usage.requests === admitted);
    const view = await keyView(gateway, 'tpm');
    t.diagnostic(`tpm: admitted ${admitted} of 200 (limit 10 answers = ${10 * ANSWER_TOKENS} tokens); used ${view.usage.tokensLastMinute} tokens`);
    assert.ok(admitted >= 1 && admitted <= 10, `admitted ${admitted}`);
    assert.deepEqual(codes, ['key_rate_limited']);
    assert.ok(view.usage.tokensLastMinute <= 10 * ANSWER_TOKENS);
  });

  test('without max_tokens (256 completion tokens assumed): budget and tpm hold too, admitting fewer at once', async (t) => {
    const budget = await burst('budget-nomax', {});
    const tpm = await burst('tpm-nomax', {});
    t.diagnostic(`no max_tokens: budget admitted ${budget.admitted} of 200 (limit 5 answers); tpm admitted ${tpm.admitted} of 200 (limit 10 answers)`);
    assert.ok(budget.admitted >= 1 && budget.admitted <= 5);
    assert.ok(tpm.admitted >= 1 && tpm.admitted <= 10);
  });

  test('rpm 7: exactly 7 answered', async (t) => {
    const { admitted, codes } = await burst('rpm');
    t.diagnostic(`rpm: admitted ${admitted} of 200 (limit 7)`);
    assert.equal(admitted, 7);
    assert.deepEqual(codes, ['key_rate_limited']);
  });

  test('maxConcurrent 7: exactly 7 answered (all 200 arrive while the first 7 are in flight)', async (t) => {
    const { admitted, codes } = await burst('concurrent');
    t.diagnostic(`maxConcurrent: admitted ${admitted} of 200 (limit 7)`);
    assert.equal(admitted, 7);
    assert.deepEqual(codes, ['key_concurrency_exceeded']);
  });
});

describe('tenants are apart', () => {
  const upstreams: Record<string, HostileUpstream> = {};
  let slowStream: SlowStreamUpstream;
  let gateway: GatewayHandle;
  const lines: string[] = [];

  before(async () => {
    for (const name of ['broken', 'good', 'p1', 'p2']) upstreams[name] = await startHostileUpstream(name);
    (upstreams.broken as HostileUpstream).mode = { kind: 'status', status: 500 };
    slowStream = await startSlowStreamUpstream('slowstream', 10, 60);
    const priced = (id: string) => [{ id, inputPrice: INPUT_PRICE.toString(), outputPrice: OUTPUT_PRICE.toString() }];
    const logger = createLogger(
      'info',
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
          callback();
        },
      }),
    );
    gateway = await runMultiProviderInferenceServer(
      {
        openAICompatibleProviders: [
          { name: 'broken', baseUrl: (upstreams.broken as HostileUpstream).baseUrl, models: priced('a') },
          { name: 'good', baseUrl: (upstreams.good as HostileUpstream).baseUrl, models: priced('b') },
          { name: 'p1', baseUrl: (upstreams.p1 as HostileUpstream).baseUrl, models: priced('m') },
          { name: 'p2', baseUrl: (upstreams.p2 as HostileUpstream).baseUrl, models: priced('m') },
          { name: 'slowstream', baseUrl: slowStream.baseUrl, models: priced('s') },
        ],
        fallbacks: { a: ['b'] },
        apiKeys: [
          { id: 'alice', key: key('alice') },
          { id: 'bob', key: key('bob') },
          { id: 'only-a', key: key('only-a'), models: ['a'] },
          { id: 'verifier', key: key('verifier'), rpm: 3 },
          { id: 'streamer', key: key('streamer') },
          { id: 'vip', key: key('vip'), maxPriority: 8 },
        ],
        adminToken: ADMIN_TOKEN,
        healthCheckInterval: 600_000,
        port: 0,
      },
      { logger },
    );
  });

  after(async () => {
    await gateway?.close();
    await Promise.all(Object.values(upstreams).map((upstream) => upstream.close()));
    await slowStream?.close();
  });

  test('a fallback never reaches a model the key may not use; a key that may use it still falls back', async () => {
    const good = upstreams.good as HostileUpstream;
    const before = good.models.length;
    const refused = await chat(gateway, key('only-a'), 'a');
    assert.notEqual(refused.status, 200, `only-a was served: ${JSON.stringify(refused.body).slice(0, 200)} (x-model-fallback ${refused.headers.get('x-model-fallback')})`);
    assert.equal(good.models.length, before, 'the provider of b got no request for only-a');
    const allowed = await chat(gateway, key('alice'), 'a');
    assert.equal(allowed.status, 200);
    assert.equal(allowed.headers.get('x-model-fallback'), 'b');
  });

  test('/v1/models lists only the key\'s models, from a cache rebuilt only when the fleet changes', async () => {
    const list = async (apiKey: string): Promise<string[]> => {
      const response = await fetch(`${gateway.url}/v1/models`, { headers: { authorization: `Bearer ${apiKey}` } });
      assert.equal(response.status, 200);
      return ((await response.json()) as { data: Array<{ id: string }> }).data.map((model) => model.id);
    };
    assert.deepEqual(await list(key('only-a')), ['a']);
    assert.deepEqual(await list(key('alice')), ['a', 'b', 'm', 's']);
    const one = await fetch(`${gateway.url}/v1/models/b`, { headers: { authorization: `Bearer ${key('only-a')}` } });
    assert.equal(one.status, 404, 'a model the key may not use is not found');
    const builds = gateway.gateway.models.builds;
    for (let i = 0; i < 5; i++) await list(key('alice'));
    assert.equal(gateway.gateway.models.builds, builds, 'not rebuilt per call');
    const extra = await startHostileUpstream('extra');
    try {
      await gateway.providers.add({ name: 'extra', baseUrl: extra.baseUrl, models: priced('z') });
      assert.deepEqual(await list(key('alice')), ['a', 'b', 'm', 's', 'z'], 'rebuilt when the fleet changed');
      assert.equal(gateway.gateway.models.builds, builds + 1);
      await gateway.providers.remove('extra');
    } finally {
      await extra.close();
    }
    function priced(id: string) {
      return [{ id, inputPrice: INPUT_PRICE.toString(), outputPrice: OUTPUT_PRICE.toString() }];
    }
  });

  test('another key\'s POST /v1/verify of a response id: 404 response_not_found, exactly as an unknown id', async () => {
    const served = await chat(gateway, key('alice'), 'm');
    assert.equal(served.status, 200);
    const id = served.body.id as string;
    const own = await post(gateway, '/v1/verify', key('alice'), { id });
    assert.equal(own.status, 200, 'the key that made it verifies it');
    const other = await post(gateway, '/v1/verify', key('bob'), { id });
    const unknownId = `${id.slice(0, -1)}${id.endsWith('x') ? 'y' : 'x'}`;
    const unknown = await post(gateway, '/v1/verify', key('bob'), { id: unknownId });
    assert.equal(other.status, 404);
    assert.equal(other.body.error?.code, 'response_not_found');
    assert.equal(unknown.status, 404);
    assert.deepEqual(JSON.parse(JSON.stringify(other.body).replaceAll(id, 'ID')), JSON.parse(JSON.stringify(unknown.body).replaceAll(unknownId, 'ID')));
  });

  test('another key\'s X-Session-Id is another session: it cannot move the first key\'s pin', async () => {
    const first = await chat(gateway, key('alice'), 'm', {}, { 'x-session-id': 'shared-session' });
    assert.equal(first.status, 200);
    const pinned = first.headers.get('x-provider-address');
    const other = pinned === 'p1' ? 'p2' : 'p1';
    const intruder = await chat(gateway, key('bob'), 'm', { provider: { only: [other] } }, { 'x-session-id': 'shared-session' });
    assert.equal(intruder.status, 200);
    assert.equal(intruder.headers.get('x-provider-address'), other);
    assert.equal(intruder.headers.get('x-session-repinned'), null, 'bob had no pin of his own to move');
    for (let i = 0; i < 4; i++) {
      const again = await chat(gateway, key('alice'), 'm', {}, { 'x-session-id': 'shared-session' });
      assert.equal(again.headers.get('x-provider-address'), pinned, 'alice stays on her provider');
      assert.equal(again.headers.get('x-session-repinned'), null);
    }
  });

  test('a stream the client aborts at 90 % is charged for what the provider produced', async (t) => {
    const client = new AbortController();
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key('streamer')}` },
      body: JSON.stringify({ model: 's', stream: true, messages: [{ role: 'user', content: 'tell me ten things' }] }),
      signal: client.signal,
    });
    assert.equal(response.status, 200);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    try {
      while ((text.match(/"content"/g) ?? []).length < 9) {
        const { value, done } = await reader.read();
        if (done) break;
        text += Buffer.from(value).toString('utf8');
      }
    } finally {
      client.abort();
    }
    assert.equal((text.match(/"content"/g) ?? []).length >= 9, true);
    assert.ok(await waitFor(async () => BigInt((await keyView(gateway, 'streamer')).spend.totalNeuron) > 0n, 5000), 'spend recorded');
    const view = await keyView(gateway, 'streamer');
    t.diagnostic(`aborted stream: charged ${view.spend.totalNeuron} neuron, ${view.usage.promptTokens} prompt + ${view.usage.completionTokens} completion tokens (estimated)`);
    assert.ok(view.usage.completionTokens > 0);
    assert.ok(await waitFor(() => lines.some((entry) => entry.includes('"keyId":"streamer"')), 2000));
    const line = lines.map((entry) => JSON.parse(entry) as Record<string, unknown>).find((entry) => entry.event === 'request' && entry.keyId === 'streamer');
    assert.equal(line?.usageEstimated, true, 'the log line says the usage was estimated');
    assert.equal(line?.outcome, 'client_closed');
    assert.equal(line?.chargedNeuron, view.spend.totalNeuron, 'and carries what was charged');
  });

  test('X-Priority above the key\'s maxPriority is lowered to it, and the answer says so', async () => {
    const plain = await chat(gateway, key('alice'), 'm', {}, { 'x-priority': '10' });
    assert.equal(plain.status, 200);
    assert.equal(plain.headers.get('x-priority-capped'), '5', 'default: the queue\'s defaultPriority');
    const levelled = await chat(gateway, key('alice'), 'm', { user_level: 9 });
    assert.equal(levelled.headers.get('x-priority-capped'), '5');
    const vip = await chat(gateway, key('vip'), 'm', {}, { 'x-priority': '8' });
    assert.equal(vip.headers.get('x-priority-capped'), null);
    const vipHigh = await chat(gateway, key('vip'), 'm', {}, { 'x-priority': '10' });
    assert.equal(vipHigh.headers.get('x-priority-capped'), '8');
    const low = await chat(gateway, key('alice'), 'm', {}, { 'x-priority': '2' });
    assert.equal(low.headers.get('x-priority-capped'), null);
  });

  test('/v1/verify counts against the key\'s rpm', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await post(gateway, '/v1/verify', key('verifier'), { id: `chatcmpl-none-${i}` })).status);
    assert.deepEqual(statuses, [404, 404, 404, 429, 429]);
  });

  test('the request log names the key by its id, never by value', async () => {
    await chat(gateway, key('bob'), 'm');
    assert.ok(await waitFor(() => lines.some((line) => line.includes('"keyId":"bob"')), 2000));
    const requestLines = lines.filter((line) => line.includes('"event":"request"'));
    assert.ok(requestLines.length > 0);
    for (const line of requestLines) {
      assert.ok(!line.includes('"key":'), line);
      assert.ok(!line.includes('zgk-'), 'no key value');
    }
  });
});
