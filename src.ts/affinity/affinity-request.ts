import { CHARS_PER_TOKEN, type AffinitySettings } from './affinity-settings.js';
import { imbalanceOf } from './load-bounds.js';
import { prefixBlockHashes, renderPrompt } from './prefix-blocks.js';
import type { PrefixIndex } from './prefix-index.js';
import type { SharedPrefixStore } from '../stores/shared-prefix-store.js';
import { readWithin } from './read-within.js';

/** Why affinity placed a request where it did (each request counts once, at its first placement). */
export type AffinityDecision = 'matched' | 'fallback-imbalance' | 'fallback-no-match' | 'opted-out' | 'pinned';

/** What a request's affinity work uses of its gateway's layer (the `AffinityRouter`). */
export interface AffinityHost {
  readonly settings: AffinitySettings;
  readonly index: PrefixIndex;
  readonly shared: SharedPrefixStore | undefined;
  count(decision: AffinityDecision): void;
  addWork(micros: number, newRequest: boolean): void;
  countSharedRead(timedOut: boolean): void;
  /** In-flight requests other gateway instances have on `provider` (0 when unknown). */
  othersInFlight(provider: string): number;
  noteUsage(provider: string, usage: { prompt_tokens?: unknown; prompt_tokens_details?: unknown } | undefined): number | undefined;
}

/** A provider the request may use, as affinity sees it. */
export interface AffinityCandidate {
  readonly id: string;
  readonly inFlight: number;
}

/** Affinity's answer for one placement: a warm provider, or why the strategy decides. */
export type AffinityChoice =
  | { readonly kind: 'matched'; readonly provider: string; readonly reason: string }
  /** `avoid`: the warm provider that is too loaded (the strategy picks among the others, so the bound holds). */
  | { readonly kind: 'fallback'; readonly reason: string; readonly avoid?: string };

/** Reported cached tokens under this share of what the index predicted count as a miss. */
const MISS_SHARE = 0.25;

/**
 * The affinity work of one request: its prompt rendered once and keyed per model group (lazily:
 * fallbacks to another model group key again), the shared index read when the local one cannot
 * place it, the choice among the candidates of each attempt, and the record of what was served.
 * The decision is counted once, at the first placement.
 */
export class AffinityRequest {
  readonly optedOut: boolean;
  readonly #host: AffinityHost;
  readonly #body: Readonly<Record<string, unknown>>;
  #text: string | undefined | null = null;
  readonly #keys = new Map<string, readonly string[]>();
  /** Per model group: provider → blocks the shared index says it served. */
  readonly #shared = new Map<string, Map<string, number>>();
  #counted = false;
  #worked = false;

  constructor(host: AffinityHost, body: Readonly<Record<string, unknown>>, optedOut: boolean) {
    this.#host = host;
    this.#body = body;
    this.optedOut = optedOut;
  }

