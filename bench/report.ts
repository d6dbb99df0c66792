/**
 * Turns the phases' raw totals into the figures: a human-readable table (stdout) and one JSON
 * object (the last line of stdout). Added latency = gateway percentile − floor percentile (plain
 * upstream) or − direct percentile (0G, where no floor proxy exists); RPS = requests answered ÷
 * the wall time of the runs, summed over rounds.
 */
import type { BenchOptions } from './bench-options.js';
import type { ClosedLoopTotals, StreamTotals } from './measure.js';
import type { OpenAiPhaseResults } from './openai-phases.js';
import { distribution, round, type Distribution } from './stats.js';
import type { ZgPhaseResults } from './zg-phases.js';

export interface RunFacts {
  options: BenchOptions;
  node: string;
  cpus: number;
  openFileLimit: number;
  durationS: number;
}

interface LoadFigures {
  rps: number;
  latency: Distribution;
  errors: number;
  serverCpuMsPerRequest: number;
  /** Load generator CPU ms per wall ms during these runs (1 = one core saturated). */
  loadgenCpuShare: number;
}

function figures(totals: ClosedLoopTotals | undefined): LoadFigures {
  if (!totals) return { rps: Number.NaN, latency: distribution([]), errors: 0, serverCpuMsPerRequest: Number.NaN, loadgenCpuShare: Number.NaN };
  return {
    rps: (totals.completed / totals.wallMs) * 1000,
    latency: distribution(totals.latenciesMs),
    errors: totals.errors,
    serverCpuMsPerRequest: totals.serverCpuMsPerRequest,
    loadgenCpuShare: (totals.cpuMs.loadgen ?? Number.NaN) / totals.wallMs,
  };
}

function streamFigures(totals: StreamTotals | undefined): { ttft: Distribution; duration: Distribution; totals: StreamTotals | undefined } {
  return { ttft: distribution(totals?.ttftMs ?? []), duration: distribution(totals?.streamMs ?? []), totals };
}

const fmt = (value: number, digits = 2): string => (Number.isFinite(value) ? value.toFixed(digits) : '-');
const signed = (value: number, digits = 2): string => (Number.isFinite(value) ? `${value >= 0 ? '+' : ''}${value.toFixed(digits)}` : '-');

class Table {
  readonly lines: string[] = [];
  heading(title: string, columns: string[]): void {
    const cells = columns.map((column) => column.padStart(12)).join('');
    if (title.length < 46) this.lines.push('', title.padEnd(46) + cells);
    else this.lines.push('', title, ''.padEnd(46) + cells);
  }
  row(label: string, cells: string[]): void {
    this.lines.push(`  ${label}`.padEnd(46) + cells.map((cell) => cell.padStart(12)).join(''));
  }
  note(text: string): void {
    this.lines.push(`  ${text}`);
  }
}

