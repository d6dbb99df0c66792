import type { ProviderDescriptor } from '../providers/inference-provider.js';
import type { AttemptOutcome, ProviderStatsView } from '../observability/stats/index.js';

/** What a strategy sees of one provider when it picks. Live and read-only: do not keep it. */
export interface ProviderSnapshot {
  /** Provider id (0G: its address). */
  readonly id: string;
  /** Order of joining the fleet (stable, 0-based, never reused). */
  readonly index: number;
  /** Requests in flight right now. */
  readonly inFlight: number;
  /** Configured weight (>= 1; default 1). */
  readonly weight: number;
  /** Most requests in flight at once, when capped. */
  readonly maxConcurrent: number | undefined;
  /** Declared throughput (requests or tokens per second, relative), when configured. */
  readonly throughput: number | undefined;
  /** Requests the backend itself runs at once (for `least-load`), when configured. */
  readonly capacity: number | undefined;
  /** Most requests per minute it accepts (for `usage-based`), when configured. */
  readonly rpm: number | undefined;
  /** Most tokens (prompt + completion) per minute it accepts (for `usage-based`), when configured. */
  readonly tpm: number | undefined;
  /** Models, prices, verifiability. */
  readonly descriptor: ProviderDescriptor;
  /** What the gateway has observed of it. */
  readonly stats: ProviderStatsView;
}

/** What is known of the request being placed. */
export interface PickRequest {
  /** The model group being served. */
  readonly model: string;
  /** Estimated prompt tokens. */
  readonly promptTokens: number;
  /** The completion tokens the client allows (`max_tokens`), when it set a bound. */
  readonly maxTokens: number | undefined;
}

/** Injected sources of time and randomness, so strategies are deterministic under test. */
export interface PickContext {
  /** Milliseconds, like Date.now(). */
  now(): number;
  /** A number in [0, 1), like Math.random(). */
  random(): number;
  /** The request being placed. */
  readonly request: PickRequest;
}

/** A pick with the figure that decided it (shown in `X-Route-Reason` and the request log). */
export interface PickDecision {
  readonly provider: ProviderSnapshot;
  readonly reason: string;
}

/**
 * A balancing strategy: one small object per policy, one file each under strategies/.
 * `pick` gets the providers that may serve this request (serving its model, healthy, not
 * excluded, below their concurrency cap), in joining order, never empty, and returns one of them.
 */
export interface BalancingStrategy {
  readonly name: string;
  pick(candidates: readonly ProviderSnapshot[], context: PickContext): ProviderSnapshot | PickDecision;
  /** Told how every attempt ended (for strategies that learn). Must not throw. */
  observe?(outcome: AttemptOutcome): void;
}

/** The chosen provider of a pick result. */
export function chosenOf(result: ProviderSnapshot | PickDecision): { provider: ProviderSnapshot; reason: string | undefined } {
  return 'provider' in result ? { provider: result.provider, reason: result.reason } : { provider: result, reason: undefined };
}
