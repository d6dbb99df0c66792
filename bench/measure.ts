/**
 * Alternated measurement: every round measures each target once, in an order that rotates
 * from round to round, so drift on a shared machine (other processes, thermal, GC) falls on
 * all targets alike. Around each run the CPU time of the processes involved is read over IPC,
 * so CPU per request is charged to the run that used it. Warm-up runs come first, discarded.
 */
import type { ChildHandle } from './ipc.js';
import type { ClosedLoopArgs, ClosedLoopResult } from './load-generator.js';
import { concatSamples } from './stats.js';
import type { StreamsArgs, StreamsResult } from './stream-client.js';

/** One thing measured: where to send requests and which process serves them. */
export interface Target {
  name: string;
  origin: string;
  path: string;
  headers: Record<string, string>;
  /** The process whose CPU and memory are charged to this target (the proxy); none for direct. */
  server?: ChildHandle;
}

/** CPU time (ms) of each watched process during the runs of one target, summed over rounds. */
export type CpuByProcess = Record<string, number>;

export interface ClosedLoopTotals {
  target: string;
  completed: number;
  errors: number;
  wallMs: number;
  latenciesMs: Float64Array;
  /** CPU ms used by the target's own server process, per request answered. */
  serverCpuMsPerRequest: number;
  cpuMs: CpuByProcess;
  firstError?: string;
}

export interface StreamTotals {
  target: string;
  started: number;
  completed: number;
  failed: number;
  ttftMs: Float64Array;
  streamMs: Float64Array;
  peakOpen: number;
  wallMs: number;
  /** Highest RSS of the target's server process during its rounds, MB. */
  serverPeakRssMb: number;
  /** Most streams the upstream had open at once during this target's rounds. */
  upstreamPeakStreams: number;
  cpuMs: CpuByProcess;
  firstError?: string;
}

async function cpuSnapshot(processes: ReadonlyMap<string, ChildHandle>): Promise<Map<string, number>> {
  const entries = await Promise.all([...processes].map(async ([name, handle]) => [name, (await handle.usage()).cpuMs] as const));
  return new Map(entries);
}

function addCpu(into: CpuByProcess, before: Map<string, number>, after: Map<string, number>): void {
  for (const [name, value] of after) into[name] = (into[name] ?? 0) + value - (before.get(name) ?? value);
}

