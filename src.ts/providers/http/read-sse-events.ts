import { GatewayError, toGatewayError } from '../../errors/index.js';
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

function parsesAsJson(data: string | undefined): boolean {
  if (data === undefined) return false;
  try {
    JSON.parse(data);
    return true;
  } catch {
    return false;
  }
}

/** How long the end of a body may take to arrive after its `[DONE]` before the connection is dropped, ms. */
const AFTER_DONE_GRACE_MS = 2000;

/** Events read ahead of the consumer before the upstream is paused (backpressure). */
const READ_AHEAD_EVENTS = 64;

type Settle = { resolve: (result: IteratorResult<SseEvent, undefined>) => void; reject: (error: unknown) => void };

/**
 * The events of an SSE answer, as exact bytes with their data parsed. Bounded: one event may
 * not exceed `limits.maxSseEventBytes`, and silence longer than `chunkTimeoutMs` aborts (not
 * counted while the body is paused because the consumer is behind). Ends normally only after
 * `[DONE]`; an unterminated last event is never yielded.
 *
 * Push-based: the body's chunks are split as they arrive (no async iteration per chunk) and the
 * events queue here until asked for; more than {@link READ_AHEAD_EVENTS} waiting pause the body.
 */
export function readSseEvents(input: ReadSseEventsInput): AsyncIterator<SseEvent, undefined> {
  return new SseEventReader(input);
}

class SseEventReader implements AsyncIterator<SseEvent, undefined> {
  readonly #input: ReadSseEventsInput;
  readonly #splitter: SseEventSplitter;
  readonly #queue: SseEvent[] = [];
  #head = 0;
  #waiting: Settle | undefined;
  /** Set once the answer is over: `true` after `[DONE]`, or the error that ended it. */
  #ended: true | GatewayError | undefined;
  #gapTimer: NodeJS.Timeout | undefined;
  #gapError: GatewayError | undefined;

