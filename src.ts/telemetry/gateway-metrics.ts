import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ProviderView } from '../fleet/describe-providers.js';
import { BoundedLabel } from './metric-labels.js';
import type { StoreOperationCounts } from '../observability/index.js';

/** What the scrape-time series are read from (the gateway's one `describeProviders()` view and counters). */
export interface MetricsSource {
  /** Every provider of the fleet now. */
  providers(): readonly ProviderView[];
  /** Requests being served (on providers, or verifying). */
  inFlight(): number;
  /** How reads and writes of the response and session stores ended. */
  storeOperations(): { readonly responses: StoreOperationCounts; readonly sessions: StoreOperationCounts };
}

/** Seconds. */
const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const OVERHEAD_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
const FIRST_TOKEN_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30];

const BREAKER_STATES = ['closed', 'half-open', 'open'];
const FUNDING_STATES = ['ok', 'needs-funds'];
const TRUST_STATES = ['trusted', 'untrusted'];
const MEMBERSHIP_STATES = ['active', 'draining'];

/**
 * Every series of one gateway, in its own prom-client `Registry` (never the global one, so two
 * gateways in one process do not collide). Counters and histograms are fed from events by
 * `GatewayTelemetry`; the per-provider gauges are read from {@link MetricsSource} when scraped,
 * so a provider that left has no gauge series. The label sets are listed in the README
 * ("Metrics"); every label value is bounded (see `metric-labels.ts`).
 */
export class GatewayMetrics {
  readonly registry: Registry;
  /** Provider labels of the scrape-time gauges (the event-fed series bound theirs the same way). */
  readonly providerLabel = new BoundedLabel();
  readonly #source: MetricsSource;
  #views: readonly ProviderView[] | undefined;

  readonly requests: Counter<'route' | 'status' | 'outcome' | 'model' | 'provider'>;
  readonly requestDuration: Histogram<'route'>;
  readonly overhead: Histogram<'route'>;
  readonly retries: Counter<'route'>;
  readonly routingDecisions: Counter<'strategy' | 'reason'>;
  readonly spend: Counter<'provider' | 'model'>;
  readonly attempts: Counter<'provider' | 'model' | 'result'>;
  readonly upstreamDuration: Histogram<'provider' | 'model' | 'outcome'>;
  readonly timeToFirstToken: Histogram<'provider' | 'model'>;
  readonly tokens: Counter<'provider' | 'model' | 'kind'>;
  readonly breakerTransitions: Counter<'provider' | 'to'>;
  readonly stateChanges: Counter<'provider' | 'aspect' | 'state'>;
  readonly fleetChanges: Counter<'change'>;
  readonly verifications: Counter<'provider' | 'result'>;
  readonly retryDelay: Histogram<'class'>;

