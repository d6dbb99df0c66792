import type { Logger } from 'pino';
import type { VerifyVerdict } from '../providers/inference-provider.js';
import type { ProviderEntry } from './provider-entry.js';
import type { ProviderRegistry } from './provider-registry.js';

/** What the sampler needs to check one served answer. */
export interface ServedAnswer {
  readonly responseId: string;
  readonly chatId: string;
  readonly upstreamModel: string;
}

/** Options for {@link TrustSampler}. */
export interface TrustSamplerOptions {
  registry: ProviderRegistry;
  logger: Logger;
  /** Share (0..1) of served answers verified. */
  sampleRate: number;
  /** Bound on one verification, ms. */
  timeoutMs: number;
  /** After this long untrusted, a provider gets one verified trial answer; undefined: operators only. */
  coolDownMs: number | undefined;
  random?: () => number;
  now?: () => number;
  /** Most verifications at once. Default 4. */
  maxConcurrent?: number;
  /** Most waiting; beyond it samples are dropped (and counted). Default 256. */
  maxQueue?: number;
}

/**
 * Trust-aware routing: verifies a sample of served answers in the background, off the request
 * path, through the adapter's `verify` (the TEE signature against the acknowledged signer; no
 * fee). A provider whose answer fails (`invalid`) is ejected at once (trust `untrusted`, logged
 * naming the response id) and stays out until an operator readmits it, or, with a cool-down,
 * until a trial answer verifies. An answer the provider has no signature for counts as
 * unverifiable, not as a failure. Client `/v1/verify` results feed the same figures.
 */
export class TrustSampler {
  readonly #options: TrustSamplerOptions;
  readonly #random: () => number;
  readonly #now: () => number;
  readonly #queue: Array<{ entry: ProviderEntry; answer: ServedAnswer }> = [];
  #running = 0;
  /** Samples dropped because the queue was full. */
  dropped = 0;
  /** Providers on trial after their cool-down (their next answer is verified). */
  readonly #onTrial = new Set<string>();
  #idle: Array<() => void> = [];
  #closed = false;

  constructor(options: TrustSamplerOptions) {
    this.#options = options;
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? Date.now;
  }

  /** Considers one served answer: verifies it when sampled (always, for a provider on trial). */
  consider(entry: ProviderEntry, answer: ServedAnswer): void {
    if (this.#closed || !entry.descriptor.verifiable) return;
    const trial = this.#onTrial.has(entry.id);
    if (!trial && !(this.#random() < this.#options.sampleRate)) return;
    if (trial) this.#onTrial.delete(entry.id);
    if (this.#queue.length >= (this.#options.maxQueue ?? 256)) {
      this.dropped += 1;
      return;
    }
    this.#queue.push({ entry, answer });
    this.#pump();
  }

  /** Records a verdict reached elsewhere (a client's `/v1/verify`). */
  report(entry: ProviderEntry, responseId: string, verdict: VerifyVerdict): void {
    this.#record(entry, responseId, verdict);
  }

  /** Puts untrusted providers whose cool-down passed on trial (call periodically). */
  tick(): void {
    const coolDown = this.#options.coolDownMs;
    if (coolDown === undefined) return;
    for (const entry of this.#options.registry.list()) {
      if (entry.trust.state !== 'untrusted' || !entry.trust.reason?.startsWith('answer ')) continue;
      if (this.#now() - entry.trust.since < coolDown) continue;
      this.#onTrial.add(entry.id);
      this.#options.registry.setTrust(entry, 'trusted', 'on trial after its cool-down: its next answer is verified');
    }
  }

  #pump(): void {
    while (this.#running < (this.#options.maxConcurrent ?? 4) && this.#queue.length > 0) {
      const next = this.#queue.shift() as { entry: ProviderEntry; answer: ServedAnswer };
      this.#running += 1;
      void this.#verify(next.entry, next.answer).finally(() => {
        this.#running -= 1;
        this.#pump();
        if (this.#running === 0 && this.#queue.length === 0) {
          const waiters = this.#idle;
          this.#idle = [];
          for (const resolve of waiters) resolve();
        }
      });
    }
  }

  async #verify(entry: ProviderEntry, answer: ServedAnswer): Promise<void> {
    try {
      const verdict = await entry.provider.verify(answer.chatId, answer.upstreamModel, AbortSignal.timeout(this.#options.timeoutMs));
      this.#record(entry, answer.responseId, verdict);
    } catch {
      entry.verification.unverifiable += 1;
    }
  }

  #record(entry: ProviderEntry, responseId: string, verdict: VerifyVerdict): void {
    const figures = entry.verification;
    if (verdict === 'valid') figures.verified += 1;
    else if (verdict === 'unsigned') figures.unverifiable += 1;
    else {
      figures.failed += 1;
      figures.lastFailure = { responseId, at: new Date(this.#now()).toISOString() };
      this.#onTrial.delete(entry.id);
      this.#options.logger.warn({ event: 'provider_untrusted', provider: entry.id, responseId }, 'a provider\'s answer failed verification: ejected');
      this.#options.registry.setTrust(entry, 'untrusted', `answer ${responseId} failed verification (signature invalid or not from the acknowledged signer)`);
    }
  }

  /** Resolves when no verification is running or waiting. */
  idle(): Promise<void> {
    if (this.#running === 0 && this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Drops what is waiting and lets running verifications end. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#queue.length = 0;
    await this.idle();
  }
}
