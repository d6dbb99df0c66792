import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createOpenAI } from '@ai-sdk/openai';
import { OpenAIEmbeddings } from '@langchain/openai';
import { embed, embedMany } from 'ai';
import { runMultiProviderInferenceServer, type GatewayHandle, type KeyView } from 'zg-gateway';
import { asAdmin } from '../helpers/admin-fetch.js';
import { inputTokens, startEmbeddingsUpstream, vectorOf, type EmbeddingsUpstream } from '../helpers/embeddings-upstream.js';
import { silentLogger } from '../helpers/fakes.js';

/**
 * `POST /v1/embeddings` as a RAG application reaches it: through LangChain's `OpenAIEmbeddings`
 * and the Vercel AI SDK's `embed` / `embedMany`, not only the `openai` client. Both ask for base64
 * vectors or floats as they see fit; the gateway relays either and bills the input tokens once.
 */

const KEY = 'zgk-rag-0123456789abcdef';
const INPUT_PRICE = 7n;
const DIMENSIONS = 8;
let upstreamA: EmbeddingsUpstream;
let upstreamB: EmbeddingsUpstream;
let gateway: GatewayHandle;

const embeddingCalls = (): Array<Record<string, unknown>> =>
  [...upstreamA.requests, ...upstreamB.requests].filter((request) => request.path === '/v1/embeddings').map((request) => request.body);

async function spentBy(id: string): Promise<bigint> {
  const response = await fetch(`${gateway.url}/admin/keys`, asAdmin(gateway));
  const view = ((await response.json()) as { keys: KeyView[] }).keys.find((entry) => entry.id === id);
  assert.ok(view, `key ${id} is listed`);
  return BigInt(view.spend.totalNeuron);
}

/** float32 rounding, as a vector sent as base64 comes back. */
const asFloat32 = (vector: number[]): number[] => [...new Float32Array(vector)];

before(async () => {
  upstreamA = await startEmbeddingsUpstream('emb-a', { dimensions: DIMENSIONS });
  upstreamB = await startEmbeddingsUpstream('emb-b', { dimensions: DIMENSIONS });
  gateway = await runMultiProviderInferenceServer(
    {
      openAICompatibleProviders: [
        { name: 'emb-a', baseUrl: upstreamA.baseUrl, models: [{ id: 'embed-small', type: 'embedding', inputPrice: INPUT_PRICE.toString() }] },
        { name: 'emb-b', baseUrl: upstreamB.baseUrl, models: [{ id: 'embed-small', type: 'embedding', inputPrice: INPUT_PRICE.toString() }] },
      ],
      apiKeys: [{ id: 'rag', key: KEY }],
      port: 0,
    },
    { logger: silentLogger },
  );
});

after(async () => {
  await gateway?.close();
  await upstreamA?.close();
  await upstreamB?.close();
});

test('LangChain OpenAIEmbeddings: embedQuery and embedDocuments get the upstream vectors through the gateway, billed by input tokens', async () => {
  const embeddings = new OpenAIEmbeddings({ model: 'embed-small', apiKey: KEY, configuration: { baseURL: `${gateway.url}/v1` }, maxRetries: 0 });
  const spentBefore = await spentBy('rag');
  const callsBefore = embeddingCalls().length;

  const query = await embeddings.embedQuery('where is the warm cache');
  assert.deepEqual(query, asFloat32(vectorOf('where is the warm cache', DIMENSIONS)));

  const documents = ['the first document', 'a second, longer document about providers', 'third'];
  const vectors = await embeddings.embedDocuments(documents);
  assert.equal(vectors.length, 3);
  for (const [index, document] of documents.entries()) assert.deepEqual(vectors[index], asFloat32(vectorOf(document, DIMENSIONS)));

  const calls = embeddingCalls().slice(callsBefore);
  assert.equal(calls.length, 2, 'one upstream call per LangChain call (the documents go in one batch)');
  const tokens = inputTokens('where is the warm cache') + inputTokens(documents);
  assert.equal((await spentBy('rag')) - spentBefore, BigInt(tokens) * INPUT_PRICE, 'spend = input tokens × input price, counted once');
});

test('AI SDK embed and embedMany: values and usage come back through the gateway', async () => {
  const openai = createOpenAI({ baseURL: `${gateway.url}/v1`, apiKey: KEY });
  const model = openai.embedding('embed-small');
  const spentBefore = await spentBy('rag');

  const single = await embed({ model, value: 'sunny day at the beach', maxRetries: 0 });
  assert.deepEqual(single.embedding, vectorOf('sunny day at the beach', DIMENSIONS));
  assert.equal(single.usage.tokens, inputTokens('sunny day at the beach'));

  const values = ['rainy afternoon in the city', 'snowy night in the mountains'];
  const many = await embedMany({ model, values, maxRetries: 0 });
  assert.deepEqual(many.embeddings, values.map((value) => vectorOf(value, DIMENSIONS)));
  assert.equal(many.usage.tokens, inputTokens(values));

  const tokens = inputTokens('sunny day at the beach') + inputTokens(values);
  assert.equal((await spentBy('rag')) - spentBefore, BigInt(tokens) * INPUT_PRICE);
});

test('both clients are balanced over the model group (round-robin) and an unknown model is an OpenAI-style 404 to both', async () => {
  const openai = createOpenAI({ baseURL: `${gateway.url}/v1`, apiKey: KEY });
  const beforeA = upstreamA.requests.length;
  const beforeB = upstreamB.requests.length;
  for (let index = 0; index < 4; index++) await embed({ model: openai.embedding('embed-small'), value: `value ${index}`, maxRetries: 0 });
  assert.equal(upstreamA.requests.length - beforeA, 2);
  assert.equal(upstreamB.requests.length - beforeB, 2);

  const unknown = new OpenAIEmbeddings({ model: 'no-such-embedder', apiKey: KEY, configuration: { baseURL: `${gateway.url}/v1` }, maxRetries: 0 });
  await assert.rejects(() => unknown.embedQuery('hello'), (error: Error & { status?: number }) => {
    assert.equal(error.status, 404);
    assert.match(error.message, /no-such-embedder/);
    return true;
  });
});
