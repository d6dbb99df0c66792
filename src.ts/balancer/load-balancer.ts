import { GatewayError } from '../errors/index.js';
import type { BalancingStrategy, PickContext, ProviderSnapshot } from './balancing-strategy.js';

/** One provider the balancer distributes requests over. */
export interface LoadBalancerProvider {
  /** Provider id; unique within the balancer. */
  readonly id: string;
  /** Relative share for weighted strategies: a finite number >= 1. Default: 1. */
  readonly weight?: number;
}

/** Options for {@link LoadBalancer}. */
export interface LoadBalancerOptions {
  /** The policy that chooses among the available providers. */
  strategy: BalancingStrategy;
  /** The providers, in configured order (their position is the snapshot `index`). May be empty. */
  providers: ReadonlyArray<LoadBalancerProvider>;
  /** Clock in milliseconds, for latencies and error timestamps. Default: `Date.now`. */
  now?: () => number;
  /** Randomness in [0, 1) handed to strategies. Default: `Math.random`. */
  random?: () => number;
  /** How many latency samples are kept per provider (a ring buffer; a positive integer). Default: 256. */
  latencyWindow?: number;
}

/** Which providers {@link LoadBalancer.pick} may choose from. */
export interface PickOptions {
  /** Provider ids not to pick (e.g. ones this request already tried). Default: none. */
  exclude?: ReadonlySet<string>;
  /** Called for each provider not excluded; only those for which it returns true may be picked. Default: all. */
  isAvailable?: (id: string) => boolean;
}

/** The error an unsuccessful attempt ended with. */
export interface LeaseError {
  readonly code: string;
  readonly message: string;
}

/** How the attempt holding a lease ended. */
export interface LeaseOutcome {
  /** True when the provider served the request (counted as served, latency recorded); false counts as a failure. */
  ok: boolean;
  /** Why it failed; recorded as the provider's last error. Ignored when `ok`. */
  error?: LeaseError;
}

/**
 * One request in flight on one provider, from {@link LoadBalancer.acquire}.
 * Releasing it is what brings the provider's in-flight count back down: it takes effect
 * exactly once, however many times and in whatever order leases are released.
 */
export interface Lease {
  readonly providerId: string;
  /** True once {@link Lease.release} has taken effect. */
  readonly released: boolean;
  /** Ends the attempt: in-flight -1 and the outcome recorded. True the first time; false, with no effect, after. */
  release(outcome: LeaseOutcome): boolean;
}

/** The last error a provider's attempts ended with. */
export interface ProviderLastError {
  code: string;
  message: string;
  /** When it was recorded, as an ISO 8601 timestamp (from the balancer's clock). */
  at: string;
}

/**
 * Latency of a provider's successful attempts, over the samples in its window
 * (the last `latencyWindow` successful attempts). Percentiles use the nearest-rank method.
 * Every value but `count` is null while there is no sample.
 */
export interface LatencySummary {
  /** Samples in the window (at most `latencyWindow`). */
  count: number;
  mean: number | null;
  p50: number | null;
  p95: number | null;
  max: number | null;
}

/** Counters of one provider, as {@link LoadBalancer.stats} reports them (a copy). */
export interface ProviderStats {
  id: string;
  weight: number;
  /** Leases acquired and not yet released. */
  inFlight: number;
  /** Leases released with `ok: true`. */
  served: number;
  /** Leases released with `ok: false`. */
  failures: number;
  lastError: ProviderLastError | null;
  /** Latency in milliseconds of successful attempts, from acquire to release. */
  latencyMs: LatencySummary;
}

const DEFAULT_LATENCY_WINDOW = 256;

/** The code recorded when a failed lease gives no error. */
const UNDESCRIBED_FAILURE: LeaseError = { code: 'unknown_error', message: 'The attempt failed without an error description.' };

/** A fixed-size ring buffer of latency samples. */
class LatencySamples {
  readonly #samples: Float64Array;
  #next = 0;
  #count = 0;

