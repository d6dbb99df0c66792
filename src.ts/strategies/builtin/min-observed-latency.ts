import type { AttemptOutcome } from '../../observability/stats/index.js';
import type { BalancingStrategy, PickContext, PickDecision, ProviderSnapshot } from '../balancing-strategy.js';
import { nextInRotation } from './round-robin.js';

/** Options for {@link MinObservedLatencyStrategy}. */
export interface MinObservedLatencyOptions {
  /** Probability, in [0, 1], of measuring the least recently measured provider instead of the fastest. Default 0.05. */
  explore?: number;
  /** A figure not refreshed by a sample for this long is treated as unknown (and re-measured), ms. Default 60000. */
  staleAfterMs?: number;
  /** Clock for when samples arrive (`observe`), ms. Default `Date.now`; picks use `PickContext.now`. */
  now?: () => number;
}

interface Track {
  /** When the last successful attempt (a time-to-first-byte sample) ended. */
  measuredAt: number | undefined;
  /** When it was last picked to be measured. */
  exploredAt: number | undefined;
}

/**
 * Minimum observed latency (lmdeploy's `min_observed_latency`), measured as time to first byte:
 * the candidate with the lowest EWMA of `stats.ewmaTtfbMs`, never the whole-stream time (a
 * provider writing long answers is not slow).
 *
 * Optimises: the wait before the answer starts, from what the gateway actually sees, with nothing
 * to declare. Choose it for interactive traffic over providers of unknown or changing speed
 * (hosted APIs, 0G providers on varied hardware). It sends most traffic to the fastest provider,
 * so under heavy concurrency prefer `least-load` or `min-expected-latency`.
 *
 * A figure ages: after `staleAfterMs` without a successful sample it counts as unknown. Exploring
 * keeps figures honest, so a provider that was slow once is measured again:
 * - a candidate with no figure (never measured, or stale) is picked to be measured, the least
 *   recently measured first; once picked it is not forced again until `staleAfterMs` later
 *   (its sample normally arrives long before, making it known again);
 * - otherwise, with probability `explore` (one `context.random()` draw per pick, made only when
 *   there are two candidates or more), the least recently measured or explored candidate other
 *   than the fastest is picked;
 * - otherwise the fastest; equal figures share by rotation. When no candidate has a figure and none
 *   may be forced, the one with the fewest requests in flight.
 *
 * Reasons: `min-observed-latency: ttfb 42 ms`, `min-observed-latency: explore (no sample)`,
 * `… explore (stale)`, `… explore (draw 0.031)`, `… no sample yet, in flight 0`.
 */
export class MinObservedLatencyStrategy implements BalancingStrategy {
  readonly name = 'min-observed-latency';
  readonly #explore: number;
  readonly #staleAfterMs: number;
  readonly #now: () => number;
  readonly #tracks = new Map<string, Track>();
  #cursor = -1;

  constructor(options: MinObservedLatencyOptions = {}) {
    this.#explore = options.explore ?? 0.05;
    this.#staleAfterMs = options.staleAfterMs ?? 60_000;
    this.#now = options.now ?? Date.now;
    if (!(this.#explore >= 0 && this.#explore <= 1)) throw new RangeError('explore must be in [0, 1]');
    if (!(this.#staleAfterMs > 0)) throw new RangeError('staleAfterMs must be positive');
  }

  pick(candidates: readonly ProviderSnapshot[], context: PickContext): PickDecision {
    const now = context.now();
    const forced = this.#forced(candidates, now);
    if (forced) return this.#exploring(forced, now, this.#track(forced.id).measuredAt === undefined ? 'no sample' : 'stale');
    let fastest: ProviderSnapshot | undefined;
    let best = Infinity;
    for (const candidate of candidates) {
      const figure = this.#figure(candidate, now);
      if (figure !== undefined && figure < best) {
        best = figure;
        fastest = candidate;
      }
    }
    if (fastest === undefined) {
      const fewest = Math.min(...candidates.map((candidate) => candidate.inFlight));
      const chosen = this.#rotate(candidates.filter((candidate) => candidate.inFlight === fewest));
      return { provider: chosen, reason: `min-observed-latency: no sample yet, in flight ${fewest}` };
    }
    if (candidates.length > 1 && this.#explore > 0) {
      const draw = context.random();
      if (draw < this.#explore) {
        const stalest = this.#leastRecentlyLooked(candidates, fastest);
        if (stalest) return this.#exploring(stalest, now, `draw ${String(Number(draw.toPrecision(2)))}`);
      }
    }
    const chosen = this.#rotate(candidates.filter((candidate) => this.#figure(candidate, now) === best));
    return { provider: chosen, reason: `min-observed-latency: ttfb ${Math.round(best)} ms` };
  }

  observe(outcome: AttemptOutcome): void {
    if (!outcome.ok) return;
    this.#track(outcome.providerId).measuredAt = this.#now();
  }

  /** The EWMA time to first byte, or undefined while unknown (never measured here, or stale). */
  #figure(candidate: ProviderSnapshot, now: number): number | undefined {
    const measuredAt = this.#tracks.get(candidate.id)?.measuredAt;
    if (measuredAt === undefined || now - measuredAt > this.#staleAfterMs) return undefined;
    return candidate.stats.ewmaTtfbMs;
  }

  /** The least recently measured candidate without a figure that may be measured now. */
  #forced(candidates: readonly ProviderSnapshot[], now: number): ProviderSnapshot | undefined {
    let chosen: ProviderSnapshot | undefined;
    let chosenAt = Infinity;
    for (const candidate of candidates) {
      if (this.#figure(candidate, now) !== undefined) continue;
      const track = this.#tracks.get(candidate.id);
      if (track?.exploredAt !== undefined && now - track.exploredAt < this.#staleAfterMs) continue;
      const at = track?.measuredAt ?? -Infinity;
      if (chosen === undefined || at < chosenAt) {
        chosen = candidate;
        chosenAt = at;
      }
    }
    return chosen;
  }

  /** The candidate other than `fastest` measured or explored longest ago (ties: joining order). */
  #leastRecentlyLooked(candidates: readonly ProviderSnapshot[], fastest: ProviderSnapshot): ProviderSnapshot | undefined {
    let chosen: ProviderSnapshot | undefined;
    let chosenAt = Infinity;
    for (const candidate of candidates) {
      if (candidate === fastest) continue;
      const track = this.#tracks.get(candidate.id);
      const at = Math.max(track?.measuredAt ?? -Infinity, track?.exploredAt ?? -Infinity);
      if (chosen === undefined || at < chosenAt) {
        chosen = candidate;
        chosenAt = at;
      }
    }
    return chosen;
  }

  #exploring(candidate: ProviderSnapshot, now: number, why: string): PickDecision {
    this.#track(candidate.id).exploredAt = now;
    return { provider: candidate, reason: `min-observed-latency: explore (${why})` };
  }

  #rotate(tied: readonly ProviderSnapshot[]): ProviderSnapshot {
    const chosen = nextInRotation(tied, this.#cursor);
    this.#cursor = chosen.index;
    return chosen;
  }

  #track(id: string): Track {
    let track = this.#tracks.get(id);
    if (!track) {
      track = { measuredAt: undefined, exploredAt: undefined };
      this.#tracks.set(id, track);
    }
    return track;
  }
}
