import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, streamText } from 'ai';
import { runMultiProviderInferenceServer, type GatewayHandle } from 'zg-gateway';
import { silentLogger } from '../helpers/fakes.js';

/**
 * The headline user story: the Vercel AI SDK's default OpenAI provider
 * (`createOpenAI({ baseURL })(model)`, which calls `POST /v1/responses`) against the gateway, whose
 * only upstream speaks chat completions (faked at its network edge).
 */

interface ChatBody {
  stream?: boolean;
  messages: Array<{ role: string; content: unknown }>;
}

let upstream: Server;
let upstreamUrl: string;
const bodies: ChatBody[] = [];
let gateway: GatewayHandle;
const KEY = 'zgk-sdk-0123456789abcdef';

before(async () => {
  upstream = createServer(async (request: IncomingMessage, response: ServerResponse) => {
    if (request.method === 'GET') {
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"object":"list","data":[{"id":"m"}]}');
      return;
    }
    let text = '';
    for await (const piece of request) text += (piece as Buffer).toString('utf8');
    const body = JSON.parse(text) as ChatBody;
    bodies.push(body);
    const id = `chatcmpl-sdk-${bodies.length}`;
    const content = `You said: ${String(body.messages.at(-1)?.content)}`;
    const usage = { prompt_tokens: 5, completion_tokens: 4, total_tokens: 9 };
    if (!body.stream) {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id, object: 'chat.completion', model: 'm', choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }], usage }));
      return;
    }
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const word of content.split(/(?= )/)) response.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', model: 'm', choices: [{ index: 0, delta: { content: word }, finish_reason: null }] })}\n\n`);
    response.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', model: 'm', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`);
    response.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', model: 'm', choices: [], usage })}\n\n`);
    response.end('data: [DONE]\n\n');
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`;
  gateway = await runMultiProviderInferenceServer(
    { openAICompatibleProviders: [{ name: 'chat-only', baseUrl: upstreamUrl, models: [{ id: 'm' }] }], apiKeys: [{ id: 'sdk', key: KEY }], port: 0 },
    { logger: silentLogger },
  );
});

after(async () => {
  await gateway?.close();
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
});

test('AI SDK generateText with createOpenAI(...)(model) is served (over /v1/responses)', async () => {
  const openai = createOpenAI({ baseURL: `${gateway.url}/v1`, apiKey: KEY });
  const result = await generateText({ model: openai('m'), system: 'Be kind.', prompt: 'hello there' });
  assert.equal(result.text, 'You said: hello there');
  assert.equal(result.usage.inputTokens, 5);
  assert.equal(result.usage.outputTokens, 4);
  assert.match(String(result.response.id), /^resp_/, 'the Responses API answered');
  assert.deepEqual(bodies.at(-1)?.messages, [
    { role: 'system', content: 'Be kind.' },
    { role: 'user', content: 'hello there' },
  ]);
});

test('AI SDK streamText: the text stream is the upstream text, usage reported', async () => {
  const openai = createOpenAI({ baseURL: `${gateway.url}/v1`, apiKey: KEY });
  const result = streamText({ model: openai('m'), prompt: 'stream this' });
  let text = '';
  for await (const piece of result.textStream) text += piece;
  assert.equal(text, 'You said: stream this');
  const usage = await result.usage;
  assert.equal(usage.inputTokens, 5);
  assert.equal(usage.outputTokens, 4);
  assert.equal(bodies.at(-1)?.stream, true);
});
