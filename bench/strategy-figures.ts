/**
 * Routing strategies side by side on the same load: a mixed fleet of three vLLM-like upstreams
 * (fast: 10 ms, 4 slots; medium: 40 ms, 4 slots; slow: 120 ms, 2 slots; a request waits for a
 * slot), the gateway in front, and per strategy:
 * - sequential: 100 requests one after another;
 * - concurrent: 8 clients in a closed loop, 30 requests each (every other one streamed).
 * It prints, per strategy and load, which provider served how many requests and the latency
 * clients saw (p50 / p99, ms). Figures, not assertions: run `node build/bench/strategy-figures.js`.
 */
import { Agent, request } from 'undici';
import { runMultiProviderInferenceServer, type GatewayOptions } from 'zg-gateway';
import { startVllmLikeUpstream, type VllmLikeUpstream } from '../test/helpers/vllm-like-upstream.js';
import { distribution } from './stats.js';

interface Outcome {
  provider: string;
  ms: number;
}

async function send(url: string, agent: Agent, stream: boolean): Promise<Outcome> {
  const started = performance.now();
  const response = await request(`${url}/v1/chat/completions`, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'm', stream, messages: [{ role: 'user', content: 'hi' }] }),
  });
  await response.body.arrayBuffer();
  if (response.statusCode !== 200) throw new Error(`HTTP ${response.statusCode}`);
  const provider = response.headers['x-provider-address'];
  return { provider: typeof provider === 'string' ? provider : '?', ms: performance.now() - started };
}

function summary(outcomes: readonly Outcome[]): string {
  const counts: Record<string, number> = { fast: 0, medium: 0, slow: 0 };
  for (const { provider } of outcomes) counts[provider] = (counts[provider] ?? 0) + 1;
  const { p50, p99 } = distribution(outcomes.map(({ ms }) => ms));
  return `${Object.entries(counts).map(([name, count]) => `${name} ${count}`).join(', ').padEnd(30)} p50 ${p50.toFixed(1).padStart(6)} ms  p99 ${p99.toFixed(1).padStart(6)} ms`;
}

async function measure(upstreams: readonly VllmLikeUpstream[], strategy: string, extra: Partial<GatewayOptions>): Promise<[string, string]> {
  const [fast, medium, slow] = upstreams as [VllmLikeUpstream, VllmLikeUpstream, VllmLikeUpstream];
  const limits = strategy === 'usage-based' ? [{ rpm: 240 }, { rpm: 120 }, { rpm: 30 }] : [{}, {}, {}];
  const gateway = await runMultiProviderInferenceServer({
    openAICompatibleProviders: [
      { name: 'fast', baseUrl: fast.baseUrl, throughput: 400, capacity: 4, ...limits[0] },
      { name: 'medium', baseUrl: medium.baseUrl, throughput: 100, capacity: 4, ...limits[1] },
      { name: 'slow', baseUrl: slow.baseUrl, throughput: 16, capacity: 2, ...limits[2] },
    ],
    strategy,
    port: 0,
    host: '127.0.0.1',
    logLevel: 'silent',
    ...extra,
  });
  const agent = new Agent({ connections: 64 });
  try {
    await new Promise((resolve) => setTimeout(resolve, 250)); // least-load: a first metrics reading
    const alone: Outcome[] = [];
    for (let sent = 0; sent < 100; sent += 1) alone.push(await send(gateway.url, agent, false));
    const together: Outcome[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let sent = 0; sent < 30; sent += 1) together.push(await send(gateway.url, agent, sent % 2 === 1));
      }),
    );
    return [summary(alone), summary(together)];
  } finally {
    await agent.close();
    await gateway.close();
  }
}

async function main(): Promise<void> {
  const upstreams = [
    await startVllmLikeUpstream('fast', { delayMs: 10, slots: 4 }),
    await startVllmLikeUpstream('medium', { delayMs: 40, slots: 4 }),
    await startVllmLikeUpstream('slow', { delayMs: 120, slots: 2 }),
  ];
  const runs: Array<[string, Partial<GatewayOptions>]> = [
    ['round-robin', {}],
    ['least-connections', {}],
    ['random', {}],
    ['min-expected-latency', {}],
    ['min-observed-latency', {}],
    ['least-load', { strategyOptions: { metricsInterval: 200 } }],
    ['usage-based', {}],
  ];
  try {
    for (const [strategy, extra] of runs) {
      const [alone, together] = await measure(upstreams, strategy, extra);
      console.log(`${strategy.padEnd(22)} sequential 100   ${alone}`);
      console.log(`${''.padEnd(22)} concurrent 8x30   ${together}`);
    }
  } finally {
    await Promise.all(upstreams.map((upstream) => upstream.close()));
  }
}

void main();
