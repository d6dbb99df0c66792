/**
 * The plain OpenAI-compatible phases: the fake upstream direct, the floor proxy in front of it,
 * and the gateway in front of it, each in its own process, measured alternately at
 * concurrency 1, under load (64 in flight) and with a burst of concurrent SSE streams.
 */
import type { BenchOptions } from './bench-options.js';
import type { FakeUpstreamArgs, FakeUpstreamInfo } from './fake-upstream.js';
import type { FloorProxyArgs, FloorProxyInfo } from './floor-proxy.js';
import type { GatewayChildArgs, GatewayChildInfo } from './gateway-child.js';
import { ChildHandle } from './ipc.js';
import { alternateClosedLoop, alternateStreams, type ClosedLoopTotals, type StreamTotals, type Target } from './measure.js';

export const BENCH_MODEL = 'bench-model';

export interface OpenAiPhaseResults {
  c1: Map<string, ClosedLoopTotals>;
  load: Map<string, ClosedLoopTotals>;
  streams: Map<string, StreamTotals>;
  /** The gateway process's lifetime RSS high-water mark, MB. */
  gatewayMaxRssMb: number;
}

export interface PhaseContext {
  options: BenchOptions;
  loadgen: ChildHandle;
  log(line: string): void;
  /** Node flags for gateway children (a CPU profile, when asked for). */
  gatewayExecArgv: string[];
}

function chatBody(stream: boolean): string {
  return JSON.stringify({
    model: BENCH_MODEL,
    messages: [{ role: 'user', content: 'Say hello to the benchmark.' }],
    ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
  });
}

export async function runOpenAiPhases(context: PhaseContext): Promise<OpenAiPhaseResults> {
  const { options, loadgen, log } = context;
  const started: ChildHandle[] = [];
  try {
    const upstream = await ChildHandle.start<FakeUpstreamInfo>('upstream', {
      script: 'fake-upstream.js',
      args: { model: BENCH_MODEL, completionTokens: options.openai.completionTokens, streamChunks: options.streams.chunks, streamGapMs: options.streams.gapMs } satisfies FakeUpstreamArgs,
      readyTimeoutMs: 15_000,
      verbose: options.verbose,
    });
    started.push(upstream.handle);
    const floor = await ChildHandle.start<FloorProxyInfo>('floor', {
      script: 'floor-proxy.js',
      args: { upstreamPort: upstream.info.port } satisfies FloorProxyArgs,
      readyTimeoutMs: 15_000,
      verbose: options.verbose,
    });
    started.push(floor.handle);
    const gateway = await ChildHandle.start<GatewayChildInfo>('gateway', {
      script: 'gateway-child.js',
      args: { options: { openAICompatibleProviders: [{ name: 'bench-upstream', baseUrl: upstream.info.baseUrl, model: BENCH_MODEL }] } } satisfies GatewayChildArgs,
      readyTimeoutMs: 30_000,
      verbose: options.verbose,
      execArgv: context.gatewayExecArgv,
    });
    started.push(gateway.handle);
    log(`upstream ${upstream.info.baseUrl}, floor ${floor.info.url}, gateway ${gateway.info.url}`);

    const jsonHeaders = { 'content-type': 'application/json' };
    const direct: Target = { name: 'direct', origin: `http://127.0.0.1:${upstream.info.port}`, path: '/v1/chat/completions', headers: jsonHeaders };
    const floorTarget: Target = { name: 'floor', origin: floor.info.url, path: '/v1/chat/completions', headers: jsonHeaders, server: floor.handle };
    const gatewayTarget: Target = { name: 'gateway', origin: gateway.info.url, path: '/v1/chat/completions', headers: jsonHeaders, server: gateway.handle };
    const watch = new Map([
      ['upstream', upstream.handle],
      ['loadgen', loadgen],
    ]);
    const onRun = (phase: string) => (target: string, round: number, summary: string) => log(`  ${phase} round ${round + 1}/${options.rounds} ${target.padEnd(8)} ${summary}`);

    log(`openai: concurrency 1, ${options.rounds} rounds x ${options.openai.c1DurationMs} ms per target`);
    const c1 = await alternateClosedLoop(
      { loadgen, targets: [direct, floorTarget, gatewayTarget], rounds: options.rounds, watch, onRun: onRun('c1') },
      { body: chatBody(false), concurrency: 1, durationMs: options.openai.c1DurationMs, maxRequests: 200_000, requestTimeoutMs: options.requestTimeoutMs },
      options.warmupMs,
    );
    const concurrency = options.openai.loadConcurrency;
    log(`openai: concurrency ${concurrency}, ${options.rounds} rounds x ${options.openai.loadDurationMs} ms per target`);
    const load = await alternateClosedLoop(
      { loadgen, targets: [direct, floorTarget, gatewayTarget], rounds: options.rounds, watch, onRun: onRun(`c${concurrency}`) },
      { body: chatBody(false), concurrency, durationMs: options.openai.loadDurationMs, maxRequests: 2_000_000, requestTimeoutMs: options.requestTimeoutMs },
      options.warmupMs,
    );

    const { streams: settings } = options;
    log(`streams: ${settings.count} concurrent SSE streams (${settings.chunks} chunks, ${settings.gapMs} ms apart, started over ${settings.rampMs} ms), ${settings.rounds} rounds per target`);
    const streams = await alternateStreams(
      { loadgen, targets: [floorTarget, gatewayTarget], rounds: settings.rounds, watch, upstream: upstream.handle, onRun: (target, round, summary) => log(`  streams round ${round + 1}/${settings.rounds} ${target.padEnd(8)} ${summary}`) },
      { body: chatBody(true), count: settings.count, rampMs: settings.rampMs, timeoutMs: options.requestTimeoutMs },
      settings.warmupCount,
    );
    const gatewayMaxRssMb = (await gateway.handle.usage()).maxRssMb;
    return { c1, load, streams, gatewayMaxRssMb };
  } finally {
    await Promise.all(started.reverse().map((handle) => handle.stop()));
  }
}
