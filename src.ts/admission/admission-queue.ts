import { GatewayError } from '../errors/index.js';

/** Lowest and highest request priority; higher is served first. */
export const MIN_PRIORITY = 0;
export const MAX_PRIORITY = 10;

/** The priority of a request that states none. */
export const DEFAULT_PRIORITY = 5;

/** The timer side of a clock (injected so tests move time by hand). */
export interface AdmissionClock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** How the queue is bounded. */
export interface AdmissionQueueSettings {
  /** Most requests waiting at once; one more is refused with 429 `queue_full`. 0: never wait. */
  maxSize: number;
  /** Longest a request waits, ms; then 503 `queue_timeout`. */
  timeoutMs: number;
  /** The `Retry-After` of `queue_full` and `queue_timeout` answers, ms. */
  retryAfterMs: number;
  /** The priority of a request that states none. Default 5. */
  defaultPriority?: number;
}

/** The bounds when none are given: 1000 waiting, 30 s each, Retry-After 1 s, default priority 5. */
export const DEFAULT_QUEUE_SETTINGS: AdmissionQueueSettings = Object.freeze({ maxSize: 1000, timeoutMs: 30_000, retryAfterMs: 1000, defaultPriority: DEFAULT_PRIORITY });

/** A request's place in the queue, kept when it is woken but loses the race and waits again. */
export interface AdmissionTicket {
  readonly priority: number;
  readonly seq: number;
  /** When it first joined (the clock's ms). */
  readonly enqueuedAt: number;
  /** Wakes it when it may be served: the request's candidates have a free slot. */
  readonly canServe: () => boolean;
}

/** What `/health`, `/admin/queue` and `/metrics` show. */
export interface AdmissionQueueStats {
  depth: number;
  maxSize: number;
  timeoutMs: number;
  /** Waiting now, per priority (only priorities with waiters). */
  depthByPriority: Record<string, number>;
  /** Requests that joined the queue, since start. */
  queued: number;
  /** Of those, woken to be served. */
  admitted: number;
  /** Waited `timeoutMs` and got `queue_timeout`. */
  timeouts: number;
  /** Left while waiting (client gone, deadline, shutdown). */
  abandoned: number;
  /** Refused because the queue was full (`queue_full`). */
  rejected: number;
  /** Longest and last completed wait, ms (0 before any). */
  maxWaitMs: number;
  lastWaitMs: number;
  /** How long the oldest waiter has waited, ms (0 when empty). */
  oldestWaitMs: number;
}

/** How a wait ended, for metrics (`zg_gateway_queue_wait_seconds`). */
export type AdmissionResult = 'admitted' | 'timeout' | 'abandoned' | 'rejected';

interface Waiter {
  ticket: AdmissionTicket;
  resolve: () => void;
  reject: (error: GatewayError) => void;
}

