/**
 * `npm run bench`: the orchestrator. Starts the load generator, runs the plain OpenAI-compatible
 * phases (fake upstream direct, floor proxy, gateway) and the 0G devnet phases, each server in its
 * own process, then prints a table and, as the last line of stdout, one JSON object.
 * Progress goes to stderr. Every child is stopped at the end and killed on any error or signal;
 * the whole run is capped by a hard deadline.
 *
 * Settings: see bench-options.ts (`BENCH_QUICK=1` or `--quick` for a smoke run).
 * `npm run bench -- affinity [--conversations 40 ...]` runs the cache-aware routing benchmark
 * instead (affinity-bench.ts, settings in affinity-options.ts).
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { runAffinityBench } from './affinity-bench.js';
import { readBenchOptions, type BenchOptions } from './bench-options.js';
import { ChildHandle } from './ipc.js';
import { runOpenAiPhases, type PhaseContext } from './openai-phases.js';
import { buildReport } from './report.js';
import { runZgPhases, type ZgPhaseResults } from './zg-phases.js';

/** The whole run, start to end, including start-up of the devnet. */
const HARD_DEADLINE_MS = 9 * 60_000;

function log(line: string): void {
  process.stderr.write(`[bench] ${line}\n`);
}

/** The soft limit on open files of this process (children inherit it); Infinity if unknown. */
function openFileLimit(): number {
  try {
    const limits = readFileSync('/proc/self/limits', 'utf8');
    const match = /^Max open files\s+(\S+)/m.exec(limits);
    if (!match?.[1] || match[1] === 'unlimited') return Number.POSITIVE_INFINITY;
    return Number(match[1]);
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/**
 * N streams need about 2N sockets in the floor and the gateway (client side and upstream side)
 * and N in the load generator and the upstream; one process's limit is what counts.
 */
function fitStreamsToFileLimit(options: BenchOptions, limit: number): void {
  const needed = 2 * options.streams.count + 256;
  if (limit >= needed) return;
  const fitted = Math.max(10, Math.floor((limit - 256) / 2));
  log(
    `open-file limit is ${limit}; ${options.streams.count} streams need about ${needed} per process. ` +
      `Running ${fitted} streams instead. Raise it with \`ulimit -n ${needed}\` (npm run bench raises the soft limit to the hard one).`,
  );
  options.streams.count = fitted;
}

async function main(): Promise<void> {
  const started = performance.now();
  const options = readBenchOptions();
  const limit = openFileLimit();
  fitStreamsToFileLimit(options, limit);
  const deadline = setTimeout(() => {
    log(`hard deadline of ${HARD_DEADLINE_MS / 1000} s reached; killing every child`);
    process.exit(2); // the exit guard in ipc.ts kills the children
  }, HARD_DEADLINE_MS);
  deadline.unref();

  let gatewayExecArgv: string[] = [];
  if (options.cpuProfileDir) {
    const directory = options.cpuProfileDir === '1' ? 'bench-profiles' : options.cpuProfileDir;
    const absolute = isAbsolute(directory) ? directory : join(process.cwd(), directory);
    gatewayExecArgv = ['--cpu-prof', `--cpu-prof-dir=${absolute}`];
    log(`gateway CPU profiles go to ${absolute}`);
  }
  log(`${options.quick ? 'quick' : 'full'} run; open-file limit ${limit}`);
  const loadgen = await ChildHandle.start<null>('loadgen', { script: 'load-generator.js', args: {}, readyTimeoutMs: 15_000, verbose: options.verbose });
  try {
    const context: PhaseContext = { options, loadgen: loadgen.handle, log, gatewayExecArgv };
    const openai = await runOpenAiPhases(context);
    let zg: ZgPhaseResults | undefined;
    if (options.zg.enabled) zg = await runZgPhases(context);
    else log('zg phases skipped (BENCH_ZG=0)');
    const { table, json } = buildReport(
      { options, node: process.version, cpus: availableParallelism(), openFileLimit: limit, durationS: (performance.now() - started) / 1000 },
      openai,
      zg,
    );
    process.stdout.write(`${table.join('\n')}\n\n${JSON.stringify(json)}\n`);
  } finally {
    await loadgen.handle.stop();
  }
}

// `npm run bench -- affinity [flags]`: the cache-aware routing benchmark instead (affinity-bench.ts).
const entry = process.argv[2] === 'affinity' ? () => runAffinityBench(process.argv.slice(3)) : main;

entry().then(
  () => process.exit(0),
  (error: unknown) => {
    // Setting errors (they start with "bench:") need no stack.
    const text = error instanceof Error ? (error.message.startsWith('bench:') ? error.message : (error.stack ?? error.message)) : String(error);
    log(`failed: ${text}`);
    process.exit(1);
  },
);