function rotated<T>(items: readonly T[], by: number): T[] {
  const shift = by % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

export interface AlternateOptions {
  loadgen: ChildHandle;
  targets: readonly Target[];
  rounds: number;
  /** Processes whose CPU is read around every run (the targets' servers are added). */
  watch: ReadonlyMap<string, ChildHandle>;
  /** The fake upstream, asked how many streams it carried at once (stream bursts only). */
  upstream?: ChildHandle;
  /** Called between runs, e.g. for progress lines. */
  onRun?: (target: string, round: number, summary: string) => void;
}

function watchedFor(options: AlternateOptions, target: Target): Map<string, ChildHandle> {
  const watched = new Map(options.watch);
  if (target.server) watched.set('server', target.server);
  return watched;
}

/** Closed-loop runs of every target, alternated over rounds after one warm-up each. */
export async function alternateClosedLoop(
  options: AlternateOptions,
  load: Omit<ClosedLoopArgs, 'origin' | 'path' | 'headers'>,
  warmupMs: number,
): Promise<Map<string, ClosedLoopTotals>> {
  const callTimeout = load.durationMs + load.requestTimeoutMs + 10_000;
  const run = (target: Target, durationMs: number): Promise<ClosedLoopResult> =>
    options.loadgen.call<ClosedLoopResult>('closedLoop', { ...load, durationMs, origin: target.origin, path: target.path, headers: target.headers } satisfies ClosedLoopArgs, callTimeout);
  for (const target of options.targets) if (warmupMs > 0) await run(target, warmupMs);

  const totals = new Map<string, ClosedLoopTotals & { parts: Float64Array[] }>();
  for (const target of options.targets) {
    totals.set(target.name, { target: target.name, completed: 0, errors: 0, wallMs: 0, latenciesMs: new Float64Array(0), serverCpuMsPerRequest: Number.NaN, cpuMs: {}, parts: [] });
  }
  for (let round = 0; round < options.rounds; round++) {
    for (const target of rotated(options.targets, round)) {
      const watched = watchedFor(options, target);
      const before = await cpuSnapshot(watched);
      const result = await run(target, load.durationMs);
      const after = await cpuSnapshot(watched);
      const total = totals.get(target.name) as ClosedLoopTotals & { parts: Float64Array[] };
      total.completed += result.completed;
      total.errors += result.errors;
      total.wallMs += result.wallMs;
      total.parts.push(result.latenciesMs);
      addCpu(total.cpuMs, before, after);
      if (result.firstError && !total.firstError) total.firstError = result.firstError;
      options.onRun?.(target.name, round, `${((result.completed / result.wallMs) * 1000).toFixed(0)} req/s, ${result.errors} errors`);
    }
  }
  const out = new Map<string, ClosedLoopTotals>();
  for (const [name, { parts, ...total }] of totals) {
    const answered = total.completed + total.errors;
    const serverCpu = total.cpuMs.server;
    out.set(name, { ...total, latenciesMs: concatSamples(parts), serverCpuMsPerRequest: serverCpu !== undefined && answered > 0 ? serverCpu / answered : Number.NaN });
  }
  return out;
}

/** Stream bursts against every target, alternated over rounds after one small warm-up burst each. */
export async function alternateStreams(
  options: AlternateOptions,
  burst: Omit<StreamsArgs, 'origin' | 'path' | 'headers'>,
  warmupCount: number,
): Promise<Map<string, StreamTotals>> {
  const callTimeout = burst.rampMs + burst.timeoutMs + 30_000;
  const run = (target: Target, count: number): Promise<StreamsResult> =>
    options.loadgen.call<StreamsResult>('streams', { ...burst, count, origin: target.origin, path: target.path, headers: target.headers } satisfies StreamsArgs, callTimeout);
  for (const target of options.targets) if (warmupCount > 0) await run(target, Math.min(warmupCount, burst.count));

  const totals = new Map<string, StreamTotals & { ttftParts: Float64Array[]; streamParts: Float64Array[] }>();
  for (const target of options.targets) {
    totals.set(target.name, {
      target: target.name,
      started: 0,
      completed: 0,
      failed: 0,
      ttftMs: new Float64Array(0),
      streamMs: new Float64Array(0),
      peakOpen: 0,
      wallMs: 0,
      serverPeakRssMb: Number.NaN,
      upstreamPeakStreams: 0,
      cpuMs: {},
      ttftParts: [],
      streamParts: [],
    });
  }
  for (let round = 0; round < options.rounds; round++) {
    for (const target of rotated(options.targets, round)) {
      const watched = watchedFor(options, target);
      await target.server?.call('resetPeak', null, 5000);
      await options.upstream?.call('resetStreamPeak', null, 5000);
      const before = await cpuSnapshot(watched);
      const result = await run(target, burst.count);
      const after = await cpuSnapshot(watched);
      const peak = target.server ? (await target.server.usage()).peakRssMb : Number.NaN;
      const upstreamPeak = options.upstream ? await options.upstream.call<number>('streamPeak', null, 5000) : Number.NaN;
      const total = totals.get(target.name) as StreamTotals & { ttftParts: Float64Array[]; streamParts: Float64Array[] };
      total.started += result.started;
      total.completed += result.completed;
      total.failed += result.failed;
      total.peakOpen = Math.max(total.peakOpen, result.peakOpen);
      total.upstreamPeakStreams = Math.max(total.upstreamPeakStreams, upstreamPeak);
      total.wallMs += result.wallMs;
      total.serverPeakRssMb = Number.isNaN(total.serverPeakRssMb) ? peak : Math.max(total.serverPeakRssMb, peak);
      total.ttftParts.push(result.ttftMs);
      total.streamParts.push(result.streamMs);
      addCpu(total.cpuMs, before, after);
      if (result.firstError && !total.firstError) total.firstError = result.firstError;
      options.onRun?.(
        target.name,
        round,
        `${result.completed}/${result.started} streams completed, peak ${result.peakOpen} open at the client, ${upstreamPeak} at the upstream, ${(result.wallMs / 1000).toFixed(1)} s`,
      );
    }
  }
  const out = new Map<string, StreamTotals>();
  for (const [name, { ttftParts, streamParts, ...total }] of totals) {
    out.set(name, { ...total, ttftMs: concatSamples(ttftParts), streamMs: concatSamples(streamParts) });
  }
  return out;
}
