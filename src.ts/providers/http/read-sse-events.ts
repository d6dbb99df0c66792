import { GatewayError } from '../../errors/index.js';
import type { ResponseLimits, SseEvent } from '../inference-provider.js';
import { describeErrorValue } from '../openai-wire.js';
import { SseEventSplitter, SseEventTooLarge, type SplitEvent } from './sse-event-splitter.js';
import { errorForTransportFailure } from './upstream-errors.js';
import { discardBody, type UpstreamResponse } from './upstream-http-client.js';

/** What reading one SSE answer needs. */
export interface ReadSseEventsInput {
  response: UpstreamResponse;
  /** The call's signal: its reason is what an aborted read rejects with. */
  signal: AbortSignal;
  providerId: string;
  chunkTimeoutMs: number | undefined;
  limits: ResponseLimits;
}

function providerFailure(providerId: string, why: string, cause?: unknown): GatewayError {
  return new GatewayError('upstream_error', `Provider ${providerId} ${why}`, { retryable: true, cause, details: { provider: providerId } });
}

/** Turns one split event into what the gateway relays; `done` for `[DONE]`. Throws for an error event or bad data. */
function interpret(event: SplitEvent, providerId: string): SseEvent | 'done' {
  if (event.type === 'error') {
    let detail = event.data ?? '';
    try {
      detail = describeErrorValue((JSON.parse(detail) as { error?: unknown }).error ?? JSON.parse(detail));
    } catch {
      detail = detail.slice(0, 300);
    }
    throw providerFailure(providerId, `reported an error in the stream: ${detail || 'no detail'}`);
  }
  if (event.data === undefined) return { raw: event.raw, json: undefined };
  if (event.data === '[DONE]') return 'done';
  let json: unknown;
  try {
    json = JSON.parse(event.data);
  } catch (error) {
    throw providerFailure(providerId, 'sent a stream event that is not JSON', error);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw providerFailure(providerId, 'sent a stream event that is not a JSON object');
  const body = json as Record<string, unknown>;
  if (body.error !== undefined && body.error !== null) throw providerFailure(providerId, `reported an error in the stream: ${describeErrorValue(body.error)}`);
  return { raw: event.raw, json: body };
}

/**
 * The events of an SSE answer, as exact bytes with their data parsed. Bounded: one event may
 * not exceed `limits.maxSseEventBytes`, and silence longer than `chunkTimeoutMs` aborts.
 * Ends normally only after `[DONE]`.
 */
export async function* readSseEvents(input: ReadSseEventsInput): AsyncGenerator<SseEvent, undefined> {
  const { response, signal, providerId, chunkTimeoutMs } = input;
  const splitter = new SseEventSplitter(input.limits.maxSseEventBytes);
  // Silence past the gap ends this read (the body is destroyed with the timeout as its error).
  let gapError: GatewayError | undefined;
  const gapTimer =
    chunkTimeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          gapError = new GatewayError('upstream_timeout', `Provider ${providerId} sent nothing for ${chunkTimeoutMs} ms in the middle of a stream`, {
            retryable: true,
            details: { provider: providerId },
          });
          response.body.on('error', () => undefined);
          response.body.destroy(gapError);
        }, chunkTimeoutMs);
  try {
    for await (const chunk of response.body) {
      gapTimer?.refresh();
      let events: SplitEvent[];
      try {
        events = splitter.push(chunk as Buffer);
      } catch (error) {
        if (error instanceof SseEventTooLarge) {
          throw new GatewayError('upstream_response_too_large', `Provider ${providerId} sent a stream event larger than ${error.limit} bytes`, {
            retryable: true,
            details: { provider: providerId, limitBytes: error.limit },
          });
        }
        throw error;
      }
      for (const event of events) {
        const relayed = interpret(event, providerId);
        if (relayed === 'done') return undefined;
        yield relayed;
      }
    }
    const last = splitter.end();
    if (last) {
      const relayed = interpret(last, providerId);
      if (relayed === 'done') return undefined;
      yield relayed;
    }
    throw new GatewayError('stream_interrupted', `Provider ${providerId} ended the stream without [DONE]`, { retryable: true, details: { provider: providerId } });
  } catch (error) {
    if (signal.aborted) throw errorForTransportFailure(error, signal, providerId);
    if (gapError) throw gapError;
    if (GatewayError.isInstance(error)) throw error;
    // The connection was up (headers arrived) and broke: a cut, not an unreachable provider.
    throw new GatewayError('stream_interrupted', `Provider ${providerId} closed the connection in the middle of the stream`, {
      retryable: true,
      cause: error,
      details: { provider: providerId },
    });
  } finally {
    clearTimeout(gapTimer);
    if (!response.body.destroyed) discardBody(response.body);
  }
}
