import { isMediaRoute, type ChatCallOptions, type ProviderChatResult, type ProviderJsonResult, type ResponseLimits, type UpstreamCall } from '../inference-provider.js';
import { sendMediaOverHttp } from './media-over-http.js';
import { randomUUID } from 'node:crypto';
import { readAnswerFacts, readEmbeddingFacts, unusableCompletion, unusableEmbeddings } from '../openai-wire.js';
import { readSseEvents } from './read-sse-events.js';
import { exchangeAnswer } from './exchange-answer.js';
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

/** The path under the base URL of each route. */
const ROUTE_SUFFIXES: Readonly<Record<'chat' | 'completions' | 'embeddings', string>> = { chat: 'chat/completions', completions: 'completions', embeddings: 'embeddings' };

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
  if (isMediaRoute(call.route)) return sendMediaOverHttp(input, call.route);
  const limits = options.limits ?? DEFAULT_RESPONSE_LIMITS;
  const streaming = call.body.stream === true;
  const signal = options.signal;
  const url = `${input.baseUrl}/${ROUTE_SUFFIXES[call.route as keyof typeof ROUTE_SUFFIXES]}`;
  const base = streaming ? SSE_HEADERS : JSON_HEADERS;
  const extra = options.headers;
  const headers = Object.keys(input.headers).length === 0 && extra === undefined ? base : { ...base, ...input.headers, ...extra };
  const body = upstreamBody(call);
  if (!streaming) return exchangeJson(client, url, headers, body, signal, providerId, limits.maxResponseBytes, call.route === 'embeddings');
  let response: UpstreamResponse;
  try {
    response = await client.send('POST', url, { headers, body, signal });
  } catch (error) {
    throw errorForTransportFailure(error, signal, providerId);
  }
  if (response.status < 200 || response.status >= 300) {
    const errorBody = await readErrorBody(response);
    throw errorForUpstreamStatus(response.status, errorBody, providerId, parseRetryAfter(headerValue(response.headers, 'retry-after')));
  }
  const headerChatId = headerValue(response.headers, 'zg-res-key');
  if (!(headerValue(response.headers, 'content-type') ?? '').includes('application/json')) {
    return { kind: 'stream', chatId: headerChatId, events: readSseEvents({ response, signal, providerId, chunkTimeoutMs: options.chunkTimeoutMs, limits }) };
  }
  // A stream was asked for and a JSON body came back: its error, if it is one, else the mismatch.
  discardBody(response.body);
  throw unusableAnswer(providerId, 'a stream was requested and it answered with a JSON body');
}

/** A JSON call: the whole answer read at once (bounded), checked, its facts read out, its bytes kept. */
async function exchangeJson(
  client: UpstreamHttpClient,
  url: string,
  headers: Record<string, string>,
  body: string,
  signal: AbortSignal,
  providerId: string,
  maxBytes: number,
  embeddings = false,
): Promise<ProviderJsonResult> {
  const response = await exchangeAnswer(client, url, { headers, body, signal }, providerId, maxBytes);
  const bytes = response.bytes;
  let parsed: Record<string, unknown>;
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'));
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not a JSON object');
    parsed = value as Record<string, unknown>;
  } catch (error) {
    throw unusableAnswer(providerId, 'the body is not a JSON completion', error);
  }
  if (embeddings) {
    const why = unusableEmbeddings(parsed);
    if (why) throw unusableAnswer(providerId, why);
    // An embeddings list has no id: the gateway names it (nothing is signed for a plain upstream).
    const facts = readEmbeddingFacts(parsed);
    return { kind: 'json', chatId: headerValue(response.headers, 'zg-res-key') ?? `emb-${randomUUID()}`, bytes, facts };
  }
  const why = unusableCompletion(parsed);
  if (why) throw unusableAnswer(providerId, why);
  const facts = readAnswerFacts(parsed);
  const chatId = headerValue(response.headers, 'zg-res-key') ?? facts.responseId;
  if (!chatId) throw unusableAnswer(providerId, 'it has no completion id');
  return { kind: 'json', chatId, bytes, facts };
}