  constructor(capacity: number) {
    this.#samples = new Float64Array(capacity);
  }

  add(sample: number): void {
    this.#samples[this.#next] = sample;
    this.#next = (this.#next + 1) % this.#samples.length;
    if (this.#count < this.#samples.length) this.#count += 1;
  }

  summary(): LatencySummary {
    const count = this.#count;
    if (count === 0) return { count: 0, mean: null, p50: null, p95: null, max: null };
    // The filled part is the first `count` slots (the buffer fills from 0 before it wraps).
    const sorted = this.#samples.slice(0, count).sort();
    let sum = 0;
    for (const sample of sorted) sum += sample;
    return {
      count,
      mean: sum / count,
      p50: nearestRank(sorted, 0.5),
      p95: nearestRank(sorted, 0.95),
      max: sorted[count - 1] ?? null,
    };
  }
}

/** The nearest-rank percentile of ascending, non-empty `sorted`. */
function nearestRank(sorted: Float64Array, fraction: number): number | null {
  const rank = Math.max(1, Math.ceil(fraction * sorted.length));
  return sorted[rank - 1] ?? null;
}

/** What the balancer tracks about one provider. */
interface ProviderState {
  readonly id: string;
  readonly index: number;
  readonly weight: number;
  inFlight: number;
  served: number;
  failures: number;
  lastError: ProviderLastError | null;
  readonly latency: LatencySamples;
}

/**
 * Distributes requests over a fixed set of providers with a {@link BalancingStrategy},
 * and keeps per-provider accounting: requests in flight (through {@link Lease}s),
 * successes, failures, the last error and a window of latencies.
 *
 * Throws GatewayError('invalid_config') for duplicate or empty provider ids, a weight that
 * is not a finite number >= 1, or a `latencyWindow` that is not a positive integer.
 */
export class LoadBalancer {
  /** The strategy's name, e.g. 'round-robin'. */
  readonly strategyName: string;
  readonly #strategy: BalancingStrategy;
  readonly #states: readonly ProviderState[];
  readonly #byId: ReadonlyMap<string, ProviderState>;
  readonly #now: () => number;
  readonly #context: PickContext;

  constructor(options: LoadBalancerOptions) {
    const latencyWindow = options.latencyWindow ?? DEFAULT_LATENCY_WINDOW;
    if (!Number.isSafeInteger(latencyWindow) || latencyWindow < 1) {
      throw new GatewayError('invalid_config', `latencyWindow must be a positive integer, got ${String(latencyWindow)}`, { param: 'latencyWindow' });
    }
    const byId = new Map<string, ProviderState>();
    const states = options.providers.map((provider, index): ProviderState => {
      if (typeof provider.id !== 'string' || provider.id.length === 0) {
        throw new GatewayError('invalid_config', `Provider at position ${index} has no id`, { param: 'providers' });
      }
      if (byId.has(provider.id)) {
        throw new GatewayError('invalid_config', `Provider id "${provider.id}" is configured twice`, { param: 'providers' });
      }
      const weight = provider.weight ?? 1;
      if (!Number.isFinite(weight) || weight < 1) {
        throw new GatewayError('invalid_config', `Provider "${provider.id}" has weight ${String(weight)}; weights must be finite numbers >= 1`, {
          param: 'providers',
        });
      }
      const state: ProviderState = {
        id: provider.id,
        index,
        weight,
        inFlight: 0,
        served: 0,
        failures: 0,
        lastError: null,
        latency: new LatencySamples(latencyWindow),
      };
      byId.set(provider.id, state);
      return state;
    });
    this.#strategy = options.strategy;
    this.strategyName = options.strategy.name;
    this.#states = states;
    this.#byId = byId;
    this.#now = options.now ?? Date.now;
    const random = options.random ?? Math.random;
    const now = this.#now;
    this.#context = { now: () => now(), random: () => random() };
  }

