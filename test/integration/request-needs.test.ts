/**
 * Routing by what a request needs, over real HTTP: plain upstreams (scripted) that enforce a
 * context window the way vLLM does (400 "maximum context length is N tokens"), that refuse tools,
 * or that fail with 503, behind a gateway configured with context windows, capabilities,
 * contextWindowFallbacks and a retry policy.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { runMultiProviderInferenceServer, type GatewayHandle } from 'zg-gateway';
import { asAdmin } from '../helpers/admin-fetch.js';
import { startScriptedUpstream, type ScriptContext, type ScriptedUpstream } from '../helpers/scripted-upstream.js';

/** Characters of a chat's messages (what the upstream "tokenizes": 4 characters a token, as the gateway estimates). */
function promptTokens(body: ScriptContext['body']): number {
  let characters = 0;
  for (const message of body.messages ?? []) if (typeof message.content === 'string') characters += message.content.length;
  return Math.ceil(characters / 4);
}

/** An upstream with a real context window of `window` tokens, answering like vLLM when it is exceeded. */
function vllmLike(window: number, seen: string[], name: string) {
  return async (context: ScriptContext): Promise<void> => {
    const body = context.body as ScriptContext['body'] & { max_tokens?: number; tools?: unknown[] };
    seen.push(`${name}:${promptTokens(body)}${body.tools ? ':tools' : ''}`);
    const needed = promptTokens(body) + (body.max_tokens ?? 16);
    if (needed > window) {
      const message = `This model's maximum context length is ${window} tokens. However, you requested ${needed} tokens. Please reduce the length of the messages or completion.`;
      context.response.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'error', message, type: 'BadRequestError', param: null, code: 400 }));
      return;
    }
    const answer = { id: context.id, object: 'chat.completion', model: body.model, choices: [{ index: 0, message: { role: 'assistant', content: `${name} ok` }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } };
    context.response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
  };
}

async function chat(gateway: GatewayHandle, body: Record<string, unknown>): Promise<{ status: number; provider: string | null; fallback: string | null; json: { error?: { code: string; message: string; param?: string | null; details?: Record<string, unknown> } } }> {
  const response = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, provider: response.headers.get('x-provider-address'), fallback: response.headers.get('x-model-fallback'), json: (await response.json()) as never };
}

const words = (tokens: number): string => 'abcd'.repeat(tokens - 4);
const tools = [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: {} } } }];

