import { createHash, type Hash } from 'node:crypto';
import { sleep } from '../internal/sleep.js';
import { promptTokens, textTokens, type PromptMessage } from './prompt-tokens.js';

/**
 * A simulated KV prefix cache, as vLLM's automatic prefix caching keeps one. Every option is
 * optional; the defaults keep a realistic cache that costs no time (answers start at once).
 */
export interface KvCacheSpec {
  /** Tokens the cache holds, in whole blocks; least recently used blocks go first. 0 turns the cache off (nothing cached, `cached_tokens` 0). Default 131072. */
  capacityTokens?: number;
  /** Tokens per block (only whole blocks are cached). Default 16, vLLM's. */
  blockTokens?: number;
  /** Time to first token of a prompt that needs no prefill, ms. Default 0. */
  baseTtftMs?: number;
  /** Prefill time per uncached prompt token, ms (0.2: a 4,000-token cold prompt takes 0.8 s). Default 0. */
  perUncachedTokenMs?: number;
  /** Prefills computed at once; more wait their turn (a GPU's compute is shared). Default 0: no limit. */
  prefillSlots?: number;
}

/** What the cache held for one prompt. */
export interface KvCacheLookup {
  /** Prompt tokens (the `prompt_tokens` reported). */
  readonly promptTokens: number;
  /** Tokens of the longest cached prefix, whole blocks, at most `promptTokens - 1` (`cached_tokens`). */
  readonly cachedTokens: number;
  /** @internal The prompt's tokens. */
  readonly tokens: readonly string[];
  /** @internal The chain's seed (model, tools). */
  readonly seed: string;
}

/** Counters of a cache, since it was created or cleared. */
export interface KvCacheStats {
  /** Prompt tokens looked up. */
  promptTokens: number;
  /** Of those, found cached. */
  cachedTokens: number;
  /** Tokens held now (whole blocks). */
  heldTokens: number;
  /** Blocks evicted to make room. */
  evictedBlocks: number;
}

/** Bytes the cache costs per held block (key string of 22 characters plus Map entry), roughly. */
export const KV_CACHE_BYTES_PER_BLOCK = 120;

/** The defaults of {@link KvCacheSpec}. */
export const KV_CACHE_DEFAULTS: Required<KvCacheSpec> = { capacityTokens: 131_072, blockTokens: 16, baseTtftMs: 0, perUncachedTokenMs: 0, prefillSlots: 0 };

/** Throws a plain Error naming the bad field; the devnet turns it into `invalid_options`. */
export function checkKvCacheSpec(spec: KvCacheSpec, where: string): void {
  for (const [field, value] of Object.entries(spec) as Array<[keyof KvCacheSpec, unknown]>) {
    if (!(field in KV_CACHE_DEFAULTS)) throw new Error(`${where}.${field} is not a kvCache option`);
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new Error(`${where}.${field} must be a number ≥ 0`);
    if ((field === 'blockTokens' || field === 'prefillSlots' || field === 'capacityTokens') && !Number.isInteger(value)) throw new Error(`${where}.${field} must be an integer`);
  }
  if (spec.blockTokens === 0) throw new Error(`${where}.blockTokens must be ≥ 1`);
}

/**
 * An LRU cache of prompt blocks, each named by a chained hash (SHA-256 over the seed and every
 * token up to the block's end, so a block's name stands for its whole prefix). Lookups walk
 * blocks from the start until one is missing; admitting a chat caches its prompt's and its
 * answer's whole blocks, touched last-to-first so a chain is evicted from its tail (as vLLM does).
 * Memory: at most capacityTokens / blockTokens entries of ~{@link KV_CACHE_BYTES_PER_BLOCK} bytes.
 */
export class KvPrefixCache {
  readonly spec: Readonly<Required<KvCacheSpec>>;
  private readonly blocks = new Map<string, true>();
  private readonly maxBlocks: number;
  private prefilling = 0;
  private readonly waiting: Array<() => void> = [];
  private counters: KvCacheStats = { promptTokens: 0, cachedTokens: 0, heldTokens: 0, evictedBlocks: 0 };

