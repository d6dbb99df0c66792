/**
 * A provider cannot flood or lie its way through a stream, and a client that stops reading (or
 * leaves) is never counted against the provider. Each test fails on a gateway that holds every
 * event before the first content, stops its first-byte timer at the first event, relays a chunk
 * without `choices`, loses the status of large error bodies, relays an event cut short at close,
 * or runs its chunk-gap timer while it paused the provider itself.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { runMultiProviderInferenceServer, type GatewayHandle, type GatewayOptions } from 'zg-gateway';
import { silentLogger } from '../helpers/fakes.js';
import { adminView, besideHonest, type HostilePair } from '../helpers/hostile-pair.js';
import { startHostileUpstream } from '../helpers/hostile-upstream.js';
import { startScriptedUpstream, type Script, type ScriptedUpstream } from '../helpers/scripted-upstream.js';

const ask = (content: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ model: 'm', messages: [{ role: 'user', content }], ...extra });

async function post(gateway: GatewayHandle, body: Record<string, unknown>): Promise<{ status: number; provider: string | null; retryAfter: string | null; text: string }> {
  const response = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, provider: response.headers.get('x-provider-address'), retryAfter: response.headers.get('retry-after'), text: await response.text() };
}

/** The gateway in front of a scripted (hostile) upstream and an honest one. */
const pair = async (script: Script, options: Partial<GatewayOptions> = {}): Promise<HostilePair<ScriptedUpstream>> => besideHonest(await startScriptedUpstream('bad', script), options);

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The content of an SSE answer that ends with `[DONE]`. */
function streamedContent(text: string): string {
  const events = text.split('\n\n').filter(Boolean);
  assert.equal(events[events.length - 1], 'data: [DONE]', 'the stream ends with [DONE]');
  return events
    .slice(0, -1)
    .map((event) => JSON.parse(event.slice('data: '.length)) as { choices: Array<{ delta: { content?: string } }> })
    .map((chunk) => chunk.choices[0]?.delta.content ?? '')
    .join('');
}

/** Sends `unit` as fast as the gateway takes it for up to `ms`, then a real answer: served by this provider unless the gateway cuts it. */
const flood =
  (unit: (chunk: (delta: Record<string, unknown>) => string) => string, ms: number): Script =>
  async ({ response, write, chunk }) => {
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    const one = unit(chunk);
    const block = one.repeat(Math.ceil((64 * 1024) / one.length));
    const until = Date.now() + ms;
    while (Date.now() < until) if (!(await write(block))) return;
    await write(chunk({ content: 'from the flooder' }));
    await write('data: [DONE]\n\n');
    response.end();
  };

