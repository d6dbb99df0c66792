import { GatewayError } from '../errors/index.js';
import { followAbort } from '../internal/follow-abort.js';
import type { ResponseSink } from './answer-relay.js';

/** Default of `timeouts.clientStall`: how long a streaming client may stop reading, ms. */
export const DEFAULT_CLIENT_STALL_MS = 60_000;

/** The error a request ends with when its client stopped reading for `ms`. */
export function clientStalledError(ms: number): GatewayError {
  return new GatewayError('client_stalled', `The client read nothing for ${ms} ms; the stream was cut`, { details: { clientStallMs: ms } });
}

/**
 * The same sink, with each wait for the client to take more bytes bounded by `ms`: a client that
 * stops reading (its socket buffers full) makes `drain` reject with `client_stalled` after that
 * long. The provider is paused meanwhile (backpressure), and is not blamed for the silence.
 */
export function stallBoundedSink(sink: ResponseSink, ms: number): ResponseSink {
  return {
    get closed(): boolean {
      return sink.closed;
    },
    head: (status, headers) => sink.head(status, headers),
    write: (chunk) => sink.write(chunk),
    end: (chunk) => sink.end(chunk),
    destroy: () => sink.destroy?.(),
    async drain(signal: AbortSignal): Promise<void> {
      const controller = new AbortController();
      const unfollow = followAbort(signal, controller);
      let stalled: GatewayError | undefined;
      const timer = setTimeout(() => controller.abort((stalled = clientStalledError(ms))), ms);
      try {
        await sink.drain(controller.signal);
      } catch (error) {
        if (stalled !== undefined && controller.signal.reason === stalled) throw stalled;
        throw error;
      } finally {
        clearTimeout(timer);
        unfollow();
      }
    },
  };
}
