import { describeProviders, type ProviderView } from '../../fleet/describe-providers.js';
import type { Gateway } from '../../gateway/gateway.js';
import { packageRequire } from '../../internal/package-require.js';
import type { StatusHistory } from '../../observability/status-history.js';
import type { StatusProvider, StatusView } from './status-view-schema.js';

/** The gateway's overall state: `unhealthy` with no provider in rotation, `degraded` with some out. */
export function fleetStatus(views: readonly Pick<ProviderView, 'inRotation'>[], shuttingDown: boolean): StatusView['status'] {
  const serving = views.filter((view) => view.inRotation).length;
  if (shuttingDown) return 'shutting_down';
  if (serving === 0) return 'unhealthy';
  return serving < views.length ? 'degraded' : 'healthy';
}

let version: string | undefined;
/** This package's version. */
export function gatewayVersion(): string {
  if (version === undefined) {
    try {
      version = (packageRequire('../../package.json') as { version?: string }).version ?? '0.0.0';
    } catch {
      version = '0.0.0';
    }
  }
  return version;
}

/**
 * The last error worth showing: none once the provider recovered after it (an attempt succeeded,
 * or its breaker closed), so a fixed provider does not keep an old error.
 */
export function currentError(view: Pick<ProviderView, 'lastError'>, recoveredAt: number | undefined): StatusProvider['lastError'] {
  const last = view.lastError;
  if (!last) return null;
  if (recoveredAt !== undefined && recoveredAt >= Date.parse(last.at)) return null;
  return { code: last.code, message: last.message, at: last.at };
}

/** One provider on the page. */
export function statusProvider(view: ProviderView, spent: bigint, totalServed: number, history: StatusHistory | undefined, now: number): StatusProvider {
  const zg = view.kind === 'zg';
  const retryAt = view.breaker.state === 'open' && view.breaker.retryAt ? Date.parse(view.breaker.retryAt) : Number.NaN;
  return {
    id: view.id,
    // A 0G provider's id is its address (its name, if any, is configured); any other's id is the name it was given (configured, node API).
    name: zg ? view.name : view.id,
    address: zg ? view.address : view.endpoint,
    kind: view.kind,
    models: view.models.map((offer) => offer.id),
    healthy: view.healthy,
    inRotation: view.inRotation,
    outOfRotationReason: view.outOfRotationReason,
    breaker: view.breaker.state,
    breakerReason: view.breaker.reason,
    breakerRetryInMs: Number.isNaN(retryAt) ? null : Math.max(0, retryAt - now),
    funding: view.funding.state,
    trust: view.trust.state,
    fundingApplies: zg,
    membership: view.membership.state,
    inFlight: view.inFlight,
    served: view.served,
    failures: view.failures,
    errorRate: view.errorRate,
    latencyMs: { p50: view.latencyMs.p50, p95: view.latencyMs.p95 },
    ewmaTtfbMs: view.ewmaTtfbMs,
    tokensPerSecond: view.outputTokensPerSecond,
    share: totalServed === 0 ? 0 : Math.round((view.served / totalServed) * 1000) / 1000,
    spendNeuron: spent.toString(),
    lastError: currentError(view, history?.recoveredAt(view.id)),
  };
}

/** A decimal amount of 0G (`96.5`, as the funding keeper reports balances) as neuron (decimal string); unreadable: `0`. */
export function zeroGToNeuron(amount: string): string {
  const match = /^(-?)(\d+)(?:\.(\d{1,18}))?$/.exec(amount.trim());
  if (!match) return '0';
  const neuron = BigInt(match[2] as string) * 10n ** 18n + BigInt((match[3] ?? '').padEnd(18, '0'));
  return (match[1] === '-' ? -neuron : neuron).toString();
}

