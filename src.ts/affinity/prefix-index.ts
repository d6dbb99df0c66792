/**
 * State bytes counted per indexed block (its key, its entry and the map slot holding it), and per
 * provider holding a block (its slot in the block's holders and in the provider's own LRU order).
 * Measured on Node 20 with `node --expose-gc scripts/affinity-cost.mjs`: 428 B of heap per block held by two
 * providers, against 480 counted; the budget counts these, so the index's heap stays within `maxBytes`.
 */
export const BLOCK_STATE_BYTES = 240;
export const HOLDER_STATE_BYTES = 120;

/** Options for {@link PrefixIndex}. */
export interface PrefixIndexOptions {
  /** Most state bytes kept (see {@link BLOCK_STATE_BYTES}); the least recently recorded blocks go first past it. */
  readonly maxBytes: number;
  /** A provider's record of a block counts for this long after it was last recorded, ms. */
  readonly ttlMs: number;
  /** Most blocks believed held by one provider (its KV cache capacity, upper bound of the estimate). */
  readonly providerCapacityBlocks: number;
  /** Fewest blocks the capacity estimate falls to after cache misses. Default 64. */
  readonly minCapacityBlocks?: number;
  /** Milliseconds, like Date.now(). */
  readonly now: () => number;
}

interface BlockEntry {
  /** When any provider last recorded it, ms. */
  touched: number;
  /** Provider id → when it last recorded this block, ms. */
  readonly holders: Map<string, number>;
}

interface ProviderBlocks {
  /** The blocks it holds, least recently recorded first (key → when). */
  readonly keys: Map<string, number>;
  /** How many blocks its cache is estimated to hold. */
  capacity: number;
}

/** The providers holding the longest prefix of a chain, and how many of its blocks they hold. */
export interface PrefixMatch {
  readonly matched: number;
  readonly providers: readonly string[];
}

/** What the index holds now. */
export interface PrefixIndexStats {
  readonly blocks: number;
  readonly holders: number;
  readonly bytes: number;
  readonly maxBytes: number;
  /** Provider id → blocks it is believed to hold, and its capacity estimate. */
  readonly providers: ReadonlyArray<{ id: string; blocks: number; capacity: number }>;
}

/**
 * Where prefixes are believed warm: chained block hash (see `prefixBlockHashes`) → the providers
 * that served a request containing it, with when. Bounded three ways: a byte budget over all
 * blocks (least recently recorded evicted first), a TTL (entries not recorded again for `ttlMs`
 * count for nothing and are swept), and a per-provider capacity estimate (its oldest blocks go
 * first), which shrinks when the provider reports cache misses where the index expected hits.
 * Every operation is O(blocks of the request) plus amortised sweeping; no timers.
 */
export class PrefixIndex {
  readonly #options: PrefixIndexOptions;
  readonly #minCapacity: number;
  /** Every block, least recently recorded first. */
  readonly #blocks = new Map<string, BlockEntry>();
  readonly #providers = new Map<string, ProviderBlocks>();
  #bytes = 0;
  #holders = 0;

  constructor(options: PrefixIndexOptions) {
    this.#options = options;
    this.#minCapacity = Math.min(options.minCapacityBlocks ?? 64, options.providerCapacityBlocks);
  }

  /**
   * Records that `provider` served the first `count` blocks of `keys` (it computed them, so its
   * cache holds them now). Returns true when that told the index something new: a block this
   * provider was not known to hold, or held by a record older than half the TTL.
   */
  record(provider: string, keys: readonly string[], count = keys.length): boolean {
    const now = this.#options.now();
    const refreshBefore = now - this.#options.ttlMs / 2;
    let own = this.#providers.get(provider);
    if (!own) {
      own = { keys: new Map(), capacity: this.#options.providerCapacityBlocks };
      this.#providers.set(provider, own);
    }
    let news = false;
    // Deepest block first: a chain's first blocks end up the most recently used, so eviction takes a
    // chain's tail before its head (as a radix cache evicts leaves first) and what is left still matches.
    for (let index = count - 1; index >= 0; index--) {
      const key = keys[index] as string;
      let entry = this.#blocks.get(key);
      if (entry) this.#blocks.delete(key);
      else {
        entry = { touched: now, holders: new Map() };
        this.#bytes += BLOCK_STATE_BYTES;
      }
      entry.touched = now;
      this.#blocks.set(key, entry);
      const seen = entry.holders.get(provider);
      if (seen === undefined) {
        this.#bytes += HOLDER_STATE_BYTES;
        this.#holders += 1;
        news = true;
      } else if (seen < refreshBefore) news = true;
      entry.holders.set(provider, now);
      own.keys.delete(key);
      own.keys.set(key, now);
    }
    this.#trimProvider(provider, own);
    this.sweep();
    return news;
  }

