import { createParser } from 'eventsource-parser';
import { GatewayError } from '../../errors/index.js';
import type { ChatCallOptions, ChatCompletionRequest, ProviderChatResult, TokenUsage } from '../inference-provider.js';
import { discardBody, type UpstreamHttpClient, type UpstreamResponse } from './upstream-http-client.js';

/** Most bytes of an upstream error body read for the error message. */
const ERROR_BODY_LIMIT = 2048;

function headerValue(headers: UpstreamResponse['headers'], name: string): string | undefined {
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

async function readErrorMessage(response: UpstreamResponse): Promise<string> {
  let text = '';
  try {
    for await (const chunk of response.body) {
      text += (chunk as Buffer).toString('utf8');
      if (text.length > ERROR_BODY_LIMIT) break;
    }
  } catch {
    // The message is a courtesy; the status already says what happened.
  }
  discardBody(response.body);
  try {
    const parsed = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown };
    if (typeof parsed.error === 'string') return parsed.error;
    if (typeof parsed.error?.message === 'string') return parsed.error.message;
    if (typeof parsed.message === 'string') return parsed.message;
  } catch {
    // not JSON
  }
  return text.slice(0, 300) || `HTTP ${response.status}`;
}

/** Maps an upstream's non-2xx status to the gateway's error, deciding whether another provider may succeed. */
export function errorForUpstreamStatus(status: number, message: string, providerId: string, retryAfterMs: number | undefined): GatewayError {
  const base = { upstreamStatus: status, details: { provider: providerId, upstreamStatus: status } };
  if (status === 401 || status === 403) {
    return new GatewayError('upstream_auth_rejected', `Provider ${providerId} rejected the request headers: ${message}`, { ...base, retryable: true });
  }
  if (status === 402) {
    return new GatewayError('insufficient_funds', `Provider ${providerId} reports insufficient funds in the gateway wallet's sub-account: ${message}`, { ...base, retryable: true });
  }
  if (status === 408) return new GatewayError('upstream_timeout', `Provider ${providerId} timed out (HTTP 408)`, { ...base, retryable: true });
  if (status === 429) {
    return new GatewayError('upstream_rate_limited', `Provider ${providerId} is rate limiting: ${message}`, { ...base, retryable: true, retryAfterMs });
  }
  if (status >= 500) return new GatewayError('upstream_error', `Provider ${providerId} failed with HTTP ${status}: ${message}`, { ...base, retryable: true, retryAfterMs });
  return new GatewayError('upstream_client_error', `Provider ${providerId} rejected the request (HTTP ${status}): ${message}`, { ...base, retryable: false });
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

/** Everything needed to send one OpenAI-compatible chat over HTTP. */
export interface ChatOverHttpInput {
  client: UpstreamHttpClient;
  providerId: string;
  /** Full URL of the chat completions endpoint. */
  url: string;
  headers: Record<string, string>;
  request: ChatCompletionRequest;
  options: ChatCallOptions;
}

/**
 * Sends an OpenAI-compatible chat completion and returns the parsed answer (JSON) or the SSE
 * event stream. Streams are asked for usage in their final chunk. The chat id is taken from the
 * `ZG-Res-Key` header when present (0G), else from the completion's `id`.
 */
export async function sendChatOverHttp(input: ChatOverHttpInput): Promise<ProviderChatResult> {
  const { client, providerId, url, request, options } = input;
  const streaming = request.stream === true;
  const body: ChatCompletionRequest = streaming
    ? { ...request, stream: true, stream_options: { ...(request.stream_options ?? {}), include_usage: true } }
    : { ...request, stream: false };
  // A controller of our own: lets the chunk-gap timer abort just this upstream request.
  const controller = new AbortController();
  const onOuterAbort = (): void => controller.abort(options.signal.reason);
  if (options.signal.aborted) onOuterAbort();
  else options.signal.addEventListener('abort', onOuterAbort, { once: true });
  const detach = (): void => options.signal.removeEventListener('abort', onOuterAbort);

  let response: UpstreamResponse;
  try {
    response = await client.send('POST', url, {
      headers: { 'content-type': 'application/json', accept: streaming ? 'text/event-stream' : 'application/json', ...input.headers },
      body: JSON.stringify(body),
      signal: controller.signal,
    });
  } catch (error) {
    detach();
    throw errorForTransportFailure(error, controller.signal, providerId);
  }
  if (response.status < 200 || response.status >= 300) {
    const message = await readErrorMessage(response);
    detach();
    throw errorForUpstreamStatus(response.status, message, providerId, parseRetryAfter(headerValue(response.headers, 'retry-after')));
  }
  const headerChatId = headerValue(response.headers, 'zg-res-key');

  if (!streaming) {
    let text = '';
    try {
      for await (const chunk of response.body) text += (chunk as Buffer).toString('utf8');
    } catch (error) {
      throw errorForTransportFailure(error, controller.signal, providerId);
    } finally {
      detach();
    }
    let parsed: Record<string, unknown>;
    try {
      const value: unknown = JSON.parse(text);
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
      parsed = value as Record<string, unknown>;
    } catch (error) {
      throw new GatewayError('upstream_error', `Provider ${providerId} answered with a body that is not a JSON completion`, {
        retryable: true,
        cause: error,
        details: { provider: providerId },
      });
    }
    const chatId = headerChatId ?? (typeof parsed.id === 'string' ? parsed.id : undefined);
    if (!chatId) {
      throw new GatewayError('upstream_error', `Provider ${providerId} answered without a completion id`, { retryable: true, details: { provider: providerId } });
    }
    return { kind: 'json', chatId, body: parsed, usage: readUsage(parsed.usage) };
  }

  return {
    kind: 'stream',
    chatId: headerChatId,
    events: readSseEvents(response, controller, providerId, options.chunkTimeoutMs, detach),
  };
}

/** Reads `usage` if it has the shape OpenAI gives it. */
export function readUsage(value: unknown): TokenUsage | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const usage = value as Record<string, unknown>;
  if (typeof usage.prompt_tokens !== 'number' || typeof usage.completion_tokens !== 'number') return undefined;
  return {
    ...usage,
    prompt_tokens: usage.prompt_tokens,
    completion_tokens: usage.completion_tokens,
    total_tokens: typeof usage.total_tokens === 'number' ? usage.total_tokens : usage.prompt_tokens + usage.completion_tokens,
  };
}