  constructor(input: ReadSseEventsInput) {
    this.#input = input;
    this.#splitter = new SseEventSplitter(input.limits.maxSseEventBytes);
    const { body } = input.response;
    this.#armGapTimer();
    body.on('data', this.#onData);
    body.once('end', this.#onEnd);
    body.once('error', this.#onError);
  }

  next(): Promise<IteratorResult<SseEvent, undefined>> {
    if (this.#head < this.#queue.length) {
      const value = this.#queue[this.#head++] as SseEvent;
      if (this.#head === this.#queue.length) {
        this.#queue.length = 0;
        this.#head = 0;
        if (this.#ended === undefined && this.#input.response.body.isPaused()) {
          // Reading again: the provider's silence counts from now.
          this.#armGapTimer();
          this.#input.response.body.resume();
        }
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.#ended === true) return Promise.resolve({ value: undefined, done: true });
    if (this.#ended) return Promise.reject(this.#ended);
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
    });
  }

  /** Stops reading: the upstream body is discarded, nothing more is yielded. */
  return(): Promise<IteratorResult<SseEvent, undefined>> {
    if (this.#ended === undefined) this.#finish(true);
    this.#queue.length = 0;
    this.#head = 0;
    return Promise.resolve({ value: undefined, done: true });
  }

  readonly #onData = (chunk: Buffer): void => {
    if (this.#ended !== undefined) return;
    this.#gapTimer?.refresh();
    try {
      for (const event of this.#splitter.push(chunk)) if (!this.#take(event)) return;
    } catch (error) {
      this.#fail(this.#splitFailure(error));
      return;
    }
    if (this.#queue.length - this.#head >= READ_AHEAD_EVENTS) {
      // The gateway stops reading (its consumer, the client, is behind): whatever silence follows
      // is the gateway's doing, not the provider's, so the chunk-gap timer stops until it reads again.
      this.#input.response.body.pause();
      clearTimeout(this.#gapTimer);
      this.#gapTimer = undefined;
    }
  };

  /** (Re)starts the chunk-gap timer: silence longer than `chunkTimeoutMs` from now ends the read. */
  #armGapTimer(): void {
    const { chunkTimeoutMs: ms, providerId } = this.#input;
    if (ms === undefined) return;
    clearTimeout(this.#gapTimer);
    this.#gapTimer = setTimeout(() => {
      this.#gapError = new GatewayError('upstream_timeout', `Provider ${providerId} sent nothing for ${ms} ms in the middle of a stream`, {
        retryable: true,
        details: { provider: providerId },
      });
      this.#fail(this.#gapError);
    }, ms);
  }

  readonly #onEnd = (): void => {
    if (this.#ended !== undefined) return;
    const { providerId } = this.#input;
    let dropped = false;
    try {
      const last = this.#splitter.end();
      // An event the stream ended in the middle of (no blank line after it) is never relayed: it may
      // be cut short, and relayed as it is the error event that follows would land on its line, where
      // no client can parse it. Only its meaning is kept: `[DONE]` ends the answer, an error fails it.
      if (last) {
        let relayed: SseEvent | 'done' | undefined;
        try {
          relayed = interpret(last, providerId);
        } catch (error) {
          // An error it reports is kept; JSON cut short is just the cut.
          if (last.type === 'error' || parsesAsJson(last.data)) throw error;
        }
        if (relayed === 'done') return this.#finish(true, true);
        dropped = true;
      }
    } catch (error) {
      this.#fail(error instanceof SseEventTooLarge ? this.#splitFailure(error) : toGatewayError(error));
      return;
    }
    const why = dropped ? 'ended the stream in the middle of an event, without [DONE]' : 'ended the stream without [DONE]';
    this.#fail(new GatewayError('stream_interrupted', `Provider ${providerId} ${why}`, { retryable: true, details: { provider: providerId } }));
  };

  readonly #onError = (error: unknown): void => {
    if (this.#ended !== undefined) return;
    const { providerId } = this.#input;
    // An abort's own reason is applied by #fail.
    if (this.#gapError) return this.#fail(this.#gapError);
    if (GatewayError.isInstance(error)) return this.#fail(error);
    // The connection was up (headers arrived) and broke: a cut, not an unreachable provider.
    this.#fail(
      new GatewayError('stream_interrupted', `Provider ${providerId} closed the connection in the middle of the stream`, { retryable: true, cause: error, details: { provider: providerId } }),
    );
  };

  /** Queues one event (or ends the answer at `[DONE]`); false once the answer is over. */
  #take(event: SplitEvent): boolean {
    let relayed: SseEvent | 'done';
    try {
      relayed = interpret(event, this.#input.providerId);
    } catch (error) {
      this.#fail(toGatewayError(error));
      return false;
    }
    if (relayed === 'done') {
      this.#finish(true, true);
      return false;
    }
    if (this.#waiting) {
      const waiting = this.#waiting;
      this.#waiting = undefined;
      waiting.resolve({ value: relayed, done: false });
    } else {
      this.#queue.push(relayed);
    }
    return true;
  }

  #splitFailure(error: unknown): GatewayError {
    const { providerId } = this.#input;
    if (error instanceof SseEventTooLarge) {
      return new GatewayError('upstream_response_too_large', `Provider ${providerId} sent a stream event larger than ${error.limit} bytes`, {
        retryable: true,
        details: { provider: providerId, limitBytes: error.limit },
      });
    }
    return toGatewayError(error);
  }

  /** Ends with an error: events already queued are still yielded first, then the error. */
  #fail(error: GatewayError): void {
    // An abort's own reason wins over what the broken body reports.
    const { signal, providerId } = this.#input;
    this.#finish(signal.aborted ? errorForTransportFailure(error, signal, providerId) : error);
  }

  /**
   * Ends the read. After `[DONE]` (`reuse`) the rest of the body (usually just the chunked
   * terminator) is read and dropped so the connection can serve the next request; a body that
   * does not end within {@link AFTER_DONE_GRACE_MS} is destroyed. Otherwise the body is destroyed now.
   */
  #finish(end: true | GatewayError, reuse = false): void {
    if (this.#ended !== undefined) return;
    this.#ended = end;
    clearTimeout(this.#gapTimer);
    const { body } = this.#input.response;
    body.off('data', this.#onData);
    body.off('end', this.#onEnd);
    body.off('error', this.#onError);
    if (reuse && !body.destroyed && !body.readableEnded) {
      body.on('error', () => undefined);
      const guard = setTimeout(() => body.destroy(), AFTER_DONE_GRACE_MS);
      body.once('close', () => clearTimeout(guard));
      body.resume();
    } else if (!body.destroyed) {
      discardBody(body);
    }
    const waiting = this.#waiting;
    this.#waiting = undefined;
    if (!waiting) return;
    if (end === true) waiting.resolve({ value: undefined, done: true });
    else waiting.reject(end);
  }
}
