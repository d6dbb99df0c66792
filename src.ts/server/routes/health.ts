import type { Request, Response } from 'express';
import type { Gateway } from '../../gateway/gateway.js';
import { describeProviders } from '../../fleet/describe-providers.js';
import { fleetStatus } from '../status/status-view.js';
import { writeJson } from '../write-error.js';

/** `GET /health`: 200 while at least one provider is in rotation, else 503. */
export function healthRoute(gateway: Gateway) {
  return async (_request: Request, response: Response): Promise<void> => {
    const views = describeProviders(gateway.registry);
    const providers = views.map((view) => ({
      address: view.address,
      endpoint: view.endpoint,
      model: view.models[0]?.id ?? '',
      models: view.models.map((offer) => offer.id),
      isHealthy: view.healthy,
      inRotation: view.inRotation,
      outOfRotationReason: view.outOfRotationReason,
      state: view.breaker.state,
      funding: view.funding.state,
      trust: view.trust.state,
      membership: view.membership.state,
      connections: view.inFlight,
      lastHealthCheck: view.lastHealthCheck,
    }));
    const serving = providers.filter((provider) => provider.inRotation).length;
    const healthyProviders = providers.filter((provider) => provider.isHealthy).length;
    const status = fleetStatus(views, gateway.shuttingDown);
    let activeSessions: number | null = null;
    try {
      activeSessions = await gateway.responses.size();
    } catch {
      // The store being unreachable does not make the gateway unhealthy; null says "unknown".
    }
    writeJson(
      response,
      {
        status,
        timestamp: new Date().toISOString(),
        loadBalancer: {
          strategy: gateway.strategy.name,
          totalProviders: providers.length,
          healthyProviders,
          providersInRotation: serving,
          totalConnections: gateway.inFlight(),
          activeSessions,
          providers,
        },
        failedProviders: gateway.fleet.failed,
        queue: gateway.admission.stats(),
      },
      serving === 0 || gateway.shuttingDown ? 503 : 200,
    );
  };
}
