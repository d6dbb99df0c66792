import { Agent, request, type Dispatcher } from 'undici';

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
