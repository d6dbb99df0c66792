import type { Logger } from 'pino';
import { discardBody, type UpstreamHttpClient } from '../providers/http/upstream-http-client.js';
import { PeriodicTask } from '../internal/periodic-task.js';
import { parsePrometheusText, sumOfSamples } from './prometheus-text.js';

/** A provider whose backend may be polled (a `ProviderEntry` is one: its fields are read live). */
export interface LoadTarget {
  readonly id: string;
  readonly descriptor: { readonly endpoint: string };
  /** Requests the gateway has in flight on it now. */
  readonly inFlight: number;
  /** Configured capacity (requests the backend runs at once). */
  readonly capacity: number | undefined;
  /** Configured concurrency cap, the last stand-in for capacity. */
  readonly maxConcurrent: number | undefined;
}

/** The last figures read from one backend. */
export interface BackendLoadReading {
  /** Requests running (sum over label sets). */
  readonly running: number;
  /** Requests queued (0 when the backend does not say). */
  readonly waiting: number;
  /** Capacity the backend reports (`capacityMetric`), when it does. */
  readonly capacity: number | undefined;
  /** When it was read (epoch ms). */
  readonly at: number;
  /** The gateway's in-flight count on it when it was read. */
  readonly inFlightAtReading: number;
}

/** Options for {@link BackendLoadPoller}. */
export interface BackendLoadPollerOptions {
  /** The providers to poll, read at every poll (e.g. the registry's entries). Non-HTTP endpoints are skipped. */
  targets: () => Iterable<LoadTarget>;
  /** The HTTP client (undici pool) to fetch with; or give `fetchText`. */
  client?: UpstreamHttpClient;
  /** Fetches a metrics page's text (tests, other transports); rejects on failure. Default: GET through `client`. */
  fetchText?: (url: string, signal: AbortSignal) => Promise<string>;
  /** Poll period, ms. Default 2000. */
  intervalMs?: number;
  /** Bound on one poll of all targets, ms. Default 1000. */
  timeoutMs?: number;
  /** A reading older than this is not used, ms. Default 3 × `intervalMs`. */
  staleAfterMs?: number;
  /** Path of the metrics page on each provider's origin. Default `/metrics`. */
  path?: string;
  /** Gauge of requests running. Default `vllm:num_requests_running`. */
  runningMetric?: string;
  /** Gauge of requests queued. Default `vllm:num_requests_waiting`. */
  waitingMetric?: string;
  /** Gauge of the backend's capacity (e.g. its `max_num_seqs`), when it exposes one. Default: none. */
  capacityMetric?: string;
  /** Largest metrics page read, bytes. Default 4 MiB. */
  maxBytes?: number;
  /** Clock, ms. Default `Date.now`. */
  now?: () => number;
  logger?: Logger;
}

interface Failing {
  failures: number;
  retryAt: number;
}

/**
 * Polls each provider's own metrics endpoint (vLLM's Prometheus `/metrics`) on an interval and
 * keeps the last reading per provider id, for `least-load`. A provider whose page cannot be read
 * (no such endpoint, not vLLM-like, unreachable) is asked again after 1, 2, 4… up to 32
 * intervals. Its timer does not keep the process alive; `close()` stops it.
 */
export class BackendLoadPoller {
  readonly #options: BackendLoadPollerOptions;
  readonly #now: () => number;
  readonly #intervalMs: number;
  readonly #staleAfterMs: number;
  readonly #wanted: ReadonlySet<string>;
  readonly #readings = new Map<string, BackendLoadReading>();
  readonly #targets = new Map<string, LoadTarget>();
  readonly #failing = new Map<string, Failing>();
  readonly #task: PeriodicTask;
  #poll: AbortController | undefined;
  #closed = false;

  constructor(options: BackendLoadPollerOptions) {
    if (!options.client && !options.fetchText) throw new TypeError('BackendLoadPoller needs a client or fetchText');
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#intervalMs = options.intervalMs ?? 2000;
    this.#staleAfterMs = options.staleAfterMs ?? 3 * this.#intervalMs;
    this.#wanted = new Set([this.#runningMetric, this.#waitingMetric, ...(options.capacityMetric ? [options.capacityMetric] : [])]);
    this.#task = new PeriodicTask(() => this.pollOnce(), this.#intervalMs, (error) => options.logger?.error({ event: 'internal_error', err: error }, 'backend load poll failed'));
  }

