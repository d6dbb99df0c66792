import type { Request, Response } from 'express';
import { GatewayError } from '../../errors/index.js';
import { writeJson } from '../write-error.js';

/** `GET /admin/billing`: per provider the fees served and settled, pending, last settlement, status; balances and refunds. */
export function adminBillingRoute(billing: { report(): Promise<object> } | undefined) {
  return async (_request: Request, response: Response): Promise<void> => {
    if (!billing) throw new GatewayError('not_found', 'This server was started without billing');
    writeJson(response, await billing.report());
  };
}