/** The funding keeper's summary (amounts in 0G), as the page shows it: neuron like every amount of the view, sub-accounts as a list each saying whether it needs funds. */
export function fundsView(summary: object | undefined): StatusView['funds'] {
  if (!summary) return null;
  const funding = summary as {
    ledger: { available: string; total: string; readAt: string } | null;
    ledgerFloor: string;
    belowFloor: boolean;
    subAccounts: Record<string, { balance: string; pendingRefund: string; readAt: string }>;
    needsFunds: string[];
  };
  const needs = new Set(funding.needsFunds.map((id) => id.toLowerCase()));
  return {
    ledger: funding.ledger ? { available: zeroGToNeuron(funding.ledger.available), total: zeroGToNeuron(funding.ledger.total), readAt: funding.ledger.readAt } : null,
    ledgerFloor: zeroGToNeuron(funding.ledgerFloor),
    belowFloor: funding.belowFloor,
    subAccounts: Object.entries(funding.subAccounts).map(([provider, account]) => ({
      provider,
      balance: zeroGToNeuron(account.balance),
      pendingRefund: zeroGToNeuron(account.pendingRefund),
      readAt: account.readAt,
      needsFunds: needs.has(provider.toLowerCase()),
    })),
    needsFunds: funding.needsFunds,
  };
}

/** The parts of the view read elsewhere (cached reads, the history). */
export interface StatusViewInputs {
  spendByProvider: ReadonlyMap<string, bigint>;
  history?: StatusHistory | undefined;
  /** `overall` or a provider id: whose series the view carries. */
  scope?: string | undefined;
  billing?: StatusView['billing'];
  keys?: StatusView['keys'];
  now?: number;
}

/**
 * What the status page shows: the one provider view (`describeProviders`) with the spend the
 * metrics recorded, the last hour's series and recent failures (the history), funds, billing,
 * queue, per-key usage, uptime and version.
 */
export function buildStatusView(gateway: Gateway, inputs: StatusViewInputs): StatusView {
  const now = inputs.now ?? Date.now();
  const history = inputs.history;
  const views = describeProviders(gateway.registry);
  const served = views.reduce((total, view) => total + view.served, 0);
  let spend = 0n;
  const providers = views.map((view) => {
    const spent = inputs.spendByProvider.get(view.id) ?? 0n;
    spend += spent;
    return statusProvider(view, spent, served, history, now);
  });
  const scope = inputs.scope !== undefined && inputs.scope !== 'overall' && history?.series.keys().includes(inputs.scope) ? inputs.scope : 'overall';
  const series = history?.series.snapshot(scope === 'overall' ? undefined : scope);
  const queue = gateway.admission.stats();
  const startedAt = history?.startedAt ?? now;
  return {
    status: fleetStatus(views, gateway.shuttingDown),
    generatedAt: new Date(now).toISOString(),
    version: gatewayVersion(),
    startedAt: new Date(startedAt).toISOString(),
    uptimeSeconds: Math.max(0, Math.round((now - startedAt) / 1000)),
    strategy: gateway.strategy.name,
    inFlight: gateway.inFlight(),
    served,
    spendNeuron: spend.toString(),
    queue: { depth: queue.depth, maxSize: queue.maxSize, oldestWaitMs: queue.oldestWaitMs, rejected: queue.rejected, timeouts: queue.timeouts },
    providers,
    failedProviders: [...gateway.fleet.failed],
    series: {
      scope,
      scopes: history?.series.keys() ?? [],
      ...(series ?? { bucketMs: 10_000, time: [], requestsPerSecond: [], errorRate: [], ttftP50Ms: [], ttftP95Ms: [], latencyP50Ms: [], latencyP95Ms: [] }),
    },
    failures: (history?.failures() ?? []).map((failure) => ({
      at: new Date(failure.at).toISOString(),
      kind: failure.kind,
      provider: failure.providerId,
      model: failure.model,
      status: failure.status,
      code: failure.code,
      message: failure.message,
      requestId: failure.requestId,
    })),
    funds: fundsView(gateway.fleet.fundingSummary?.()),
    billing: inputs.billing ?? null,
    keys: inputs.keys ?? null,
  };
}
