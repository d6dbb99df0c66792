import type { Request, Response } from 'express';
import type { Gateway } from '../../gateway/gateway.js';
import { describeProviders } from '../../fleet/describe-providers.js';
import { writeJson } from '../write-error.js';

/** The configured pools, as `/admin/providers` shows them. */
export function poolsView(gateway: Gateway): Record<string, { overflow: boolean | string[]; models: string[]; acceptOverflow: boolean }> {
  const view: Record<string, { overflow: boolean | string[]; models: string[]; acceptOverflow: boolean }> = {};
  for (const [name, pool] of Object.entries(gateway.planner.options.pools ?? {})) {
    view[name] = { overflow: typeof pool.overflow === 'boolean' ? pool.overflow : [...pool.overflow], models: [...(pool.models ?? [])], acceptOverflow: pool.acceptOverflow !== false };
  }
  return view;
}

/** `GET /admin/queue`: the admission queue's figures and bounds. */
export function adminQueueRoute(gateway: Gateway) {
  return async (_request: Request, response: Response): Promise<void> => {
    writeJson(response, { ...gateway.admission.stats(), retryAfterMs: gateway.admission.settings.retryAfterMs, defaultPriority: gateway.admission.settings.defaultPriority ?? 5, inFlight: gateway.inFlight() });
  };
}

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
      queue: gateway.admission.stats(),
      pools: poolsView(gateway),
    });
  };
}
