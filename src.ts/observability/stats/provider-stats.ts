/**
 * What the gateway has observed of one provider: counts, a latency window, exponentially
 * weighted averages of time to first byte, latency, error rate and output speed, and tokens.
 * Strategies read it through {@link ProviderStatsView}; `/admin` through `summary()`.
 * Streams are measured by their time to first byte, never by their length, so a provider that
 * writes long answers does not look slow.
 */
import type { TokenUsage } from '../../providers/inference-provider.js';
import { LatencyWindow, type LatencySummary } from './latency-window.js';

/** How one attempt on a provider ended. */
export interface AttemptOutcome {
  readonly providerId: string;
  readonly ok: boolean;
  /** The error code when it failed. */
  readonly errorCode?: string | undefined;
  readonly errorMessage?: string | undefined;
  /** `Retry-After` the provider asked for, ms. */
  readonly retryAfterMs?: number | undefined;
  /** From sending to the first byte of the answer (JSON: the whole body; stream: the first event), ms. */
  readonly ttfbMs?: number | undefined;
  /** From sending to the end of the attempt, ms. */
  readonly durationMs: number;
  readonly usage?: TokenUsage | undefined;
  readonly stream: boolean;
  /** The model the provider says answered, when it said. */
  readonly responseModel?: string | undefined;
}

/** The last error a provider's attempts ended with. */
export interface ProviderLastError {
  code: string;
  message: string;
  /** When it was recorded, as an ISO 8601 timestamp. */
  at: string;
}

/** A read-only view of a provider's figures, as strategies see them. Averages are undefined before the first sample. */
export interface ProviderStatsView {
  /** Attempts finished. */
  readonly attempts: number;
  readonly served: number;
  readonly failures: number;
  /** EWMA of time to first byte of successful attempts, ms. */
  readonly ewmaTtfbMs: number | undefined;
  /** EWMA of the latency clients wait for (JSON: the whole answer; streams: the first byte), ms. */
  readonly ewmaLatencyMs: number | undefined;
  /** EWMA of failure (1) / success (0), in [0, 1]. */
  readonly errorRate: number;
  /** EWMA of completion tokens per second after the first byte (streams with usage), or undefined. */
  readonly outputTokensPerSecond: number | undefined;
  readonly promptTokens: number;
  readonly completionTokens: number;
  /** When the last attempt finished (epoch ms), or 0. */
  readonly lastAttemptAt: number;
}

/** Options for {@link ProviderStats}. */
export interface ProviderStatsOptions {
  /** Weight of the newest sample in the averages, in (0, 1]. Default 0.3. */
  alpha?: number;
  /** Latency samples kept for percentiles. Default 256. */
  latencyWindow?: number;
}

const NEUTRAL_CODES = new Set(['client_closed_request', 'client_stalled', 'shutting_down']);

/** Codes of attempts the client ended: counted apart, never as the provider's failure. */
const CLIENT_ABORT_CODES = new Set(['client_closed_request', 'client_stalled']);

/** The figures of one provider. Not thread-shared; updated once per finished attempt. */
export class ProviderStats implements ProviderStatsView {
  attempts = 0;
  served = 0;
  failures = 0;
  /** Attempts ended by the client (it left, or stopped reading): neither failures nor successes of the provider. */
  clientAborts = 0;
  ewmaTtfbMs: number | undefined;
  ewmaLatencyMs: number | undefined;
  errorRate = 0;
  outputTokensPerSecond: number | undefined;
  promptTokens = 0;
  completionTokens = 0;
  lastAttemptAt = 0;
  lastError: ProviderLastError | null = null;
  readonly #alpha: number;
  readonly #latency: LatencyWindow;

  constructor(options: ProviderStatsOptions = {}) {
    this.#alpha = options.alpha ?? 0.3;
    this.#latency = new LatencyWindow(options.latencyWindow ?? 256);
  }

  #average(previous: number | undefined, sample: number): number {
    return previous === undefined ? sample : previous + this.#alpha * (sample - previous);
  }

  /** Records one finished attempt at `now` (epoch ms). */
  record(outcome: AttemptOutcome, now: number): void {
    this.attempts += 1;
    this.lastAttemptAt = now;
    if (!outcome.ok && CLIENT_ABORT_CODES.has(outcome.errorCode ?? '')) {
      // The client left (or stopped reading): nothing about the provider, not its last error either.
      this.clientAborts += 1;
      return;
    }
    if (!outcome.ok) {
      this.failures += 1;
      this.lastError = { code: outcome.errorCode ?? 'unknown_error', message: outcome.errorMessage ?? '', at: new Date(now).toISOString() };
      // A client that left, or a shutdown, says nothing about the provider's health.
      if (!NEUTRAL_CODES.has(outcome.errorCode ?? '')) this.errorRate = this.#average(this.errorRate, 1);
      return;
    }
    this.served += 1;
    this.errorRate = this.#average(this.errorRate, 0);
    const ttfb = outcome.ttfbMs ?? outcome.durationMs;
    this.ewmaTtfbMs = this.#average(this.ewmaTtfbMs, ttfb);
    const waited = outcome.stream ? ttfb : outcome.durationMs;
    this.ewmaLatencyMs = this.#average(this.ewmaLatencyMs, waited);
    this.#latency.add(waited);
    const usage = outcome.usage;
    if (usage) {
      this.promptTokens += usage.prompt_tokens;
      this.completionTokens += usage.completion_tokens;
      const generatingMs = outcome.durationMs - ttfb;
      if (outcome.stream && usage.completion_tokens > 0 && generatingMs > 0) {
        this.outputTokensPerSecond = this.#average(this.outputTokensPerSecond, (usage.completion_tokens * 1000) / generatingMs);
      }
    }
  }

  /** Percentiles of the latency clients waited for (see `ewmaLatencyMs`). */
  latency(): LatencySummary {
    return this.#latency.summary();
  }
}
