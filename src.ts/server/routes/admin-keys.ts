import type { Request, Response } from 'express';
import type { ClientKeys } from '../../keys/index.js';
import { writeJson } from '../write-error.js';

/** `GET /admin/keys`: every client key with its limits, usage and spend (never a key or its hash). */
export function adminKeysRoute(clientKeys: ClientKeys | undefined) {
  return async (_request: Request, response: Response): Promise<void> => {
    writeJson(response, { keys: clientKeys ? await clientKeys.describeKeys() : [], enabled: clientKeys !== undefined });
  };
}