  /**
   * The longest prefix of `keys` some provider that `accepts` is believed to hold (records within
   * the TTL), and every such provider holding it. `{ matched: 0 }` when none holds even the first block.
   */
  longestMatch(keys: readonly string[], accepts: (provider: string) => boolean): PrefixMatch {
    const since = this.#options.now() - this.#options.ttlMs;
    for (let index = keys.length - 1; index >= 0; index--) {
      const entry = this.#blocks.get(keys[index] as string);
      if (!entry || entry.touched < since) continue;
      let providers: string[] | undefined;
      for (const [provider, seen] of entry.holders) {
        if (seen >= since && accepts(provider)) (providers ??= []).push(provider);
      }
      if (providers) return { matched: index + 1, providers };
    }
    return { matched: 0, providers: [] };
  }

  /** How many leading blocks of `keys` `provider` is believed to hold. */
  matchedBlocks(provider: string, keys: readonly string[]): number {
    return this.longestMatch(keys, (candidate) => candidate === provider).matched;
  }

  /**
   * `provider` reported fewer cached tokens than the index predicted: its cache is smaller (or
   * busier) than estimated. Its capacity estimate falls to half the blocks it is believed to hold
   * (not under the minimum), its oldest blocks going first.
   */
  cacheMissed(provider: string): void {
    const own = this.#providers.get(provider);
    if (!own) return;
    own.capacity = Math.max(this.#minCapacity, Math.floor(Math.min(own.capacity, own.keys.size) / 2));
    this.#trimProvider(provider, own);
  }

  /** `provider` reported the hit the index predicted: its capacity estimate grows back by `blocks` (up to the configured bound). */
  cacheConfirmed(provider: string, blocks: number): void {
    const own = this.#providers.get(provider);
    if (own) own.capacity = Math.min(this.#options.providerCapacityBlocks, own.capacity + blocks);
  }

  /** Forgets everything `provider` was believed to hold (it left, was ejected or restarted). */
  dropProvider(provider: string): void {
    const own = this.#providers.get(provider);
    if (!own) return;
    for (const key of own.keys.keys()) this.#release(provider, key);
    this.#providers.delete(provider);
  }

  /** Drops what the TTL and the byte budget no longer allow (also done by every `record`). */
  sweep(): void {
    const expired = this.#options.now() - this.#options.ttlMs;
    for (const [key, entry] of this.#blocks) {
      if (entry.touched >= expired && this.#bytes <= this.#options.maxBytes) break;
      this.#removeBlock(key, entry);
    }
    for (const [provider, own] of this.#providers) {
      for (const [key, seen] of own.keys) {
        if (seen >= expired) break;
        this.#release(provider, key);
      }
      if (own.keys.size === 0) this.#providers.delete(provider);
    }
  }

  stats(): PrefixIndexStats {
    return {
      blocks: this.#blocks.size,
      holders: this.#holders,
      bytes: this.#bytes,
      maxBytes: this.#options.maxBytes,
      providers: [...this.#providers].map(([id, own]) => ({ id, blocks: own.keys.size, capacity: own.capacity })),
    };
  }

  #trimProvider(provider: string, own: ProviderBlocks): void {
    while (own.keys.size > own.capacity) {
      const oldest = own.keys.keys().next().value as string;
      this.#release(provider, oldest);
    }
  }

  /** Removes `provider` from the holders of `key` (and the block when nobody holds it any more). */
  #release(provider: string, key: string): void {
    this.#providers.get(provider)?.keys.delete(key);
    const entry = this.#blocks.get(key);
    if (!entry || !entry.holders.delete(provider)) return;
    this.#bytes -= HOLDER_STATE_BYTES;
    this.#holders -= 1;
    if (entry.holders.size === 0) {
      this.#blocks.delete(key);
      this.#bytes -= BLOCK_STATE_BYTES;
    }
  }

  #removeBlock(key: string, entry: BlockEntry): void {
    for (const provider of entry.holders.keys()) {
      this.#providers.get(provider)?.keys.delete(key);
      this.#bytes -= HOLDER_STATE_BYTES;
      this.#holders -= 1;
    }
    entry.holders.clear();
    this.#blocks.delete(key);
    this.#bytes -= BLOCK_STATE_BYTES;
  }
}
