import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { GatewayError, sendChatOverHttp, UpstreamHttpClient, type ProviderChatResult, type SseEvent } from 'zg-gateway';

/** A local server answering each request with the next scripted reply. */
let server: Server;
let baseUrl: string;
const replies: Array<(response: ServerResponse) => void> = [];
const client = new UpstreamHttpClient();

before(async () => {
  server = createServer((request, response) => {
    request.resume();
    request.on('end', () => (replies.shift() ?? ((reply) => reply.writeHead(500).end()))(response));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
after(async () => {
  await client.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function send(stream = false, limits?: { maxResponseBytes: number; maxSseEventBytes: number }): Promise<ProviderChatResult> {
  return sendChatOverHttp({
    client,
    providerId: 'p',
    baseUrl,
    headers: {},
    call: { route: 'chat', body: { model: 'm', messages: [{ role: 'user', content: 'hi' }], ...(stream ? { stream: true } : {}) } },
    options: { signal: AbortSignal.timeout(5000), chunkTimeoutMs: 1000, ...(limits ? { limits } : {}) },
  });
}

async function failure(promise: Promise<unknown>): Promise<GatewayError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(GatewayError.isInstance(error), String(error));
    return error;
  }
  assert.fail('expected a rejection');
}

async function drain(result: ProviderChatResult): Promise<SseEvent[]> {
  assert.equal(result.kind, 'stream');
  const events: SseEvent[] = [];
  if (result.kind !== 'stream') return events;
  for (let next = await result.events.next(); !next.done; next = await result.events.next()) events.push(next.value);
  return events;
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) => (response: ServerResponse): void => {
  response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
};

describe('sendChatOverHttp: status mapping', () => {
  const cases: Array<[number, unknown, string, boolean]> = [
    [401, { error: { message: 'bad token' } }, 'upstream_auth_rejected', true],
    [402, { error: { message: 'pay up' } }, 'insufficient_funds', true],
    [404, { error: { message: 'The model m does not exist', code: 'model_not_found' } }, 'upstream_model_unavailable', true],
    [404, { error: { message: 'no such route' } }, 'route_not_supported', true],
    [405, { error: { message: 'method not allowed' } }, 'route_not_supported', true],
    [400, { error: { message: "Unsupported parameter: 'logprobs' is not supported with this model.", code: 'unsupported_parameter' } }, 'unsupported_parameter', true],
    [400, { object: 'error', message: "[{'type': 'extra_forbidden', 'loc': ('body', 'foo'), 'msg': 'Extra inputs are not permitted'}]", type: 'BadRequestError', code: 400 }, 'unsupported_parameter', true],
    [400, { error: { message: "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.", code: 'context_length_exceeded' } }, 'context_length_exceeded', true],
    [400, { object: 'error', message: "This model's maximum context length is 4096 tokens. However, you requested 9000 tokens (8000 in the messages, 1000 in the completion).", type: 'BadRequestError', code: 400 }, 'context_length_exceeded', true],
    [413, { error: { message: 'Input validation error: too many tokens' } }, 'context_length_exceeded', true],
    [301, {}, 'upstream_error', true],
    [413, {}, 'upstream_error', true],
    [400, { error: { message: 'temperature too high' } }, 'upstream_client_error', false],
    [422, { detail: 'x' }, 'upstream_client_error', false],
    [429, { error: { message: 'slow down' } }, 'upstream_rate_limited', true],
    [503, { error: 'down' }, 'upstream_error', true],
  ];
  for (const [status, body, code, retryable] of cases) {
    test(`HTTP ${status} → ${code} (retryable: ${retryable})`, async () => {
      replies.push(json(status, body, status === 429 ? { 'retry-after': '7' } : {}));
      const error = await failure(send());
      assert.equal(error.code, code);
      assert.equal(error.retryable, retryable);
      assert.equal(error.upstreamStatus, status);
      if (status === 429) assert.equal(error.retryAfterMs, 7000);
      const stated = /maximum context length is (\d+)/.exec(JSON.stringify(body))?.[1];
      if (code === 'context_length_exceeded') assert.equal(error.details?.contextLength, stated === undefined ? undefined : Number(stated), 'the stated window is read');
    });
  }
});

describe('sendChatOverHttp: error bodies of any size', () => {
  for (const size of [1024, 64 * 1024, 10 * 1024 * 1024]) {
    test(`a ${size} B error body keeps its status, Retry-After and message (JSON and stream)`, async () => {
      for (const stream of [false, true]) {
        for (const [status, code] of [
          [500, 'upstream_error'],
          [400, 'upstream_client_error'],
          [429, 'upstream_rate_limited'],
        ] as const) {
          const body = JSON.stringify({ error: { message: `busy ${status}`, code: 'busy' }, padding: 'p'.repeat(size) });
          replies.push((response) => response.writeHead(status, { 'content-type': 'application/json', 'retry-after': '7' }).end(body));
          const error = await failure(send(stream));
          assert.equal(error.code, code, `${size} B, ${status}, stream ${stream}: ${error.message}`);
          assert.equal(error.upstreamStatus, status);
          assert.match(error.message, new RegExp(`busy ${status}`), 'the message is read from the first bytes even when the JSON is cut');
          if (status === 429) assert.equal(error.retryAfterMs, 7000);
        }
      }
    });
  }
});

describe('sendChatOverHttp: answers', () => {
  test('a JSON answer keeps its exact bytes and reads id and usage; a 200 that is not a completion fails', async () => {
    const body = '{"id":"c1","model":"m","choices":[{"message":{"content":"漢"}}],"usage":{"prompt_tokens":2,"completion_tokens":1}}';
    replies.push((response) => response.writeHead(200, { 'content-type': 'application/json' }).end(body));
    const result = await send();
    assert.equal(result.kind, 'json');
    if (result.kind !== 'json') return;
    assert.equal(result.bytes.toString('utf8'), body);
    assert.deepEqual(result.facts, { responseId: 'c1', model: 'm', usage: { prompt_tokens: 2, completion_tokens: 1, total_tokens: 3 } });
    for (const bad of ['{"error":{"message":"boom"}}', '{"id":"x"}', '{"id":"x","choices":[]}', 'not json', '[1,2]']) {
      replies.push((response) => response.writeHead(200, { 'content-type': 'application/json' }).end(bad));
      assert.equal((await failure(send())).code, 'upstream_error', bad);
    }
  });

  test('a JSON answer over maxResponseBytes fails with upstream_response_too_large (declared or streamed)', async () => {
    replies.push((response) => response.writeHead(200, { 'content-type': 'application/json', 'content-length': '5000' }).end('x'.repeat(5000)));
    assert.equal((await failure(send(false, { maxResponseBytes: 1024, maxSseEventBytes: 1024 }))).code, 'upstream_response_too_large');
    replies.push((response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('y'.repeat(5000));
    });
    assert.equal((await failure(send(false, { maxResponseBytes: 1024, maxSseEventBytes: 1024 }))).code, 'upstream_response_too_large');
  });

  test('SSE: events keep their bytes, [DONE] ends, an error event or a cut throws', async () => {
    replies.push((response) => response.writeHead(200, { 'content-type': 'text/event-stream' }).end('data: {"id":"s","choices":[]}\n\n: ping\n\ndata: [DONE]\n\n'));
    const events = await drain(await send(true));
    assert.deepEqual(events.map((event) => event.raw.toString()), ['data: {"id":"s","choices":[]}\n\n', ': ping\n\n']);
    assert.equal(events[1]?.json, undefined);
    replies.push((response) => response.writeHead(200, { 'content-type': 'text/event-stream' }).end('event: error\ndata: {"error":{"message":"gpu on fire"}}\n\n'));
    assert.match((await failure(drain(await send(true)))).message, /gpu on fire/);
    replies.push((response) => response.writeHead(200, { 'content-type': 'text/event-stream' }).end('data: {"id":"s"}\n\n'));
    assert.equal((await failure(drain(await send(true)))).code, 'stream_interrupted', 'ended without [DONE]');
    replies.push((response) => response.writeHead(200, { 'content-type': 'text/event-stream' }).end('data: {"error":{"message":"mid-stream"}}\n\n'));
    assert.match((await failure(drain(await send(true)))).message, /mid-stream/);
    replies.push(json(200, { id: 'j', choices: [{}] }));
    assert.match((await failure(send(true))).message, /a stream was requested/);
  });

  test('SSE: an event left unterminated at the end of the body is never yielded (its [DONE] still ends the answer)', async () => {
    replies.push((response) => response.writeHead(200, { 'content-type': 'text/event-stream' }).end('data: {"id":"s","choices":[]}\n\ndata: {"id":"s","choices":[{"delta":{"content":"cut"}}]}'));
    const result = await send(true);
    assert.equal(result.kind, 'stream');
    if (result.kind !== 'stream') return;
    const first = await result.events.next();
    assert.equal(first.value?.raw.toString(), 'data: {"id":"s","choices":[]}\n\n');
    const error = await failure(result.events.next());
    assert.equal(error.code, 'stream_interrupted');
    assert.match(error.message, /in the middle of an event/);
    replies.push((response) => response.writeHead(200, { 'content-type': 'text/event-stream' }).end('data: {"id":"s","choices":[]}\n\ndata: [DONE]'));
    assert.equal((await drain(await send(true))).length, 1);
    // Cut in the middle of its JSON: the cut is what is reported; an error it carried is kept.
    replies.push((response) => response.writeHead(200, { 'content-type': 'text/event-stream' }).end('data: {"id":"s","choices":[]}\n\ndata: {"id":"s","choi'));
    assert.match((await failure(drain(await send(true)))).message, /in the middle of an event/);
    replies.push((response) => response.writeHead(200, { 'content-type': 'text/event-stream' }).end('data: {"id":"s","choices":[]}\n\ndata: {"error":{"message":"oom at the end"}}'));
    assert.match((await failure(drain(await send(true)))).message, /oom at the end/);
  });

  test('SSE: a consumer that stops reading for longer than the chunk gap is not the provider\'s silence (the reader paused it)', async () => {
    replies.push((response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      const event = `data: {"id":"slow","choices":[{"delta":{"content":"${'x'.repeat(1000)}"}}]}\n\n`;
      let written = 0;
      const pump = (): void => {
        while (written < 3000) {
          written += 1;
          if (!response.write(event)) return void response.once('drain', pump);
        }
        response.end('data: [DONE]\n\n');
      };
      pump();
    });
    const result = await send(true);
    assert.equal(result.kind, 'stream');
    if (result.kind !== 'stream') return;
    assert.equal((await result.events.next()).done, false);
    // Longer than the chunk gap (1000 ms): the upstream is paused by the reader, not silent.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    let count = 1;
    for (let next = await result.events.next(); !next.done; next = await result.events.next()) count += 1;
    assert.equal(count, 3000);
  });

  test('SSE: silence longer than the chunk gap aborts with upstream_timeout', async () => {
    replies.push((response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write('data: {"id":"s"}\n\n');
    });
    const error = await failure(drain(await send(true)));
    assert.equal(error.code, 'upstream_timeout');
  });

  test('SSE: after [DONE] the connection is kept for the next request; a consumer that stops is never pushed more than a read-ahead', async () => {
    const sockets = new Set<unknown>();
    const count = (socket: unknown): void => void sockets.add(socket);
    server.on('connection', count);
    try {
      for (let index = 0; index < 4; index++) {
        replies.push((response) => {
          response.writeHead(200, { 'content-type': 'text/event-stream' });
          response.write(`data: {"id":"s${index}","choices":[]}\n\ndata: [DONE]\n\n`);
          setImmediate(() => response.end());
        });
        assert.equal((await drain(await send(true))).length, 1);
      }
      assert.ok(sockets.size <= 1, `4 streams in a row used ${sockets.size} new connections`);
    } finally {
      server.off('connection', count);
    }

    // A fast upstream, a consumer that takes one event and waits: the upstream is paused, not read whole.
    // 20 MB in all: more than the kernel's socket buffers can take, even on a connection that carried
    // a 10 MiB error body earlier in this file (autotuning grows them to several MB).
    const total = 20_000;
    let written = 0;
    let paused = false;
    replies.push((response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      const event = `data: {"id":"big","choices":[{"delta":{"content":"${'x'.repeat(1000)}"}}]}\n\n`;
      const pump = (): void => {
        while (written < total) {
          written += 1;
          if (!response.write(event)) {
            paused = true;
            response.once('drain', pump);
            return;
          }
        }
        response.end('data: [DONE]\n\n');
      };
      pump();
    });
    const result = await send(true);
    assert.equal(result.kind, 'stream');
    if (result.kind !== 'stream') return;
    assert.equal((await result.events.next()).done, false);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.ok(paused, 'the upstream met backpressure');
    assert.ok(written < total, `the upstream wrote ${written} of ${total} events to a consumer that took one`);
    let rest = 1;
    for (let next = await result.events.next(); !next.done; next = await result.events.next()) rest += 1;
    assert.equal(rest, total, 'every event arrives once the consumer reads again');
  });
});


describe('embeddings over HTTP', () => {
  const embed = (): Promise<ProviderChatResult> =>
    sendChatOverHttp({ client, providerId: 'p', baseUrl, headers: {}, call: { route: 'embeddings', body: { model: 'e', input: 'hi' } }, options: { signal: AbortSignal.timeout(5000) } });

  test('a list is kept byte for byte, named by the gateway (it has no id), its usage read with 0 completion tokens', async () => {
    const body = '{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.5]}],"model":"e","usage":{"prompt_tokens":3,"total_tokens":3}}';
    replies.push((response) => response.writeHead(200, { 'content-type': 'application/json' }).end(body));
    const result = await embed();
    assert.equal(result.kind, 'json');
    if (result.kind !== 'json') return;
    assert.equal(result.bytes.toString('utf8'), body);
    assert.match(result.chatId, /^emb-/);
    assert.equal(result.facts.usage?.prompt_tokens, 3);
    assert.equal(result.facts.usage?.completion_tokens, 0);
  });

  test('a 200 that is not an embeddings list is the provider\'s failure, retryable', async () => {
    replies.push((response) => response.writeHead(200, { 'content-type': 'application/json' }).end('{"object":"list","data":[]}'));
    const error = await failure(embed());
    assert.equal(error.code, 'upstream_error');
    assert.equal(error.retryable, true);
  });
});
