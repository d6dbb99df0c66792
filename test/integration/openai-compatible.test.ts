import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { runMultiProviderInferenceServer, type GatewayHandle } from 'zg-gateway';

/**
 * A plain OpenAI-compatible upstream (a stand-in for vLLM or a hosted API, faked at its network
 * edge): checks its bearer key, answers JSON and SSE.
 */
function startUpstream(name: string, apiKey: string): Promise<{ server: Server; baseUrl: string; seenModels: string[] }> {
  const seenModels: string[] = [];
  const server = createServer(async (request: IncomingMessage, response) => {
    if (request.headers.authorization !== `Bearer ${apiKey}`) {
      response.writeHead(401, { 'content-type': 'application/json' }).end('{"error":{"message":"bad key"}}');
      return;
    }
    if (request.method === 'GET' && request.url === '/v1/models') {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: [{ id: 'upstream-model' }] }));
      return;
    }
    let text = '';
    for await (const chunk of request) text += (chunk as Buffer).toString('utf8');
    const body = JSON.parse(text) as { model: string; stream?: boolean; stream_options?: { include_usage?: boolean } };
    seenModels.push(body.model);
    const id = `chatcmpl-${name}-${seenModels.length}`;
    const content = `${name} says hi`;
    if (!body.stream) {
      response.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({ id, object: 'chat.completion', model: body.model, choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }], usage: { prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 } }),
      );
      return;
    }
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const word of content.split(' ')) {
      response.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: `${word} ` }, finish_reason: null }] })}\n\n`);
    }
    if (body.stream_options?.include_usage) response.write(`data: ${JSON.stringify({ id, choices: [], usage: { prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 } })}\n\n`);
    response.end('data: [DONE]\n\n');
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({ server, baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, seenModels });
    });
  });
}

let alpha: Awaited<ReturnType<typeof startUpstream>>;
let beta: Awaited<ReturnType<typeof startUpstream>>;
let gateway: GatewayHandle;

before(async () => {
  alpha = await startUpstream('alpha', 'key-alpha');
  beta = await startUpstream('beta', 'key-beta');
  gateway = await runMultiProviderInferenceServer({
    openAICompatibleProviders: [
      { name: 'alpha', baseUrl: alpha.baseUrl, apiKey: 'key-alpha', models: [{ id: 'client-model', upstreamId: 'pinned-model' }] },
      { name: 'beta', baseUrl: beta.baseUrl, apiKey: 'key-beta' },
    ],
    port: 0,
    host: '127.0.0.1',
    logLevel: 'silent',
  });
});

after(async () => {
  await gateway?.close();
  alpha?.server.close();
  beta?.server.close();
});

test('plain OpenAI-compatible upstreams serve through the same port, JSON and streams, without a wallet', async () => {
  const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const served: string[] = [];
  for (let index = 0; index < 4; index++) {
    const { data, response } = await openai.chat.completions.create({ model: 'client-model', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    const provider = response.headers.get('x-provider-address') ?? '';
    served.push(provider);
    assert.equal(data.choices[0]?.message.content, `${provider} says hi`);
  }
  assert.deepEqual(served, ['alpha', 'beta', 'alpha', 'beta']);
  // alpha serves `client-model` under its own name `pinned-model`; beta lists no model and takes the client's.
  assert.deepEqual([...new Set(alpha.seenModels)], ['pinned-model']);
  assert.deepEqual([...new Set(beta.seenModels)], ['client-model']);

  const stream = await openai.chat.completions.create({ model: 'client-model', messages: [{ role: 'user', content: 'hi' }], stream: true });
  let content = '';
  for await (const chunk of stream) content += chunk.choices[0]?.delta.content ?? '';
  assert.match(content, /^(alpha|beta) says hi $/);
});

test('their answers cannot be proven: verify says isValid false and verifiable false', async () => {
  const response = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ messages: [{ role: 'user', content: 'prove it' }] }) });
  const { id } = (await response.json()) as { id: string };
  const verified = (await (await fetch(`${gateway.url}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id }) })).json()) as { isValid: boolean; verifiable: boolean; provider: string };
  assert.equal(verified.isValid, false);
  assert.equal(verified.verifiable, false);
  assert.equal(verified.provider, response.headers.get('x-provider-address'));
});

test('API keys are masked in the handle and never sent to the wrong upstream', async () => {
  const serialised = JSON.stringify(gateway.config);
  assert.equal(serialised.includes('key-alpha'), false);
  assert.equal(serialised.includes('key-beta'), false);
  const health = (await (await fetch(`${gateway.url}/health`)).json()) as { loadBalancer: { healthyProviders: number } };
  assert.equal(health.loadBalancer.healthyProviders, 2, 'probes with the right key succeed');
});