/** Builds the table lines and the JSON summary. */
export function buildReport(facts: RunFacts, openai: OpenAiPhaseResults, zg: ZgPhaseResults | undefined): { table: string[]; json: Record<string, unknown> } {
  const { options } = facts;
  const concurrency = options.openai.loadConcurrency;
  const c1 = { direct: figures(openai.c1.get('direct')), floor: figures(openai.c1.get('floor')), gateway: figures(openai.c1.get('gateway')) };
  const load = { direct: figures(openai.load.get('direct')), floor: figures(openai.load.get('floor')), gateway: figures(openai.load.get('gateway')) };
  const streams = { floor: streamFigures(openai.streams.get('floor')), gateway: streamFigures(openai.streams.get('gateway')) };
  const upstreamCpuPerRequest = (() => {
    const direct = openai.load.get('direct');
    return direct ? (direct.cpuMs.upstream ?? Number.NaN) / (direct.completed + direct.errors) : Number.NaN;
  })();

  const table = new Table();
  table.lines.push(`zg-gateway benchmark: ${options.quick ? 'quick' : 'full'} run, node ${facts.node}, ${facts.cpus} CPUs, ${facts.durationS.toFixed(0)} s, loopback`);
  table.heading('Plain OpenAI-compatible upstream (JSON chats)', ['direct', 'floor', 'gateway', 'gw - floor']);
  const latencyRow = (label: string, set: typeof c1, pick: (d: Distribution) => number): void =>
    table.row(label, [fmt(pick(set.direct.latency)), fmt(pick(set.floor.latency)), fmt(pick(set.gateway.latency)), signed(pick(set.gateway.latency) - pick(set.floor.latency))]);
  latencyRow('c1 latency p50 (ms)', c1, (d) => d.p50);
  latencyRow('c1 latency p99 (ms)', c1, (d) => d.p99);
  table.row('c1 req/s', [fmt(c1.direct.rps, 0), fmt(c1.floor.rps, 0), fmt(c1.gateway.rps, 0), '']);
  table.row(`c${concurrency} req/s`, [fmt(load.direct.rps, 0), fmt(load.floor.rps, 0), fmt(load.gateway.rps, 0), `x${fmt(load.gateway.rps / load.floor.rps)}`]);
  latencyRow(`c${concurrency} latency p50 (ms)`, load, (d) => d.p50);
  latencyRow(`c${concurrency} latency p99 (ms)`, load, (d) => d.p99);
  table.row(`CPU ms per request, c${concurrency}`, [fmt(upstreamCpuPerRequest, 3), fmt(load.floor.serverCpuMsPerRequest, 3), fmt(load.gateway.serverCpuMsPerRequest, 3), '']);
  table.row(`load generator CPU share, c${concurrency}`, [fmt(load.direct.loadgenCpuShare), fmt(load.floor.loadgenCpuShare), fmt(load.gateway.loadgenCpuShare), '']);
  table.row('errors (c1 + load)', [String(c1.direct.errors + load.direct.errors), String(c1.floor.errors + load.floor.errors), String(c1.gateway.errors + load.gateway.errors), '']);
  table.note('direct CPU = the fake upstream\'s; floor/gateway CPU = the proxy process\'s own. A share near 1.0 means the load generator saturated a core.');

  const s = options.streams;
  table.heading(`${s.count} concurrent SSE streams x ${s.rounds} rounds (${s.chunks} chunks, ${s.gapMs} ms apart)`, ['', 'floor', 'gateway', 'gw - floor']);
  const streamRow = (label: string, pick: (f: typeof streams.floor) => number, digits = 1, diff = true): void =>
    table.row(label, ['', fmt(pick(streams.floor), digits), fmt(pick(streams.gateway), digits), diff ? signed(pick(streams.gateway) - pick(streams.floor), digits) : '']);
  streamRow('completed', (f) => f.totals?.completed ?? Number.NaN, 0, false);
  streamRow('failed', (f) => f.totals?.failed ?? Number.NaN, 0, false);
  streamRow('peak streams open at the client', (f) => f.totals?.peakOpen ?? Number.NaN, 0, false);
  streamRow('peak streams open at the upstream', (f) => f.totals?.upstreamPeakStreams ?? Number.NaN, 0, false);
  streamRow('TTFT p50 (ms)', (f) => f.ttft.p50);
  streamRow('TTFT p99 (ms)', (f) => f.ttft.p99);
  streamRow('stream duration p50 (ms)', (f) => f.duration.p50, 0);
  streamRow('stream duration p99 (ms)', (f) => f.duration.p99, 0);
  streamRow('peak RSS of the proxy process (MB)', (f) => f.totals?.serverPeakRssMb ?? Number.NaN, 0, false);
  streamRow('CPU ms per stream (proxy process)', (f) => (f.totals ? (f.totals.cpuMs.server ?? Number.NaN) / f.totals.started : Number.NaN), 2, false);
  streamRow('load generator CPU share', (f) => (f.totals ? (f.totals.cpuMs.loadgen ?? Number.NaN) / f.totals.wallMs : Number.NaN), 2, false);
  const streamError = streams.gateway.totals?.firstError ?? streams.floor.totals?.firstError;
  if (streamError) table.note(`first stream error: ${streamError}`);

  const json: Record<string, unknown> = {
    openai: {
      directRps: round(load.direct.rps),
      floorRps: round(load.floor.rps),
      gatewayRps: round(load.gateway.rps),
      ratioToFloor: round(load.gateway.rps / load.floor.rps),
      concurrency,
      addedP50MsC1: round(c1.gateway.latency.p50 - c1.floor.latency.p50),
      addedP99MsC1: round(c1.gateway.latency.p99 - c1.floor.latency.p99),
      addedP50MsC64: round(load.gateway.latency.p50 - load.floor.latency.p50),
      addedP99MsC64: round(load.gateway.latency.p99 - load.floor.latency.p99),
      floorCpuMsPerRequest: round(load.floor.serverCpuMsPerRequest),
      gatewayCpuMsPerRequest: round(load.gateway.serverCpuMsPerRequest),
      upstreamCpuMsPerRequest: round(upstreamCpuPerRequest),
      gatewayMaxRssMb: round(openai.gatewayMaxRssMb),
      c1: Object.fromEntries(Object.entries(c1).map(([name, f]) => [name, { p50: round(f.latency.p50), p99: round(f.latency.p99), rps: round(f.rps), errors: f.errors }])),
      load: Object.fromEntries(Object.entries(load).map(([name, f]) => [name, { p50: round(f.latency.p50), p99: round(f.latency.p99), rps: round(f.rps), errors: f.errors, loadgenCpuShare: round(f.loadgenCpuShare) }])),
    },
    streams: {
      concurrent: s.count,
      rounds: s.rounds,
      started: streams.gateway.totals?.started ?? 0,
      completed: streams.gateway.totals?.completed ?? 0,
      failed: streams.gateway.totals?.failed ?? 0,
      floorCompleted: streams.floor.totals?.completed ?? 0,
      peakOpen: streams.gateway.totals?.peakOpen ?? 0,
      gatewayUpstreamPeakStreams: streams.gateway.totals?.upstreamPeakStreams ?? 0,
      floorUpstreamPeakStreams: streams.floor.totals?.upstreamPeakStreams ?? 0,
      addedTtftP50Ms: round(streams.gateway.ttft.p50 - streams.floor.ttft.p50),
      addedTtftP99Ms: round(streams.gateway.ttft.p99 - streams.floor.ttft.p99),
      floorTtftP50Ms: round(streams.floor.ttft.p50),
      floorTtftP99Ms: round(streams.floor.ttft.p99),
      gatewayTtftP50Ms: round(streams.gateway.ttft.p50),
      gatewayTtftP99Ms: round(streams.gateway.ttft.p99),
      gatewayRssMb: round(streams.gateway.totals?.serverPeakRssMb ?? Number.NaN),
      floorRssMb: round(streams.floor.totals?.serverPeakRssMb ?? Number.NaN),
      gatewayCpuMsPerStream: round(streams.gateway.totals ? (streams.gateway.totals.cpuMs.server ?? Number.NaN) / streams.gateway.totals.started : Number.NaN),
      floorCpuMsPerStream: round(streams.floor.totals ? (streams.floor.totals.cpuMs.server ?? Number.NaN) / streams.floor.totals.started : Number.NaN),
    },
    zg: zg ? zgSection(table, zg, options) : { skipped: true },
    run: { quick: options.quick, node: facts.node, cpus: facts.cpus, openFileLimit: facts.openFileLimit, durationS: round(facts.durationS) },
  };
  return { table: table.lines, json };
}

