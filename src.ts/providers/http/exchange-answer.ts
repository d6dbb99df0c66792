import type { Readable } from 'node:stream';
import { GatewayError } from '../../errors/index.js';
import { errorBodyFromBytes, errorForTransportFailure, errorForUpstreamStatus, headerValue, parseRetryAfter } from './upstream-errors.js';
import { ResponseTooLarge, type BufferedResponse, type UpstreamHttpClient } from './upstream-http-client.js';

/**
 * POSTs a request whose answer is read whole (a JSON completion, embeddings, an image, a
 * transcription) and returns the 2xx response; every failure becomes the gateway's error for it:
 * an answer over `maxBytes` is `upstream_response_too_large` (retryable), a transport failure or
 * abort is classified by {@link errorForTransportFailure}, a non-2xx status by
 * {@link errorForUpstreamStatus} (with its body and `Retry-After`).
 */
export async function exchangeAnswer(
  client: UpstreamHttpClient,
  url: string,
  init: { headers: Record<string, string>; body: string | Readable; signal: AbortSignal },
  providerId: string,
  maxBytes: number,
): Promise<BufferedResponse> {
  let response: BufferedResponse;
  try {
    response = await client.exchange('POST', url, { ...init, maxBytes });
  } catch (error) {
    if (error instanceof ResponseTooLarge) {
      throw new GatewayError('upstream_response_too_large', `Provider ${providerId} sent an answer larger than ${maxBytes} bytes`, {
        retryable: true,
        details: { provider: providerId, limitBytes: maxBytes },
      });
    }
    throw errorForTransportFailure(error, init.signal, providerId);
  }
  if (response.status < 200 || response.status >= 300) {
    throw errorForUpstreamStatus(response.status, errorBodyFromBytes(response.bytes, response.status), providerId, parseRetryAfter(headerValue(response.headers, 'retry-after')));
  }
  return response;
}