describe('what a provider sends before its first content is bounded', () => {
  before(async () => {
    // Warms up what the first request of a process loads (modules, pools), so RSS growth below is the floods' alone.
    const { gateway, close } = await pair(async ({ response, write, chunk }) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      await write(chunk({ content: 'warm' }));
      await write('data: [DONE]\n\n');
      response.end();
    });
    try {
      for (let index = 0; index < 4; index++) await post(gateway, ask('warm up', { stream: true }));
    } finally {
      await close();
    }
  });
  const floods: Array<[string, (chunk: (delta: Record<string, unknown>) => string) => string, RegExp]> = [
    ['comment lines', () => ': keep-alive\n\n', /events/],
    ['role-only chunks', (chunk) => chunk({ role: 'assistant', content: '' }), /events/],
    ['8 KiB comments', () => `: ${'x'.repeat(8 * 1024)}\n\n`, /bytes/],
  ];
  for (const [name, unit, bound] of floods) {
    test(`a flood of ${name} before any content is cut at the preamble bound and the request is served by another provider; RSS stays bounded`, async (t) => {
      const { gateway, bad, close } = await pair(flood(unit, 6000));
      const rss = (): number => process.memoryUsage().rss;
      const before = rss();
      let peak = before;
      const sampler = setInterval(() => (peak = Math.max(peak, rss())), 5);
      try {
        const answer = await post(gateway, ask('hello after the flood', { stream: true }));
        clearInterval(sampler);
        const grewMb = (peak - before) / 2 ** 20;
        t.diagnostic(`${name}: RSS grew ${grewMb.toFixed(1)} MB (bound 64 MB); the flooder wrote ${(bad.bytesWritten / 2 ** 20).toFixed(2)} MB before it was cut`);
        assert.equal(answer.status, 200, answer.text);
        assert.equal(answer.provider, 'good', 'served by the other provider');
        assert.equal(streamedContent(answer.text), 'hello after the flood');
        const view = await adminView(gateway, 'bad');
        assert.equal(view.lastError?.code, 'upstream_response_too_large');
        assert.match(view.lastError?.message ?? '', bound);
        assert.match(view.lastError?.message ?? '', /before any content/);
        assert.ok(grewMb < 64, `RSS grew ${grewMb.toFixed(1)} MB (bound: 64 MB)`);
        assert.ok(bad.bytesWritten < 16 * 2 ** 20, `the flooder was cut early (${bad.bytesWritten} bytes)`);
        assert.equal(gateway.inFlight(), 0);
      } finally {
        clearInterval(sampler);
        await close();
      }
    });
  }

  test('the first-byte deadline runs until the first content: a provider that drips comments is replaced at timeouts.firstByte', async (t) => {
    const drip: Script = async ({ response, write, chunk }) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      await write(chunk({ role: 'assistant', content: '' }));
      const until = Date.now() + 4000;
      while (Date.now() < until) {
        if (!(await write(': still thinking\n\n'))) return;
        await sleep(100);
      }
      await write(chunk({ content: 'late' }));
      await write('data: [DONE]\n\n');
      response.end();
    };
    const { gateway, close } = await pair(drip, { timeouts: { firstByte: 1000 } });
    try {
      const started = Date.now();
      const answer = await post(gateway, ask('on time', { stream: true }));
      t.diagnostic(`served after ${Date.now() - started} ms (firstByte 1000 ms, the dripper would have answered after 4000 ms)`);
      assert.equal(answer.status, 200);
      assert.equal(answer.provider, 'good');
      assert.equal(streamedContent(answer.text), 'on time');
      assert.equal((await adminView(gateway, 'bad')).lastError?.code, 'upstream_timeout');
    } finally {
      await close();
    }
  });

  test('a streamed chunk without choices before any content is the provider\'s failure: retried elsewhere, as its JSON twin is', async () => {
    const noChoices: Script = async ({ response, write, id }) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      await write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', model: 'm' })}\n\n`);
      await write('data: [DONE]\n\n');
      response.end();
    };
    const { gateway, bad, close } = await pair(noChoices);
    try {
      const answer = await post(gateway, ask('with choices', { stream: true }));
      assert.equal(answer.status, 200);
      assert.equal(answer.provider, 'good');
      assert.equal(streamedContent(answer.text), 'with choices');
      assert.equal(bad.requests, 1);
      const view = await adminView(gateway, 'bad');
      assert.equal(view.lastError?.code, 'upstream_error');
      assert.match(view.lastError?.message ?? '', /no choices/);
      assert.ok(view.breaker.windowFailures >= 1, 'counted against its breaker');
    } finally {
      await close();
    }
  });
});

