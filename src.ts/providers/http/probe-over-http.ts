import { GatewayError } from '../../errors/index.js';
import { errorForTransportFailure } from './upstream-errors.js';
import { discardBody, type UpstreamHttpClient } from './upstream-http-client.js';

/**
 * A liveness probe: GET `url`; any answer below 500 means the provider is up.
 * Rejects with the transport error (unreachable, timeout) or `upstream_error` for a 5xx.
 */
export async function probeOverHttp(
  client: UpstreamHttpClient,
  providerId: string,
  url: string,
  signal: AbortSignal,
  headers: Record<string, string> = {},
): Promise<void> {
  let response;
  try {
    response = await client.send('GET', url, { headers, signal });
  } catch (error) {
    throw errorForTransportFailure(error, signal, providerId);
  }
  discardBody(response.body);
  if (response.status >= 500) {
    throw new GatewayError('upstream_error', `Provider ${providerId} probe answered HTTP ${response.status}`, { retryable: true, upstreamStatus: response.status });
  }
}
