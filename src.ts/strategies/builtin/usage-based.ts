import { SlidingTotal } from '../../internal/sliding-total.js';
import type { AttemptOutcome } from '../../observability/stats/index.js';
import type { BalancingStrategy, PickContext, PickDecision, ProviderSnapshot } from '../balancing-strategy.js';
import { routeFigure } from './declared-throughput.js';
import { nextInRotation } from './round-robin.js';

/** Options for {@link UsageBasedStrategy}. */
export interface UsageBasedOptions {
  /** Clock for token counts (`observe`), ms. Default `Date.now`; picks use `PickContext.now`. */
  now?: () => number;
  /** Length of the usage window, ms. Default 60000 (limits are per minute). */
  windowMs?: number;
}

interface Usage {
  readonly requests: SlidingTotal;
  readonly tokens: SlidingTotal;
}

/**
 * Usage-based (LiteLLM's `usage-based-routing`): keeps each provider under its declared
 * requests-per-minute (`rpm`) and tokens-per-minute (`tpm`), sending each request to the
 * provider that has used the smallest share of its limits.
 *
 * Optimises: staying inside rate limits, so providers with quotas (hosted APIs, 0G providers
 * with published limits) are never pushed into 429s while another has room. Choose it when your
 * providers have per-minute limits; a provider that declares neither counts as 0 % used.
 *
 * Usage is counted over a sliding minute ({@link SlidingTotal}, O(1) per request): a request when
 * it is picked, its tokens (`usage.total_tokens`) when its outcome is observed. A candidate is at
 * its cap when one more request would exceed `rpm`, or when the tokens used plus the request's
 * estimated prompt tokens would exceed `tpm`; it is skipped until its window frees. Among the
 * rest, the lowest utilisation (the larger of requests ÷ `rpm` and tokens ÷ `tpm`) wins; equal
 * ones share by rotation. When every candidate is at its cap, the one whose window frees first is
 * picked (the upstream may still refuse it; the gateway then retries elsewhere).
 *
 * Reasons: `usage-based: 0.42` (the chosen one's utilisation), `usage-based: all at cap, frees in 1234 ms`.
 */
export class UsageBasedStrategy implements BalancingStrategy {
  readonly name = 'usage-based';
  readonly #now: () => number;
  readonly #windowMs: number;
  readonly #usage = new Map<string, Usage>();
  #cursor = -1;

  constructor(options: UsageBasedOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#windowMs = options.windowMs ?? 60_000;
  }

  pick(candidates: readonly ProviderSnapshot[], context: PickContext): PickDecision {
    const now = context.now();
    const need = Math.max(1, context.request.promptTokens);
    const utilisations: number[] = [];
    let lowest = Infinity;
    let soonest = Infinity;
    for (const candidate of candidates) {
      const usage = this.#usageOf(candidate.id);
      const requests = usage.requests.read(now);
      const tokens = usage.tokens.read(now);
      const tokenNeed = candidate.tpm === undefined ? 0 : Math.min(need, candidate.tpm);
      const atCap = (candidate.rpm !== undefined && requests + 1 > candidate.rpm) || (candidate.tpm !== undefined && tokens + tokenNeed > candidate.tpm);
      if (atCap) {
        utilisations.push(Infinity);
        soonest = Math.min(soonest, this.#freesIn(candidate, now, need));
        continue;
      }
      const utilisation = Math.max(candidate.rpm === undefined ? 0 : requests / candidate.rpm, candidate.tpm === undefined ? 0 : tokens / candidate.tpm);
      utilisations.push(utilisation);
      lowest = Math.min(lowest, utilisation);
    }
    let chosen: ProviderSnapshot;
    let reason: string;
    if (lowest !== Infinity) {
      chosen = this.#rotate(candidates.filter((_, position) => utilisations[position] === lowest));
      reason = `usage-based: ${routeFigure(lowest)}`;
    } else {
      chosen = this.#rotate(candidates.filter((candidate) => this.#freesIn(candidate, now, need) === soonest));
      reason = `usage-based: all at cap, frees in ${soonest === Infinity ? 'never' : `${soonest} ms`}`;
    }
    this.#usageOf(chosen.id).requests.add(now, 1);
    return { provider: chosen, reason };
  }

  observe(outcome: AttemptOutcome): void {
    const usage = outcome.usage;
    if (!usage) return;
    const tokens = usage.total_tokens || usage.prompt_tokens + usage.completion_tokens;
    if (tokens > 0) this.#usageOf(outcome.providerId).tokens.add(this.#now(), tokens);
  }

  /** Ms until one more request of `need` prompt tokens fits under the candidate's limits. */
  #freesIn(candidate: ProviderSnapshot, now: number, need: number): number {
    const usage = this.#usageOf(candidate.id);
    return Math.max(
      candidate.rpm === undefined ? 0 : usage.requests.msUntilFits(now, candidate.rpm, 1),
      candidate.tpm === undefined ? 0 : usage.tokens.msUntilFits(now, candidate.tpm, Math.min(need, candidate.tpm)),
    );
  }

  #rotate(tied: readonly ProviderSnapshot[]): ProviderSnapshot {
    const chosen = nextInRotation(tied, this.#cursor);
    this.#cursor = chosen.index;
    return chosen;
  }

  #usageOf(id: string): Usage {
    let usage = this.#usage.get(id);
    if (!usage) {
      usage = { requests: new SlidingTotal(this.#windowMs), tokens: new SlidingTotal(this.#windowMs) };
      this.#usage.set(id, usage);
    }
    return usage;
  }
}
