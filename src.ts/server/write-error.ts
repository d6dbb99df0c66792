import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { toGatewayError, type GatewayError } from '../errors/index.js';
import { sseEvent } from '../providers/openai-wire.js';
import { factsOf } from './request-log.js';

/**
 * The one place errors become HTTP responses: OpenAI-style JSON with the code's status, and
 * `Retry-After` on 429/503 when the error knows how long to wait. Once an SSE response has
 * started, the error is written in band (no `[DONE]`); any other started response is cut.
 */
export function writeError(response: ServerResponse, thrown: unknown, logger: Logger): GatewayError {
  const error = toGatewayError(thrown);
  const facts = safeFacts(response);
  if (facts) facts.errorCode = error.code;
  if (error.code === 'internal_error') logger.error({ event: 'internal_error', requestId: facts?.requestId, err: error.cause ?? error }, 'unexpected error');
  if (response.headersSent) {
    if (String(response.getHeader('content-type') ?? '').startsWith('text/event-stream')) {
      if (!response.writableEnded) response.end(sseEvent(error.toJSON()));
    } else response.destroy();
    return error;
  }
  const body = JSON.stringify(error.toJSON());
  const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
  if (error.retryAfterMs !== undefined && (error.status === 429 || error.status === 503 || error.status === 402)) {
    headers['retry-after'] = String(Math.max(1, Math.ceil(error.retryAfterMs / 1000)));
  }
  response.writeHead(error.status, headers);
  response.end(body);
  return error;
}

function safeFacts(response: ServerResponse): ReturnType<typeof factsOf> | undefined {
  try {
    return factsOf(response);
  } catch {
    return undefined;
  }
}

/** Writes a JSON body with status 200 (or `status`). */
export function writeJson(response: ServerResponse, value: unknown, status = 200, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(value);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
  response.end(body);
}
