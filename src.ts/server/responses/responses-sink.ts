import { GatewayError } from '../../errors/index.js';
import type { ResponseSink } from '../../dispatch/answer-relay.js';
import { SseEventSplitter } from '../../providers/http/sse-event-splitter.js';
import { eventBytes, responseFromChat, ResponsesStreamTranslator, type ResponseFrame, type ResponseObject, type ResponsesEvent } from './responses-answer.js';

/** Largest chat SSE event the translation reads (the core has bounded the provider's already). */
const MAX_EVENT_BYTES = 16 * 1024 * 1024;

/**
 * The sink the core writes a chat answer into when the client asked the Responses API: it turns
 * chat JSON into a Response object and chat SSE into Responses events, writing them to `target`
 * (the HTTP response). The end of a good answer is held back ({@link result} then {@link deliver}),
 * so the route stores the Response before the client can see it end (a GET or a verify right after
 * finds it). A stream that fails in band ends with `response.failed` and an `error` event.
 */
export class ResponsesSink implements ResponseSink {
  readonly #target: ResponseSink;
  readonly #stream: boolean;
  readonly #frame: ResponseFrame;
  readonly #translator: ResponsesStreamTranslator;
  readonly #splitter = new SseEventSplitter(MAX_EVENT_BYTES);
  #headers: Record<string, string> = {};
  #chat: Buffer | undefined;
  #done = false;
  #failed = false;
  #finished: { events: ResponsesEvent[]; response: ResponseObject } | undefined;

  constructor(target: ResponseSink, frame: ResponseFrame, stream: boolean) {
    this.#target = target;
    this.#frame = frame;
    this.#stream = stream;
    this.#translator = new ResponsesStreamTranslator(frame);
  }

  get closed(): boolean {
    return this.#target.closed;
  }

  head(status: number, headers: Readonly<Record<string, string>>): void {
    const { 'content-length': _length, ...rest } = headers;
    if (!this.#stream) {
      // JSON: the head goes out with the translated body (its length is known then).
      this.#headers = rest;
      return;
    }
    this.#target.head(status, rest);
    this.#target.write(this.#events(this.#translator.start()));
  }

  write(chunk: Buffer | string): boolean {
    const text = this.#translate(chunk);
    return text === '' ? true : this.#target.write(text);
  }

  drain(signal: AbortSignal): Promise<void> {
    return this.#target.drain(signal);
  }

  destroy(): void {
    this.#target.destroy?.();
  }

  end(chunk?: Buffer | string): void {
    if (!this.#stream) {
      this.#chat = chunk === undefined ? Buffer.alloc(0) : Buffer.from(chunk);
      return;
    }
    const text = chunk === undefined ? '' : this.#translate(chunk);
    if (this.#failed) {
      // The core's in-band error, translated: response.failed, then error.
      this.#target.end(text);
      return;
    }
    if (text !== '') this.#target.write(text);
    // [DONE]: the closing events wait for deliver(). Anything else ended it early.
    if (!this.#done) this.#fail({ code: 'stream_interrupted', message: 'The stream ended before it completed' });
  }

  /** The Response of an answer that ended well, not yet written; undefined when it failed in band or never started. */
  result(): ResponseObject | undefined {
    if (this.#stream) {
      if (!this.#done || this.#failed) return undefined;
      this.#finished ??= this.#translator.finish();
      return this.#finished.response;
    }
    if (!this.#chat) return undefined;
    let chat: unknown;
    try {
      chat = JSON.parse(this.#chat.toString('utf8'));
    } catch (error) {
      throw new GatewayError('upstream_error', 'The provider answered with a body that is not JSON', { cause: error });
    }
    if (typeof chat !== 'object' || chat === null) throw new GatewayError('upstream_error', 'The provider answered with a body that is not a chat completion');
    return responseFromChat(this.#frame, chat as Record<string, unknown>);
  }

  /** Writes the end of the answer held back: the whole JSON body, or a stream's closing events. */
  deliver(response: ResponseObject): void {
    if (this.#target.closed) return;
    if (this.#stream) {
      const finished = (this.#finished ??= this.#translator.finish());
      // The last event carries the Response as the route completed it (its chat ids).
      const events = finished.events.map((event, index) => (index === finished.events.length - 1 ? { ...event, response } : event));
      this.#target.end(this.#events(events));
      return;
    }
    const body = Buffer.from(JSON.stringify(response));
    this.#target.head(200, { ...this.#headers, 'content-type': 'application/json', 'content-length': String(body.length) });
    this.#target.end(body);
  }

  #events(events: readonly ResponsesEvent[]): string {
    return events.map(eventBytes).join('');
  }

  #fail(error: { code: string; message: string; param?: string | null }): void {
    this.#failed = true;
    this.#target.end(this.#events(this.#translator.fail(error)));
  }

  /** Chat SSE bytes → Responses event text (empty when they completed no event with content). */
  #translate(chunk: Buffer | string): string {
    let text = '';
    for (const event of this.#splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)) {
      const data = event.data?.trim();
      if (data === undefined || data === '') continue;
      if (data === '[DONE]') {
        this.#done = true;
        continue;
      }
      let json: unknown;
      try {
        json = JSON.parse(data);
      } catch {
        continue;
      }
      if (typeof json !== 'object' || json === null) continue;
      const error = (json as { error?: { code?: unknown; message?: unknown; param?: unknown } }).error;
      if (error && typeof error === 'object') {
        this.#failed = true;
        text += this.#events(this.#translator.fail({ code: typeof error.code === 'string' ? error.code : 'stream_interrupted', message: typeof error.message === 'string' ? error.message : 'The stream failed', param: typeof error.param === 'string' ? error.param : null }));
        continue;
      }
      text += this.#events(this.#translator.chunk(json as Record<string, unknown>));
    }
    return text;
  }
}
