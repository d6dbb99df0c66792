import type { NextFunction, Request, Response } from 'express';
import type { AuthenticatedKey, ClientKeys } from '../keys/index.js';
import { factsOf } from './request-log.js';

/**
 * Checks the client key of a request when the gateway has keys: `Authorization: Bearer <key>`
 * (scheme case-insensitive), in constant time. Without keys configured every request passes.
 * Throws 401 `invalid_api_key`.
 */
export function authenticateClient(clientKeys: ClientKeys | undefined, authorization: string | undefined): AuthenticatedKey | undefined {
  if (!clientKeys) return undefined;
  return clientKeys.authenticate(authorization);
}

/** Express guard for `/v1/*` routes other than the completions. */
export function clientAuth(clientKeys: ClientKeys | undefined) {
  return (request: Request, response: Response, next: NextFunction): void => {
    try {
      const key = authenticateClient(clientKeys, request.get('authorization'));
      if (key) factsOf(response).keyId = key.id;
      next();
    } catch (error) {
      next(error);
    }
  };
}
