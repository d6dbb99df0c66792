import type { Request, Response } from 'express';
import type { GatewayState } from '../../gateway/gateway-state.js';
import { route } from '../request-context.js';

/** `GET /admin/providers`: every provider's counters, health and latency. */
export function adminProvidersRoute(state: GatewayState) {
  return route(async (_request: Request, response: Response) => {
    const providers = state.registry.list().map((entry) => {
      const stats = state.balancer.stats(entry.provider.id);
      const breaker = entry.breaker.snapshot();
      return {
        address: entry.provider.address,
        kind: entry.provider.kind,
        endpoint: entry.provider.endpoint,
        model: entry.provider.model,
        verifiable: entry.provider.verifiable,
        weight: entry.weight,
        healthy: breaker.state !== 'open',
        breaker,
        inFlight: stats.inFlight,
        served: stats.served,
        failures: stats.failures,
        lastError: stats.lastError,
        latencyMs: stats.latencyMs,
        lastHealthCheck: entry.lastHealthCheck,
        lastProbeError: entry.lastProbeError,
      };
    });
    response.json({
      strategy: state.balancer.strategyName,
      totalInFlight: state.balancer.totalInFlight(),
      sessions: { responses: await state.responses.size(), pinned: await state.sessions.size(), store: state.responses.kind },
      providers,
      failedProviders: state.registry.failed,
    });
  });
}
