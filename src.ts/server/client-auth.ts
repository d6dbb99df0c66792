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

const CLIENT_KEY = Symbol('zg-gateway.clientKey');

type WithClientKey = Response & { [CLIENT_KEY]?: AuthenticatedKey };

/** The client key `clientAuth` authenticated for this response's request; undefined without keys. */
export function clientKeyOf(response: Response): AuthenticatedKey | undefined {
  return (response as WithClientKey)[CLIENT_KEY];
}

/** Express guard for `/v1/*` routes other than the completions; the key is then at {@link clientKeyOf}. */
export function clientAuth(clientKeys: ClientKeys | undefined) {
  return (request: Request, response: Response, next: NextFunction): void => {
    try {
      const key = authenticateClient(clientKeys, request.get('authorization'));
      if (key) {
        factsOf(response).keyId = key.id;
        (response as WithClientKey)[CLIENT_KEY] = key;
      }
      next();
    } catch (error) {
      next(error);
    }
  };
}
