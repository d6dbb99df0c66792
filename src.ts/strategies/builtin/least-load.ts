import type { BalancingStrategy, PickDecision, ProviderSnapshot } from '../balancing-strategy.js';
import { routeFigure } from './declared-throughput.js';
import { nextInRotation } from './round-robin.js';

/** Options for {@link LeastLoadStrategy}. */
export interface LeastLoadOptions {
  /**
   * A provider's load as its backend reports it (e.g. `(running + 0.5 × waiting) ÷ capacity` from
   * vLLM's `/metrics`, see `BackendLoadPoller.loadOf`), or undefined when there is no fresh reading.
   * Default: none (every provider falls back to the gateway's own count).
   */
  loadOf?: (providerId: string) => number | undefined;
  /** Providers below this load are preferred. Default 0.5. */
  threshold?: number;
}

/**
 * Least load (the vLLM router's policy): the candidate whose backend is least busy, preferring
 * those below a threshold.
 *
 * Optimises: keeping every GPU server below saturation using what the servers themselves say
 * (requests running and queued, including traffic that does not come through this gateway).
 * Choose it for self-hosted vLLM-like backends that expose `/metrics`, especially when other
 * clients or gateways share them. Declare each one's `capacity` (its `max_num_seqs`).
 *
 * A candidate's load is `loadOf(id)` when that gives a finite figure >= 0; otherwise the gateway's own view:
 * in flight ÷ `capacity` (or ÷ `maxConcurrent`), or the bare in-flight count when neither is
 * configured. Candidates below `threshold` are preferred and the least loaded of them chosen;
 * when none is below it, the least loaded overall. Equal loads share by rotation. The reason is
 * `least-load: 0.31`, with ` (in flight)` when the figure is the gateway's own and
 * ` (all >= 0.5)` when no candidate was below the threshold.
 */
export class LeastLoadStrategy implements BalancingStrategy {
  readonly name = 'least-load';
  readonly #loadOf: (providerId: string) => number | undefined;
  readonly #threshold: number;
  #cursor = -1;

  constructor(options: LeastLoadOptions = {}) {
    this.#loadOf = options.loadOf ?? (() => undefined);
    this.#threshold = options.threshold ?? 0.5;
    if (!(this.#threshold > 0)) throw new RangeError('threshold must be positive');
  }

  pick(candidates: readonly ProviderSnapshot[]): PickDecision {
    const loads = candidates.map((candidate) => {
      const reported = this.#loadOf(candidate.id);
      return reported !== undefined && Number.isFinite(reported) && reported >= 0 ? reported : undefined;
    });
    const figures = candidates.map((candidate, position) => loads[position] ?? ownLoad(candidate));
    let bestUnder = Infinity;
    let bestOverall = Infinity;
    for (const figure of figures) {
      if (figure < this.#threshold) bestUnder = Math.min(bestUnder, figure);
      bestOverall = Math.min(bestOverall, figure);
    }
    const under = bestUnder !== Infinity;
    const best = under ? bestUnder : bestOverall;
    const tied = candidates.filter((_, position) => figures[position] === best);
    const chosen = nextInRotation(tied.length > 0 ? tied : candidates, this.#cursor);
    this.#cursor = chosen.index;
    const fromMetrics = loads[candidates.indexOf(chosen)] !== undefined;
    const notes = [fromMetrics ? undefined : 'in flight', under ? undefined : `all >= ${routeFigure(this.#threshold)}`].filter((note) => note !== undefined);
    return { provider: chosen, reason: `least-load: ${routeFigure(best)}${notes.length > 0 ? ` (${notes.join(', ')})` : ''}` };
  }
}

/** The gateway's own view of a provider's load: in flight ÷ capacity (or cap), else the in-flight count. */
function ownLoad(candidate: ProviderSnapshot): number {
  const capacity = candidate.capacity ?? candidate.maxConcurrent;
  return capacity !== undefined && capacity > 0 ? candidate.inFlight / capacity : candidate.inFlight;
}
