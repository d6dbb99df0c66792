import { describeProviders, type ProviderView } from '../../gateway/describe-providers.js';
import type { Gateway } from '../../gateway/gateway.js';
import type { StatusView } from '../openapi/response-schemas.js';

/** The gateway's overall state: `unhealthy` with no provider in rotation, `degraded` with some out. */
export function fleetStatus(views: readonly Pick<ProviderView, 'inRotation'>[], shuttingDown: boolean): StatusView['status'] {
  const serving = views.filter((view) => view.inRotation).length;
  if (shuttingDown) return 'shutting_down';
  if (serving === 0) return 'unhealthy';
  return serving < views.length ? 'degraded' : 'healthy';
}

/**
 * What the status page shows, from the one provider view (`describeProviders`) and the spend
 * the metrics recorded: per provider its health, breaker, funding, trust, in flight, latency,
 * share of the requests served, and spend (neuron, exact, as a decimal string).
 */
export function buildStatusView(gateway: Gateway, spendByProvider: ReadonlyMap<string, bigint>): StatusView {
  const views = describeProviders(gateway.registry);
  const served = views.reduce((total, view) => total + view.served, 0);
  let spend = 0n;
  const providers = views.map((view) => {
    const spent = spendByProvider.get(view.id) ?? 0n;
    spend += spent;
    return {
      id: view.id,
      kind: view.kind,
      models: view.models.map((offer) => offer.id),
      healthy: view.healthy,
      inRotation: view.inRotation,
      outOfRotationReason: view.outOfRotationReason,
      breaker: view.breaker.state,
      funding: view.funding.state,
      trust: view.trust.state,
      membership: view.membership.state,
      inFlight: view.inFlight,
      served: view.served,
      failures: view.failures,
      errorRate: view.errorRate,
      latencyMs: { p50: view.latencyMs.p50, p95: view.latencyMs.p95 },
      ewmaTtfbMs: view.ewmaTtfbMs,
      share: served === 0 ? 0 : Math.round((view.served / served) * 1000) / 1000,
      spendNeuron: spent.toString(),
      lastError: view.lastError ? `${view.lastError.code}: ${view.lastError.message}` : null,
    };
  });
  return {
    status: fleetStatus(views, gateway.shuttingDown),
    generatedAt: new Date().toISOString(),
    strategy: gateway.strategy.name,
    inFlight: gateway.inFlight(),
    served,
    spendNeuron: spend.toString(),
    providers,
    failedProviders: [...gateway.fleet.failed],
  };
}