  /**
   * Picks one provider among those not excluded and for which `isAvailable(id)` is true,
   * as the strategy decides; undefined when there is none. Picking does not acquire:
   * call {@link LoadBalancer.acquire} with the id to count the request as in flight.
   */
  pick(options: PickOptions = {}): string | undefined {
    const { exclude, isAvailable } = options;
    const candidates: ProviderSnapshot[] = [];
    for (const state of this.#states) {
      if (exclude?.has(state.id) === true) continue;
      if (isAvailable !== undefined && !isAvailable(state.id)) continue;
      candidates.push({ id: state.id, index: state.index, inFlight: state.inFlight, weight: state.weight });
    }
    if (candidates.length === 0) return undefined;
    const chosen = this.#strategy.pick(candidates, this.#context);
    if (!candidates.some((candidate) => candidate.id === chosen?.id)) {
      throw new GatewayError('internal_error', `Balancing strategy "${this.strategyName}" picked a provider that was not a candidate`);
    }
    return chosen.id;
  }

  /**
   * Counts one more request in flight on `providerId` and returns the {@link Lease} that
   * ends it. Throws GatewayError('internal_error') for an unknown id.
   */
  acquire(providerId: string): Lease {
    const state = this.#state(providerId);
    state.inFlight += 1;
    const startedAt = this.#now();
    let released = false;
    return {
      providerId,
      get released(): boolean {
        return released;
      },
      release: (outcome: LeaseOutcome): boolean => {
        if (released) return false;
        released = true;
        this.#settle(state, startedAt, outcome);
        return true;
      },
    };
  }

  /** Requests in flight on `providerId`. Throws GatewayError('internal_error') for an unknown id. */
  inFlight(providerId: string): number {
    return this.#state(providerId).inFlight;
  }

  /** Requests in flight on all providers. */
  totalInFlight(): number {
    let total = 0;
    for (const state of this.#states) total += state.inFlight;
    return total;
  }

  /** A copy of the counters of `providerId`. Throws GatewayError('internal_error') for an unknown id. */
  stats(providerId: string): ProviderStats {
    return snapshotStats(this.#state(providerId));
  }

  /** Copies of the counters of every provider, in configured order. */
  allStats(): ProviderStats[] {
    return this.#states.map(snapshotStats);
  }

  #state(providerId: string): ProviderState {
    const state = this.#byId.get(providerId);
    if (state === undefined) throw new GatewayError('internal_error', `Unknown provider "${providerId}"`);
    return state;
  }

  /**
   * Records a lease's end. Runs once per lease. The accounting happens before the strategy
   * is told, and an exception from `strategy.observe` is not propagated: releasing is done
   * in cleanup paths, and must neither throw nor leave the counts wrong.
   */
  #settle(state: ProviderState, startedAt: number, outcome: LeaseOutcome): void {
    const endedAt = this.#now();
    const latencyMs = Math.max(0, endedAt - startedAt);
    const ok = outcome?.ok === true;
    state.inFlight -= 1;
    if (ok) {
      state.served += 1;
      state.latency.add(latencyMs);
    } else {
      state.failures += 1;
      const error = outcome?.error ?? UNDESCRIBED_FAILURE;
      state.lastError = { code: String(error.code), message: String(error.message), at: new Date(endedAt).toISOString() };
    }
    if (this.#strategy.observe !== undefined) {
      try {
        this.#strategy.observe({ providerId: state.id, ok, latencyMs });
      } catch {
        // Deliberately ignored: see the method's documentation.
      }
    }
  }
}

function snapshotStats(state: ProviderState): ProviderStats {
  return {
    id: state.id,
    weight: state.weight,
    inFlight: state.inFlight,
    served: state.served,
    failures: state.failures,
    lastError: state.lastError === null ? null : { ...state.lastError },
    latencyMs: state.latency.summary(),
  };
}
