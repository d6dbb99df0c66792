import { GatewayError } from '../../errors/index.js';
import type { ChatCallOptions, ProviderChatResult, ProviderJsonResult, ResponseLimits, UpstreamCall } from '../inference-provider.js';
import { readAnswerFacts, unusableCompletion } from '../openai-wire.js';
import { readSseEvents } from './read-sse-events.js';
import { errorForTransportFailure, errorForUpstreamStatus, headerValue, parseRetryAfter, readErrorBody, unusableAnswer } from './upstream-errors.js';
import { discardBody, type UpstreamHttpClient, type UpstreamResponse } from './upstream-http-client.js';

/** Bounds used when a call gives none: 32 MiB per JSON answer, 1 MiB per SSE event. */
export const DEFAULT_RESPONSE_LIMITS: ResponseLimits = Object.freeze({ maxResponseBytes: 32 * 1024 * 1024, maxSseEventBytes: 1024 * 1024 });

/** Everything needed to send one OpenAI-compatible call over HTTP. */
export interface ChatOverHttpInput {
  client: UpstreamHttpClient;
  providerId: string;
  /** Base URL up to and including `/v1` (0G: `<service url>/v1/proxy`). */
  baseUrl: string;
  headers: Record<string, string>;
  call: UpstreamCall;
  options: ChatCallOptions;
}

const JSON_HEADERS: Record<string, string> = Object.freeze({ 'content-type': 'application/json', accept: 'application/json' }) as Record<string, string>;
const SSE_HEADERS: Record<string, string> = Object.freeze({ 'content-type': 'application/json', accept: 'text/event-stream' }) as Record<string, string>;

/** The body sent upstream: streams always ask for usage in their final chunk (fees are computed from it). */
export function upstreamBody(call: UpstreamCall): string {
  const { body } = call;
  if (body.stream === true) {
    return JSON.stringify({ ...body, stream_options: { ...(body.stream_options ?? {}), include_usage: true } });
  }
  return JSON.stringify(body);
}

/**
 * Sends an OpenAI-compatible call and returns the answer as the provider sent it: the JSON
 * body's exact bytes (with its id and usage read out), or its SSE events as exact bytes.
 * The chat id is taken from the `ZG-Res-Key` header when present (0G), else from the
 * completion's `id`. A 200 that is not a usable completion is the provider's failure.
 */
export async function sendChatOverHttp(input: ChatOverHttpInput): Promise<ProviderChatResult> {
  const { client, providerId, call, options } = input;
  const limits = options.limits ?? DEFAULT_RESPONSE_LIMITS;
  const streaming = call.body.stream === true;
  const signal = options.signal;
  let response: UpstreamResponse;
  try {
    response = await client.send('POST', `${input.baseUrl}/${call.route === 'chat' ? 'chat/completions' : 'completions'}`, {
      headers: input.headers === undefined || Object.keys(input.headers).length === 0 ? (streaming ? SSE_HEADERS : JSON_HEADERS) : { ...(streaming ? SSE_HEADERS : JSON_HEADERS), ...input.headers },
      body: upstreamBody(call),
      signal,
    });
  } catch (error) {
    throw errorForTransportFailure(error, signal, providerId);
  }
  if (response.status < 200 || response.status >= 300) {
    const body = await readErrorBody(response);
    throw errorForUpstreamStatus(response.status, body, providerId, parseRetryAfter(headerValue(response.headers, 'retry-after')));
  }
  const headerChatId = headerValue(response.headers, 'zg-res-key');
  const contentType = headerValue(response.headers, 'content-type') ?? '';
  if (streaming && !contentType.includes('application/json')) {
    return { kind: 'stream', chatId: headerChatId, events: readSseEvents({ response, signal, providerId, chunkTimeoutMs: options.chunkTimeoutMs, limits }) };
  }
  const answer = await readJsonAnswer(response, signal, providerId, headerChatId, limits.maxResponseBytes);
  // A stream was asked for and a JSON completion came back: the client's stream cannot be served from it unaltered.
  if (streaming) throw unusableAnswer(providerId, 'a stream was requested and it answered with a JSON body');
  return answer;
}

async function readJsonAnswer(
  response: UpstreamResponse,
  signal: AbortSignal,
  providerId: string,
  headerChatId: string | undefined,
  maxBytes: number,
): Promise<ProviderJsonResult> {
  const tooLarge = (): GatewayError =>
    new GatewayError('upstream_response_too_large', `Provider ${providerId} sent an answer larger than ${maxBytes} bytes`, {
      retryable: true,
      details: { provider: providerId, limitBytes: maxBytes },
    });
  const declared = Number(headerValue(response.headers, 'content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    discardBody(response.body);
    throw tooLarge();
  }
  const pieces: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of response.body) {
      const buffer = chunk as Buffer;
      size += buffer.length;
      if (size > maxBytes) {
        discardBody(response.body);
        throw tooLarge();
      }
      pieces.push(buffer);
    }
  } catch (error) {
    if (GatewayError.isInstance(error) && error.code === 'upstream_response_too_large') throw error;
    throw errorForTransportFailure(error, signal, providerId);
  }
  const bytes = pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat(pieces, size);
  let parsed: Record<string, unknown>;
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'));
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not a JSON object');
    parsed = value as Record<string, unknown>;
  } catch (error) {
    throw unusableAnswer(providerId, 'the body is not a JSON completion', error);
  }
  const why = unusableCompletion(parsed);
  if (why) throw unusableAnswer(providerId, why);
  const facts = readAnswerFacts(parsed);
  const chatId = headerChatId ?? facts.responseId;
  if (!chatId) throw unusableAnswer(providerId, 'it has no completion id');
  return { kind: 'json', chatId, bytes, facts };
}
