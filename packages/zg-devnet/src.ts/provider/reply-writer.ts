import type { IncomingMessage, ServerResponse } from 'node:http';
import { sleep } from '../internal/sleep.js';
import { usageOf, type ChatReply } from './chat-reply.js';

/** Writes a response body, piece by piece, respecting back-pressure; stops quietly once the client is gone. */
export interface BodyWriter {
  /** Writes text; resolves when it may write more (after `drain` if the socket buffer is full). */
  write(text: string | Buffer): Promise<void>;
}

/** Resolves when `response` can take more data, or it closes, or `signal` aborts. */
export function waitForDrain(response: ServerResponse, signal: AbortSignal): Promise<void> {
  if (signal.aborted || response.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      response.off('drain', done);
      response.off('close', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    response.once('drain', done);
    response.once('close', done);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Writes each piece as one `write`. */
export function plainWriter(response: ServerResponse, signal: AbortSignal): BodyWriter {
  return {
    async write(text) {
      if (signal.aborted || response.destroyed) return;
      if (!response.write(text)) await waitForDrain(response, signal);
    },
  };
}

/**
 * Writes one byte per `write`, with Nagle off and a turn of the event loop between writes, so
 * each byte leaves in its own TCP packet and multibyte UTF-8 characters arrive split.
 */
export function byteDripWriter(response: ServerResponse, signal: AbortSignal): BodyWriter {
  response.socket?.setNoDelay(true);
  return {
    async write(text) {
      const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
      for (let index = 0; index < bytes.length; index++) {
        if (signal.aborted || response.destroyed) return;
        if (!response.write(bytes.subarray(index, index + 1))) await waitForDrain(response, signal);
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    },
  };
}

/** Thrown by {@link readBodyBytes} when a body is longer than its limit. */
export class BodyTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`body too large: more than ${limit} bytes`);
  }
}

/** Reads a request body as bytes, at most `limit` of them (else {@link BodyTooLarge}, as soon as the limit is passed). */
export async function readBodyBytes(request: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw new BodyTooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limit) throw new BodyTooLarge(limit);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/** Reads a request body as UTF-8 (at most `limit` bytes). */
export async function readBody(request: IncomingMessage, limit = 4 * 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limit) throw new Error('body too large');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Answers JSON with a content-length (no body for 204 and 304, as HTTP requires). */
export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (status === 204 || status === 304) {
    response.writeHead(status, headers);
    response.end();
    return;
  }
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  response.end(text);
}

/** An OpenAI-style error body `{"error": {message, type, code}}`. */
export function errorBody(message: string, type: string, code: string | number): { error: { message: string; type: string; code: string | number } } {
  return { error: { message, type, code } };
}

/** Answers an error as a provider does: OpenAI-style body, code = the status unless given. */
export function sendError(response: ServerResponse, status: number, message: string, options: { headers?: Record<string, string>; type?: string; code?: string } = {}): void {
  sendJson(response, status, errorBody(message, options.type ?? 'provider_error', options.code ?? status), options.headers);
}

/** One SSE `data:` event. */
export function sseEvent(payload: unknown): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}

/** Identifies the provider in replies (`system_fingerprint`). */
export function fingerprintOf(providerAddress: string): string {
  return `zg-devnet:${providerAddress}`;
}

/** A `chat.completion` body. */
export function completionBody(reply: ChatReply, fingerprint: string): Record<string, unknown> {
  return {
    id: reply.id,
    object: 'chat.completion',
    created: reply.created,
    model: reply.model,
    system_fingerprint: fingerprint,
    choices: [{ index: 0, message: { role: 'assistant', content: reply.content }, finish_reason: 'stop' }],
    usage: usageOf(reply),
  };
}

/** A `chat.completion.chunk` with one choice. */
export function chunkBody(reply: ChatReply, fingerprint: string, delta: Record<string, unknown>, finishReason: string | null): Record<string, unknown> {
  return { id: reply.id, object: 'chat.completion.chunk', created: reply.created, model: reply.model, system_fingerprint: fingerprint, choices: [{ index: 0, delta, finish_reason: finishReason }] };
}

/** The role-only first chunk of a stream. */
export function roleChunk(reply: ChatReply, fingerprint: string): string {
  return sseEvent(chunkBody(reply, fingerprint, { role: 'assistant', content: '' }, null));
}

/** Starts an SSE answer (status 200, `ZG-Res-Key`). */
export function startSse(response: ServerResponse, reply: ChatReply): void {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'zg-res-key': reply.id });
}

/** Writes a whole JSON completion through `writer` (with a content-length). */
export async function writeJsonReply(response: ServerResponse, writer: BodyWriter, reply: ChatReply, fingerprint: string): Promise<void> {
  const text = JSON.stringify(completionBody(reply, fingerprint));
  response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'zg-res-key': reply.id });
  await writer.write(text);
  response.end();
}

/** How a stream is written. */
export interface SseReplyOptions {
  writer: BodyWriter;
  fingerprint: string;
  includeUsage: boolean;
  /** Pause before each content chunk, in ms. */
  gapMs: number;
  signal: AbortSignal;
  /** Asked before content chunk `index`; returning true ends the answer there (the hook has dealt with the connection). */
  interruptBefore?(index: number): Promise<boolean>;
  /** Called once the whole answer is written, before `[DONE]`. */
  onComplete(): void;
}

/** Writes a stream: the role chunk, one chunk per reply piece, the finish chunk, usage if asked, `[DONE]`. */
export async function writeSseReply(response: ServerResponse, reply: ChatReply, options: SseReplyOptions): Promise<void> {
  const { writer, fingerprint, signal } = options;
  startSse(response, reply);
  await writer.write(roleChunk(reply, fingerprint));
  for (const [index, piece] of reply.pieces.entries()) {
    if (signal.aborted) return;
    if (options.interruptBefore && (await options.interruptBefore(index))) return;
    if (options.gapMs > 0) await sleep(options.gapMs, signal);
    await writer.write(sseEvent(chunkBody(reply, fingerprint, { content: piece }, null)));
  }
  if (signal.aborted) return;
  await writer.write(sseEvent(chunkBody(reply, fingerprint, {}, 'stop')));
  if (options.includeUsage) {
    await writer.write(sseEvent({ id: reply.id, object: 'chat.completion.chunk', created: reply.created, model: reply.model, choices: [], usage: usageOf(reply) }));
  }
  if (signal.aborted) return;
  options.onComplete();
  await writer.write('data: [DONE]\n\n');
  response.end();
}