const systemClock: AdmissionClock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => {
    const timer = setTimeout(callback, ms);
    timer.unref?.();
    return timer;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * The bounded admission queue: requests whose every candidate provider is at its concurrency cap
 * wait here, highest priority first and first come, first served within a priority. Whoever frees
 * or adds capacity calls `notify()`, which wakes the one best waiter that can now be served (not
 * every waiter); a woken request that takes a slot calls `notify()` again, so capacity added in
 * bulk is handed out one waiter at a time. A wait ends with a free slot, `queue_timeout` after
 * `timeoutMs`, or the request's own abort reason (client gone, shutdown), leaving the queue at once.
 */
export class AdmissionQueue {
  #settings: AdmissionQueueSettings;
  readonly #clock: AdmissionClock;
  /** One FIFO per priority, index = priority. */
  readonly #buckets: Waiter[][] = Array.from({ length: MAX_PRIORITY + 1 }, () => []);
  #depth = 0;
  #seq = 0;
  readonly #counts = { queued: 0, admitted: 0, timeouts: 0, abandoned: 0, rejected: 0, maxWaitMs: 0, lastWaitMs: 0 };
  readonly #listeners = new Set<(result: AdmissionResult, waitedMs: number, priority: number) => void>();

  constructor(settings: AdmissionQueueSettings, clock: AdmissionClock = systemClock) {
    this.#settings = { ...settings };
    this.#clock = clock;
  }

  /** Replaces the bounds (config reload): waiters already queued keep their place and deadline. */
  configure(settings: AdmissionQueueSettings): void {
    this.#settings = { ...settings };
  }

  get settings(): Readonly<AdmissionQueueSettings> {
    return this.#settings;
  }

  get depth(): number {
    return this.#depth;
  }

  /** A ticket for a request about to wait (the first time). */
  ticket(priority: number, canServe: () => boolean): AdmissionTicket {
    return { priority: clampPriority(priority), seq: this.#seq++, enqueuedAt: this.#clock.now(), canServe };
  }

  /**
   * Waits until `notify()` finds the ticket servable. Rejects with 429 `queue_full` when the queue
   * is full (a ticket waiting again after losing a race is always taken back), 503 `queue_timeout`
   * once `timeoutMs` has passed since the ticket first joined, or `signal`'s reason when it aborts.
   */
  wait(ticket: AdmissionTicket, signal: AbortSignal, requeued = false): Promise<void> {
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    if (!requeued && this.#depth >= this.#settings.maxSize) {
      this.#counts.rejected += 1;
      this.#tell('rejected', 0, ticket.priority);
      return Promise.reject(
        new GatewayError('queue_full', `Every provider that can serve this request is at its concurrency cap and ${this.#depth} requests already wait; try again later`, {
          retryAfterMs: this.#settings.retryAfterMs,
          details: { queueDepth: this.#depth, maxSize: this.#settings.maxSize },
        }),
      );
    }
    const remaining = ticket.enqueuedAt + this.#settings.timeoutMs - this.#clock.now();
    if (!requeued) this.#counts.queued += 1;
    return new Promise<void>((resolve, reject) => {
      let timer: unknown;
      const finish = (result: AdmissionResult): void => {
        this.#clock.clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        const waited = Math.max(0, this.#clock.now() - ticket.enqueuedAt);
        if (result !== 'abandoned') {
          this.#counts.lastWaitMs = waited;
          this.#counts.maxWaitMs = Math.max(this.#counts.maxWaitMs, waited);
        }
        this.#counts[result === 'admitted' ? 'admitted' : result === 'timeout' ? 'timeouts' : 'abandoned'] += 1;
        this.#tell(result, waited, ticket.priority);
      };
      const waiter: Waiter = {
        ticket,
        resolve: () => {
          finish('admitted');
          resolve();
        },
        reject: (error) => {
          finish('timeout');
          reject(error);
        },
      };
      const onAbort = (): void => {
        if (!this.#remove(waiter)) return;
        finish('abandoned');
        reject(signal.reason as Error);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#insert(waiter, requeued);
      timer = this.#clock.setTimeout(() => {
        if (!this.#remove(waiter)) return;
        waiter.reject(
          new GatewayError('queue_timeout', `The request waited ${this.#settings.timeoutMs} ms for a free provider and none became free`, {
            retryAfterMs: this.#settings.retryAfterMs,
            details: { waitedMs: Math.max(0, this.#clock.now() - ticket.enqueuedAt) },
          }),
        );
      }, Math.max(0, remaining));
    });
  }

  /**
   * Capacity may have been freed or added: wakes the highest-priority (then oldest) waiter that can
   * now be served, if any. Returns true when one was woken.
   */
  notify(): boolean {
    if (this.#depth === 0) return false;
    for (let priority = MAX_PRIORITY; priority >= MIN_PRIORITY; priority--) {
      const bucket = this.#buckets[priority] as Waiter[];
      for (let index = 0; index < bucket.length; index++) {
        const waiter = bucket[index] as Waiter;
        if (!waiter.ticket.canServe()) continue;
        bucket.splice(index, 1);
        this.#depth -= 1;
        waiter.resolve();
        return true;
      }
    }
    return false;
  }

  /** Listens to every wait's end (metrics). Returns the unsubscribe function. */
  onLeave(listener: (result: AdmissionResult, waitedMs: number, priority: number) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #tell(result: AdmissionResult, waitedMs: number, priority: number): void {
    for (const listener of this.#listeners) {
      try {
        listener(result, waitedMs, priority);
      } catch {
        // A metrics listener must not break admission.
      }
    }
  }

  stats(): AdmissionQueueStats {
    const depthByPriority: Record<string, number> = {};
    let oldest: number | undefined;
    for (let priority = MAX_PRIORITY; priority >= MIN_PRIORITY; priority--) {
      const bucket = this.#buckets[priority] as Waiter[];
      if (bucket.length === 0) continue;
      depthByPriority[String(priority)] = bucket.length;
      for (const waiter of bucket) oldest = Math.min(oldest ?? waiter.ticket.enqueuedAt, waiter.ticket.enqueuedAt);
    }
    return {
      depth: this.#depth,
      maxSize: this.#settings.maxSize,
      timeoutMs: this.#settings.timeoutMs,
      depthByPriority,
      ...this.#counts,
      oldestWaitMs: oldest === undefined ? 0 : Math.max(0, this.#clock.now() - oldest),
    };
  }

  /** Into its priority's FIFO by sequence (a requeued ticket goes back ahead of later ones). */
  #insert(waiter: Waiter, requeued: boolean): void {
    const bucket = this.#buckets[waiter.ticket.priority] as Waiter[];
    let index = bucket.length;
    if (requeued) while (index > 0 && (bucket[index - 1] as Waiter).ticket.seq > waiter.ticket.seq) index--;
    bucket.splice(index, 0, waiter);
    this.#depth += 1;
  }

  #remove(waiter: Waiter): boolean {
    const bucket = this.#buckets[waiter.ticket.priority] as Waiter[];
    const index = bucket.indexOf(waiter);
    if (index < 0) return false;
    bucket.splice(index, 1);
    this.#depth -= 1;
    return true;
  }
}

function clampPriority(priority: number): number {
  if (!Number.isInteger(priority)) return MIN_PRIORITY;
  return Math.min(MAX_PRIORITY, Math.max(MIN_PRIORITY, priority));
}
