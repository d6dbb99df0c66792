/** The `affinity` option, validated (see the README, "Cache-aware routing"). */
export interface AffinitySettings {
  /** Route by prefix affinity before the strategy. Default false. */
  readonly enabled: boolean;
  /** Characters per block of the rendered prompt (about a quarter as many tokens). Default 1024. */
  readonly blockChars: number;
  /** Least share of the request's blocks a provider must hold for affinity to choose it (SGLang's `cache_threshold`). Default 0.3. */
  readonly minMatch: number;
  /** In-flight requests a warm provider may have above the least loaded candidate (SGLang's `balance_abs_threshold`). Default 4. */
  readonly balanceAbs: number;
  /** Multiple of the least loaded candidate's in-flight count a warm provider may reach (SGLang's `balance_rel_threshold`). Default 1.5. */
  readonly balanceRel: number;
  /** Memory budget of the local prefix index, MiB (least recently served blocks evicted past it). Default 64. */
  readonly maxIndexMiB: number;
  /** A provider's record of a prefix counts for this long after it last served it, s. Default 600. */
  readonly ttlSeconds: number;
  /** Tokens of prompt prefix one provider's KV cache is assumed to hold at most (its estimate shrinks on reported misses). Default 1000000. */
  readonly providerCapacityTokens: number;
  /** Most blocks of one prompt keyed (its beginning; the rest is not hashed). Default 256. */
  readonly maxBlocks: number;
  /** With the Redis store: longest wait for the shared index on a request the local index cannot place, ms. Default 5. */
  readonly sharedReadTimeoutMs: number;
  /** With the Redis store: every how many blocks a served chain is written to (and read from) the shared index. Default 4. */
  readonly sharedEvery: number;
}

/** The defaults of {@link AffinitySettings}. */
export const DEFAULT_AFFINITY_SETTINGS: AffinitySettings = {
  enabled: false,
  blockChars: 1024,
  minMatch: 0.3,
  balanceAbs: 4,
  balanceRel: 1.5,
  maxIndexMiB: 64,
  ttlSeconds: 600,
  providerCapacityTokens: 1_000_000,
  maxBlocks: 256,
  sharedReadTimeoutMs: 5,
  sharedEvery: 4,
};

/** Characters per token assumed when comparing blocks with reported cached tokens. */
export const CHARS_PER_TOKEN = 4;