describe('context windows and capabilities over HTTP', () => {
  const seen: string[] = [];
  let small: ScriptedUpstream;
  let liar: ScriptedUpstream;
  let big: ScriptedUpstream;
  let huge: ScriptedUpstream;
  let gateway: GatewayHandle;

  before(async () => {
    small = await startScriptedUpstream('small', vllmLike(2048, seen, 'small'));
    liar = await startScriptedUpstream('liar', vllmLike(4096, seen, 'liar'));
    big = await startScriptedUpstream('big', vllmLike(16_384, seen, 'big'));
    huge = await startScriptedUpstream('huge', vllmLike(131_072, seen, 'huge'));
    gateway = await runMultiProviderInferenceServer(
      {
        openAICompatibleProviders: [
          { name: 'small', baseUrl: small.baseUrl, models: [{ id: 'm', contextLength: 2048 }], capabilities: ['json_schema'] },
          // Declares more than it has: the first long request teaches the gateway its real window.
          { name: 'liar', baseUrl: liar.baseUrl, models: [{ id: 'm', contextLength: 32_768 }], capabilities: ['tools'] },
          { name: 'big', baseUrl: big.baseUrl, models: [{ id: 'm', contextLength: 16_384, capabilities: ['tools', 'json_schema'] }] },
          { name: 'huge', baseUrl: huge.baseUrl, models: [{ id: 'm-long', contextLength: 131_072 }] },
        ],
        contextWindowFallbacks: { m: ['m-long'] },
        strategy: 'round-robin',
        port: 0,
        healthCheckInterval: 3_600_000,
      },
      { logger: pino({ level: 'silent' }) },
    );
  });

  after(async () => {
    await gateway?.close();
    await Promise.all([small, liar, big, huge].map((upstream) => upstream?.close()));
  });

  test('long prompts skip the small provider; the liar is asked once, learns, and is never asked such a request again', async () => {
    seen.length = 0;
    const statuses: number[] = [];
    for (let index = 0; index < 6; index++) statuses.push((await chat(gateway, { model: 'm', messages: [{ role: 'user', content: words(6000) }] })).status);
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200]);
    assert.equal(seen.filter((call) => call.startsWith('small')).length, 0, `small never asked: ${seen.join(' ')}`);
    assert.equal(seen.filter((call) => call.startsWith('liar')).length, 1, `the liar exactly once: ${seen.join(' ')}`);
    const views = (await (await fetch(`${gateway.url}/admin/providers`, asAdmin(gateway))).json()) as { providers: Array<{ id: string; breaker: { windowFailures: number } }> };
    assert.equal(views.providers.find((view) => view.id === 'liar')?.breaker.windowFailures, 0, 'its 400 is not held against it');
  });

  test('too long for every provider of m: the bigger model serves, X-Model-Fallback says so', async () => {
    seen.length = 0;
    const answer = await chat(gateway, { model: 'm', messages: [{ role: 'user', content: words(40_000) }] });
    assert.equal(answer.status, 200, JSON.stringify(answer.json));
    assert.equal(answer.provider, 'huge');
    assert.equal(answer.fallback, 'm-long');
    assert.deepEqual(seen, ['huge:39996'], 'the first attempt is the one that fits');
  });

  test('too long for every model: 400 context_length_exceeded with the figures, no provider asked', async () => {
    seen.length = 0;
    const answer = await chat(gateway, { model: 'm', messages: [{ role: 'user', content: words(200_000) }], max_tokens: 1000 });
    assert.equal(answer.status, 400);
    assert.equal(answer.json.error?.code, 'context_length_exceeded');
    assert.equal(answer.json.error?.details?.estimatedTokens, 201_000);
    assert.equal(answer.json.error?.details?.largestContext, 131_072);
    assert.deepEqual(seen, []);
  });

  test('tools never reach the provider declared without them; require_parameters leaves out what is unsaid', async () => {
    seen.length = 0;
    for (let index = 0; index < 6; index++) assert.equal((await chat(gateway, { model: 'm', messages: [{ role: 'user', content: 'weather?' }], tools })).status, 200);
    assert.equal(seen.filter((call) => call.startsWith('small')).length, 0, seen.join(' '));
    const refused = await chat(gateway, { model: 'm', messages: [{ role: 'user', content: 'x' }], logprobs: true, provider: { require_parameters: true } });
    assert.equal(refused.status, 400);
    assert.equal(refused.json.error?.code, 'unsupported_parameter');
    assert.equal(refused.json.error?.param, 'logprobs');
  });
});

describe('retry policy over HTTP: the waits are in the log line and the metric', () => {
  let down: ScriptedUpstream;
  let up: ScriptedUpstream;
  let gateway: GatewayHandle;
  const lines: Array<Record<string, unknown>> = [];

  before(async () => {
    down = await startScriptedUpstream('down', async ({ response }) => void response.writeHead(503, { 'content-type': 'application/json' }).end('{"error":{"message":"overloaded"}}'));
    up = await startScriptedUpstream('up', vllmLike(8192, [], 'up'));
    const logger = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>), done()) }));
    gateway = await runMultiProviderInferenceServer(
      {
        openAICompatibleProviders: [
          { name: 'down', baseUrl: down.baseUrl, models: ['m'] },
          { name: 'up', baseUrl: up.baseUrl, models: ['m'] },
        ],
        strategy: 'round-robin',
        retryPolicy: { server_error: { backoff: { initialMs: 120, maxMs: 120, multiplier: 1, jitter: 0 } } },
        circuitBreaker: { consecutiveFailures: 100, minimumRequests: 100 },
        port: 0,
        healthCheckInterval: 3_600_000,
      },
      { logger },
    );
  });

  after(async () => {
    await gateway?.close();
    await Promise.all([down?.close(), up?.close()]);
  });

  test('a 503 then a success: 120 ms waited, logged per attempt, counted', async () => {
    for (let index = 0; index < 4; index++) {
      const started = performance.now();
      const answer = await chat(gateway, { model: 'm', messages: [{ role: 'user', content: `q${index}` }] });
      assert.equal(answer.status, 200);
      assert.equal(answer.provider, 'up');
      assert.ok(performance.now() - started >= 115 || down.requests <= index, 'a request that met the failing upstream waited the backoff');
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    const retried = lines.filter((entry) => entry.event === 'request' && entry.attempts === 2);
    assert.ok(retried.length >= 2, 'round-robin sent some first to the failing upstream');
    for (const line of retried) assert.deepEqual(line.retryDelaysMs, [120]);
    const waits = retried;
    const metrics = await (await fetch(`${gateway.url}/metrics`, asAdmin(gateway))).text();
    assert.match(metrics, new RegExp(`zg_gateway_retry_delay_seconds_count\\{class="server_error"\\} ${waits.length}\\b`));
  });
});
