import { GatewayError } from '../errors/index.js';
import { followAbort } from '../internal/follow-abort.js';

/**
 * One request's lifetime as a single AbortSignal: aborted when the client goes away
 * (`client_closed_request`), the whole-request deadline passes (`upstream_timeout`), or
 * shutdown ends it (`shutting_down`, through {@link RequestScope.abort}: the gateway keeps its live
 * scopes, so no request listens on a shared shutdown signal). When the HTTP layer hands over the
 * client's own controller, the scope uses it as is: one controller per request, no listener.
 * `dispose()` stops the timer.
 */
export class RequestScope {
  readonly #controller: AbortController;
  readonly #timer: NodeJS.Timeout;
  readonly #unfollowClient: (() => void) | undefined;
  #disposed = false;

  constructor(client: AbortController | AbortSignal, totalMs: number) {
    if (client instanceof AbortController) {
      this.#controller = client;
    } else {
      this.#controller = new AbortController();
      this.#unfollowClient = followAbort(client, this.#controller);
    }
    this.#timer = setTimeout(() => this.abort(new GatewayError('upstream_timeout', `The request took longer than ${totalMs} ms`)), totalMs);
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Ends the request with `reason` (the first reason wins). */
  abort(reason: GatewayError): void {
    if (!this.#controller.signal.aborted) this.#controller.abort(reason);
  }

  /** Stops the deadline (and the listener on a client signal). Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    clearTimeout(this.#timer);
    this.#unfollowClient?.();
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
