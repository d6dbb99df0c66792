import { GatewayError } from '../../errors/index.js';
import { describeErrorValue } from '../openai-wire.js';
import { discardBody, type UpstreamResponse } from './upstream-http-client.js';

/** Most bytes of an upstream error body read for the error message. */
const ERROR_BODY_LIMIT = 4096;

/** One header's value (the first, when repeated). */
export function headerValue(headers: UpstreamResponse['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Parses `Retry-After` (seconds or an HTTP date) into ms. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** What an upstream said in an error body: its message and, when it gave one, its error code. */
export interface UpstreamErrorBody {
  message: string;
  code: string | undefined;
}

/**
 * Reads at most a few KiB of an error body and lets the rest go (whatever its size: the status and
 * headers already say what happened, the start of the body only adds the message).
 */
export async function readErrorBody(response: UpstreamResponse): Promise<UpstreamErrorBody> {
  const pieces: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of response.body) {
      const buffer = chunk as Buffer;
      pieces.push(buffer);
      size += buffer.length;
      if (size >= ERROR_BODY_LIMIT) break;
    }
  } catch {
    // The message is a courtesy; the status already says what happened.
  }
  discardBody(response.body);
  return errorBodyFromBytes(Buffer.concat(pieces).subarray(0, ERROR_BODY_LIMIT), response.status);
}

/** What an error body says (its message and code), from its first bytes. */
export function errorBodyFromBytes(bytes: Buffer, status: number): UpstreamErrorBody {
  const text = new TextDecoder('utf-8').decode(bytes.subarray(0, ERROR_BODY_LIMIT));
  try {
    const parsed = JSON.parse(text) as { error?: unknown; message?: unknown; code?: unknown };
    const error = parsed.error;
    const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : parsed.code;
    const message = error !== undefined ? describeErrorValue(error) : typeof parsed.message === 'string' ? parsed.message.slice(0, 300) : undefined;
    return { message: message ?? `HTTP ${status}`, code: typeof code === 'string' ? code : undefined };
  } catch {
    // Not JSON, or a large JSON body of which only the start was read: its message and code, when
    // they are among the first bytes, still say what happened.
    const message = STRING_FIELD('message').exec(text)?.[1];
    const code = STRING_FIELD('code').exec(text)?.[1];
    return { message: message !== undefined ? unescapeJsonString(message).slice(0, 300) : text.slice(0, 300) || `HTTP ${status}`, code: code !== undefined ? unescapeJsonString(code) : undefined };
  }
}

/** Finds `"name": "value"` in (possibly truncated) JSON text. */
const STRING_FIELD = (name: string): RegExp => new RegExp(`"${name}"\\s*:\\s*"((?:[^"\\\\]|\\\\.){0,1000})"`);

function unescapeJsonString(value: string): string {
  try {
    return JSON.parse(`"${value}"`) as string;
  } catch {
    return value;
  }
}

/** True when an upstream's 404 (or error code) says it does not serve the model asked for. */
function meansModelNotServed(status: number, body: UpstreamErrorBody): boolean {
  if (body.code === 'model_not_found') return true;
  return status === 404 && /model/i.test(body.message);
}

/** True when an upstream's 404/405 says the route itself is not served (not the model: see {@link meansModelNotServed}). */
function meansRouteNotServed(status: number): boolean {
  return status === 404 || status === 405;
}

/** Error codes and wordings by which an upstream says it does not support a parameter (OpenAI, vLLM/pydantic, llama.cpp...). */
const UNSUPPORTED_CODES = new Set(['unsupported_parameter', 'unsupported_value', 'extra_forbidden']);
const UNSUPPORTED_WORDING = /unsupported (request )?(parameter|argument|field|value)|\bnot supported\b|unrecognized (request )?(parameter|argument|field)|unknown (parameter|argument|field)|extra (inputs|fields) (are )?not permitted/i;

