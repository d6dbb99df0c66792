import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, jsonSchema, stepCountIs, streamText, tool } from 'ai';
import { runMultiProviderInferenceServer, type GatewayHandle } from 'zg-gateway';
import { silentLogger } from '../helpers/fakes.js';

/**
 * The headline user story: the Vercel AI SDK's default OpenAI provider
 * (`createOpenAI({ baseURL })(model)`, which calls `POST /v1/responses`) against the gateway, whose
 * only upstream speaks chat completions (faked at its network edge).
 */

interface ChatBody {
  stream?: boolean;
  tools?: unknown[];
  messages: Array<{ role: string; content: unknown; tool_calls?: unknown[]; tool_call_id?: string }>;
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
    const last = body.messages.at(-1);
    const content = last?.role === 'tool' ? `The tool said: ${String(last.content)}` : `You said: ${String(last?.content)}`;
    const usage = { prompt_tokens: 5, completion_tokens: 4, total_tokens: 9 };
    if (body.tools && last?.role !== 'tool' && !body.stream) {
      const message = { role: 'assistant', content: null, tool_calls: [{ id: `call_${bodies.length}`, type: 'function', function: { name: 'lookup', arguments: '{"q":"zg"}' } }] };
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id, object: 'chat.completion', model: 'm', choices: [{ index: 0, message, finish_reason: 'tool_calls' }], usage }));
      return;
    }
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

test('AI SDK: a follow-up turn with the first answer in `messages` (sent back as item_reference) reaches the provider as history', async () => {
  // What the SDK sends the gateway, recorded on the way out.
  const sentToGateway: string[] = [];
  const openai = createOpenAI({
    baseURL: `${gateway.url}/v1`,
    apiKey: KEY,
    fetch: async (url, init) => {
      if (typeof init?.body === 'string') sentToGateway.push(init.body);
      return fetch(url, init);
    },
  });
  const first = await generateText({ model: openai('m'), prompt: 'first' });
  const second = await generateText({ model: openai('m'), messages: [{ role: 'user', content: 'first' }, ...first.response.messages, { role: 'user', content: 'second' }] });
  assert.equal(second.text, 'You said: second');
  assert.match(sentToGateway.at(-1) ?? '', /"type":"item_reference","id":"msg_[0-9a-f]+_0"/);
  assert.deepEqual(bodies.at(-1)?.messages, [
    { role: 'user', content: 'first' },
    { role: 'assistant', content: 'You said: first' },
    { role: 'user', content: 'second' },
  ]);
});

test('AI SDK: a tool loop (generateText with an executed tool, two steps) over /v1/responses', async () => {
  const openai = createOpenAI({ baseURL: `${gateway.url}/v1`, apiKey: KEY });
  const seen: unknown[] = [];
  const result = await generateText({
    model: openai('m'),
    prompt: 'look it up',
    stopWhen: stepCountIs(2),
    tools: {
      lookup: tool({
        description: 'Looks a word up',
        inputSchema: jsonSchema<{ q: string }>({ type: 'object', properties: { q: { type: 'string' } }, required: ['q'] }),
        execute: async (input) => {
          seen.push(input);
          return 'a gateway';
        },
      }),
    },
  });
  assert.deepEqual(seen, [{ q: 'zg' }]);
  assert.equal(result.text, 'The tool said: a gateway');
  const sent = bodies.at(-1);
  assert.equal(sent?.messages.at(-2)?.role, 'assistant');
  assert.equal(sent?.messages.at(-1)?.role, 'tool');
});
