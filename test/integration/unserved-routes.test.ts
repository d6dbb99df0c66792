import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { runMultiProviderInferenceServer, type GatewayHandle, type ProviderView } from 'zg-gateway';
import { startDevnetGateway, type DevnetGateway } from '../helpers/devnet-gateway.js';
import { silentLogger } from '../helpers/fakes.js';
import { asAdmin } from '../helpers/admin-fetch.js';

interface Answer {
  status: number;
  provider: string | null;
  body: { error?: { code: string; message: string; param?: string | null; details?: { route?: string } }; choices?: Array<{ text?: string; message?: { content: string } }> };
}

async function post(gateway: GatewayHandle, path: string, body: Record<string, unknown>): Promise<Answer> {
  const response = await fetch(`${gateway.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, provider: response.headers.get('x-provider-address'), body: (await response.json()) as Answer['body'] };
}

async function providers(gateway: GatewayHandle): Promise<ProviderView[]> {
  return ((await (await fetch(`${gateway.url}/admin/providers`, asAdmin(gateway))).json()) as { providers: ProviderView[] }).providers;
}

describe('a route the devnet providers do not serve cannot take the fleet down', () => {
  let setup: DevnetGateway;
  before(async () => {
    setup = await startDevnetGateway({ devnet: { providers: 3 }, gateway: { healthCheckInterval: 3_600_000 } });
  });
  after(async () => {
    await setup?.close();
  });

  test('four POST /v1/completions (404 on every provider): 404 route_not_supported naming the route; breakers closed; chats 100 % served', async () => {
    const model = setup.devnet.providers[0]?.model ?? '';
    assert.equal((await post(setup.gateway, '/v1/chat/completions', { model, messages: [{ role: 'user', content: 'warm up' }] })).status, 200);
    for (let index = 0; index < 4; index++) {
      const answer = await post(setup.gateway, '/v1/completions', { model, prompt: `attack ${index}` });
      assert.equal(answer.status, 404, JSON.stringify(answer.body));
      assert.equal(answer.body.error?.code, 'route_not_supported');
      assert.match(answer.body.error?.message ?? '', /POST \/v1\/completions/);
      assert.equal(answer.body.error?.details?.route, '/v1/completions');
    }
    const views = await providers(setup.gateway);
    for (const view of views) {
      assert.equal(view.breaker.state, 'closed', `${view.id}: ${JSON.stringify(view.breaker)}`);
      assert.equal(view.breaker.windowFailures, 0, `${view.id} was not blamed`);
      assert.equal(view.inRotation, true);
      assert.deepEqual(view.missingCapabilities.map((entry) => entry.capability), ['completions']);
    }
    let served = 0;
    const total = 30;
    for (let index = 0; index < total; index++) {
      const answer = await post(setup.gateway, '/v1/chat/completions', { model, messages: [{ role: 'user', content: `chat ${index}` }] });
      if (answer.status === 200) served += 1;
    }
    console.log(`chats after 4 unserved /v1/completions: ${served}/${total} served (${Math.round((served / total) * 100)} %)`);
    assert.equal(served, total);
    const requests = setup.devnet.providers.length;
    assert.equal(requests, 3);
  });
});

/** A plain OpenAI-compatible upstream that serves chat, and `/v1/completions` only when told to (else 404). */
async function plainUpstream(name: string, servesCompletions: boolean): Promise<{ url: string; completions: number; close: () => Promise<void> }> {
  const state = { url: '', completions: 0, close: async (): Promise<void> => undefined };
  const server: Server = createServer((request, response) => {
    let text = '';
    request.on('data', (piece: Buffer) => (text += piece.toString('utf8')));
    request.on('end', () => {
      const path = request.url ?? '';
      if (request.method === 'GET') return void response.writeHead(200, { 'content-type': 'application/json' }).end('{"object":"list","data":[]}');
      const body = JSON.parse(text || '{}') as { model?: string };
      if (path.endsWith('/chat/completions')) {
        return void response
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ id: `chatcmpl-${name}`, object: 'chat.completion', model: body.model, choices: [{ index: 0, message: { role: 'assistant', content: name }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }));
      }
      if (path.endsWith('/completions') && servesCompletions) {
        state.completions += 1;
        return void response
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ id: `cmpl-${name}`, object: 'text_completion', model: body.model, choices: [{ index: 0, text: name, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }));
      }
      if (path.endsWith('/completions')) state.completions += 1;
      response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `no route POST ${path}`, code: 'not_found' } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  state.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return state;
}

describe('a provider that serves the route still gets it', () => {
  test('two chat-only upstreams and one that serves /v1/completions: every completion lands on it, chats on all three, no breaker opens', async () => {
    const chatOnlyA = await plainUpstream('chat-only-a', false);
    const chatOnlyB = await plainUpstream('chat-only-b', false);
    const full = await plainUpstream('full', true);
    const gateway = await runMultiProviderInferenceServer(
      {
        openAICompatibleProviders: [
          { name: 'chat-only-a', baseUrl: chatOnlyA.url, model: 'm' },
          { name: 'chat-only-b', baseUrl: chatOnlyB.url, model: 'm' },
          { name: 'full', baseUrl: full.url, model: 'm' },
        ],
        port: 0,
        healthCheckInterval: 3_600_000,
      },
      { logger: silentLogger },
    );
    try {
      for (let index = 0; index < 8; index++) {
        const answer = await post(gateway, '/v1/completions', { model: 'm', prompt: `p${index}` });
        assert.equal(answer.status, 200, JSON.stringify(answer.body));
        assert.equal(answer.provider, 'full');
      }
      assert.equal(full.completions, 8);
      assert.ok(chatOnlyA.completions <= 1 && chatOnlyB.completions <= 1, 'a provider without the route is asked for it at most once');
      const chatServers = new Set<string | null>();
      for (let index = 0; index < 6; index++) {
        const answer = await post(gateway, '/v1/chat/completions', { model: 'm', messages: [{ role: 'user', content: 'hi' }] });
        assert.equal(answer.status, 200);
        chatServers.add(answer.provider);
      }
      assert.deepEqual([...chatServers].sort(), ['chat-only-a', 'chat-only-b', 'full']);
      for (const view of await providers(gateway)) assert.equal(view.breaker.state, 'closed');
    } finally {
      await gateway.close();
      await chatOnlyA.close();
      await chatOnlyB.close();
      await full.close();
    }
  });
});
