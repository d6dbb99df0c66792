import { GatewaySubscriptions } from '../observability/gateway-subscriptions.js';
import { Registry } from 'prom-client';
import { ERROR_CODES } from '../errors/index.js';
import { describeProviders } from '../fleet/describe-providers.js';
import type { Gateway } from '../gateway/gateway.js';
import {
  attemptFinishChannel,
  breakerChannel,
  providerAddedChannel,
  providerRemovedChannel,
  providerStateChannel,
  requestDoneChannel,
  retryDelayChannel,
  verifyDoneChannel,
  type AttemptFinishEvent,
  type BreakerEvent,
  type ProviderStateEvent,
  type RequestDoneEvent,
  type RetryDelayEvent,
  type VerifyDoneEvent,
} from '../observability/index.js';
import { FundsMetrics } from './funds-metrics.js';
import { FAILURE_CLASSES, type FailureClass } from '../dispatch/retry-policy.js';
import { GatewayMetrics } from './gateway-metrics.js';
import { ModelLabel, OTHER_LABEL, reasonKind, routeLabel } from './metric-labels.js';
import { processMetricsRegistry } from './process-metrics.js';
import { QueueMetrics } from './queue-metrics.js';
import { registerAffinityMetrics } from './affinity-metrics.js';

/** Options for {@link GatewayTelemetry}. */
export interface GatewayTelemetryOptions {
  /** The gateway observed: only events carrying its id count. */
  gateway: Gateway;
  /** The paths the server serves; a request to any other path is counted under route `other`. */
  knownRoutes: ReadonlySet<string>;
  /** Add prom-client's default Node process series to {@link GatewayTelemetry.metricsText}. Default true. */
  processMetrics?: boolean;
  /** The providers billing flags `overcharging` now; undefined: no billing (no `zg_gateway_provider_overcharging` series). */
  overcharging?: (() => readonly string[]) | undefined;
}

/** An error code label: a code of the gateway's table, else `other`. */
const codeLabel = (code: string | undefined): string => (code !== undefined && Object.hasOwn(ERROR_CODES, code) ? code : OTHER_LABEL);

/**
 * One gateway's metrics: subscribes to the process-wide `diagnostics_channel` events, keeps those
 * of its own gateway (by `gatewayId`), and feeds them to a per-gateway prom-client `Registry`
 * ({@link GatewayMetrics}); also keeps each provider's exact spend for the status page.
 * `close()` unsubscribes. One per running HTTP server.
 */
export class GatewayTelemetry {
  /** This gateway's registry (add your own series to it; `/metrics` serves them too). */
  readonly registry = new Registry();
  readonly #metrics: GatewayMetrics;
  readonly #queue: QueueMetrics;
  readonly #gateway: Gateway;
  readonly #knownRoutes: ReadonlySet<string>;
  readonly #processMetrics: boolean;
  readonly #models: ModelLabel;
  readonly #spend = new Map<string, bigint>();
  readonly #subscriptions: GatewaySubscriptions;
  #closed = false;

