import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { GatewayError, toGatewayError } from '../errors/index.js';
import { factsOf } from './request-context.js';

/** Maps body-parser's errors (by their `type`, a stable field) to gateway errors. */
function fromBodyParser(error: unknown): GatewayError | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const type = (error as { type?: unknown }).type;
  if (type === 'entity.parse.failed') return new GatewayError('invalid_json', 'The request body is not valid JSON', { cause: error });
  if (type === 'entity.too.large') return new GatewayError('body_too_large', 'The request body is larger than the gateway accepts', { cause: error });
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
    return new GatewayError('unsupported_media_type', 'The request body must be UTF-8 JSON', { cause: error });
  }
  if (type === 'request.aborted') return new GatewayError('client_closed_request', 'The client aborted the request', { cause: error });
  return undefined;
}

/** Writes an error as an in-band SSE event; used once a stream has started. */
export function writeStreamError(response: Response, error: GatewayError): void {
  if (response.writableEnded || response.destroyed) return;
  response.write(`data: ${JSON.stringify(error.toJSON())}\n\n`);
  response.end();
}

/** The one place errors become HTTP responses: OpenAI-style JSON with the code's status. */
export function errorMiddleware(logger: Logger) {
  return (thrown: unknown, _request: Request, response: Response, _next: NextFunction): void => {
    void _next;
    const error = fromBodyParser(thrown) ?? toGatewayError(thrown);
    const facts = factsOf(response);
    if (facts) facts.errorCode = error.code;
    if (error.code === 'internal_error') {
      logger.error({ event: 'internal_error', requestId: facts?.requestId, err: error.cause ?? error }, 'unexpected error');
    }
    if (response.headersSent) {
      if (response.getHeader('content-type')?.toString().startsWith('text/event-stream')) writeStreamError(response, error);
      else response.destroy();
      return;
    }
    if (error.retryAfterMs !== undefined && (error.status === 429 || error.status === 503)) {
      response.setHeader('Retry-After', String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))));
    }
    response.status(error.status).json(error.toJSON());
  };
}
