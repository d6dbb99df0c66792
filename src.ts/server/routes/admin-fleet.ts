import type { Request, Response } from 'express';
import { GatewayError } from '../../errors/index.js';
import type { Gateway } from '../../gateway/gateway.js';
import { writeJson } from '../write-error.js';

/** `POST /admin/catalog/refresh`: reads the chain's catalog now; answers what changed. */
export function catalogRefreshRoute(gateway: Gateway) {
  return async (_request: Request, response: Response): Promise<void> => {
    const summary = await gateway.fleet.refreshCatalog?.();
    if (!summary) throw new GatewayError('not_discovering', 'This gateway serves a fixed list of providers: there is no chain catalog to refresh (set providers to \'auto\' or { discover })');
    writeJson(response, summary);
  };
}

/** `POST /admin/providers/:address/readmit`: puts an untrusted provider back in rotation. */
export function readmitRoute(gateway: Gateway) {
  return async (request: Request, response: Response): Promise<void> => {
    const id = String(request.params.address ?? '');
    const entry = gateway.registry.get(id);
    if (!entry) throw new GatewayError('provider_not_found', `No provider ${id} in the fleet`, { param: 'address' });
    const previous = { state: entry.trust.state, reason: entry.trust.reason };
    gateway.registry.setTrust(entry, 'trusted', 'readmitted by an operator');
    writeJson(response, { provider: entry.id, trust: 'trusted', previous });
  };
}
