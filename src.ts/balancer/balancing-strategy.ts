/** What a strategy sees of one provider when it picks. */
export interface ProviderSnapshot {
  /** Provider id (0G: its address). */
  readonly id: string;
  /** Position in the configured provider list (stable, 0-based). */
  readonly index: number;
  /** Requests in flight right now. */
  readonly inFlight: number;
  /** Configured weight (>= 1; default 1). */
  readonly weight: number;
}

/** Injected sources of time and randomness, so strategies are deterministic under test. */
export interface PickContext {
  /** Milliseconds, like Date.now(). */
  now(): number;
  /** A number in [0, 1), like Math.random(). */
  random(): number;
}

/** The outcome of one attempt on one provider, fed back to strategies that learn. */
export interface AttemptOutcome {
  readonly providerId: string;
  readonly ok: boolean;
  /** Time from sending to the end of the attempt, in ms. */
  readonly latencyMs: number;
}

/**
 * A balancing strategy: one small object per policy, one file each under strategies/.
 * `pick` gets the providers that may serve this request (healthy, not excluded), in
 * configured order, never empty, and returns one of them.
 */
export interface BalancingStrategy {
  readonly name: string;
  pick(candidates: readonly ProviderSnapshot[], context: PickContext): ProviderSnapshot;
  observe?(outcome: AttemptOutcome): void;
}