function zgSection(table: Table, zg: ZgPhaseResults, options: BenchOptions): Record<string, unknown> {
  const c1 = { direct: figures(zg.c1.get('direct')), gateway: figures(zg.c1.get('gateway')) };
  const load = { direct: figures(zg.load.get('direct')), gateway: figures(zg.load.get('gateway')) };
  const concurrency = options.zg.loadConcurrency;
  table.heading('0G on the local devnet (1 simulated provider)', ['', 'direct', 'gateway', 'gw - direct']);
  const row = (label: string, set: typeof c1, pick: (f: LoadFigures) => number, digits = 2, diff = true): void =>
    table.row(label, ['', fmt(pick(set.direct), digits), fmt(pick(set.gateway), digits), diff ? signed(pick(set.gateway) - pick(set.direct), digits) : '']);
  row('c1 latency p50 (ms)', c1, (f) => f.latency.p50);
  row('c1 latency p99 (ms)', c1, (f) => f.latency.p99);
  row(`c${concurrency} req/s`, load, (f) => f.rps, 0, false);
  row(`c${concurrency} latency p50 (ms)`, load, (f) => f.latency.p50);
  row(`c${concurrency} latency p99 (ms)`, load, (f) => f.latency.p99);
  row(`gateway CPU ms per request, c${concurrency}`, load, (f) => f.serverCpuMsPerRequest, 3, false);
  row('errors (c1 + load)', { direct: { ...c1.direct, errors: c1.direct.errors + load.direct.errors }, gateway: { ...c1.gateway, errors: c1.gateway.errors + load.gateway.errors } }, (f) => f.errors, 0, false);
  const perChat = zg.rpc.chats > 0 ? zg.rpc.burst.calls / zg.rpc.chats : Number.NaN;
  const idlePerSecond = (zg.rpc.idle.calls / zg.rpc.idleWindowMs) * 1000;
  const methods = Object.entries(zg.rpc.burst.byMethod).sort(([, a], [, b]) => b - a).map(([method, count]) => `${method} ${count}`).join(', ');
  table.row(`JSON-RPC calls per chat (${zg.rpc.chats} chats)`, ['', '', fmt(perChat), '']);
  table.note(`during the burst: ${zg.rpc.burst.calls} calls in ${zg.rpc.burst.httpRequests} HTTP requests${methods ? ` (${methods})` : ''}; idle: ${fmt(idlePerSecond)} calls/s`);
  const headers = distribution(zg.sdk.getRequestHeadersMs);
  const verify = distribution(zg.sdk.processResponseMs);
  table.heading('0G SDK, one call at a time (in the devnet process)', ['', 'p50 ms', 'p99 ms', 'n']);
  table.row('getRequestHeaders (auto-funding on)', ['', fmt(headers.p50), fmt(headers.p99), String(headers.n)]);
  table.row(`processResponse / verify (${zg.sdk.verifiedTrue} true)`, ['', fmt(verify.p50), fmt(verify.p99), String(verify.n)]);
  if (zg.providerRejectedAuth > 0) table.note(`the simulated provider rejected ${zg.providerRejectedAuth} session tokens`);
  return {
    directRps: round(load.direct.rps),
    gatewayRps: round(load.gateway.rps),
    concurrency,
    addedP50MsC1: round(c1.gateway.latency.p50 - c1.direct.latency.p50),
    addedP99MsC1: round(c1.gateway.latency.p99 - c1.direct.latency.p99),
    addedP50MsLoad: round(load.gateway.latency.p50 - load.direct.latency.p50),
    addedP99MsLoad: round(load.gateway.latency.p99 - load.direct.latency.p99),
    gatewayCpuMsPerRequest: round(load.gateway.serverCpuMsPerRequest),
    gatewayCpuMsPerRequestC1: round(c1.gateway.serverCpuMsPerRequest),
    gatewayMaxRssMb: round(zg.gatewayMaxRssMb),
    rpcCallsPerChat: round(perChat),
    rpcChats: zg.rpc.chats,
    rpcByMethod: zg.rpc.burst.byMethod,
    idleRpcCallsPerSecond: round(idlePerSecond),
    errors: c1.direct.errors + c1.gateway.errors + load.direct.errors + load.gateway.errors + zg.rpc.errors,
    providerRejectedAuth: zg.providerRejectedAuth,
    sdk: { getRequestHeadersP50Ms: round(headers.p50), getRequestHeadersP99Ms: round(headers.p99), processResponseP50Ms: round(verify.p50), processResponseP99Ms: round(verify.p99), verifiedTrue: zg.sdk.verifiedTrue },
  };
}