describe('error bodies of any size keep their status and Retry-After', () => {
  const statuses: Array<[number, Record<string, string>, number, string, string | null]> = [
    [500, {}, 502, 'upstream_error', null],
    [400, {}, 400, 'upstream_client_error', null],
    [429, { 'retry-after': '7' }, 429, 'upstream_rate_limited', '7'],
  ];
  for (const size of [1024, 64 * 1024, 10 * 1024 * 1024]) {
    test(`a ${size / 1024} KiB error body: 500, 400 and 429 (Retry-After: 7) keep their meaning, JSON and streamed`, async () => {
      const upstream = await startHostileUpstream('u');
      try {
        for (const stream of [false, true]) {
          for (const [status, headers, expected, code, retryAfter] of statuses) {
            const body = JSON.stringify({ error: { message: `overloaded (${status})`, type: 'server_error', code: null }, padding: 'x'.repeat(size) });
            upstream.mode = { kind: 'status', status, headers, body };
            // A gateway per case: a 429 takes the only provider out of rotation for its Retry-After.
            const gateway = await runMultiProviderInferenceServer(
              { openAICompatibleProviders: [{ name: 'u', baseUrl: upstream.baseUrl, model: 'm' }], port: 0, healthCheckInterval: 3_600_000 },
              { logger: silentLogger },
            );
            try {
              const answer = await post(gateway, ask('fail', { stream }));
              const label = `${size} B, HTTP ${status}, stream ${stream}: ${answer.text.slice(0, 300)}`;
              assert.equal(answer.status, expected, label);
              assert.match(answer.text, new RegExp(`"${code}"`), label);
              assert.doesNotMatch(answer.text, /upstream_unreachable/, label);
              assert.match(answer.text, new RegExp(`overloaded \\(${status}\\)`), `the upstream's message is kept: ${label}`);
              if (retryAfter !== null) assert.equal(answer.retryAfter, retryAfter, label);
              const view = await adminView(gateway, 'u');
              assert.equal(view.lastError?.code, code, label);
            } finally {
              await gateway.close();
            }
          }
        }
      } finally {
        await upstream.close();
      }
    });
  }
});

describe('a stream cut in the middle of an event ends with an error every client can parse', () => {
  test('an unterminated last event followed by close: the openai client surfaces an APIError, not a SyntaxError', async () => {
    const cut: Script = async ({ response, write, chunk }) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      await write(chunk({ role: 'assistant', content: '' }));
      await write(chunk({ content: 'partial ' }));
      // A whole JSON chunk, but no blank line after it: the event is not finished when the body ends.
      await write(chunk({ content: 'answer' }).trimEnd());
      response.end();
    };
    const upstream = await startScriptedUpstream('cut', cut);
    const gateway = await runMultiProviderInferenceServer(
      { openAICompatibleProviders: [{ name: 'cut', baseUrl: upstream.baseUrl, model: 'm' }], port: 0, healthCheckInterval: 3_600_000 },
      { logger: silentLogger },
    );
    try {
      const raw = await post(gateway, ask('x', { stream: true }));
      assert.equal(raw.status, 200);
      const events = raw.text.split('\n\n');
      assert.equal(events.pop(), '', 'every event, the error included, ends with a blank line');
      for (const event of events) {
        assert.match(event, /^data: [^\n]*$/, `one data line per event: ${event}`);
        JSON.parse(event.slice('data: '.length));
      }
      assert.match(events[events.length - 1] ?? '', /"code":"stream_interrupted"/);

      const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 20_000 });
      let content = '';
      let caught: unknown;
      try {
        const stream = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }], stream: true });
        for await (const part of stream) content += part.choices[0]?.delta.content ?? '';
      } catch (error) {
        caught = error;
      }
      assert.ok(caught, 'the stream ends with an error');
      assert.ok(!(caught instanceof SyntaxError), `not a SyntaxError: ${String(caught)}`);
      assert.ok(caught instanceof OpenAI.APIError, `an APIError: ${String(caught)}`);
      assert.match(String((caught as Error).message), /stream/);
      assert.equal(content, 'partial ');
    } finally {
      await gateway.close();
      await upstream.close();
    }
  });
});

