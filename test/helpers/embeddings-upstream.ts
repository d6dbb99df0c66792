/**
 * A plain OpenAI-compatible upstream that serves embeddings, faked at its network edge:
 * `POST /v1/embeddings` answers deterministic vectors (from each input's characters or tokens)
 * with `usage.prompt_tokens` (about four characters a token, rounded up per string; a token array
 * counts its tokens), as floats or, with `encoding_format: "base64"`, as base64 of little-endian
 * float32. It also answers `POST /v1/chat/completions` (so a request routed to it by mistake
 * succeeds and is counted, never hidden by an error). Every request is recorded with its path.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { loopbackListener } from './loopback-listener.js';

export interface EmbeddingsUpstreamOptions {
  /** Vector length when the request sets no `dimensions`. Default 4. */
  dimensions?: number;
  /** Time before each answer, ms. Default 0. */
  delayMs?: number;
}

export interface RecordedRequest {
  readonly path: string;
  readonly body: Record<string, unknown>;
}

export interface EmbeddingsUpstream {
  readonly name: string;
  /** `http://127.0.0.1:<port>/v1`. */
  readonly baseUrl: string;
  /** Every POST received, in order. */
  readonly requests: RecordedRequest[];
  /** While set, every request (or, with `failPath`, every request to that path) is answered with this status and an OpenAI-style error body. */
  failWith: number | undefined;
  failPath: string | undefined;
  delayMs: number;
  /** The exact bytes of the last embeddings answer sent. */
  lastAnswer: Buffer | undefined;
  close(): Promise<void>;
}

/** The prompt tokens the upstream reports for an `input` (the gateway's estimate counts the same way). */
export function inputTokens(input: unknown): number {
  const items = Array.isArray(input) && input.length > 0 && typeof input[0] === 'number' ? [input] : Array.isArray(input) ? input : [input];
  let tokens = 0;
  for (const item of items) tokens += typeof item === 'string' ? Math.ceil(item.length / 4) : Array.isArray(item) ? item.length : 0;
  return tokens;
}

/** The vector the upstream gives one input item: deterministic from its text or tokens. */
export function vectorOf(item: unknown, dimensions: number): number[] {
  const codes = typeof item === 'string' ? [...item].map((character) => character.codePointAt(0) ?? 0) : Array.isArray(item) ? (item as number[]) : [];
  const vector: number[] = [];
  for (let index = 0; index < dimensions; index++) {
    let sum = index + 1;
    for (const [position, code] of codes.entries()) sum = (sum * 31 + code * (position + 1)) % 10007;
    // Exact in float32: a multiple of 1/1024 below 10.
    vector.push(Math.round((sum / 10007) * 1024) / 1024);
  }
  return vector;
}

function base64Of(vector: number[]): string {
  const floats = new Float32Array(vector);
  return Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength).toString('base64');
}

export async function startEmbeddingsUpstream(name: string, options: EmbeddingsUpstreamOptions = {}): Promise<EmbeddingsUpstream> {
  const defaultDimensions = options.dimensions ?? 4;
  const server = createServer((request: IncomingMessage, response: ServerResponse) => void handle(request, response));
  const state: EmbeddingsUpstream = {
    name,
    baseUrl: '',
    requests: [],
    failWith: undefined,
    failPath: undefined,
    delayMs: options.delayMs ?? 0,
    lastAnswer: undefined,
    close: () => loopback.close(),
  };
  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let text = '';
    for await (const chunk of request) text += (chunk as Buffer).toString('utf8');
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    if (request.method !== 'POST') {
      response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
      return;
    }
    const body = JSON.parse(text) as Record<string, unknown>;
    state.requests.push({ path, body });
    if (state.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, state.delayMs));
    if (state.failWith !== undefined && (state.failPath === undefined || state.failPath === path)) {
      response.writeHead(state.failWith, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `${name} is failing`, type: 'server_error' } }));
      return;
    }
    if (path === '/v1/chat/completions') {
      response.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({ id: `chatcmpl-${name}-${state.requests.length}`, object: 'chat.completion', model: body.model, choices: [{ index: 0, message: { role: 'assistant', content: `${name} chats` }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 } }),
      );
      return;
    }
    if (path !== '/v1/embeddings') {
      response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"no such route"}}');
      return;
    }
    const input = body.input;
    const items: unknown[] = typeof input === 'string' ? [input] : Array.isArray(input) && typeof input[0] === 'number' ? [input] : (input as unknown[]);
    const dimensions = typeof body.dimensions === 'number' ? body.dimensions : defaultDimensions;
    const base64 = body.encoding_format === 'base64';
    const data = items.map((item, index) => {
      const vector = vectorOf(item, dimensions);
      return { object: 'embedding', index, embedding: base64 ? base64Of(vector) : vector };
    });
    const tokens = inputTokens(input);
    // Spaced as no JSON.stringify would re-emit it: a relay that re-encodes the answer is caught.
    const answer = Buffer.from(`{ "object": "list", "data": ${JSON.stringify(data)}, "model": ${JSON.stringify(body.model)}, "usage": {"prompt_tokens": ${tokens}, "total_tokens": ${tokens}}, "served_by": ${JSON.stringify(name)} }`);
    state.lastAnswer = answer;
    response.writeHead(200, { 'content-type': 'application/json' }).end(answer);
  }
  const loopback = loopbackListener(server);
  (state as { baseUrl: string }).baseUrl = await loopback.listen();
  return state;
}