  get #runningMetric(): string {
    return this.#options.runningMetric ?? 'vllm:num_requests_running';
  }

  get #waitingMetric(): string {
    return this.#options.waitingMetric ?? 'vllm:num_requests_waiting';
  }

  /** Starts polling (the first poll at once). */
  start(): void {
    if (!this.#closed) this.#task.start(true);
  }

  /** Polls every target now, within `timeoutMs`. */
  async pollOnce(): Promise<void> {
    if (this.#closed) return;
    const controller = new AbortController();
    this.#poll = controller;
    const timer = setTimeout(() => controller.abort(new Error('metrics poll timed out')), this.#options.timeoutMs ?? 1000);
    try {
      const started = this.#now();
      const polls: Array<Promise<void>> = [];
      this.#targets.clear();
      for (const target of this.#options.targets()) {
        this.#targets.set(target.id, target);
        const url = this.#metricsUrl(target.descriptor.endpoint);
        const failing = this.#failing.get(target.id);
        if (url === undefined || (failing && started < failing.retryAt)) continue;
        polls.push(this.#read(target, url, controller.signal));
      }
      await Promise.all(polls);
    } finally {
      clearTimeout(timer);
      if (this.#poll === controller) this.#poll = undefined;
    }
  }

  /** The last reading of a provider, however old. */
  reading(providerId: string): BackendLoadReading | undefined {
    return this.#readings.get(providerId);
  }

  /**
   * A provider's load, `(running + 0.5 × waiting + requests the gateway started since the reading) ÷ capacity`
   * (capacity: configured, else reported, else `maxConcurrent`); undefined without a fresh reading
   * or a capacity. The gateway's own requests since the reading are added so that a burst between
   * two polls does not all land on the backend that looked idle.
   */
  loadOf(providerId: string): number | undefined {
    const reading = this.#readings.get(providerId);
    const target = this.#targets.get(providerId);
    if (!reading || !target || this.#now() - reading.at > this.#staleAfterMs) return undefined;
    const capacity = target.capacity ?? reading.capacity ?? target.maxConcurrent;
    if (capacity === undefined || !(capacity > 0)) return undefined;
    const busy = reading.running + 0.5 * reading.waiting + (target.inFlight - reading.inFlightAtReading);
    return Math.max(0, busy) / capacity;
  }

  /** Stops polling (aborting a poll under way). Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#poll?.abort(new Error('closed'));
    await this.#task.stop();
  }

  #metricsUrl(endpoint: string): string | undefined {
    try {
      const url = new URL(endpoint);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
      return `${url.origin}${this.#options.path ?? '/metrics'}`;
    } catch {
      return undefined;
    }
  }

  async #read(target: LoadTarget, url: string, signal: AbortSignal): Promise<void> {
    try {
      const text = await (this.#options.fetchText ?? this.#fetchOverHttp)(url, signal);
      const { samples } = parsePrometheusText(text, this.#wanted);
      const running = sumOfSamples(samples, this.#runningMetric);
      if (running === undefined || !Number.isFinite(running)) throw new Error(`no ${this.#runningMetric} on ${url}`);
      const waiting = sumOfSamples(samples, this.#waitingMetric) ?? 0;
      const capacity = this.#options.capacityMetric ? sumOfSamples(samples, this.#options.capacityMetric) : undefined;
      this.#readings.set(target.id, {
        running,
        waiting: Number.isFinite(waiting) ? waiting : 0,
        capacity: capacity !== undefined && Number.isFinite(capacity) && capacity > 0 ? capacity : undefined,
        at: this.#now(),
        inFlightAtReading: target.inFlight,
      });
      this.#failing.delete(target.id);
    } catch (error) {
      if (this.#closed) return;
      const failures = (this.#failing.get(target.id)?.failures ?? 0) + 1;
      this.#failing.set(target.id, { failures, retryAt: this.#now() + this.#intervalMs * 2 ** Math.min(failures - 1, 5) });
      if (failures === 1) this.#options.logger?.debug({ event: 'backend_metrics_unavailable', provider: target.id, url, err: error }, 'backend metrics unavailable');
    }
  }

  readonly #fetchOverHttp = async (url: string, signal: AbortSignal): Promise<string> => {
    const client = this.#options.client;
    if (!client) throw new TypeError('BackendLoadPoller needs a client or fetchText');
    const response = await client.send('GET', url, { signal, headers: { accept: 'text/plain' } });
    if (response.status !== 200) {
      discardBody(response.body);
      throw new Error(`${url} answered HTTP ${response.status}`);
    }
    const limit = this.#options.maxBytes ?? 4 * 1024 * 1024;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body) {
      size += (chunk as Buffer).length;
      if (size > limit) {
        discardBody(response.body);
        throw new Error(`${url} is larger than ${limit} bytes`);
      }
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks).toString('utf8');
  };
}