  constructor(spec: KvCacheSpec = {}) {
    checkKvCacheSpec(spec, 'kvCache');
    this.spec = Object.freeze({ ...KV_CACHE_DEFAULTS, ...spec });
    this.maxBlocks = Math.floor(this.spec.capacityTokens / this.spec.blockTokens);
  }

  /** Counters (a copy). */
  stats(): KvCacheStats {
    return { ...this.counters, heldTokens: this.blocks.size * this.spec.blockTokens };
  }

  /** Forgets every block and counter (a restarted server has a cold cache). */
  clear(): void {
    this.blocks.clear();
    this.counters = { promptTokens: 0, cachedTokens: 0, heldTokens: 0, evictedBlocks: 0 };
  }

  /** Chained block names of `tokens`, whole blocks only. */
  private blockNames(seed: string, tokens: readonly string[]): string[] {
    const names: string[] = [];
    const hash: Hash = createHash('sha256').update(seed);
    const size = this.spec.blockTokens;
    for (let end = size; end <= tokens.length; end += size) {
      hash.update(tokens.slice(end - size, end).join('\u0001')).update('\u0002');
      names.push(hash.copy().digest('base64url').slice(0, 22));
    }
    return names;
  }

  /** How much of this prompt is cached (touching the blocks found). `seed` names what else shapes the prefix (model, tools). */
  lookup(seed: string, messages: readonly PromptMessage[]): KvCacheLookup {
    const tokens = promptTokens(messages);
    let hits = 0;
    if (this.maxBlocks > 0) {
      const names = this.blockNames(seed, tokens);
      while (hits < names.length && this.blocks.has(names[hits] as string)) hits += 1;
      for (let index = hits - 1; index >= 0; index--) this.touch(names[index] as string);
    }
    const cachedTokens = Math.min(hits * this.spec.blockTokens, Math.floor(Math.max(0, tokens.length - 1) / this.spec.blockTokens) * this.spec.blockTokens);
    this.counters.promptTokens += tokens.length;
    this.counters.cachedTokens += cachedTokens;
    return { promptTokens: tokens.length, cachedTokens, tokens, seed };
  }

  /** Caches the prompt's whole blocks and, when given, those of the prompt followed by the assistant's answer. */
  admit(lookup: KvCacheLookup, answer?: string): void {
    if (this.maxBlocks === 0) return;
    const tokens = answer === undefined ? lookup.tokens : [...lookup.tokens, '<|assistant|>', ...textTokens(answer)];
    const names = this.blockNames(lookup.seed, tokens);
    for (let index = names.length - 1; index >= 0; index--) this.touch(names[index] as string);
  }

  /** Time to first token for this lookup, ms, not counting a wait for a prefill slot. */
  ttftMs(lookup: KvCacheLookup): number {
    return this.spec.baseTtftMs + this.spec.perUncachedTokenMs * (lookup.promptTokens - lookup.cachedTokens);
  }

  /** Waits as long as the prefill takes (for a slot first, if they are limited); returns at once when it costs nothing or `signal` aborts. */
  async prefill(lookup: KvCacheLookup, signal: AbortSignal): Promise<void> {
    const ms = this.ttftMs(lookup);
    if (ms <= 0) return;
    const limited = this.spec.prefillSlots > 0;
    if (limited && !(await this.acquireSlot(signal))) return;
    try {
      await sleep(ms, signal);
    } finally {
      if (limited) this.releaseSlot();
    }
  }

  private touch(name: string): void {
    this.blocks.delete(name);
    this.blocks.set(name, true);
    while (this.blocks.size > this.maxBlocks) {
      const oldest = this.blocks.keys().next().value as string;
      this.blocks.delete(oldest);
      this.counters.evictedBlocks += 1;
    }
  }

  /** Resolves true with a slot taken, or false when `signal` aborted first. */
  private acquireSlot(signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return Promise.resolve(false);
    if (this.prefilling < this.spec.prefillSlots) {
      this.prefilling += 1;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      // releaseSlot hands its slot over: prefilling stays as it is.
      const onTurn = (): void => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      };
      const onAbort = (): void => {
        const at = this.waiting.indexOf(onTurn);
        if (at !== -1) this.waiting.splice(at, 1);
        resolve(false);
      };
      this.waiting.push(onTurn);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private releaseSlot(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.prefilling -= 1;
  }
}