/** Wordings by which an upstream says the request is longer than its context window (OpenAI, vLLM, llama.cpp, TGI...). */
const CONTEXT_EXCEEDED_WORDING = /context_length_exceeded|maximum context length|context length (is |of )?exceeded|exceeds? the (model'?s? )?(maximum )?context|too many tokens|prompt is too long|input (is )?too long/i;

/** True when an upstream's 400/413/422 says the request does not fit its context window. */
function meansContextExceeded(status: number, body: UpstreamErrorBody): boolean {
  if (status !== 400 && status !== 413 && status !== 422) return false;
  return body.code === 'context_length_exceeded' || CONTEXT_EXCEEDED_WORDING.test(body.message);
}

/** The context window a "context exceeded" message states (`maximum context length is 8192 tokens`), if any. */
export function statedContextLength(message: string): number | undefined {
  const match = /(?:maximum context length|context (?:length|window|size))(?: is| of|:)?\s*(\d{2,9})/i.exec(message);
  return match ? Number(match[1]) : undefined;
}

/** True when an upstream's 400/422 says the request used something it does not support. */
function meansParameterUnsupported(status: number, body: UpstreamErrorBody): boolean {
  if (status !== 400 && status !== 422) return false;
  return (body.code !== undefined && UNSUPPORTED_CODES.has(body.code)) || UNSUPPORTED_WORDING.test(body.message);
}

/** The parameter an "unsupported" message names in quotes (`'logprobs'`, `"logprobs"`, `` `logprobs` ``), if any. */
export function quotedParameter(message: string): string | undefined {
  return /['"`]([A-Za-z_][A-Za-z0-9_.]{0,63})['"`]/.exec(message)?.[1];
}

/**
 * Maps an upstream's non-2xx status to the gateway's error, deciding whether another provider
 * may succeed. The gateway built the request, so nearly every status is the provider's problem
 * (retryable, counted against it): 3xx, 401/403, 404, 408, 413, 429, 5xx... Only 400 and 422
 * may be the client's fault: they come back as `upstream_client_error`, which the dispatcher
 * confirms on a second provider before blaming the client. What a provider does not serve is
 * neither its fault nor the client's: a model (`upstream_model_unavailable`), a route (404/405:
 * `route_not_supported`) or a parameter (a 400/422 saying "unsupported": `unsupported_parameter`)
 * is retried elsewhere and remembered for that provider, without counting against its health.
 */
export function errorForUpstreamStatus(status: number, body: UpstreamErrorBody, providerId: string, retryAfterMs: number | undefined): GatewayError {
  const { message } = body;
  const base = { upstreamStatus: status, details: { provider: providerId, upstreamStatus: status } };
  if (status === 401 || status === 403) {
    return new GatewayError('upstream_auth_rejected', `Provider ${providerId} rejected the request headers: ${message}`, { ...base, retryable: true });
  }
  if (status === 402) {
    return new GatewayError('insufficient_funds', `Provider ${providerId} reports insufficient funds in the gateway wallet's sub-account: ${message}`, {
      ...base,
      retryable: true,
    });
  }
  if (status === 408) return new GatewayError('upstream_timeout', `Provider ${providerId} timed out (HTTP 408)`, { ...base, retryable: true });
  if (status === 429) {
    return new GatewayError('upstream_rate_limited', `Provider ${providerId} is rate limiting: ${message}`, { ...base, retryable: true, retryAfterMs });
  }
  if (meansModelNotServed(status, body)) {
    return new GatewayError('upstream_model_unavailable', `Provider ${providerId} does not serve the requested model: ${message}`, { ...base, retryable: true });
  }
  if (meansRouteNotServed(status)) {
    return new GatewayError('route_not_supported', `Provider ${providerId} does not serve this route (HTTP ${status}): ${message}`, { ...base, retryable: true });
  }
  if (meansContextExceeded(status, body)) {
    const limit = statedContextLength(message);
    return new GatewayError('context_length_exceeded', `Provider ${providerId} says the request is longer than its context window (HTTP ${status}): ${message}`, {
      ...base,
      retryable: true,
      details: { ...base.details, ...(limit !== undefined ? { contextLength: limit } : {}) },
    });
  }
  if (meansParameterUnsupported(status, body)) {
    const param = quotedParameter(message);
    return new GatewayError('unsupported_parameter', `Provider ${providerId} does not support a parameter of the request (HTTP ${status}): ${message}`, {
      ...base,
      retryable: true,
      ...(param !== undefined ? { param } : {}),
    });
  }
  if (status === 400 || status === 422) {
    return new GatewayError('upstream_client_error', `Provider ${providerId} rejected the request (HTTP ${status}): ${message}`, { ...base, retryable: false });
  }
  const kind = status >= 500 ? 'failed' : status >= 300 && status < 400 ? 'redirected' : 'refused the request';
  return new GatewayError('upstream_error', `Provider ${providerId} ${kind} with HTTP ${status}: ${message}`, { ...base, retryable: true, retryAfterMs });
}

/** Turns a thrown network/abort error into a GatewayError. The signal's reason wins when it was aborted. */
export function errorForTransportFailure(error: unknown, signal: AbortSignal, providerId: string): GatewayError {
  if (signal.aborted) {
    const reason: unknown = signal.reason;
    if (GatewayError.isInstance(reason)) return reason;
    return new GatewayError('client_closed_request', 'The request was aborted', { cause: reason });
  }
  if (GatewayError.isInstance(error)) return error;
  return new GatewayError('upstream_unreachable', `Provider ${providerId} could not be reached`, {
    retryable: true,
    cause: error,
    details: { provider: providerId },
  });
}

/** A provider's answer that the gateway cannot use: retryable before anything reached the client. */
export function unusableAnswer(providerId: string, why: string, cause?: unknown): GatewayError {
  return new GatewayError('upstream_error', `Provider ${providerId} sent an unusable answer: ${why}`, {
    retryable: true,
    cause,
    details: { provider: providerId },
  });
}
