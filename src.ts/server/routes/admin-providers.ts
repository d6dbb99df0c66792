import type { Request, Response } from 'express';
import type { Gateway } from '../../gateway/gateway.js';
import { describeProviders } from '../../gateway/describe-providers.js';
import { writeJson } from '../write-error.js';

/** `GET /admin/providers`: every provider's configuration, health, load and figures. */
export function adminProvidersRoute(gateway: Gateway) {
  return async (_request: Request, response: Response): Promise<void> => {
    let sessions: { responses: number | null; pinned: number | null; store: string } = { responses: null, pinned: null, store: gateway.responses.kind };
    try {
      sessions = { responses: await gateway.responses.size(), pinned: await gateway.sessions.size(), store: gateway.responses.kind };
    } catch {
      // Unknown while the store cannot be reached.
    }
    writeJson(response, {
      strategy: gateway.strategy.name,
      totalInFlight: gateway.inFlight(),
      sessions,
      providers: describeProviders(gateway.registry),
      failedProviders: gateway.fleet.failed,
      catalog: gateway.fleet.candidates?.() ?? [],
      funding: gateway.fleet.fundingSummary?.() ?? null,
    });
  };
}
