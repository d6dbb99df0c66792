import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { runMultiProviderInferenceServer, type GatewayHandle, type KeyView } from 'zg-gateway';
import { waitFor } from '../helpers/devnet-gateway.js';
import { inputTokens, startEmbeddingsUpstream, vectorOf, type EmbeddingsUpstream } from '../helpers/embeddings-upstream.js';
import { silentLogger } from '../helpers/fakes.js';

/** Neuron per input token of `embed-small`. */
const INPUT_PRICE = 1_000_003n;
const ADMIN_TOKEN = 'admin-token-0123456789abcdef';
const key = (name: string): string => `zgk-${name}-0123456789abcdef`;
/** 40 characters: 10 input tokens, as the upstream and the gateway's estimate both count them. */
const FORTY = 'the quick brown fox jumps over a lazy do';

type Answer = { status: number; text: string; body: Record<string, unknown> & { error?: { code: string; message: string; param?: string | null } }; headers: Headers };

let embA: EmbeddingsUpstream;
let embB: EmbeddingsUpstream;
let chatty: EmbeddingsUpstream;
let anything: EmbeddingsUpstream;
let gateway: GatewayHandle;

async function post(path: string, apiKey: string, body: unknown): Promise<Answer> {
  const response = await fetch(`${gateway.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, text, body: JSON.parse(text) as Answer['body'], headers: response.headers };
}

async function keyView(id: string): Promise<KeyView> {
  const response = await fetch(`${gateway.url}/admin/keys`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  const view = ((await response.json()) as { keys: KeyView[] }).keys.find((entry) => entry.id === id);
  assert.ok(view, `key ${id} listed`);
  return view;
}

const paths = (upstream: EmbeddingsUpstream, path: string): number => upstream.requests.filter((request) => request.path === path).length;

before(async () => {
  embA = await startEmbeddingsUpstream('emb-a');
  embB = await startEmbeddingsUpstream('emb-b');
  chatty = await startEmbeddingsUpstream('chatty');
  anything = await startEmbeddingsUpstream('anything');
  gateway = await runMultiProviderInferenceServer(
    {
      openAICompatibleProviders: [
        { name: 'emb-a', baseUrl: embA.baseUrl, models: [{ id: 'embed-small', type: 'embedding', inputPrice: INPUT_PRICE.toString() }, { id: 'dual', type: 'embedding' }] },
        { name: 'emb-b', baseUrl: embB.baseUrl, models: [{ id: 'embed-small', upstreamId: 'embed-small-v2', type: 'embedding', inputPrice: INPUT_PRICE.toString() }] },
        { name: 'chatty', baseUrl: chatty.baseUrl, models: ['chat-model', { id: 'dual', type: 'chat' }] },
        // Lists no models: takes any chat model, never an embeddings request.
        { name: 'anything', baseUrl: anything.baseUrl },
      ],
      apiKeys: [
        { id: 'open', key: key('open') },
        { id: 'only-chat', key: key('only-chat'), models: ['chat-model'] },
        { id: 'tpm', key: key('tpm'), tpm: 30 },
        { id: 'budget', key: key('budget'), budget: { amount: (3n * 10n * INPUT_PRICE).toString(), period: 'day' } },
      ],
      adminToken: ADMIN_TOKEN,
      port: 0,
    },
    { logger: silentLogger },
  );
});

after(async () => {
  await gateway?.close();
  await Promise.all([embA?.close(), embB?.close(), chatty?.close(), anything?.close()]);
});

describe('POST /v1/embeddings', () => {
  test('the openai client: one string, an array, base64; vectors exact, the answer relayed byte for byte, cost from the input price', async () => {
    const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: key('open'), maxRetries: 0 });
    const single = await openai.embeddings.create({ model: 'embed-small', input: FORTY, encoding_format: 'float' }).withResponse();
    assert.deepEqual(single.data.data[0]?.embedding, vectorOf(FORTY, 4));
    assert.equal(single.data.usage.prompt_tokens, 10);
    const served = single.response.headers.get('x-provider-address');
    assert.ok(served === 'emb-a' || served === 'emb-b', `served by ${served}`);
    assert.equal(single.response.headers.get('x-request-cost'), (10n * INPUT_PRICE).toString());

    const many = await openai.embeddings.create({ model: 'embed-small', input: ['alpha', 'beta', 'gamma'], encoding_format: 'float', dimensions: 3 });
    assert.deepEqual(
      many.data.map((item) => item.embedding),
      ['alpha', 'beta', 'gamma'].map((text) => vectorOf(text, 3)),
    );
    assert.equal(many.usage.prompt_tokens, inputTokens(['alpha', 'beta', 'gamma']));

    // No encoding_format: the client asks for base64 and decodes it itself.
    const decoded = await openai.embeddings.create({ model: 'embed-small', input: ['base', 'sixty-four'] });
    assert.deepEqual(
      decoded.data.map((item) => item.embedding),
      ['base', 'sixty-four'].map((text) => vectorOf(text, 4)),
    );

    // Byte for byte: the upstream spaces its JSON as no re-encoding would.
    const raw = await post('/v1/embeddings', key('open'), { model: 'embed-small', input: [[1, 2, 3], [4, 5]] });
    assert.equal(raw.status, 200);
    const upstream = raw.headers.get('x-provider-address') === 'emb-a' ? embA : embB;
    assert.equal(raw.text, upstream.lastAnswer?.toString('utf8'));
    assert.equal(raw.headers.get('x-request-cost'), (5n * INPUT_PRICE).toString());
    // emb-b is sent its own name for the model.
    assert.ok(embB.requests.some((request) => request.path === '/v1/embeddings' && request.body.model === 'embed-small-v2'));
    assert.ok(!embB.requests.some((request) => request.body.model === 'embed-small'));
  });

  test('a provider of the wrong type never receives the request, in either direction', async () => {
    const chattyEmbeddings = paths(chatty, '/v1/embeddings');
    const anythingEmbeddings = paths(anything, '/v1/embeddings');
    const embeddingChats = paths(embA, '/v1/chat/completions') + paths(embB, '/v1/chat/completions');
    // A chat model asked for embeddings, and an embedding model asked for a chat: not served.
    const wrongEmbedding = await post('/v1/embeddings', key('open'), { model: 'chat-model', input: 'x' });
    assert.equal(wrongEmbedding.status, 404);
    assert.equal(wrongEmbedding.body.error?.code, 'model_not_found');
    assert.match(wrongEmbedding.body.error?.message ?? '', /served as a chat model/);
    const unknown = await post('/v1/embeddings', key('open'), { model: 'any-model-at-all', input: 'x' });
    assert.equal(unknown.status, 404);
    // A chat for an embedding model: only `anything` (which takes any chat model) may serve it; held to
    // the embedding providers, no provider matches.
    const wrongChat = await post('/v1/chat/completions', key('open'), { model: 'embed-small', messages: [{ role: 'user', content: 'hi' }], provider: { only: ['emb-a', 'emb-b'] } });
    assert.equal(wrongChat.status, 404);
    assert.equal(wrongChat.body.error?.code, 'no_matching_provider');
    const anyChat = await post('/v1/chat/completions', key('open'), { model: 'embed-small', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(anyChat.status, 200);
    assert.equal(anyChat.headers.get('x-provider-address'), 'anything');
    // The same id offered as both types: each request goes to its own type's providers only.
    for (let index = 0; index < 4; index++) {
      const embedding = await post('/v1/embeddings', key('open'), { model: 'dual', input: `dual ${index}` });
      assert.equal(embedding.status, 200);
      assert.equal(embedding.headers.get('x-provider-address'), 'emb-a');
      const chat = await post('/v1/chat/completions', key('open'), { model: 'dual', messages: [{ role: 'user', content: 'hi' }] });
      assert.equal(chat.status, 200);
      assert.ok(['chatty', 'anything'].includes(chat.headers.get('x-provider-address') ?? ''), `chat served by ${chat.headers.get('x-provider-address')}`);
    }
    assert.equal(paths(chatty, '/v1/embeddings'), chattyEmbeddings);
    assert.equal(paths(anything, '/v1/embeddings'), anythingEmbeddings);
    assert.equal(paths(embA, '/v1/chat/completions') + paths(embB, '/v1/chat/completions'), embeddingChats);
  });

  test('bad bodies are 400 naming the field; an input array over 2048 items names `input`', async () => {
    const cases: Array<[unknown, string]> = [
      [{ model: 'embed-small', input: Array.from({ length: 2049 }, () => 'a') }, 'input'],
      [{ model: 'embed-small', input: [] }, 'input'],
      [{ model: 'embed-small', input: [1, 'mixed'] }, 'input'],
      [{ model: 'embed-small' }, 'input'],
      [{ input: 'no model' }, 'model'],
      [{ model: 'embed-small', input: 'x', encoding_format: 'hex' }, 'encoding_format'],
      [{ model: 'embed-small', input: 'x', dimensions: 0 }, 'dimensions'],
      [{ model: 'embed-small', input: 'x', user: 7 }, 'user'],
    ];
    const before = embA.requests.length + embB.requests.length;
    for (const [body, param] of cases) {
      const answer = await post('/v1/embeddings', key('open'), body);
      assert.equal(answer.status, 400, JSON.stringify(body).slice(0, 80));
      assert.equal(answer.body.error?.code, 'invalid_request');
      assert.equal(answer.body.error?.param, param, answer.body.error?.message);
    }
    const over = await post('/v1/embeddings', key('open'), { model: 'embed-small', input: Array.from({ length: 2049 }, () => 'a') });
    assert.match(over.body.error?.message ?? '', /at most 2048 items/);
    assert.equal(embA.requests.length + embB.requests.length, before, 'nothing reached an upstream');
    const wrongType = await fetch(`${gateway.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'text/plain', authorization: `Bearer ${key('open')}` }, body: '{}' });
    assert.equal(wrongType.status, 415);
    const noKey = await fetch(`${gateway.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'embed-small', input: 'x' }) });
    assert.equal(noKey.status, 401);
  });

  test('a key restricted to a chat model may not use an embedding model', async () => {
    const refused = await post('/v1/embeddings', key('only-chat'), { model: 'embed-small', input: 'x' });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error?.code, 'model_not_allowed');
  });

  test('tpm counts input tokens, reserved at admission: 20 concurrent 10-token inputs against tpm 30 admit at most 3', async (t) => {
    embA.delayMs = 300;
    embB.delayMs = 300;
    try {
      const answers = await Promise.all(Array.from({ length: 20 }, () => post('/v1/embeddings', key('tpm'), { model: 'embed-small', input: FORTY })));
      const admitted = answers.filter((answer) => answer.status === 200).length;
      const codes = [...new Set(answers.filter((answer) => answer.status !== 200).map((answer) => answer.body.error?.code))];
      await waitFor(async () => (await keyView('tpm')).usage.requests === admitted);
      const view = await keyView('tpm');
      t.diagnostic(`tpm 30: admitted ${admitted} of 20 requests of 10 input tokens; ${view.usage.tokensLastMinute} tokens counted`);
      assert.ok(admitted >= 1 && admitted <= 3, `admitted ${admitted}`);
      assert.deepEqual(codes, ['key_rate_limited']);
      assert.equal(view.usage.tokensLastMinute, admitted * 10);
    } finally {
      embA.delayMs = 0;
      embB.delayMs = 0;
    }
  });

  test('budget: spend is prompt tokens × input price; a budget worth 3 requests admits at most 3 of 20 concurrent', async (t) => {
    embA.delayMs = 300;
    embB.delayMs = 300;
    try {
      const answers = await Promise.all(Array.from({ length: 20 }, () => post('/v1/embeddings', key('budget'), { model: 'embed-small', input: FORTY })));
      const admitted = answers.filter((answer) => answer.status === 200).length;
      await waitFor(async () => (await keyView('budget')).spend.totalNeuron === (BigInt(admitted) * 10n * INPUT_PRICE).toString());
      const view = await keyView('budget');
      t.diagnostic(`budget of 3 requests: admitted ${admitted} of 20; spent ${view.spend.totalNeuron} neuron`);
      assert.ok(admitted >= 1 && admitted <= 3, `admitted ${admitted}`);
      assert.equal(view.spend.totalNeuron, (BigInt(admitted) * 10n * INPUT_PRICE).toString());
      for (const answer of answers.filter((one) => one.status === 200)) assert.equal(answer.headers.get('x-request-cost'), (10n * INPUT_PRICE).toString());
    } finally {
      embA.delayMs = 0;
      embB.delayMs = 0;
    }
  });

  test('X-Session-Id: a chat pin is neither followed nor moved by embeddings', async () => {
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${key('open')}`, 'x-session-id': 'conversation-1' };
    const chat = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers, body: JSON.stringify({ model: 'chat-model', messages: [{ role: 'user', content: 'hi' }] }) });
    assert.equal(chat.status, 200);
    const embedding = await fetch(`${gateway.url}/v1/embeddings`, { method: 'POST', headers, body: JSON.stringify({ model: 'embed-small', input: 'x' }) });
    assert.equal(embedding.status, 200);
    assert.equal(embedding.headers.get('x-session-repinned'), null);
    const again = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers, body: JSON.stringify({ model: 'chat-model', messages: [{ role: 'user', content: 'hi' }] }) });
    assert.equal(again.headers.get('x-provider-address'), chat.headers.get('x-provider-address'));
    assert.equal(again.headers.get('x-session-repinned'), null);
  });

  test('/v1/models lists each model with its service type', async () => {
    const response = await fetch(`${gateway.url}/v1/models`, { headers: { authorization: `Bearer ${key('open')}` } });
    const list = (await response.json()) as { data: Array<{ id: string; service_type: string; service_types?: string[]; providers: number }> };
    const byId = new Map(list.data.map((model) => [model.id, model]));
    assert.equal(byId.get('embed-small')?.service_type, 'embedding');
    assert.equal(byId.get('embed-small')?.providers, 2);
    assert.equal(byId.get('chat-model')?.service_type, 'chat');
    assert.equal(byId.get('dual')?.service_type, 'chat');
    assert.deepEqual(byId.get('dual')?.service_types, ['chat', 'embedding']);
  });

  test('the OpenAPI document describes the route, and metrics count it', async () => {
    const document = (await (await fetch(`${gateway.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { $ref: string } }> } }>> };
    const operation = document.paths['/v1/embeddings']?.post;
    assert.ok(operation, 'POST /v1/embeddings documented');
    assert.equal(operation.requestBody?.content['application/json']?.schema.$ref, '#/components/schemas/EmbeddingRequest');
    const metrics = await (await fetch(`${gateway.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).text();
    assert.match(metrics, /zg_gateway_requests_total\{[^}]*route="\/v1\/embeddings"[^}]*status="200"/);
  });

  // Last: it opens emb-a's breaker.
  test('fails over to the second upstream when the first answers 500', async () => {
    embA.failWith = 500;
    const before = paths(embA, '/v1/embeddings');
    try {
      const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: key('open'), maxRetries: 0 });
      for (let index = 0; index < 4; index++) {
        const { data, response } = await openai.embeddings.create({ model: 'embed-small', input: `failover ${index}`, encoding_format: 'float' }).withResponse();
        assert.equal(response.headers.get('x-provider-address'), 'emb-b');
        assert.deepEqual(data.data[0]?.embedding, vectorOf(`failover ${index}`, 4));
      }
      assert.ok(paths(embA, '/v1/embeddings') > before, 'emb-a was tried and failed over from');
    } finally {
      embA.failWith = undefined;
    }
  });
});

