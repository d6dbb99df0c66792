/**
 * Child process: a fast fake OpenAI-compatible upstream on 127.0.0.1.
 * - `POST /v1/chat/completions`: a JSON completion of `completionTokens` words, or, when the body
 *   asks for `"stream":true`, an SSE stream of `streamChunks` content chunks `streamGapMs` apart,
 *   a final chunk, a usage chunk (when `include_usage` is asked) and `[DONE]`.
 * - `GET /v1/models`: the one model (the gateway's health probe).
 * It is built to be cheap: bodies are not parsed (a byte search finds `"stream":true`), every
 * payload is prepared once and only the completion id changes per response.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { runChild } from './ipc.js';

export interface FakeUpstreamArgs {
  model: string;
  /** Words in a JSON completion. */
  completionTokens: number;
  /** Content chunks per stream. */
  streamChunks: number;
  /** Gap between stream chunks, ms (0: all at once). */
  streamGapMs: number;
}

export interface FakeUpstreamInfo {
  port: number;
  /** `http://127.0.0.1:<port>/v1`, what the gateway is given as `baseUrl`. */
  baseUrl: string;
}

const STREAM_MARKER = Buffer.from('"stream":true');
const USAGE_MARKER = Buffer.from('"include_usage":true');

runChild<FakeUpstreamArgs>(async (args) => {
  const created = Math.floor(Date.now() / 1000);
  const content = 'tok '.repeat(args.completionTokens).trimEnd();
  const usage = { prompt_tokens: 8, completion_tokens: args.completionTokens, total_tokens: 8 + args.completionTokens };
  // A JSON body split around its id, so only the id is written per response.
  const [jsonHead, jsonTail] = JSON.stringify({
    id: '\u0000',
    object: 'chat.completion',
    created,
    model: args.model,
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage,
  }).split('"\\u0000"') as [string, string];
  const chunkFrame = (id: string, delta: Record<string, string>, finish: string | null): string =>
    `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: args.model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  const streamUsageTail = (id: string): string =>
    `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: args.model, choices: [], usage: { ...usage, completion_tokens: args.streamChunks, total_tokens: 8 + args.streamChunks } })}\n\n`;
  const modelsBody = JSON.stringify({ object: 'list', data: [{ id: args.model, object: 'model', owned_by: 'bench' }] });
  let counter = 0;
  // Streams open right now and the most open at once since the last `resetStreamPeak`: shows
  // how many streams a proxy really carried concurrently to the upstream.
  let openStreams = 0;
  let peakStreams = 0;

  const answerJson = (response: ServerResponse): void => {
    const body = `${jsonHead}"chatcmpl-bench-${++counter}"${jsonTail}`;
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    response.end(body);
  };

  const answerStream = (response: ServerResponse, withUsage: boolean): void => {
    const id = `chatcmpl-bench-${++counter}`;
    // The first chunk carries the role and the first word, so time to first token is one event.
    const first = chunkFrame(id, { role: 'assistant', content: 'tok ' }, null);
    const next = chunkFrame(id, { content: 'tok ' }, null);
    const last = chunkFrame(id, {}, 'stop') + (withUsage ? streamUsageTail(id) : '') + 'data: [DONE]\n\n';
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    openStreams += 1;
    peakStreams = Math.max(peakStreams, openStreams);
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    const onClose = (): void => {
      clearTimeout(timer);
      openStreams -= 1;
    };
    response.once('close', onClose);
    const step = (): void => {
      if (response.destroyed) return;
      if (sent < args.streamChunks) {
        response.write(sent === 0 ? first : next);
        sent += 1;
        if (args.streamGapMs > 0) {
          timer = setTimeout(step, args.streamGapMs);
          return;
        }
        step();
        return;
      }
      response.end(last);
    };
    step();
  };

  const route = (request: IncomingMessage, response: ServerResponse, body: Buffer): void => {
    const url = request.url ?? '/';
    if (request.method === 'POST' && url.startsWith('/v1/chat/completions')) {
      if (body.includes(STREAM_MARKER)) answerStream(response, body.includes(USAGE_MARKER));
      else answerJson(response);
      return;
    }
    if (request.method === 'GET' && url.startsWith('/v1/models')) {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(modelsBody) });
      response.end(modelsBody);
      return;
    }
    response.writeHead(404, { 'content-type': 'application/json' });
    response.end('{"error":{"message":"not found","type":"invalid_request_error","code":"not_found"}}');
  };

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => route(request, response, chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)));
  });
  server.keepAliveTimeout = 60_000;
  server.headersTimeout = 61_000;
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    info: { port, baseUrl: `http://127.0.0.1:${port}/v1` } satisfies FakeUpstreamInfo,
    handlers: {
      served: () => counter,
      streamPeak: () => peakStreams,
      resetStreamPeak: () => {
        peakStreams = openStreams;
        return null;
      },
    },
    stop: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
});
