/**
 * A plain OpenAI-compatible upstream faked at its network edge, that can misbehave on demand:
 * write its answer one byte per TCP packet, send endless or huge bodies, answer any status,
 * or a 200 that is not a completion. It echoes the last user message, so a test chooses the
 * characters that cross the wire.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { loopbackListener } from './loopback-listener.js';

export type UpstreamMode =
  | { kind: 'normal' }
  | { kind: 'byte-drip' }
  | { kind: 'huge-json'; bytes: number }
  | { kind: 'huge-sse-event'; bytes: number; late?: boolean }
  | { kind: 'endless-sse-line' }
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string }
  | { kind: 'error-body' }
  | { kind: 'no-choices' }
  | { kind: 'sse-error-event' }
  | { kind: 'fail-after-role' }
  | { kind: 'delay'; ms: number };

export interface HostileUpstream {
  readonly name: string;
  readonly baseUrl: string;
  mode: UpstreamMode;
  /** Chat requests received. */
  requests: number;
  /** Bytes the upstream wrote for answers. */
  bytesWritten: number;
  /** The bytes of the last answer body, exactly as written. */
  lastAnswer: Buffer;
  /** Models received. */
  readonly models: string[];
  /** The chunks a stream is split into: code points per chunk. */
  chunkCodePoints: number;
  close(): Promise<void>;
}

function lastUserText(body: { messages?: Array<{ role?: string; content?: unknown }>; prompt?: unknown }): string {
  if (typeof body.prompt === 'string') return body.prompt;
  const user = [...(body.messages ?? [])].reverse().find((message) => message.role === 'user');
  return typeof user?.content === 'string' ? user.content : '';
}

function splitCodePoints(text: string, size: number): string[] {
  const points = [...text];
  const parts: string[] = [];
  for (let index = 0; index < points.length; index += size) parts.push(points.slice(index, index + size).join(''));
  return parts.length > 0 ? parts : [''];
}

/** Writes `bytes` one byte per write, yielding in between so each goes out in its own packet. */
async function drip(response: ServerResponse, bytes: Buffer): Promise<void> {
  for (const byte of bytes) {
    if (response.destroyed) return;
    response.write(Buffer.of(byte));
    await new Promise((resolve) => setImmediate(resolve));
  }
}

export async function startHostileUpstream(name: string, mode: UpstreamMode = { kind: 'normal' }): Promise<HostileUpstream> {
  const state: HostileUpstream = {
    name,
    baseUrl: '',
    mode,
    requests: 0,
    bytesWritten: 0,
    lastAnswer: Buffer.alloc(0),
    models: [],
    chunkCodePoints: 3,
    close: () => loopback.close(),
  };
  let answer: Buffer[] = [];
  const count = (text: string | Buffer): Buffer => {
    const buffer = typeof text === 'string' ? Buffer.from(text) : text;
    state.bytesWritten += buffer.length;
    if (answer.length < 1000) answer.push(buffer);
    return buffer;
  };
  const server: Server = createServer(async (request: IncomingMessage, response: ServerResponse) => {
    if (request.method === 'GET') {
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"object":"list","data":[]}');
      return;
    }
    let text = '';
    for await (const piece of request) text += (piece as Buffer).toString('utf8');
    const body = JSON.parse(text) as { model?: string; stream?: boolean; stream_options?: { include_usage?: boolean }; messages?: Array<{ role?: string; content?: unknown }> };
    state.requests += 1;
    answer = [];
    response.once('finish', () => {
      state.lastAnswer = Buffer.concat(answer);
    });
    state.models.push(body.model ?? '');
    const current = state.mode;
    const id = `chatcmpl-${name}-${state.requests}`;
    const content = lastUserText(body);
    const usage = { prompt_tokens: 5, completion_tokens: [...content].length, total_tokens: 5 + [...content].length };
    response.socket?.setNoDelay(true);
    if (current.kind === 'delay') await new Promise((resolve) => setTimeout(resolve, current.ms));
    if (current.kind === 'status') {
      response.writeHead(current.status, { 'content-type': 'application/json', ...current.headers });
      response.end(current.body ?? JSON.stringify({ error: { message: `status ${current.status} from ${name}`, code: current.status === 404 ? 'not_found' : null } }));
      return;
    }
    if (current.kind === 'error-body' || current.kind === 'no-choices') {
      const answer = current.kind === 'error-body' ? { error: { message: 'upstream overloaded', type: 'server_error' } } : { id, object: 'chat.completion', model: body.model };
      response.writeHead(200, { 'content-type': 'application/json' }).end(count(JSON.stringify(answer)));
      return;
    }
    if (current.kind === 'huge-json') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write(count(`{"id":"${id}","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"`));
      const block = Buffer.alloc(64 * 1024, 'a');
      for (let sent = 0; sent < current.bytes && !response.destroyed; sent += block.length) {
        if (!response.write(count(block))) await new Promise((resolve) => response.once('drain', resolve).once('close', resolve));
      }
      if (!response.destroyed) response.end(count('"},"finish_reason":"stop"}]}'));
      return;
    }
    if (!body.stream) {
      const answer = Buffer.from(
        JSON.stringify({ id, object: 'chat.completion', model: body.model, choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }], usage }),
      );
      response.writeHead(200, { 'content-type': 'application/json', ...(current.kind === 'byte-drip' ? {} : { 'content-length': String(answer.length) }) });
      if (current.kind === 'byte-drip') {
        await drip(response, count(answer));
        response.end();
      } else response.end(count(answer));
      return;
    }
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    const event = (payload: unknown): Buffer => count(`data: ${JSON.stringify(payload)}\n\n`);
    const chunk = (delta: Record<string, unknown>, finish: string | null = null): Buffer =>
      event({ id, object: 'chat.completion.chunk', model: body.model, choices: [{ index: 0, delta, finish_reason: finish }] });
    const send = async (bytes: Buffer): Promise<void> => {
      if (current.kind === 'byte-drip') await drip(response, bytes);
      else response.write(bytes);
    };
    await send(chunk({ role: 'assistant', content: '' }));
    if (current.kind === 'fail-after-role') {
      await new Promise((resolve) => setTimeout(resolve, 20));
      response.destroy();
      return;
    }
    if (current.kind === 'sse-error-event') {
      response.end(count(`event: error\ndata: ${JSON.stringify({ error: { message: 'model crashed', type: 'server_error' } })}\n\n`));
      return;
    }
    if (current.kind === 'endless-sse-line') {
      response.write(count('data: {"id":"endless","choices":[{"delta":{"content":"'));
      const block = Buffer.alloc(16 * 1024, 'x');
      while (!response.destroyed) {
        if (!response.write(count(block))) await new Promise((resolve) => response.once('drain', resolve).once('close', resolve));
      }
      return;
    }
    if (current.kind === 'huge-sse-event' && !current.late) await send(chunk({ content: 'y'.repeat(current.bytes) }));
    for (const part of splitCodePoints(content, state.chunkCodePoints)) await send(chunk({ content: part }));
    if (current.kind === 'huge-sse-event' && current.late) await send(chunk({ content: 'y'.repeat(current.bytes) }));
    await send(chunk({}, 'stop'));
    if (body.stream_options?.include_usage) await send(event({ id, object: 'chat.completion.chunk', choices: [], usage }));
    await send(count('data: [DONE]\n\n'));
    response.end();
  });
  const loopback = loopbackListener(server);
  (state as { baseUrl: string }).baseUrl = await loopback.listen();
  return state;
}
