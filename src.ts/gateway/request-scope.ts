import { GatewayError } from '../errors/index.js';
import { followAbort } from '../internal/follow-abort.js';

/**
 * One request's lifetime as a single AbortSignal: aborted when the client goes away
 * (`client_closed_request`), the whole-request deadline passes (`upstream_timeout`), or
 * shutdown ends it (`shutting_down`). `dispose()` stops the timer and every listener.
 */
export class RequestScope {
  readonly #controller = new AbortController();
  readonly #timer: NodeJS.Timeout;
  readonly #unfollowClient: () => void;
  readonly #unfollowShutdown: () => void;
  #disposed = false;

  constructor(clientSignal: AbortSignal, shutdownSignal: AbortSignal, totalMs: number) {
    this.#unfollowClient = followAbort(clientSignal, this.#controller);
    this.#unfollowShutdown = followAbort(shutdownSignal, this.#controller);
    this.#timer = setTimeout(() => this.abort(new GatewayError('upstream_timeout', `The request took longer than ${totalMs} ms`)), totalMs);
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Ends the request with `reason` (the first reason wins). */
  abort(reason: GatewayError): void {
    if (!this.#controller.signal.aborted) this.#controller.abort(reason);
  }

  /** Stops the deadline and the listeners. Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    clearTimeout(this.#timer);
    this.#unfollowClient();
    this.#unfollowShutdown();
  }
}

/** The abort reason a request gets when its client disconnects. */
export function clientClosedReason(): GatewayError {
  return new GatewayError('client_closed_request', 'The client closed the connection');
}

/** The abort reason requests get when shutdown ends them. */
export function shuttingDownReason(): GatewayError {
  return new GatewayError('shutting_down', 'The gateway is shutting down', { retryAfterMs: 1000 });
}
