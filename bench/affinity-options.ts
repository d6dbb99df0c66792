/**
 * Settings of `npm run bench -- affinity` (the cache-aware routing benchmark). Every setting is a
 * flag, `--name value` or `--name=value`; `--quick` scales the workload down for a run of a few
 * minutes on 2 cores.
 */

export interface AffinityBenchOptions {
  conversations: number;
  turns: number;
  /** Distinct shared system prompts. */
  systemPrompts: number;
  /** Tokens (devnet tokens: one per word) in each system prompt. */
  systemTokens: number;
  /** User turns are uniformly this many tokens… */
  userTokensMin: number;
  /** …to this many. */
  userTokensMax: number;
  /** Requests in flight at once (turns of different conversations interleave). */
  concurrency: number;
  /** Mean pause between an answer and the conversation's next turn, ms. */
  thinkMs: number;
  providers: number;
  /** Gateway instances sharing Redis in the multi-instance scenario. */
  instances: number;
  /** Simulated provider: KV cache capacity, tokens. */
  capacityTokens: number;
  /** Simulated provider: prefill ms per uncached token. */
  perTokenMs: number;
  /** Simulated provider: TTFT floor, ms. */
  baseTtftMs: number;
  /** Simulated provider: prefills computed at once. */
  prefillSlots: number;
  /** Simulated provider: gap between streamed chunks (decode), ms. */
  chunkMs: number;
  /** Which scenarios: any of single, multi, removal, control. */
  scenarios: string[];
  /** Which systems: any of round-robin, least-load, affinity, oracle. */
  systems: string[];
  seed: number;
  verbose: boolean;
}

const DEFAULTS: AffinityBenchOptions = {
  conversations: 200,
  turns: 6,
  systemPrompts: 10,
  systemTokens: 2000,
  userTokensMin: 50,
  userTokensMax: 200,
  concurrency: 32,
  thinkMs: 1000,
  providers: 4,
  instances: 3,
  capacityTokens: 131_072,
  perTokenMs: 0.2,
  baseTtftMs: 20,
  prefillSlots: 4,
  chunkMs: 2,
  scenarios: ['single', 'multi', 'removal', 'control'],
  systems: ['round-robin', 'least-load', 'affinity', 'oracle'],
  seed: 18,
  verbose: false,
};

const QUICK: Partial<AffinityBenchOptions> = { conversations: 40, concurrency: 16 };

export const SCENARIOS = ['single', 'multi', 'removal', 'control'] as const;
export const SYSTEMS = ['round-robin', 'least-load', 'affinity', 'oracle'] as const;

/** Reads `--name value` / `--name=value` flags (after the `affinity` word). */
export function readAffinityOptions(argv: readonly string[]): AffinityBenchOptions {
  const given = new Map<string, string>();
  for (let index = 0; index < argv.length; index++) {
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[index] ?? '');
    if (!match?.[1]) throw new Error(`bench: unknown argument ${argv[index]} (flags: --conversations 40, --quick, ...)`);
    let value = match[2];
    if (value === undefined && argv[index + 1] !== undefined && !argv[index + 1]?.startsWith('--')) value = argv[++index];
    given.set(match[1], value ?? '1');
  }
  const options: AffinityBenchOptions = { ...DEFAULTS, ...(given.has('quick') ? QUICK : {}) };
  given.delete('quick');
  const camel = (flag: string): string => flag.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
  for (const [flag, raw] of given) {
    const key = camel(flag) as keyof AffinityBenchOptions;
    if (!(key in DEFAULTS)) throw new Error(`bench: unknown flag --${flag}; known: --quick, ${Object.keys(DEFAULTS).map((name) => `--${name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`).join(', ')}`);
    const current = DEFAULTS[key];
    if (Array.isArray(current)) {
      const list = raw.split(',').filter(Boolean);
      const allowed: readonly string[] = key === 'scenarios' ? SCENARIOS : SYSTEMS;
      for (const item of list) if (!allowed.includes(item)) throw new Error(`bench: --${flag} takes ${allowed.join(',')}, not ${item}`);
      (options as unknown as Record<string, unknown>)[key] = list;
    } else if (typeof current === 'boolean') {
      (options as unknown as Record<string, unknown>)[key] = raw !== '0' && raw !== 'false';
    } else {
      const value = Number(raw);
      if (!Number.isFinite(value) || value < 0) throw new Error(`bench: --${flag} must be a non-negative number, not ${raw}`);
      (options as unknown as Record<string, unknown>)[key] = value;
    }
  }
  if (options.userTokensMax < options.userTokensMin) throw new Error('bench: --user-tokens-max must be ≥ --user-tokens-min');
  return options;
}
