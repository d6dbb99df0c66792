import { Agent, request, type Dispatcher } from 'undici';
import type { Readable } from 'node:stream';

/** A whole (bounded) response, read without a stream. */
export interface BufferedResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The body (for a status outside 2xx: at most its first `errorBodyBytes`). */
  bytes: Buffer;
}

/** Thrown by {@link UpstreamHttpClient.exchange} when a 2xx body exceeds its limit. */
export class ResponseTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`the response body exceeded ${limit} bytes`);
  }
}

/** Most bytes of an error body kept. */
const ERROR_BODY_BYTES = 4096;

/** Connection-pool settings for upstream providers. */
export interface UpstreamHttpClientOptions {
  /** TCP connect timeout, ms. Default 5000. */
  connectTimeoutMs?: number;
  /** Idle keep-alive sockets are closed after this, ms. Default 30000. */
  keepAliveTimeoutMs?: number;
  /**
   * Most sockets per upstream origin. Default 4096: enough that a thousand concurrent streams
   * to one provider all start at once. Any waiting happens in the gateway's own admission
   * queue (visible, bounded), not hidden in the pool.
   */
  connectionsPerOrigin?: number;
}

/** What an upstream answered: status, lower-cased headers and a body still to be read. */
export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
}

/** The default of {@link UpstreamHttpClientOptions.connectionsPerOrigin}. */
export const DEFAULT_CONNECTIONS_PER_ORIGIN = 4096;

/**
 * One keep-alive connection pool (undici `Agent`) shared by every adapter of a gateway.
 * undici is used rather than `fetch` for its explicit pool limits, connect timeout, and a body
 * that is a Node stream with proper abort semantics. HTTP/1.1 keep-alive, no pipelining: a
 * slow stream never holds up another request queued behind it on the same socket.
 */
export class UpstreamHttpClient {
  private readonly agent: Agent;

  constructor(options: UpstreamHttpClientOptions = {}) {
    this.agent = new Agent({
      connect: { timeout: options.connectTimeoutMs ?? 5000 },
      keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
      connections: options.connectionsPerOrigin ?? DEFAULT_CONNECTIONS_PER_ORIGIN,
      pipelining: 1,
      // Time-to-first-byte and chunk gaps are enforced by the gateway through AbortSignals,
      // with its own configured bounds; undici's own timers are switched off.
      headersTimeout: 0,
      bodyTimeout: 0,
    });
  }

  /** Sends a request; rejects on network errors and aborts (never on HTTP status). */
  async send(
    method: 'GET' | 'POST',
    url: string,
    options: { headers?: Record<string, string>; body?: string | Buffer; signal?: AbortSignal },
  ): Promise<UpstreamResponse> {
    const response = await request(url, {
      method,
      headers: options.headers,
      body: options.body,
      signal: options.signal,
      dispatcher: this.agent,
    });
    return { status: response.statusCode, headers: response.headers, body: response.body };
  }

  /**
   * Sends a request and reads its whole response into memory, bounded: a 2xx body over `maxBytes`
   * (announced or received) rejects with {@link ResponseTooLarge} and the request is aborted; an
   * error status keeps at most 4 KiB of its body. Uses undici's dispatcher directly (no stream, no
   * body object): the cheapest way to do a bounded JSON exchange. Rejects on network errors and
   * aborts (with the signal's reason), never on HTTP status.
   */
  exchange(
    method: 'GET' | 'POST',
    url: string,
    options: { headers?: Record<string, string>; body?: string | Buffer | Readable; signal?: AbortSignal; maxBytes: number },
  ): Promise<BufferedResponse> {
    const { signal, maxBytes } = options;
    return new Promise<BufferedResponse>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason as Error);
      const target = new URL(url);
      let status = 0;
      let headers: Record<string, string | string[] | undefined> = {};
      const pieces: Buffer[] = [];
      let size = 0;
      let limit = maxBytes;
      let settled = false;
      let control: Dispatcher.DispatchController | undefined;
      const onAbort = (): void => control?.abort(signal?.reason as Error);
      const finish = (error: Error | undefined): void => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve({ status, headers, bytes: pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat(pieces, size) });
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const handler: Dispatcher.DispatchHandler = {
        onRequestStart(controller) {
          control = controller;
          if (signal?.aborted) controller.abort(signal.reason as Error);
        },
        onResponseStart(controller, statusCode, responseHeaders) {
          status = statusCode;
          headers = responseHeaders as Record<string, string | string[] | undefined>;
          if (statusCode < 200 || statusCode >= 300) limit = ERROR_BODY_BYTES;
          const declared = Number(responseHeaders['content-length']);
          if (limit === maxBytes && Number.isFinite(declared) && declared > maxBytes) {
            const error = new ResponseTooLarge(maxBytes);
            controller.abort(error);
            finish(error);
          }
        },
        onResponseData(controller, chunk) {
          if (settled) return;
          if (size + chunk.length > limit) {
            if (limit !== maxBytes) {
              // An error body: keep its start (enough to classify it), answer with it, then stop
              // reading the rest. Settled first: aborting reports an error synchronously, which
              // must not turn an answered status into a transport failure.
              pieces.push(chunk.subarray(0, limit - size));
              size = limit;
              finish(undefined);
              controller.abort(new Error('error body read'));
              return;
            }
            const error = new ResponseTooLarge(maxBytes);
            controller.abort(error);
            finish(error);
            return;
          }
          pieces.push(chunk);
          size += chunk.length;
        },
        onResponseEnd() {
          finish(undefined);
        },
        onResponseError(_controller, error) {
          finish(signal?.aborted ? (signal.reason as Error) : error);
        },
      };
      this.agent.dispatch({ origin: target.origin, path: `${target.pathname}${target.search}`, method, headers: options.headers ?? {}, body: options.body ?? null }, handler);
    });
  }

  /** Closes idle sockets and ends the pool. */
  async close(): Promise<void> {
    await this.agent.close();
  }
}

/**
 * Lets go of a response body that will not be read (further): undici emits an 'error' on a
 * destroyed body, which would crash the process without a listener.
 */
export function discardBody(body: UpstreamResponse['body']): void {
  body.on('error', () => undefined);
  if (!body.destroyed) body.destroy();
}