  constructor(registry: Registry, source: MetricsSource) {
    this.registry = registry;
    this.#source = source;
    const registers = [registry];
    this.requests = new Counter({
      name: 'zg_gateway_requests_total',
      help: 'Requests answered, by route, HTTP status, outcome (ok, error, stream_error, client_closed), model group and serving provider.',
      labelNames: ['route', 'status', 'outcome', 'model', 'provider'],
      registers,
    });
    this.requestDuration = new Histogram({ name: 'zg_gateway_request_duration_seconds', help: 'Whole request duration as the gateway saw it.', labelNames: ['route'], buckets: REQUEST_BUCKETS, registers });
    this.overhead = new Histogram({
      name: 'zg_gateway_overhead_seconds',
      help: "The gateway's own time in a completion: request duration minus the time providers were waited for.",
      labelNames: ['route'],
      buckets: OVERHEAD_BUCKETS,
      registers,
    });
    this.retries = new Counter({ name: 'zg_gateway_retries_total', help: 'Provider attempts beyond the first, per completion route.', labelNames: ['route'], registers });
    this.routingDecisions = new Counter({
      name: 'zg_gateway_routing_decisions_total',
      help: 'Requests placed on a provider, by strategy and kind of reason (session for a pin, default when the strategy gave none).',
      labelNames: ['strategy', 'reason'],
      registers,
    });
    this.spend = new Counter({ name: 'zg_gateway_spend_neuron_total', help: 'What served requests cost (usage x the provider price), neuron.', labelNames: ['provider', 'model'], registers });
    this.attempts = new Counter({
      name: 'zg_gateway_upstream_attempts_total',
      help: 'Attempts on providers, by result (ok, or the error code).',
      labelNames: ['provider', 'model', 'result'],
      registers,
    });
    this.upstreamDuration = new Histogram({
      name: 'zg_gateway_upstream_duration_seconds',
      help: 'Provider attempts from sending to their end (JSON: the whole answer; streams: until the stream ended).',
      labelNames: ['provider', 'model', 'outcome'],
      buckets: REQUEST_BUCKETS,
      registers,
    });
    this.timeToFirstToken = new Histogram({
      name: 'zg_gateway_time_to_first_token_seconds',
      help: 'Successful streaming attempts: from sending to the first event of substance.',
      labelNames: ['provider', 'model'],
      buckets: FIRST_TOKEN_BUCKETS,
      registers,
    });
    this.tokens = new Counter({ name: 'zg_gateway_tokens_total', help: 'Tokens providers reported, by kind (prompt, completion).', labelNames: ['provider', 'model', 'kind'], registers });
    this.breakerTransitions = new Counter({ name: 'zg_gateway_breaker_transitions_total', help: 'Circuit breaker state changes, by new state.', labelNames: ['provider', 'to'], registers });
    this.stateChanges = new Counter({
      name: 'zg_gateway_provider_state_changes_total',
      help: 'Funding, trust and membership state changes, by aspect and new state.',
      labelNames: ['provider', 'aspect', 'state'],
      registers,
    });
    this.retryDelay = new Histogram({
      name: 'zg_gateway_retry_delay_seconds',
      help: 'Waits before a retry (the retry policy\'s backoff), by the failure class that caused them.',
      labelNames: ['class'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.fleetChanges = new Counter({ name: 'zg_gateway_fleet_changes_total', help: 'Providers that joined (added) or left (removed) the fleet.', labelNames: ['change'], registers });
    this.verifications = new Counter({
      name: 'zg_gateway_verifications_total',
      help: '/v1/verify calls, by result (valid, invalid, unverifiable, or the error code).',
      labelNames: ['provider', 'result'],
      registers,
    });
    this.#scrapeTimeSeries(registers);
  }

  /** `describeProviders()` once per scrape, shared by every gauge of that scrape. */
  #providers(): readonly ProviderView[] {
    if (!this.#views) {
      this.#views = this.#source.providers();
      setImmediate(() => {
        this.#views = undefined;
      });
    }
    return this.#views;
  }

  #providerGauge(name: string, help: string, registers: Registry[], value: (view: ProviderView) => number): void {
    const metrics = this;
    new Gauge({
      name,
      help,
      labelNames: ['provider'],
      registers,
      collect() {
        this.reset();
        for (const view of metrics.#providers()) this.set({ provider: metrics.providerLabel.of(view.id) }, value(view));
      },
    });
  }

  #stateGauge(name: string, help: string, registers: Registry[], states: readonly string[], state: (view: ProviderView) => string): void {
    const metrics = this;
    new Gauge({
      name,
      help,
      labelNames: ['provider', 'state'],
      registers,
      collect() {
        this.reset();
        for (const view of metrics.#providers()) {
          const current = state(view);
          const provider = metrics.providerLabel.of(view.id);
          for (const known of states.includes(current) ? states : [...states, current]) this.set({ provider, state: known }, known === current ? 1 : 0);
        }
      },
    });
  }

  #scrapeTimeSeries(registers: Registry[]): void {
    const metrics = this;
    new Gauge({
      name: 'zg_gateway_in_flight',
      help: 'Requests being served now (on providers, or verifying).',
      registers,
      collect() {
        this.set(metrics.#source.inFlight());
      },
    });
    this.#providerGauge('zg_gateway_provider_in_flight', 'Requests in flight on each provider now.', registers, (view) => view.inFlight);
    this.#providerGauge('zg_gateway_provider_in_rotation', '1 when the provider may take a new request now, else 0.', registers, (view) => (view.inRotation ? 1 : 0));
    this.#stateGauge('zg_gateway_provider_breaker_state', 'Circuit breaker state: 1 for the current state, 0 for the others.', registers, BREAKER_STATES, (view) => view.breaker.state);
    this.#stateGauge('zg_gateway_provider_funding_state', 'Funding state (ok, needs-funds): 1 for the current state.', registers, FUNDING_STATES, (view) => view.funding.state);
    this.#stateGauge('zg_gateway_provider_trust_state', 'Trust state (trusted, untrusted): 1 for the current state.', registers, TRUST_STATES, (view) => view.trust.state);
    this.#stateGauge('zg_gateway_provider_membership_state', 'Membership (active, draining): 1 for the current state.', registers, MEMBERSHIP_STATES, (view) => view.membership.state);
    new Gauge({
      name: 'zg_gateway_provider_info',
      help: 'Always 1; the provider kind (zg, openai-compatible...) and whether it can prove its answers.',
      labelNames: ['provider', 'kind', 'verifiable'],
      registers,
      collect() {
        this.reset();
        for (const view of metrics.#providers()) this.set({ provider: metrics.providerLabel.of(view.id), kind: view.kind, verifiable: String(view.verifiable) }, 1);
      },
    });
    new Counter({
      name: 'zg_gateway_store_operations_total',
      help: 'Reads (hit, miss, error) and writes (ok, error) of the response and session stores.',
      labelNames: ['store', 'operation', 'result'],
      registers,
      collect() {
        this.reset();
        const all = metrics.#source.storeOperations();
        for (const store of ['responses', 'sessions'] as const) {
          const counts = all[store];
          this.inc({ store, operation: 'get', result: 'hit' }, counts.hits);
          this.inc({ store, operation: 'get', result: 'miss' }, counts.misses);
          this.inc({ store, operation: 'get', result: 'error' }, counts.readErrors);
          this.inc({ store, operation: 'set', result: 'ok' }, counts.writes);
          this.inc({ store, operation: 'set', result: 'error' }, counts.writeErrors);
        }
      },
    });
  }
}