  /** The chained block hashes of the prompt for `model` (empty when it is shorter than one block). */
  keys(model: string): readonly string[] {
    let keys = this.#keys.get(model);
    if (!keys) {
      if (this.#text === null) this.#text = renderPrompt(this.#body);
      const { blockChars, maxBlocks } = this.#host.settings;
      keys = this.#text === undefined ? [] : prefixBlockHashes(model, this.#text, blockChars, maxBlocks);
      this.#keys.set(model, keys);
    }
    return keys;
  }

  /**
   * Reads the shared index for `model` when it may tell more than the local one (the local index
   * knows no provider holding nearly the whole prompt) and the store is up; resolves within
   * `sharedReadTimeoutMs` whatever Redis does. Undefined when there is nothing to wait for.
   */
  loadShared(model: string): Promise<void> | undefined {
    const shared = this.#host.shared;
    if (this.optedOut || !shared?.available) return undefined;
    const started = performance.now();
    const { sharedEvery, sharedReadTimeoutMs } = this.#host.settings;
    const keys = this.keys(model);
    const local = keys.length === 0 ? keys.length : this.#host.index.longestMatch(keys, () => true).matched;
    const positions = sharedPositions(keys.length, sharedEvery).filter((position) => position >= local);
    this.#work(started);
    if (keys.length === 0 || local >= keys.length - sharedEvery || positions.length === 0) return undefined;
    return readWithin(
      shared,
      positions.map((position) => keys[position] as string),
      sharedReadTimeoutMs,
    ).then(({ values, timedOut }) => {
      this.#host.countSharedRead(timedOut);
      if (!values) return;
      const found = new Map<string, number>();
      values.forEach((provider, at) => {
        const matched = (positions[at] as number) + 1;
        if (provider !== undefined && (found.get(provider) ?? 0) < matched) found.set(provider, matched);
      });
      this.#shared.set(model, found);
    });
  }

  /** The request follows its session pin: counted as `pinned` (when it is the first placement). */
  notePinned(): void {
    this.#count('pinned');
  }

  /**
   * The warm provider among `candidates` for `model`: the one believed to hold the longest prefix
   * of the prompt (local index, or the shared one when it knows a longer one), if that is at least
   * `minMatch` of its blocks and sending it there keeps the load within bounds; else why not.
   * Undefined when the request opted out (the strategy decides, with no affinity reason).
   */
  choose(model: string, candidates: readonly AffinityCandidate[]): AffinityChoice | undefined {
    if (this.optedOut) {
      this.#count('opted-out');
      return undefined;
    }
    const started = performance.now();
    try {
      const settings = this.#host.settings;
      const keys = this.keys(model);
      if (keys.length === 0) {
        this.#count('fallback-no-match');
        return { kind: 'fallback', reason: 'prompt shorter than one block' };
      }
      const accepts = (id: string): boolean => candidates.some((candidate) => candidate.id === id);
      const local = this.#host.index.longestMatch(keys, accepts);
      let matched = local.matched;
      let providers = local.providers;
      for (const [provider, blocks] of this.#shared.get(model) ?? []) {
        if (blocks < matched || !accepts(provider)) continue;
        providers = blocks > matched ? [provider] : providers.includes(provider) ? providers : [...providers, provider];
        matched = blocks;
      }
      if (matched === 0 || matched < settings.minMatch * keys.length) {
        this.#count('fallback-no-match');
        return { kind: 'fallback', reason: matched === 0 ? `no warm provider for ${keys.length} blocks` : `matched ${matched}/${keys.length} blocks < ${settings.minMatch}` };
      }
      // The load bound counts the fleet's in-flight requests: this instance's and the others' last published.
      let warm: AffinityCandidate | undefined;
      let warmLoad = 0;
      let least = Number.POSITIVE_INFINITY;
      for (const candidate of candidates) {
        const load = candidate.inFlight + this.#host.othersInFlight(candidate.id);
        least = Math.min(least, load);
        if (providers.includes(candidate.id) && (warm === undefined || load < warmLoad)) {
          warm = candidate;
          warmLoad = load;
        }
      }
      if (!warm) {
        this.#count('fallback-no-match');
        return { kind: 'fallback', reason: `no warm provider for ${keys.length} blocks` };
      }
      const imbalance = imbalanceOf(warmLoad, least, { absolute: settings.balanceAbs, relative: settings.balanceRel });
      if (imbalance !== undefined) {
        this.#count('fallback-imbalance');
        return { kind: 'fallback', reason: imbalance, avoid: warm.id };
      }
      this.#count('matched');
      return { kind: 'matched', provider: warm.id, reason: `prefix-affinity: matched ${matched}/${keys.length} blocks` };
    } finally {
      this.#work(started);
    }
  }

  /**
   * `provider` served the request for `model` with `usage`: its prompt's blocks are recorded
   * against it (locally; and in the shared index, off the request path, when that told the local
   * index something new). Reported cached tokens well under what the index predicted for it shrink
   * its capacity estimate; a predicted hit confirmed lets it grow back.
   */
  served(model: string, provider: string, usage: { prompt_tokens?: unknown; prompt_tokens_details?: unknown } | undefined): void {
    const started = performance.now();
    const cached = this.#host.noteUsage(provider, usage);
    const keys = this.keys(model);
    if (keys.length > 0) {
      const { index, settings, shared } = this.#host;
      const predicted = cached === undefined ? 0 : index.matchedBlocks(provider, keys);
      if (cached !== undefined && predicted > 0) {
        if (cached < ((predicted * settings.blockChars) / CHARS_PER_TOKEN) * MISS_SHARE) index.cacheMissed(provider);
        else index.cacheConfirmed(provider, predicted);
      }
      const news = index.record(provider, keys);
      if (news && shared?.available) {
        shared.write(
          sharedPositions(keys.length, settings.sharedEvery).map((position) => keys[position] as string),
          provider,
          settings.ttlSeconds * 1000,
        );
      }
    }
    this.#work(started);
  }

  #count(decision: AffinityDecision): void {
    if (this.#counted) return;
    this.#counted = true;
    this.#host.count(decision);
  }

  #work(started: number): void {
    this.#host.addWork((performance.now() - started) * 1000, !this.#worked);
    this.#worked = true;
  }
}

/** The block positions of a chain of `count` blocks kept in the shared index: every `every`-th block and the last. */
export function sharedPositions(count: number, every: number): number[] {
  const positions: number[] = [];
  for (let position = every - 1; position < count - 1; position += every) positions.push(position);
  if (count > 0) positions.push(count - 1);
  return positions;
}
