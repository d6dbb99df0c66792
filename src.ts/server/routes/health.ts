import type { Request, Response } from 'express';
import type { GatewayState } from '../../gateway/gateway-state.js';
import { route } from '../request-context.js';

/** `GET /health`: 200 while at least one provider is healthy, else 503. */
export function healthRoute(state: GatewayState) {
  return route(async (_request: Request, response: Response) => {
    const entries = state.registry.list();
    const providers = entries.map((entry) => ({
      address: entry.provider.address,
      endpoint: entry.provider.endpoint,
      model: entry.provider.model,
      isHealthy: entry.breaker.state !== 'open',
      state: entry.breaker.state,
      connections: state.balancer.inFlight(entry.provider.id),
      lastHealthCheck: entry.lastHealthCheck,
    }));
    const healthyProviders = providers.filter((provider) => provider.isHealthy).length;
    const status = state.isShuttingDown() ? 'shutting_down' : healthyProviders === 0 ? 'unhealthy' : healthyProviders < providers.length ? 'degraded' : 'healthy';
    response.status(healthyProviders === 0 || state.isShuttingDown() ? 503 : 200).json({
      status,
      timestamp: new Date().toISOString(),
      loadBalancer: {
        strategy: state.balancer.strategyName,
        totalProviders: providers.length,
        healthyProviders,
        totalConnections: state.balancer.totalInFlight(),
        activeSessions: await state.responses.size(),
        providers,
      },
      failedProviders: state.registry.failed,
    });
  });
}
