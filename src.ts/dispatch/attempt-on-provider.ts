import { GatewayError, toGatewayError } from '../errors/index.js';
import { followAbort } from '../internal/follow-abort.js';
import type { ProviderJsonResult, ResponseLimits, SseEvent, UpstreamCall } from '../providers/inference-provider.js';
import { chunkHasSubstance } from '../providers/openai-wire.js';
import type { ProviderEntry } from '../fleet/provider-entry.js';

/** Timeouts the dispatcher enforces on one attempt, ms. */
export interface DispatchTimeouts {
  /** Until the provider's first byte (JSON: the whole answer; streams: the first event of substance). */
  firstByte: number;
  /** Longest silence between two stream events (not counted while the gateway itself paused the provider). */
  chunkGap: number;
}

/**
 * Bounds on what a stream may send before its first event of substance (comments, role-only
 * chunks, empty deltas): all of it is held so the request can still go to another provider.
 */
export interface PreambleLimits {
  /** Most bytes held before the first content. Default {@link DEFAULT_MAX_PREAMBLE_BYTES}. */
  readonly maxPreambleBytes?: number;
  /** Most events held before the first content. Default {@link DEFAULT_MAX_PREAMBLE_EVENTS}. */
  readonly maxPreambleEvents?: number;
}

/** Default of {@link PreambleLimits.maxPreambleBytes}: 256 KiB. */
export const DEFAULT_MAX_PREAMBLE_BYTES = 256 * 1024;
/** Default of {@link PreambleLimits.maxPreambleEvents}. */
export const DEFAULT_MAX_PREAMBLE_EVENTS = 1000;

/** A stream whose start has been received: events up to the first one of substance (or the whole, short stream). */
export interface StartedStream {
  readonly kind: 'stream';
  readonly chatId: string | undefined;
  /** Events received so far, in order (the last one carries substance unless `complete`). */
  readonly received: readonly SseEvent[];
  /** The rest of the events (nothing more when `complete`). */
  readonly events: AsyncIterator<SseEvent, undefined>;
  /** The upstream already ended the stream (with `[DONE]`) before anything of substance. */
  readonly complete: boolean;
}

/** An answer placed with the client: a whole JSON body, or a started stream. */
export type PlacedAnswer = (ProviderJsonResult & { readonly ttfbMs: number }) | (StartedStream & { readonly ttfbMs: number });

/**
 * One call on one provider, bounded by the first-byte timeout until the provider's first event
 * of substance (JSON: its whole answer). A stream counts as placed only once an event of
 * substance arrived (content, a tool call, a finish reason), so a role-only first chunk followed
 * by a failure is still retryable elsewhere. What comes before is held, bounded by `limits`
 * (bytes and events) and by the first-byte deadline: a provider that sends comments or empty
 * chunks without end fails, retryably. A chunk before the content that is not a completion chunk
 * (no `choices`) is the provider's failure too, as for a JSON answer. On success the call stays
 * linked to `requestSignal` until `detach`.
 */
export async function attemptOnProvider(
  entry: ProviderEntry,
  call: UpstreamCall,
  requestSignal: AbortSignal,
  timeouts: DispatchTimeouts,
  limits: ResponseLimits & PreambleLimits,
  now: () => number,
  headers?: Readonly<Record<string, string>>,
): Promise<{ answer: PlacedAnswer; detach: () => void }> {
  const controller = new AbortController();
  const unfollow = followAbort(requestSignal, controller);
  const firstByteTimer = setTimeout(() => {
    controller.abort(
      new GatewayError('upstream_timeout', `Provider ${entry.id} sent nothing within ${timeouts.firstByte} ms`, { retryable: true, details: { provider: entry.id } }),
    );
  }, timeouts.firstByte);
  const sentAt = now();
  let events: AsyncIterator<SseEvent, undefined> | undefined;
  try {
    const result = await entry.provider.chat(call, headers ? { signal: controller.signal, chunkTimeoutMs: timeouts.chunkGap, limits, headers } : { signal: controller.signal, chunkTimeoutMs: timeouts.chunkGap, limits });
    if (result.kind === 'json') {
      clearTimeout(firstByteTimer);
      return { answer: { ...result, ttfbMs: now() - sentAt }, detach: unfollow };
    }
    events = result.events;
    const received: SseEvent[] = [];
    const maxBytes = limits.maxPreambleBytes ?? DEFAULT_MAX_PREAMBLE_BYTES;
    const maxEvents = limits.maxPreambleEvents ?? DEFAULT_MAX_PREAMBLE_EVENTS;
    let heldBytes = 0;
    for (;;) {
      const next = await events.next();
      if (next.done) {
        clearTimeout(firstByteTimer);
        if (received.length === 0) throw new GatewayError('upstream_error', `Provider ${entry.id} sent an empty stream`, { retryable: true, details: { provider: entry.id } });
        return { answer: { kind: 'stream', chatId: result.chatId, received, events, complete: true, ttfbMs: now() - sentAt }, detach: unfollow };
      }
      const { json, raw } = next.value;
      if (json !== undefined && chunkHasSubstance(json)) {
        clearTimeout(firstByteTimer);
        received.push(next.value);
        return { answer: { kind: 'stream', chatId: result.chatId, received, events, complete: false, ttfbMs: now() - sentAt }, detach: unfollow };
      }
      if (json !== undefined && !Array.isArray(json.choices)) {
        throw new GatewayError('upstream_error', `Provider ${entry.id} sent an unusable answer: a stream chunk before any content has no choices`, {
          retryable: true,
          details: { provider: entry.id },
        });
      }
      heldBytes += raw.length;
      if (heldBytes > maxBytes || received.length >= maxEvents) throw preambleTooLarge(entry.id, heldBytes, received.length + 1, maxBytes, maxEvents);
      received.push(next.value);
    }
  } catch (thrown) {
    clearTimeout(firstByteTimer);
    const reason: unknown = controller.signal.reason;
    const error = controller.signal.aborted && GatewayError.isInstance(reason) ? reason : toGatewayError(thrown);
    // Nothing of this failed attempt stays open upstream.
    if (!controller.signal.aborted) controller.abort(error);
    await events?.return?.(undefined).catch(() => undefined);
    unfollow();
    throw error;
  }
}

/** A stream that sent more than the preamble bounds before its first content: retryable elsewhere. */
function preambleTooLarge(providerId: string, bytes: number, events: number, maxBytes: number, maxEvents: number): GatewayError {
  const what = bytes > maxBytes ? `more than ${maxBytes} bytes` : `more than ${maxEvents} events`;
  return new GatewayError('upstream_response_too_large', `Provider ${providerId} sent ${what} before any content`, {
    retryable: true,
    details: { provider: providerId, limitBytes: maxBytes, limitEvents: maxEvents, preambleBytes: bytes, preambleEvents: events },
  });
}
