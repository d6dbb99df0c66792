import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { toGatewayError } from '../errors/index.js';

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** Per-request facts the log line reports. */
export interface RequestFacts {
  requestId: string;
  startedAt: number;
  provider?: string;
  attempts?: number;
  stream?: boolean;
  errorCode?: string;
  outcome?: string;
}

/** Reads the facts stored on a response by {@link requestContext}. */
export function factsOf(response: Response): RequestFacts {
  return response.locals.facts as RequestFacts;
}

/**
 * Gives each request an id (the client's `X-Request-Id` when sane, else a UUID), echoes it,
 * and writes exactly one structured log line when the response ends or the client leaves.
 */
export function requestContext(logger: Logger) {
  return (request: Request, response: Response, next: NextFunction): void => {
    const incoming = request.get('x-request-id');
    const facts: RequestFacts = {
      requestId: incoming && REQUEST_ID_PATTERN.test(incoming) ? incoming : randomUUID(),
      startedAt: performance.now(),
    };
    response.locals.facts = facts;
    response.setHeader('X-Request-Id', facts.requestId);
    response.once('close', () => {
      const status = response.statusCode;
      const line = {
        event: 'request',
        requestId: facts.requestId,
        method: request.method,
        path: request.path,
        status,
        durationMs: Math.round((performance.now() - facts.startedAt) * 10) / 10,
        provider: facts.provider,
        attempts: facts.attempts,
        stream: facts.stream,
        outcome: facts.outcome ?? (response.writableFinished ? (status < 400 ? 'ok' : 'error') : 'client_closed'),
        errorCode: facts.errorCode,
      };
      if (status >= 500 || facts.outcome === 'stream_error') logger.warn(line, 'request');
      else logger.info(line, 'request');
    });
    next();
  };
}

/** Wraps an async route so a rejection reaches the error middleware (and is typed). */
export function route(handler: (request: Request, response: Response) => Promise<void>) {
  return (request: Request, response: Response, next: NextFunction): void => {
    handler(request, response).catch((error: unknown) => next(toGatewayError(error)));
  };
}
