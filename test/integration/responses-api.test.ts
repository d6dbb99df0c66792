import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { runMultiProviderInferenceServer, type GatewayHandle, type KeyView } from 'zg-gateway';
import { silentLogger } from '../helpers/fakes.js';

/**
 * The Responses API served over chat providers: plain OpenAI-compatible upstreams (faked at their
 * network edge) that speak only chat completions and record every chat body they receive.
 */

interface ChatBody {
  model?: string;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  messages: Array<{ role: string; content?: unknown; tool_calls?: unknown[]; tool_call_id?: string }>;
  tools?: Array<{ type: string; function: { name: string } }>;
  max_tokens?: number;
  response_format?: unknown;
}

interface ChatUpstream {
  readonly name: string;
  readonly baseUrl: string;
  readonly bodies: ChatBody[];
  close(): Promise<void>;
}

/** What the upstream answers: a tool call when it has tools and no tool output yet, else text naming itself and the history length. */
function answerFor(name: string, body: ChatBody): { text: string | undefined; call: { name: string; arguments: string } | undefined } {
  const last = body.messages.at(-1);
  if (body.tools?.length && last?.role !== 'tool') return { text: undefined, call: { name: body.tools[0]?.function.name ?? 'f', arguments: '{"city":"Paris"}' } };
  if (last?.role === 'tool') return { text: `${name}: the tool said ${String(last.content)}`, call: undefined };
  return { text: `${name} heard ${String(last?.content)} after ${body.messages.length} messages`, call: undefined };
}

/** Every chat body any upstream received, in order. */
const received: ChatBody[] = [];