describe('clients that leave or stop reading are not the provider\'s failures', () => {
  /** A long stream when asked for "long" (16 KiB of content per event, up to 64 MiB), else a short one. */
  const longOrShort: Script = async ({ response, write, chunk, body }) => {
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    await write(chunk({ role: 'assistant', content: '' }));
    const prompt = String(body.messages?.[0]?.content ?? '');
    if (prompt.startsWith('long')) {
      const piece = chunk({ content: 'z'.repeat(16 * 1024) });
      for (let index = 0; index < 4096; index++) {
        if (!(await write(piece))) return;
        if (prompt === 'long-slow') await sleep(20);
      }
    } else {
      await write(chunk({ content: prompt }));
    }
    await write(chunk({}, 'stop'));
    await write('data: [DONE]\n\n');
    response.end();
  };

  async function single(options: Partial<GatewayOptions> = {}): Promise<{ gateway: GatewayHandle; upstream: ScriptedUpstream; close: () => Promise<void> }> {
    const upstream = await startScriptedUpstream('p', longOrShort);
    const gateway = await runMultiProviderInferenceServer(
      { openAICompatibleProviders: [{ name: 'p', baseUrl: upstream.baseUrl, model: 'm' }], port: 0, healthCheckInterval: 3_600_000, ...options },
      { logger: silentLogger },
    );
    return {
      gateway,
      upstream,
      close: async () => {
        await gateway.close();
        await upstream.close();
      },
    };
  }

  async function waitIdle(gateway: GatewayHandle, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (gateway.inFlight() > 0 && Date.now() < deadline) await sleep(20);
  }

  test('a client that aborts a stream is counted in clientAborts, not in the provider\'s failures or lastError', async () => {
    const { gateway, close } = await single();
    try {
      const controller = new AbortController();
      const response = await fetch(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(ask('long-slow', { stream: true })),
        signal: controller.signal,
      });
      const reader = (response.body as ReadableStream<Uint8Array>).getReader();
      await reader.read();
      controller.abort();
      await reader.read().catch(() => undefined);
      await waitIdle(gateway, 5000);
      assert.equal(gateway.inFlight(), 0);
      const view = await adminView(gateway, 'p');
      assert.equal(view.failures, 0, 'not a failure of the provider');
      assert.equal(view.lastError, null, 'not its last error');
      assert.equal(view.clientAborts, 1);
      assert.equal(view.breaker.windowFailures, 0);
    } finally {
      await close();
    }
  });

  test('three clients that stop reading leave the provider\'s breaker closed; they are cut at timeouts.clientStall and the next client is served', async (t) => {
    const { gateway, close } = await single({ timeouts: { chunkGap: 300, clientStall: 1500 } });
    const sockets: Socket[] = [];
    try {
      const request = JSON.stringify(ask('long', { stream: true }));
      const started = Date.now();
      for (let index = 0; index < 3; index++) {
        const socket = connect(gateway.port, '127.0.0.1');
        sockets.push(socket);
        socket.on('error', () => undefined);
        // Reads the head, then stops reading: its buffers fill and the gateway has to pause the provider.
        socket.once('data', () => socket.pause());
        socket.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(request)}\r\n\r\n${request}`);
      }
      await sleep(200);
      await waitIdle(gateway, 10_000);
      t.diagnostic(`the 3 stalled clients were let go after ${Date.now() - started} ms (chunkGap 300 ms, clientStall 1500 ms)`);
      assert.equal(gateway.inFlight(), 0, 'the stalled clients were cut');
      const view = await adminView(gateway, 'p');
      assert.equal(view.breaker.state, 'closed', 'the provider is not blamed for the gateway pausing it');
      assert.equal(view.breaker.windowFailures, 0);
      assert.equal(view.failures, 0);
      assert.equal(view.clientAborts, 3);
      const next = await post(gateway, ask('next client', { stream: true }));
      assert.equal(next.status, 200, next.text);
      assert.equal(streamedContent(next.text), 'next client');
    } finally {
      for (const socket of sockets) socket.destroy();
      await close();
    }
  });
});
