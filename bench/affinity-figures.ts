/**
 * The figures of one benchmarked system, from the client's per-request records: cache hit rate
 * (Σ cached ÷ Σ prompt tokens, from usage), TTFT p50/p99, the providers' prefill (uncached) tokens,
 * in-flight per provider computed from request intervals (time-averaged over the run, and the
 * peak), and the gateway's CPU per request.
 */
import type { ConversationRunResult, TurnRecord } from './affinity-client.js';
import { distribution } from './stats.js';

export interface SystemFigures {
  scenario: string;
  system: string;
  requests: number;
  failures: number;
  skipped: number;
  hitRate: number;
  ttftP50Ms: number;
  ttftP99Ms: number;
  prefillTokens: number;
  promptTokens: number;
  /** Per provider: time-averaged requests in flight over the run. */
  meanInFlight: Record<string, number>;
  /** Per provider: most requests in flight at once. */
  peakInFlight: Record<string, number>;
  /** max over providers of the time-averaged in-flight ÷ its mean over providers (1 = perfectly even). */
  inFlightImbalance: number;
  /** Providers' prefill tokens: max over providers ÷ mean. */
  prefillImbalance: number;
  gatewayCpuMsPerRequest: number;
  /** The affinity layer's own time per request it keyed, µs (its `work` figure), when it ran. */
  affinityMicrosPerRequest: number;
  /** Its decisions, summed over instances (`matched`, `fallback-imbalance`, ...). */
  affinityDecisions: Record<string, number>;
  wallS: number;
  firstError?: string;
}

function peak(intervals: Array<[number, number]>): number {
  const events: Array<[number, number]> = [];
  for (const [start, end] of intervals) events.push([start, 1], [end, -1]);
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let most = 0;
  for (const [, change] of events) {
    open += change;
    most = Math.max(most, open);
  }
  return most;
}

/** `providers`: the addresses that took part (a provider that served nothing still counts in the balance). */
export function figuresOf(
  scenario: string,
  system: string,
  run: ConversationRunResult,
  providers: readonly string[],
  gatewayCpuMs: number,
  affinity: { micros: number; requests: number; decisions: Record<string, number> } = { micros: 0, requests: 0, decisions: {} },
): SystemFigures {
  const turns: TurnRecord[] = run.turns;
  let prompt = 0;
  let cached = 0;
  for (const turn of turns) {
    prompt += turn.promptTokens;
    cached += turn.cachedTokens;
  }
  const ttft = distribution(turns.map((turn) => turn.ttftMs).filter((value) => Number.isFinite(value)));
  const start = Math.min(...turns.map((turn) => turn.startMs));
  const end = Math.max(...turns.map((turn) => turn.endMs));
  const window = Math.max(1, end - start);
  const byProvider = new Map<string, TurnRecord[]>(providers.map((address) => [address.toLowerCase(), []]));
  for (const turn of turns) {
    const key = turn.provider.toLowerCase();
    if (!byProvider.has(key)) byProvider.set(key, []);
    byProvider.get(key)?.push(turn);
  }
  const meanInFlight: Record<string, number> = {};
  const peakInFlight: Record<string, number> = {};
  const prefill: number[] = [];
  for (const [address, served] of byProvider) {
    const label = address.slice(0, 8);
    meanInFlight[label] = served.reduce((sum, turn) => sum + (turn.endMs - turn.startMs), 0) / window;
    peakInFlight[label] = peak(served.map((turn) => [turn.startMs, turn.endMs]));
    prefill.push(served.reduce((sum, turn) => sum + turn.promptTokens - turn.cachedTokens, 0));
  }
  const means = Object.values(meanInFlight);
  const average = (values: number[]): number => values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);
  return {
    scenario,
    system,
    requests: turns.length,
    failures: run.failures,
    skipped: run.skipped,
    hitRate: prompt > 0 ? cached / prompt : Number.NaN,
    ttftP50Ms: ttft.p50,
    ttftP99Ms: ttft.p99,
    prefillTokens: prompt - cached,
    promptTokens: prompt,
    meanInFlight,
    peakInFlight,
    inFlightImbalance: Math.max(...means) / average(means),
    prefillImbalance: Math.max(...prefill) / average(prefill),
    gatewayCpuMsPerRequest: turns.length > 0 ? gatewayCpuMs / turns.length : Number.NaN,
    affinityMicrosPerRequest: affinity.requests > 0 ? affinity.micros / affinity.requests : Number.NaN,
    affinityDecisions: affinity.decisions,
    wallS: run.wallMs / 1000,
    ...(run.firstError ? { firstError: run.firstError } : {}),
  };
}

/**
 * A Markdown table of every system measured. Two figures for what affinity costs: the layer's own
 * count (wall time inside its synchronous steps: on a saturated machine, where three gateways, the
 * devnet, Redis and the load generator share the cores, it includes time the core was given to
 * other processes) and the gateway CPU per request above round-robin's in the same scenario (CPU
 * only, all of the layer's effects included, but as noisy as two runs' CPU figures).
 */
export function affinityTable(rows: readonly SystemFigures[]): string[] {
  const fixed = (value: number, digits: number): string => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
  const lines = [
    '| scenario | system | requests | failures | hit rate | TTFT p50 ms | TTFT p99 ms | prefill tokens | in-flight max/mean | peak in-flight per provider | prefill max/mean | gateway CPU ms/req | CPU ms/req over round-robin | affinity wall µs/req | wall s |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|',
  ];
  const roundRobinCpu = new Map(rows.filter((row) => row.system === 'round-robin').map((row) => [row.scenario, row.gatewayCpuMsPerRequest]));
  for (const row of rows) {
    const overRoundRobin = row.gatewayCpuMsPerRequest - (roundRobinCpu.get(row.scenario) ?? Number.NaN);
    lines.push(
      `| ${row.scenario} | ${row.system} | ${row.requests} | ${row.failures}${row.skipped ? ` (+${row.skipped} skipped)` : ''} | ${fixed(row.hitRate * 100, 1)} % | ${fixed(row.ttftP50Ms, 0)} | ${fixed(row.ttftP99Ms, 0)} | ${row.prefillTokens} | ${fixed(row.inFlightImbalance, 2)} | ${Object.values(row.peakInFlight).join('/')} | ${fixed(row.prefillImbalance, 2)} | ${fixed(row.gatewayCpuMsPerRequest, 2)} | ${row.system === 'round-robin' ? '—' : fixed(overRoundRobin, 3)} | ${fixed(row.affinityMicrosPerRequest, 0)} | ${fixed(row.wallS, 1)} |`,
    );
  }
  return lines;
}