async function startChatUpstream(name: string): Promise<ChatUpstream> {
  const bodies: ChatBody[] = [];
  const server: Server = createServer(async (request: IncomingMessage, response: ServerResponse) => {
    if (request.method === 'GET') {
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"object":"list","data":[{"id":"m"}]}');
      return;
    }
    if (request.url !== '/v1/chat/completions') {
      response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"no such route"}}');
      return;
    }
    let text = '';
    for await (const piece of request) text += (piece as Buffer).toString('utf8');
    const body = JSON.parse(text) as ChatBody;
    bodies.push(body);
    received.push(body);
    const id = `chatcmpl-${name}-${bodies.length}`;
    const { text: content, call } = answerFor(name, body);
    const usage = { prompt_tokens: 10 * body.messages.length, completion_tokens: 7, total_tokens: 10 * body.messages.length + 7 };
    const toolCall = call ? { id: `call_${bodies.length}`, type: 'function', function: call } : undefined;
    const finish = call ? 'tool_calls' : 'stop';
    if (!body.stream) {
      const message = { role: 'assistant', content: content ?? null, ...(toolCall ? { tool_calls: [toolCall] } : {}) };
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id, object: 'chat.completion', model: body.model, choices: [{ index: 0, message, finish_reason: finish }], usage }));
      return;
    }
    const chunk = (delta: Record<string, unknown>, finishReason: string | null = null): string =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', model: body.model, choices: [{ index: 0, delta, finish_reason: finishReason }] })}\n\n`;
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    response.write(chunk({ role: 'assistant', content: '' }));
    if (content !== undefined) {
      const words = content.split(' ');
      for (const [index, word] of words.entries()) {
        response.write(chunk({ content: index === 0 ? word : ` ${word}` }));
        // A provider failing mid-stream, after content went out.
        if (content.includes('cut-me') && index === 1) {
          // Let the content reach the gateway (the stream has started) before the cut.
          await new Promise((resolve) => setTimeout(resolve, 100));
          response.destroy();
          return;
        }
      }
    }
    if (toolCall) {
      response.write(chunk({ tool_calls: [{ index: 0, id: toolCall.id, type: 'function', function: { name: call?.name, arguments: '' } }] }));
      response.write(chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }));
      response.write(chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }));
    }
    response.write(chunk({}, finish));
    if (body.stream_options?.include_usage) response.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', choices: [], usage })}\n\n`);
    response.end('data: [DONE]\n\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    name,
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    bodies,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const KEY_A = 'zgk-alice-0123456789abcdef';
const KEY_B = 'zgk-bob-0123456789abcdef';
const WEATHER_TOOL = { type: 'function' as const, name: 'get_weather', description: 'The weather of a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }, strict: false };

describe('the Responses API over chat providers', () => {
  let alpha: ChatUpstream;
  let beta: ChatUpstream;
  let gateway: GatewayHandle;
  let alice: OpenAI;
  let bob: OpenAI;

  before(async () => {
    alpha = await startChatUpstream('alpha');
    beta = await startChatUpstream('beta');
    gateway = await runMultiProviderInferenceServer(
      {
        openAICompatibleProviders: [
          { name: 'alpha', baseUrl: alpha.baseUrl, models: [{ id: 'm', inputPrice: '1000', outputPrice: '2000' }] },
          { name: 'beta', baseUrl: beta.baseUrl, models: [{ id: 'm', inputPrice: '1000', outputPrice: '2000' }] },
        ],
        apiKeys: [
          { id: 'alice', key: KEY_A },
          { id: 'bob', key: KEY_B },
        ],
        port: 0,
      },
      { logger: silentLogger },
    );
    alice = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: KEY_A, maxRetries: 0 });
    bob = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: KEY_B, maxRetries: 0 });
  });

  after(async () => {
    await gateway?.close();
    await alpha?.close();
    await beta?.close();
  });

  const lastBody = (): ChatBody => received.at(-1) as ChatBody;

  test('responses.create: a Response with output_text, usage and the chat id it was built from; the chat body is mapped', async () => {
    const before = alpha.bodies.length + beta.bodies.length;
    const { data: response, response: http } = await alice.responses
      .create({ model: 'm', instructions: 'Be brief.', input: 'hello', max_output_tokens: 50, temperature: 0.3, top_p: 0.9, metadata: { ticket: '7' } })
      .withResponse();
    const provider = http.headers.get('x-provider-address') ?? '';
    assert.match(response.id, /^resp_/);
    // Billed as the chat it was: usage × the provider's prices (20 × 1000 + 7 × 2000 neuron).
    assert.equal(http.headers.get('x-request-cost'), String(20 * 1000 + 7 * 2000));
    assert.equal(response.object, 'response');
    assert.equal(response.status, 'completed');
    assert.equal(response.output_text, `${provider} heard hello after 2 messages`);
    assert.deepEqual(response.usage && { input: response.usage.input_tokens, output: response.usage.output_tokens, total: response.usage.total_tokens }, { input: 20, output: 7, total: 27 });
    assert.deepEqual(response.metadata, { ticket: '7' });
    assert.equal(response.instructions, 'Be brief.');
    const chatIds = (response as unknown as { zg_chat_ids: string[] }).zg_chat_ids;
    assert.equal(chatIds.length, 1);
    assert.match(chatIds[0] ?? '', new RegExp(`^chatcmpl-${provider}-`));
    assert.equal(alpha.bodies.length + beta.bodies.length, before + 1);
    const sent = (provider === 'alpha' ? alpha : beta).bodies.at(-1) as ChatBody & Record<string, unknown>;
    assert.deepEqual(sent.messages, [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'hello' },
    ]);
    assert.equal(sent.max_tokens, 50);
    assert.equal(sent.temperature, 0.3);
    assert.equal(sent.top_p, 0.9);
    assert.equal(sent.metadata, undefined, 'metadata is echoed, not sent upstream');
    // The stored Response, to its key.
    const fetched = await alice.responses.retrieve(response.id);
    assert.equal(fetched.id, response.id);
    assert.equal(fetched.output_text, response.output_text);
  });

  test('stream: true yields the Responses events in order; the final text equals the concatenated deltas', async () => {
    const stream = await alice.responses.create({ model: 'm', input: 'tell me a story', stream: true });
    const types: string[] = [];
    const sequence: number[] = [];
    let deltas = '';
    let completed: OpenAI.Responses.Response | undefined;
    let doneText: string | undefined;
    for await (const event of stream) {
      types.push(event.type);
      sequence.push(event.sequence_number);
      if (event.type === 'response.output_text.delta') deltas += event.delta;
      if (event.type === 'response.output_text.done') doneText = event.text;
      if (event.type === 'response.completed') completed = event.response;
    }
    assert.deepEqual(sequence, types.map((_, index) => index));
    assert.deepEqual(types.slice(0, 4), ['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added']);
    assert.deepEqual(types.slice(-4), ['response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.completed']);
    assert.ok(types.filter((type) => type === 'response.output_text.delta').length >= 3);
    assert.match(deltas, /^(alpha|beta) heard tell me a story after 1 messages$/);
    assert.equal(doneText, deltas);
    assert.ok(completed);
    const message = completed.output[0];
    assert.equal(message?.type, 'message');
    assert.equal(message?.type === 'message' && message.content[0]?.type === 'output_text' ? message.content[0].text : undefined, deltas);
    assert.equal(completed.usage?.input_tokens, 10, 'usage asked of the provider (stream_options.include_usage)');
    assert.equal(lastBody().stream_options?.include_usage, true);
    // Stored before the end reached the client.
    const fetched = await alice.responses.retrieve(completed.id);
    assert.equal(fetched.output_text, deltas);
  });

  test('a function tool: the call comes back as a function_call item; its output in the next turn reaches the provider as a tool message', async () => {
    const first = await alice.responses.create({ model: 'm', input: 'weather in Paris?', tools: [WEATHER_TOOL] });
    const call = first.output.find((item) => item.type === 'function_call');
    assert.ok(call && call.type === 'function_call');
    assert.equal(call.name, 'get_weather');
    assert.equal(call.arguments, '{"city":"Paris"}');
    assert.match(call.call_id, /^call_/);
    const sentFirst = lastBody();
    assert.deepEqual(sentFirst.tools, [{ type: 'function', function: { name: 'get_weather', description: 'The weather of a city', parameters: WEATHER_TOOL.parameters, strict: false } }]);
    // The client runs the tool and sends its output, with the call, as input items (no previous_response_id).
    const second = await alice.responses.create({
      model: 'm',
      tools: [WEATHER_TOOL],
      input: [
        { role: 'user', content: [{ type: 'input_text', text: 'weather in Paris?' }] },
        { type: 'function_call', call_id: call.call_id, name: call.name, arguments: call.arguments },
        { type: 'function_call_output', call_id: call.call_id, output: 'sunny, 21C' },
      ],
    });
    assert.match(second.output_text, /the tool said sunny, 21C$/);
    const sent = lastBody();
    assert.deepEqual(sent.messages, [
      { role: 'user', content: 'weather in Paris?' },
      { role: 'assistant', content: null, tool_calls: [{ id: call.call_id, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool', tool_call_id: call.call_id, content: 'sunny, 21C' },
    ]);
  });

  test('a streamed function call: output_item.added, function_call_arguments.delta/done, the item done with its arguments', async () => {
    const stream = await alice.responses.create({ model: 'm', input: 'weather?', tools: [WEATHER_TOOL], stream: true });
    let args = '';
    const types: string[] = [];
    let done: string | undefined;
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'response.function_call_arguments.delta') args += event.delta;
      if (event.type === 'response.function_call_arguments.done') done = event.arguments;
    }
    assert.equal(args, '{"city":"Paris"}');
    assert.equal(done, args);
    assert.deepEqual(types.filter((type) => type !== 'response.function_call_arguments.delta'), [
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
  });

  test('previous_response_id: three turns land on one provider, each sent the whole history', async () => {
    const providers: string[] = [];
    let previous: string | undefined;
    for (const word of ['one', 'two', 'three']) {
      const { data, response } = await alice.responses.create({ model: 'm', instructions: 'Count.', input: word, ...(previous ? { previous_response_id: previous } : {}) }).withResponse();
      providers.push(response.headers.get('x-provider-address') ?? '');
      previous = data.id;
    }
    assert.equal(new Set(providers).size, 1, `one provider served all three turns: ${providers.join(', ')}`);
    const upstream = providers[0] === 'alpha' ? alpha : beta;
    const third = upstream.bodies.at(-1) as ChatBody;
    assert.deepEqual(
      third.messages.map((message) => `${message.role}:${String(message.content)}`),
      ['system:Count.', 'user:one', `assistant:${providers[0]} heard one after 2 messages`, 'user:two', `assistant:${providers[0]} heard two after 4 messages`, 'user:three'],
    );
  });

  test("store: false stores nothing; another key's id and an unknown id are 404 response_not_found", async () => {
    const unstored = await alice.responses.create({ model: 'm', input: 'forget me', store: false });
    assert.equal((unstored as unknown as { store: boolean }).store, false);
    await assert.rejects(alice.responses.retrieve(unstored.id), (error: unknown) => error instanceof OpenAI.NotFoundError && (error.error as { code?: string }).code === 'response_not_found');
    await assert.rejects(alice.responses.create({ model: 'm', input: 'again', previous_response_id: unstored.id }), (error: unknown) => error instanceof OpenAI.NotFoundError);
    const stored = await alice.responses.create({ model: 'm', input: 'mine' });
    await assert.rejects(bob.responses.create({ model: 'm', input: 'steal', previous_response_id: stored.id }), (error: unknown) => {
      assert.ok(error instanceof OpenAI.NotFoundError);
      assert.equal((error.error as { code?: string; param?: string }).code, 'response_not_found');
      return true;
    });
    await assert.rejects(bob.responses.retrieve(stored.id), (error: unknown) => error instanceof OpenAI.NotFoundError);
    // An item_reference resolves only to the same key's stored items.
    const item = stored.output[0]?.id ?? '';
    await assert.rejects(bob.responses.create({ model: 'm', input: [{ type: 'item_reference', id: item }] }), (error: unknown) => error instanceof OpenAI.NotFoundError);
    const referenced = await alice.responses.create({ model: 'm', input: [{ type: 'item_reference', id: item }, { role: 'user', content: 'again' }] });
    assert.ok(referenced.output_text.endsWith('heard again after 2 messages'));
    await assert.rejects(alice.responses.retrieve('resp_unknown'), (error: unknown) => error instanceof OpenAI.NotFoundError);
  });

  test('what cannot be mapped is a 400 naming the field, and no provider is asked', async () => {
    const before = alpha.bodies.length + beta.bodies.length;
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ tools: [{ type: 'web_search' }] }, 'tools[0].type'],
      [{ background: true }, 'background'],
      [{ input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'file-1' }] }] }, 'input[0].content[0].type'],
      [{ reasoning: { effort: 'high' } }, 'reasoning'],
      [{ frobnicate: 1 }, 'frobnicate'],
    ];
    for (const [extra, param] of cases) {
      const answer = await fetch(`${gateway.url}/v1/responses`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY_A}` },
        body: JSON.stringify({ model: 'm', input: 'hi', ...extra }),
      });
      assert.equal(answer.status, 400, param);
      const body = (await answer.json()) as { error: { code: string; param: string; message: string } };
      assert.equal(body.error.code, 'invalid_request');
      assert.equal(body.error.param, param);
      assert.ok(body.error.message.includes(param), body.error.message);
    }
    assert.equal(alpha.bodies.length + beta.bodies.length, before);
  });

  test('message items: developer becomes system, assistant output_text is history, a user image by URL becomes an image_url part', async () => {
    await alice.responses.create({
      model: 'm',
      input: [
        { role: 'developer', content: 'Answer in French.' },
        { role: 'user', content: 'hi' },
        { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'salut', annotations: [] }] } as never,
        { role: 'user', content: [{ type: 'input_text', text: 'what is this?' }, { type: 'input_image', image_url: 'data:image/png;base64,AAAA', detail: 'low' }] },
      ],
    });
    assert.deepEqual(lastBody().messages, [
      { role: 'system', content: 'Answer in French.' },
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'salut' },
      { role: 'user', content: [{ type: 'text', text: 'what is this?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA', detail: 'low' } }] },
    ]);
  });

  test('text.format json_schema becomes response_format', async () => {
    const schema = { type: 'object', properties: { n: { type: 'number' } }, required: ['n'], additionalProperties: false };
    await alice.responses.create({ model: 'm', input: 'json please', text: { format: { type: 'json_schema', name: 'count', schema, strict: true } } });
    assert.deepEqual(lastBody().response_format, { type: 'json_schema', json_schema: { name: 'count', schema, strict: true } });
  });

  test('POST /v1/verify takes the resp_ id (the chat it was built from), for its own key only', async () => {
    const response = await alice.responses.create({ model: 'm', input: 'prove it' });
    const verify = (key: string): Promise<Response> =>
      fetch(`${gateway.url}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify({ id: response.id }) });
    const mine = await verify(KEY_A);
    assert.equal(mine.status, 200);
    const verdict = (await mine.json()) as { chatId: string; model: string; verifiable: boolean };
    assert.equal(verdict.chatId, (response as unknown as { zg_chat_ids: string[] }).zg_chat_ids[0]);
    assert.equal(verdict.model, 'm');
    assert.equal(verdict.verifiable, false, 'plain upstreams cannot sign');
    assert.equal((await verify(KEY_B)).status, 404);
  });

  test("the client key is charged the chat's usage and cost, JSON and streamed (the chat route's limits and reservations)", async () => {
    const view = async (): Promise<KeyView> => {
      const keys = (await (await fetch(`${gateway.url}/admin/keys`, { headers: { authorization: `Bearer ${gateway.adminToken}` } })).json()) as { keys: KeyView[] };
      return keys.keys.find((entry) => entry.id === 'bob') as KeyView;
    };
    const before = await view();
    await bob.responses.create({ model: 'm', input: 'count me' });
    const stream = await bob.responses.create({ model: 'm', input: 'count me too', stream: true });
    for await (const event of stream) void event;
    const afterwards = await view();
    assert.equal(afterwards.usage.requests - before.usage.requests, 2);
    assert.equal(afterwards.usage.promptTokens - before.usage.promptTokens, 20);
    assert.equal(afterwards.usage.completionTokens - before.usage.completionTokens, 14);
    assert.equal(BigInt(afterwards.spend.totalNeuron) - BigInt(before.spend.totalNeuron), 2n * (10n * 1000n + 7n * 2000n));
  });

  test('the stored conversation is bounded: past 256 KiB it is not kept (continuing is a 404 that says so), the id still verifies', async () => {
    const big = await alice.responses.create({ model: 'm', input: 'x'.repeat(200 * 1024) });
    assert.match(big.output_text, /after 1 messages$/);
    // The input and the echoed answer: about 400 KiB of conversation.
    await assert.rejects(alice.responses.create({ model: 'm', input: 'more', previous_response_id: big.id }), (error: unknown) => {
      assert.ok(error instanceof OpenAI.NotFoundError);
      assert.match(error.message, /larger than 262144 bytes/);
      return true;
    });
    const verified = await fetch(`${gateway.url}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY_A}` }, body: JSON.stringify({ id: big.id }) });
    assert.equal(verified.status, 200);
  });

  test('a provider failing mid-stream ends the stream with response.failed and an error event', async () => {
    const stream = await alice.responses.create({ model: 'm', input: 'please cut-me now', stream: true });
    const types: string[] = [];
    let failed: OpenAI.Responses.Response | undefined;
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'response.failed') failed = event.response;
    }
    assert.deepEqual(types.slice(-2), ['response.failed', 'error']);
    assert.ok(types.includes('response.output_text.delta'));
    assert.equal(failed?.status, 'failed');
    assert.equal(failed?.error?.code, 'stream_interrupted');
  });
});
