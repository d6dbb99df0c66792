import type { ServerResponse } from 'node:http';
import { FOREVER_MS, sleep } from '../internal/sleep.js';
import { usageOf, type ChatReply } from './chat-reply.js';
import type { ProviderFault } from './fault-modes.js';
import { chunkBody, errorBody, plainWriter, roleChunk, sendJson, sseEvent, startSse, type BodyWriter } from './reply-writer.js';

/** What a broken answer is written with. */
export interface FaultReplyContext {
  readonly response: ServerResponse;
  readonly reply: ChatReply;
  readonly fingerprint: string;
  readonly stream: boolean;
  readonly signal: AbortSignal;
}

/** Filler for generated bodies: plain ASCII that needs no JSON escaping, reused for every write. */
const FILLER = Buffer.from('0G devnet filler text. '.repeat(Math.ceil(65_536 / 23)).slice(0, 65_536), 'utf8');
/** Lets what was written reach the client before a connection is destroyed. */
const FLUSH_MS = 20;

/** Writes `bytes` of filler in 64 KiB writes (or forever), waiting for the client to read. */
async function writeFiller(writer: BodyWriter, signal: AbortSignal, bytes: number, pauseMs = 0): Promise<void> {
  let remaining = bytes;
  while (remaining > 0 && !signal.aborted) {
    const size = Math.min(remaining, FILLER.length);
    await writer.write(size === FILLER.length ? FILLER : FILLER.subarray(0, size));
    remaining -= size;
    if (pauseMs > 0) await sleep(pauseMs, signal);
  }
}

/** The opening of a completion (or chunk) whose content string is left open, and its closing. */
function openContent(context: FaultReplyContext): { head: string; tail: string } {
  const { reply, fingerprint } = context;
  const marker = '\u0000OPEN\u0000';
  const body = context.stream
    ? chunkBody(reply, fingerprint, { content: marker }, null)
    : { id: reply.id, object: 'chat.completion', created: reply.created, model: reply.model, system_fingerprint: fingerprint, choices: [{ index: 0, message: { role: 'assistant', content: marker }, finish_reason: 'stop' }], usage: usageOf(reply) };
  const [head = '', tail = ''] = JSON.stringify(body).split(JSON.stringify(marker).slice(1, -1));
  return context.stream ? { head: `data: ${head}`, tail: `${tail}\n\n` } : { head, tail };
}

async function oversized(context: FaultReplyContext, bytes: number): Promise<void> {
  const { response, reply, signal } = context;
  const writer = plainWriter(response, signal);
  const { head, tail } = openContent(context);
  if (context.stream) {
    startSse(response, reply);
    await writer.write(roleChunk(reply, context.fingerprint));
  } else {
    response.writeHead(200, { 'content-type': 'application/json', 'zg-res-key': reply.id });
  }
  await writer.write(head);
  await writeFiller(writer, signal, Math.max(0, bytes - Buffer.byteLength(head) - Buffer.byteLength(tail)));
  if (signal.aborted) return;
  await writer.write(tail);
  if (context.stream) await writer.write(sseEvent(chunkBody(reply, context.fingerprint, {}, 'stop')) + 'data: [DONE]\n\n');
  response.end();
}

async function endlessLine(context: FaultReplyContext): Promise<void> {
  const { response, reply, signal } = context;
  const writer = plainWriter(response, signal);
  startSse(response, reply);
  await writer.write(roleChunk(reply, context.fingerprint));
  await writer.write(openContent(context).head);
  await writeFiller(writer, signal, Number.POSITIVE_INFINITY, 1);
  response.destroy();
}

async function malformed(context: FaultReplyContext): Promise<void> {
  const { response, reply, fingerprint } = context;
  if (!context.stream) {
    response.writeHead(200, { 'content-type': 'application/json', 'zg-res-key': reply.id });
    response.end(`{"id": "${reply.id}", "choices": [ {"message": `);
    return;
  }
  startSse(response, reply);
  response.write(roleChunk(reply, fingerprint));
  response.write(sseEvent(chunkBody(reply, fingerprint, { content: reply.pieces[0] ?? '' }, null)));
  response.end('data: {"id": "broken", "choices": [\n\n');
}

async function failAfterRole(context: FaultReplyContext): Promise<void> {
  startSse(context.response, context.reply);
  context.response.write(roleChunk(context.reply, context.fingerprint));
  await sleep(FLUSH_MS, context.signal);
  context.response.destroy();
}

/**
 * Answers a chat the broken way `fault` asks for, when that fault has a broken answer for this kind
 * of chat (JSON or stream). Returns false when the chat is to be served normally (maybe slowed,
 * dripped or forged, which the normal path does).
 */
export async function answerWithFault(fault: ProviderFault, context: FaultReplyContext): Promise<boolean> {
  const { response, reply, fingerprint, stream } = context;
  switch (fault.mode) {
    case 'malformed':
      await malformed(context);
      return true;
    case 'oversized-body':
      await oversized(context, fault.bytes);
      return true;
    case 'error-body':
      sendJson(response, 200, errorBody('simulated provider error inside a 200 answer', 'server_error', 'simulated_provider_error'), { 'zg-res-key': reply.id });
      return true;
    case 'no-choices':
      if (!stream) {
        sendJson(response, 200, { id: reply.id, object: 'chat.completion', created: reply.created, model: reply.model, system_fingerprint: fingerprint, usage: usageOf(reply) }, { 'zg-res-key': reply.id });
        return true;
      }
      startSse(response, reply);
      response.end(sseEvent({ id: reply.id, object: 'chat.completion.chunk', created: reply.created, model: reply.model, system_fingerprint: fingerprint }) + 'data: [DONE]\n\n');
      return true;
    case 'endless-sse-line':
      if (!stream) return false;
      await endlessLine(context);
      return true;
    case 'sse-error-event':
      if (!stream) return false;
      startSse(response, reply);
      response.write(roleChunk(reply, fingerprint));
      response.end(`event: error\ndata: ${JSON.stringify(errorBody('simulated error event in the middle of a stream', 'server_error', 'simulated_stream_error'))}\n\n`);
      return true;
    case 'fail-after-role':
      if (!stream) return false;
      await failAfterRole(context);
      return true;
    default:
      return false;
  }
}

/** For `stall-after-chunks` and `cut-after-chunks`: what happens before content chunk `index` of a stream (true: the stream ends there). */
export function streamInterruption(fault: ProviderFault, response: ServerResponse, signal: AbortSignal, countFault: () => void): ((index: number) => Promise<boolean>) | undefined {
  if (fault.mode !== 'stall-after-chunks' && fault.mode !== 'cut-after-chunks') return undefined;
  return async (index) => {
    if (index !== fault.chunks) return false;
    countFault();
    // A stall keeps the connection open and silent; a cut lets what was written arrive first.
    await sleep(fault.mode === 'stall-after-chunks' ? FOREVER_MS : FLUSH_MS, signal);
    response.destroy();
    return true;
  };
}
