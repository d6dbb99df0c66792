import { GatewayError, toGatewayError } from '../errors/index.js';
import { followAbort } from '../internal/follow-abort.js';
import type { ProviderJsonResult, ResponseLimits, SseEvent, UpstreamCall } from '../providers/inference-provider.js';
import { chunkHasSubstance } from '../providers/openai-wire.js';
import type { ProviderEntry } from './provider-entry.js';

/** Timeouts the dispatcher enforces on one attempt, ms. */
export interface DispatchTimeouts {
  /** Until the provider's first byte (JSON: the whole answer; streams: the first event). */
  firstByte: number;
  /** Longest silence between two stream events. */
  chunkGap: number;
}

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
 * (JSON: its whole answer). A stream counts as placed only once an event of substance arrived
 * (content, a tool call, a finish reason), so a role-only first chunk followed by a failure is
 * still retryable elsewhere. On success the call stays linked to `requestSignal` until `detach`.
 */
export async function attemptOnProvider(
  entry: ProviderEntry,
  call: UpstreamCall,
  requestSignal: AbortSignal,
  timeouts: DispatchTimeouts,
  limits: ResponseLimits,
  now: () => number,
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
    const result = await entry.provider.chat(call, { signal: controller.signal, chunkTimeoutMs: timeouts.chunkGap, limits });
    if (result.kind === 'json') {
      clearTimeout(firstByteTimer);
      return { answer: { ...result, ttfbMs: now() - sentAt }, detach: unfollow };
    }
    events = result.events;
    const received: SseEvent[] = [];
    for (;;) {
      const next = await events.next();
      clearTimeout(firstByteTimer);
      if (next.done) {
        if (received.length === 0) throw new GatewayError('upstream_error', `Provider ${entry.id} sent an empty stream`, { retryable: true, details: { provider: entry.id } });
        return { answer: { kind: 'stream', chatId: result.chatId, received, events, complete: true, ttfbMs: now() - sentAt }, detach: unfollow };
      }
      received.push(next.value);
      if (next.value.json !== undefined && chunkHasSubstance(next.value.json)) {
        return { answer: { kind: 'stream', chatId: result.chatId, received, events, complete: false, ttfbMs: now() - sentAt }, detach: unfollow };
      }
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
