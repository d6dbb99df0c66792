import { SlidingCounts } from '../internal/sliding-counts.js';

/** Breaker states: `closed` serves, `open` rests until `retryAt`, `half-open` lets one trial through. */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** Why a provider is out of rotation. */
export type OpenReason = 'failures' | 'probe-failed' | 'rate-limited';

export interface CircuitBreakerOptions {
  /** Sliding window for the failure rate, ms. Default 30000. */
  windowMs?: number;
  /** Fewest attempts in the window before the rate counts. Default 5. */
  minimumRequests?: number;
  /** Failure rate (0..1) that opens the breaker. Default 0.5. */
  failureRateThreshold?: number;
  /** Consecutive failures that open it regardless of volume. Default 3. */
  consecutiveFailureThreshold?: number;
  /** Rest after opening, ms (doubles on each failed trial, up to 8×). Default 10000. */
  coolDownMs?: number;
  /** Longest `Retry-After` honoured, ms. Default 60000. */
  maxRetryAfterMs?: number;
  /** Clock. Default Date.now. */
  now?: () => number;
}

/** A transition, for logs. */
export interface BreakerTransition {
  from: BreakerState;
  to: BreakerState;
  reason: OpenReason | 'recovered' | 'trial';
}

/**
 * Passive health of one provider: failure rate over a sliding window with a minimum volume,
 * consecutive-failure trip, cool-down, and a single half-open trial. Overload (429) is not a
 * failure: it only rests the provider for the `Retry-After` it asked for.
 */
export class CircuitBreaker {
  private readonly windowMs: number;
  private readonly minimumRequests: number;
  private readonly failureRateThreshold: number;
  private readonly consecutiveFailureThreshold: number;
  private readonly coolDownMs: number;
  private readonly maxRetryAfterMs: number;
  private readonly now: () => number;
  /** Attempts and failures over the last `windowMs` (ten buckets: O(1) memory and work per attempt). */
  private readonly window: SlidingCounts;
  private consecutiveFailures = 0;
  private currentState: BreakerState = 'closed';
  private openReason: OpenReason | null = null;
  private retryAtMs = 0;
  private openings = 0;
  private trialInFlight = false;

  constructor(options: CircuitBreakerOptions = {}) {
    this.windowMs = options.windowMs ?? 30_000;
    this.minimumRequests = options.minimumRequests ?? 5;
    this.failureRateThreshold = options.failureRateThreshold ?? 0.5;
    this.consecutiveFailureThreshold = options.consecutiveFailureThreshold ?? 3;
    this.coolDownMs = options.coolDownMs ?? 10_000;
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 60_000;
    this.now = options.now ?? Date.now;
    this.window = new SlidingCounts(this.windowMs);
  }

  /** The state now (an open breaker whose rest is over reads as half-open). */
  get state(): BreakerState {
    if (this.currentState === 'open' && this.now() >= this.retryAtMs) return 'half-open';
    return this.currentState;
  }

  get reason(): OpenReason | null {
    return this.openReason;
  }

  /** When an open breaker will allow a trial (epoch ms), or null. */
  get retryAt(): number | null {
    return this.currentState === 'closed' ? null : this.retryAtMs;
  }

  /** May a request go to this provider now? In half-open, only one trial at a time. */
  isAvailable(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open') return false;
    return !this.trialInFlight;
  }

  /** Call when a request is sent; returns a transition when it is the half-open trial. */
  onAttemptStart(): BreakerTransition | null {
    if (this.state === 'half-open' && !this.trialInFlight) {
      this.trialInFlight = true;
      const from = this.currentState;
      this.currentState = 'half-open';
      return { from, to: 'half-open', reason: 'trial' };
    }
    return null;
  }

  private open(reason: OpenReason, restMs: number): BreakerTransition {
    const from = this.state;
    this.currentState = 'open';
    this.openReason = reason;
    this.retryAtMs = this.now() + restMs;
    this.trialInFlight = false;
    return { from, to: 'open', reason };
  }

  private close(): BreakerTransition | null {
    const from = this.state;
    this.trialInFlight = false;
    if (from === 'closed') return null;
    this.currentState = 'closed';
    this.openReason = null;
    this.openings = 0;
    this.consecutiveFailures = 0;
    this.window.clear();
    return { from, to: 'closed', reason: 'recovered' };
  }

  /** A successful request. */
  recordSuccess(): BreakerTransition | null {
    const now = this.now();
    this.consecutiveFailures = 0;
    this.window.add(now, false);
    // A late success of a request sent before a 429 does not end the rest the provider asked for.
    if (this.currentState === 'open' && this.openReason === 'rate-limited' && now < this.retryAtMs) return null;
    return this.close();
  }

  /** A failed request (provider's fault: unreachable, timeout, 5xx, bad answer, auth refused). */
  recordFailure(): BreakerTransition | null {
    const now = this.now();
    this.consecutiveFailures += 1;
    this.window.add(now, true);
    if (this.currentState === 'half-open' || this.state === 'half-open') {
      this.openings += 1;
      return this.open('failures', this.coolDownMs * Math.min(8, 2 ** (this.openings - 1)));
    }
    if (this.currentState === 'open') return null;
    const { total, failures } = this.window.read(now);
    const rateTripped = total >= this.minimumRequests && failures / total >= this.failureRateThreshold;
    if (rateTripped || this.consecutiveFailures >= this.consecutiveFailureThreshold) {
      this.openings += 1;
      return this.open('failures', this.coolDownMs);
    }
    return null;
  }

  /** The provider asked to slow down: rest for its `Retry-After` (capped), or the cool-down when absent. */
  recordRateLimited(retryAfterMs: number | undefined): BreakerTransition {
    this.trialInFlight = false;
    const rest = Math.min(this.maxRetryAfterMs, Math.max(0, retryAfterMs ?? this.coolDownMs));
    // A short Retry-After never shortens a longer rest already running (e.g. after failures).
    if (this.currentState === 'open' && this.retryAtMs > this.now() + rest) {
      return { from: 'open', to: 'open', reason: 'rate-limited' };
    }
    return this.open('rate-limited', rest);
  }

  /** An attempt that says nothing about the provider (client went away, client error). */
  recordNeutral(): void {
    this.trialInFlight = false;
  }

  /** Active probe result: a failed probe opens at once; a good probe closes. */
  recordProbe(ok: boolean): BreakerTransition | null {
    if (ok) {
      // A good probe ends a rest caused by failed probes or failures; a 429 rest runs its course.
      if (this.currentState !== 'closed' && this.openReason === 'rate-limited' && this.now() < this.retryAtMs) return null;
      return this.close();
    }
    if (this.currentState === 'open' && this.openReason === 'probe-failed') {
      this.retryAtMs = this.now() + this.coolDownMs;
      return null;
    }
    return this.open('probe-failed', this.coolDownMs);
  }

  /** Counts for /admin. */
  snapshot(): { state: BreakerState; reason: OpenReason | null; retryAt: string | null; windowRequests: number; windowFailures: number; consecutiveFailures: number } {
    const counts = this.window.read(this.now());
    return {
      state: this.state,
      reason: this.state === 'closed' ? null : this.openReason,
      retryAt: this.retryAt === null ? null : new Date(this.retryAt).toISOString(),
      windowRequests: counts.total,
      windowFailures: counts.failures,
      consecutiveFailures: this.consecutiveFailures,
    };
  }
}