describe('an upstream that does not serve /v1/embeddings', () => {
  let upstream: EmbeddingsUpstream;
  let own: GatewayHandle;

  before(async () => {
    upstream = await startEmbeddingsUpstream('no-embed');
    upstream.failWith = 404;
    upstream.failPath = '/v1/embeddings';
    own = await runMultiProviderInferenceServer(
      { openAICompatibleProviders: [{ name: 'no-embed', baseUrl: upstream.baseUrl, models: ['c', { id: 'e', type: 'embedding' }] }], port: 0 },
      { logger: silentLogger },
    );
  });

  after(async () => {
    await own?.close();
    await upstream?.close();
  });

  test('is 404 route_not_supported naming the route, remembered, and its chats go on (no breaker opened)', async () => {
    const send = (path: string, body: unknown): Promise<Response> => fetch(`${own.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    for (let index = 0; index < 6; index++) {
      const answer = await send('/v1/embeddings', { model: 'e', input: 'x' });
      assert.equal(answer.status, 404);
      const error = ((await answer.json()) as { error: { code: string; message: string } }).error;
      assert.equal(error.code, 'route_not_supported');
      assert.match(error.message, /\/v1\/embeddings/);
    }
    assert.equal(paths(upstream, '/v1/embeddings'), 1, 'asked once, then remembered');
    for (let index = 0; index < 3; index++) assert.equal((await send('/v1/chat/completions', { model: 'c', messages: [{ role: 'user', content: 'hi' }] })).status, 200);
  });
});
