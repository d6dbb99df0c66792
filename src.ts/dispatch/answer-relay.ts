import { GatewayError, toGatewayError } from '../errors/index.js';
import type { SseEvent, TokenUsage } from '../providers/inference-provider.js';
import { isUsageOnlyChunk, readAnswerFacts, SSE_DONE, sseEvent } from '../providers/openai-wire.js';
import type { StartedStream } from './attempt-on-provider.js';

/**
 * Where an answer is written: the HTTP layer adapts its response object to this, so the core
 * relays without knowing HTTP.
 */
export interface ResponseSink {
  /** True once the client went away or the response ended. */
  readonly closed: boolean;
  /** Sends the status and headers (once, before any body byte). */
  head(status: number, headers: Readonly<Record<string, string>>): void;
  /** Writes bytes; false when the client's buffer is full (wait for `drain`). */
  write(chunk: Buffer | string): boolean;
  /** Resolves when the client can take more; rejects when `signal` aborts. */
  drain(signal: AbortSignal): Promise<void>;
  /** Ends the response, with a last chunk. */
  end(chunk?: Buffer | string): void;
  /** Cuts the connection at once, whatever is still buffered (a client that stopped reading). */
  destroy?(): void;
}

/** What the relay learnt of a complete answer. */
export interface RelayedAnswer {
  responseId: string;
  chatId: string;
  usage: TokenUsage | undefined;
  model: string | undefined;
}

/**
 * What a stream relayed so far, kept up to date while it runs (so a stream that ends early, the client
 * gone or the provider failing, can still be charged for what the provider produced).
 */
export interface RelayProgress {
  /** Characters of generated content (`delta.content`, `delta.reasoning_content`, `text`) relayed. */
  contentChars: number;
  /** The last usage the provider sent, if any. */
  usage: TokenUsage | undefined;
}

/** Characters of generated text in one streamed chunk (every choice). */
export function chunkContentChars(json: Record<string, unknown>): number {
  const choices = json.choices;
  if (!Array.isArray(choices)) return 0;
  let characters = 0;
  for (const choice of choices) {
    if (typeof choice !== 'object' || choice === null) continue;
    const { delta, text } = choice as { delta?: unknown; text?: unknown };
    if (typeof text === 'string') characters += text.length;
    if (typeof delta === 'object' && delta !== null) {
      const { content, reasoning_content: reasoning } = delta as { content?: unknown; reasoning_content?: unknown };
      if (typeof content === 'string') characters += content.length;
      if (typeof reasoning === 'string') characters += reasoning.length;
    }
  }
  return characters;
}

/** The headers of an SSE answer. */
export const SSE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
});

/** Codes an in-band stream error keeps as they are; anything else is reported as `stream_interrupted`. */
const IN_BAND_CODES = new Set(['stream_interrupted', 'upstream_timeout', 'shutting_down', 'upstream_response_too_large']);

/** The error a stream ends with, in band, once it has started. */
export function inBandError(error: GatewayError, providerId: string): GatewayError {
  if (IN_BAND_CODES.has(error.code)) return error;
  return new GatewayError('stream_interrupted', `The stream from provider ${providerId} failed: ${error.message}`, { cause: error, details: { provider: providerId } });
}

/** Writes an error as an in-band SSE event and ends the stream (no `[DONE]`). */
export function endStreamWithError(sink: ResponseSink, error: GatewayError): void {
  if (sink.closed) return;
  sink.end(sseEvent(error.toJSON()));
}

/**
 * Relays a started stream to the client, byte for byte: every event exactly as the provider
 * sent it (only the usage-only chunk the gateway asked for is left out when the client did not
 * ask for it). `beforeDone` runs before `[DONE]` is written (the id is recorded then, so a client
 * verifying right after the stream finds it). Resolves with the answer's facts; rejects with the
 * error that ended it (the caller writes it in band). `progress`, when given, is kept up to date with
 * the content relayed and the usage seen.
 */
export async function relayStream(
  stream: StartedStream,
  sink: ResponseSink,
  signal: AbortSignal,
  clientWantsUsage: boolean,
  providerId: string,
  beforeDone: (answer: RelayedAnswer) => Promise<void>,
  progress?: RelayProgress,
): Promise<RelayedAnswer> {
  let responseId: string | undefined;
  let usage: TokenUsage | undefined;
  let model: string | undefined;
  /** Writes one event; false when the client's buffer is full (wait for drain before the next). */
  const relay = (event: SseEvent): boolean => {
    const json = event.json;
    if (json !== undefined) {
      const facts = readAnswerFacts(json);
      responseId ??= facts.responseId;
      model ??= facts.model;
      if (facts.usage) usage = facts.usage;
      if (progress) {
        progress.contentChars += chunkContentChars(json);
        progress.usage = usage;
      }
      if (!clientWantsUsage && isUsageOnlyChunk(json)) return true;
    }
    return sink.write(event.raw);
  };
  for (const event of stream.received) if (!relay(event)) await sink.drain(signal);
  if (!stream.complete) {
    for (;;) {
      const next = await stream.events.next();
      if (next.done) break;
      if (!relay(next.value)) await sink.drain(signal);
    }
  }
  if (signal.aborted) throw toGatewayError(signal.reason);
  const chatId = stream.chatId ?? responseId;
  if (!chatId) throw new GatewayError('stream_interrupted', `Provider ${providerId} streamed no completion id`, { details: { provider: providerId } });
  const answer: RelayedAnswer = { responseId: responseId ?? chatId, chatId, usage, model };
  await beforeDone(answer);
  sink.end(SSE_DONE);
  return answer;
}
