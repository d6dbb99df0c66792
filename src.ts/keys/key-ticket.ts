import { GatewayError } from '../errors/index.js';
import type { AuthenticatedKey } from './api-key-registry.js';
import { checkUsageTokens, type UsageTokens } from './cost.js';

/**
 * An admitted request's hold on its key's limits. Call `release()` when the request ends, however it
 * ends (it frees the concurrency slot and gives back an unsettled reservation), and `commit()` when its
 * usage is known (it adds the tokens to the key's `tpm` window and the cost to its spend, and gives
 * back the estimates reserved at admission: the unused part is released, an overrun charged). Each takes effect exactly once, in either order;
 * later calls do nothing (`commit` returns the first call's promise). A request that failed and used
 * nothing is released without a commit.
 */
export interface KeyTicket {
  /** The key the request was admitted for. */
  readonly key: AuthenticatedKey;
  /** True once `commit` has been accepted. */
  readonly committed: boolean;
  /** True once `release` has been called. */
  readonly released: boolean;
  /**
   * Records the request's usage and its cost in neuron (`costOf(usage, price)`). Rejects with
   * GatewayError('internal_error'), without recording and without using up the commit, for token
   * counts that are not non-negative integers or a negative cost; rejects if the store fails.
   */
  commit(usage: UsageTokens, costNeuron: bigint): Promise<void>;
  /**
   * Ends the request's concurrency slot and, when it was not committed, gives back what it reserved
   * (its `tpm` tokens and budget estimate). Idempotent. Resolves when the reservation is given back;
   * never rejects.
   */
  release(): Promise<void>;
}

/** What a ticket calls back into its limiter, once each. */
export interface TicketEffects {
  release(): Promise<void>;
  commit(usage: UsageTokens, costNeuron: bigint): Promise<void>;
}

/** @internal The one KeyTicket implementation; created by `KeyLimiter.admit`. */
export class KeyTicketImpl implements KeyTicket {
  readonly key: AuthenticatedKey;
  readonly #effects: TicketEffects;
  #commit: Promise<void> | undefined;
  #released: Promise<void> | undefined;

  constructor(key: AuthenticatedKey, effects: TicketEffects) {
    this.key = key;
    this.#effects = effects;
  }

  get committed(): boolean {
    return this.#commit !== undefined;
  }

  get released(): boolean {
    return this.#released !== undefined;
  }

  commit(usage: UsageTokens, costNeuron: bigint): Promise<void> {
    if (this.#commit !== undefined) return this.#commit;
    try {
      checkUsageTokens(usage);
      if (typeof costNeuron !== 'bigint' || costNeuron < 0n) {
        throw new GatewayError('internal_error', 'A request cost must be a non-negative bigint of neuron');
      }
    } catch (error) {
      return Promise.reject(error);
    }
    this.#commit = this.#effects.commit({ promptTokens: usage.promptTokens, completionTokens: usage.completionTokens }, costNeuron);
    return this.#commit;
  }

  release(): Promise<void> {
    this.#released ??= this.#effects.release().catch(() => undefined);
    return this.#released;
  }
}
