/**
 * The benchmark's settings: defaults for the full run (under 5 minutes), a quick mode for a smoke
 * run (`BENCH_QUICK=1` or `--quick`, ~30 s), and individual overrides from the environment or
 * `--name=value` arguments (e.g. `--streams=500` or `BENCH_STREAMS=500`).
 */

export interface BenchOptions {
  quick: boolean;
  /** Alternated rounds per phase (each round measures every target once, in rotating order). */
  rounds: number;
  /** Per target, before its first round, discarded. */
  warmupMs: number;
  openai: {
    /** Words in each JSON completion of the fake upstream. */
    completionTokens: number;
    c1DurationMs: number;
    loadConcurrency: number;
    loadDurationMs: number;
  };
  streams: {
    count: number;
    chunks: number;
    gapMs: number;
    rampMs: number;
    rounds: number;
    warmupCount: number;
  };
  zg: {
    enabled: boolean;
    providers: number;
    sdkSamples: number;
    c1DurationMs: number;
    loadConcurrency: number;
    loadDurationMs: number;
    /** Chats sent through the gateway while the RPC relay counts. */
    rpcBurstChats: number;
    rpcBurstConcurrency: number;
  };
  /** Every single request or stream gives up after this. */
  requestTimeoutMs: number;
  /** Directory for a `--cpu-prof` profile of the gateway child, if wanted. */
  cpuProfileDir: string | undefined;
  /** Show the children's stdout (on stderr). */
  verbose: boolean;
}

/** `--streams=500` → BENCH_STREAMS=500; `--quick` → BENCH_QUICK=1. */
function readSettings(argv: readonly string[], env: NodeJS.ProcessEnv): { settings: Map<string, string>; fromArgv: Set<string> } {
  const settings = new Map<string, string>();
  const fromArgv = new Set<string>();
  for (const [key, value] of Object.entries(env)) {
    if (key.startsWith('BENCH_') && value !== undefined) settings.set(key, value);
  }
  for (const argument of argv) {
    const match = /^--([a-z0-9-]+)(?:=(.*))?$/i.exec(argument);
    if (!match?.[1]) throw new Error(`bench: unknown argument ${argument} (use --name=value, e.g. --quick or --streams=500)`);
    const key = `BENCH_${match[1].toUpperCase().replace(/-/g, '_')}`;
    settings.set(key, match[2] ?? '1');
    fromArgv.add(key);
  }
  return { settings, fromArgv };
}

const KNOWN = new Set([
  'BENCH_QUICK',
  'BENCH_ROUNDS',
  'BENCH_WARMUP_MS',
  'BENCH_COMPLETION_TOKENS',
  'BENCH_C1_DURATION_MS',
  'BENCH_CONCURRENCY',
  'BENCH_LOAD_DURATION_MS',
  'BENCH_STREAMS',
  'BENCH_STREAM_CHUNKS',
  'BENCH_STREAM_GAP_MS',
  'BENCH_STREAM_RAMP_MS',
  'BENCH_STREAM_ROUNDS',
  'BENCH_ZG',
  'BENCH_ZG_CONCURRENCY',
  'BENCH_RPC_BURST',
  'BENCH_CPU_PROF',
  'BENCH_VERBOSE',
]);

export function readBenchOptions(argv: readonly string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): BenchOptions {
  const { settings, fromArgv } = readSettings(argv, env);
  for (const key of settings.keys()) {
    if (KNOWN.has(key)) continue;
    const known = [...KNOWN].join(', ');
    // A typo on the command line stops the run; a stray variable in the environment only warns.
    if (fromArgv.has(key)) {
      throw new Error(`bench: unknown setting ${key}; known: ${known}`);
    }
    process.stderr.write(`[bench] ignoring unknown environment variable ${key} (known: ${known})\n`);
  }
  const flag = (key: string): boolean => ['1', 'true', 'yes'].includes((settings.get(key) ?? '').toLowerCase());
  const quick = flag('BENCH_QUICK');
  const number = (key: string, full: number, quickValue: number): number => {
    const raw = settings.get(key);
    if (raw === undefined) return quick ? quickValue : full;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0) throw new Error(`bench: ${key} must be a non-negative number, not ${raw}`);
    return value;
  };
  return {
    quick,
    rounds: Math.max(1, number('BENCH_ROUNDS', 3, 1)),
    warmupMs: number('BENCH_WARMUP_MS', 1500, 400),
    openai: {
      completionTokens: number('BENCH_COMPLETION_TOKENS', 100, 100),
      c1DurationMs: number('BENCH_C1_DURATION_MS', 2000, 600),
      loadConcurrency: Math.max(1, number('BENCH_CONCURRENCY', 64, 64)),
      loadDurationMs: number('BENCH_LOAD_DURATION_MS', 3000, 1000),
    },
    streams: {
      count: Math.max(1, number('BENCH_STREAMS', 1000, 200)),
      // 1,000 streams x 10 chunks/s = 10k SSE events/s: a bare Node proxy stays well below one
      // core on a 2-core machine, so TTFT shows the proxy's overhead rather than saturation.
      chunks: Math.max(1, number('BENCH_STREAM_CHUNKS', 25, 20)),
      gapMs: number('BENCH_STREAM_GAP_MS', 100, 50),
      rampMs: number('BENCH_STREAM_RAMP_MS', 1000, 250),
      rounds: Math.max(1, number('BENCH_STREAM_ROUNDS', 2, 1)),
      warmupCount: 100,
    },
    zg: {
      enabled: settings.get('BENCH_ZG') === undefined || flag('BENCH_ZG'),
      providers: 1,
      sdkSamples: quick ? 30 : 200,
      c1DurationMs: number('BENCH_C1_DURATION_MS', 2000, 600),
      loadConcurrency: Math.max(1, number('BENCH_ZG_CONCURRENCY', 16, 16)),
      loadDurationMs: number('BENCH_LOAD_DURATION_MS', 3000, 1000),
      rpcBurstChats: Math.max(1, number('BENCH_RPC_BURST', 200, 50)),
      rpcBurstConcurrency: 8,
    },
    requestTimeoutMs: 60_000,
    cpuProfileDir: settings.get('BENCH_CPU_PROF'),
    verbose: flag('BENCH_VERBOSE'),
  };
}