  constructor(options: GatewayTelemetryOptions) {
    this.#subscriptions = new GatewaySubscriptions(options.gateway.id, (error) => options.gateway.logger.error({ event: 'internal_error', err: error }, 'recording a metric failed'));
    this.#gateway = options.gateway;
    this.#knownRoutes = options.knownRoutes;
    this.#processMetrics = options.processMetrics ?? true;
    const gateway = options.gateway;
    this.#models = new ModelLabel(() => gateway.planner.servedModels());
    this.#metrics = new GatewayMetrics(this.registry, {
      providers: () => describeProviders(gateway.registry),
      inFlight: () => gateway.inFlight(),
      storeOperations: () => gateway.storeOperations,
    });
    this.#queue = new QueueMetrics(this.registry, gateway.admission);
    registerAffinityMetrics(this.registry, gateway.affinity, this.#metrics.providerLabel);
    const overcharging = options.overcharging;
    new FundsMetrics(this.registry, {
      funding: () => gateway.fleet.fundingSummary?.(),
      overcharging: () => overcharging?.(),
      providers: () => [...gateway.registry.entries.keys()],
      label: (id) => this.#provider(id),
    });
    this.#subscriptions.on<RequestDoneEvent>(requestDoneChannel, (event) => this.#requestDone(event));
    this.#subscriptions.on<AttemptFinishEvent>(attemptFinishChannel, (event) => this.#attemptFinished(event));
    this.#subscriptions.on<BreakerEvent>(breakerChannel, (event) => this.#metrics.breakerTransitions.inc({ provider: this.#provider(event.providerId), to: event.to }));
    this.#subscriptions.on<ProviderStateEvent>(providerStateChannel, (event) =>
      this.#metrics.stateChanges.inc({ provider: this.#provider(event.providerId), aspect: event.aspect, state: event.state }),
    );
    this.#subscriptions.on(providerAddedChannel, () => this.#metrics.fleetChanges.inc({ change: 'added' }));
    this.#subscriptions.on<RetryDelayEvent>(retryDelayChannel, (event) => this.#metrics.retryDelay.observe({ class: FAILURE_CLASSES.includes(event.failureClass as FailureClass) ? event.failureClass : 'other' }, event.delayMs / 1000));
    this.#subscriptions.on(providerRemovedChannel, () => this.#metrics.fleetChanges.inc({ change: 'removed' }));
    this.#subscriptions.on<VerifyDoneEvent>(verifyDoneChannel, (event) => {
      const result = event.result === 'valid' || event.result === 'invalid' || event.result === 'unverifiable' ? event.result : codeLabel(event.result);
      this.#metrics.verifications.inc({ provider: this.#provider(event.providerId), result });
    });
  }

  /** The Prometheus text content type of {@link metricsText}. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text: this gateway's series, then (by default) the process's. */
  async metricsText(): Promise<string> {
    const own = await this.registry.metrics();
    return this.#processMetrics ? `${own}\n${await processMetricsRegistry().metrics()}` : own;
  }

  /** What each provider's served requests cost since start, neuron (exact; for the status page). */
  spendByProvider(): ReadonlyMap<string, bigint> {
    return this.#spend;
  }

  /** Stops listening to the channels. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue.close();
    this.#subscriptions.close();
  }


  /** A provider label: the fleet's id for it (bounded), `none` when no provider was involved. */
  #provider(id: string | undefined): string {
    if (id === undefined) return this.#metrics.providerLabel.of(undefined);
    return this.#metrics.providerLabel.of(this.#gateway.registry.get(id)?.id ?? id);
  }

  #requestDone(event: RequestDoneEvent): void {
    const metrics = this.#metrics;
    const route = routeLabel(event.route, this.#knownRoutes);
    const model = this.#models.of(event.model);
    const provider = this.#provider(event.providerId);
    metrics.requests.inc({ route, status: String(event.status), outcome: event.outcome, model, provider });
    metrics.requestDuration.observe({ route }, event.durationMs / 1000);
    if (event.overheadMs !== undefined) metrics.overhead.observe({ route }, event.overheadMs / 1000);
    if (event.attempts > 1) metrics.retries.inc({ route }, event.attempts - 1);
    if (event.providerId !== undefined && event.route !== '/v1/verify') {
      metrics.routingDecisions.inc({ strategy: this.#gateway.strategy.name, reason: reasonKind(event.routeReason) });
    }
    if (event.costNeuron !== undefined && event.providerId !== undefined) {
      metrics.spend.inc({ provider, model }, Number(event.costNeuron));
      const id = this.#gateway.registry.get(event.providerId)?.id ?? event.providerId;
      this.#spend.set(id, (this.#spend.get(id) ?? 0n) + event.costNeuron);
    }
  }

  #attemptFinished(event: AttemptFinishEvent): void {
    const metrics = this.#metrics;
    const outcome = event.outcome;
    const provider = this.#provider(outcome.providerId);
    const model = this.#models.of(event.model);
    metrics.attempts.inc({ provider, model, result: outcome.ok ? 'ok' : codeLabel(outcome.errorCode) });
    metrics.upstreamDuration.observe({ provider, model, outcome: outcome.ok ? 'ok' : 'error' }, outcome.durationMs / 1000);
    if (outcome.ok && outcome.stream && outcome.ttfbMs !== undefined) metrics.timeToFirstToken.observe({ provider, model }, outcome.ttfbMs / 1000);
    if (outcome.usage) {
      metrics.tokens.inc({ provider, model, kind: 'prompt' }, outcome.usage.prompt_tokens);
      metrics.tokens.inc({ provider, model, kind: 'completion' }, outcome.usage.completion_tokens);
    }
  }
}