async function* readSseEvents(
  response: UpstreamResponse,
  controller: AbortController,
  providerId: string,
  chunkTimeoutMs: number | undefined,
  detach: () => void,
): AsyncGenerator<string> {
  const queue: string[] = [];
  let done = false;
  const parser = createParser({
    onEvent(event) {
      if (done) return;
      if (event.data === '[DONE]') {
        done = true;
        return;
      }
      queue.push(event.data);
    },
  });
  let gapTimer: NodeJS.Timeout | undefined;
  const armGapTimer = (): void => {
    if (!chunkTimeoutMs) return;
    clearTimeout(gapTimer);
    gapTimer = setTimeout(() => {
      controller.abort(
        new GatewayError('upstream_timeout', `Provider ${providerId} sent nothing for ${chunkTimeoutMs} ms in the middle of a stream`, {
          retryable: true,
          details: { provider: providerId },
        }),
      );
    }, chunkTimeoutMs);
  };
  try {
    armGapTimer();
    for await (const chunk of response.body) {
      armGapTimer();
      parser.feed((chunk as Buffer).toString('utf8'));
      while (queue.length > 0) yield queue.shift() as string;
      if (done) break;
    }
    if (!done) {
      throw new GatewayError('stream_interrupted', `Provider ${providerId} ended the stream without [DONE]`, {
        retryable: true,
        details: { provider: providerId },
      });
    }
  } catch (error) {
    if (controller.signal.aborted || GatewayError.isInstance(error)) throw errorForTransportFailure(error, controller.signal, providerId);
    // The connection was up (headers arrived) and broke: a cut, not an unreachable provider.
    throw new GatewayError('stream_interrupted', `Provider ${providerId} closed the connection in the middle of the stream`, {
      retryable: true,
      cause: error,
      details: { provider: providerId },
    });
  } finally {
    clearTimeout(gapTimer);
    detach();
    if (!response.body.destroyed) discardBody(response.body);
  }
}
