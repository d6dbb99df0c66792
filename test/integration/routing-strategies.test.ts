/**
 * Each routing strategy over HTTP, in front of a mixed fleet of vLLM-like upstreams of different
 * speeds: which provider served (`X-Provider-Address`) over sequential and concurrent requests,
 * and the strategy's figure in `X-Route-Reason`. Distributions are asserted only where the
 * strategy makes them certain; the rest is reported (`t.diagnostic`). No timing assertions.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import { Agent, request } from 'undici';
import { runMultiProviderInferenceServer, type GatewayDependencies, type GatewayHandle, type GatewayOptions } from 'zg-gateway';
import { seededRandom } from '../helpers/fakes.js';
import { startVllmLikeUpstream, type VllmLikeUpstream } from '../helpers/vllm-like-upstream.js';

interface Served {
  provider: string;
  reason: string;
}

let fast: VllmLikeUpstream;
let medium: VllmLikeUpstream;
let slow: VllmLikeUpstream;

before(async () => {
  fast = await startVllmLikeUpstream('fast', { delayMs: 10, slots: 4 });
  medium = await startVllmLikeUpstream('medium', { delayMs: 40, slots: 4 });
  slow = await startVllmLikeUpstream('slow', { delayMs: 120, slots: 2 });
});

after(async () => {
  await Promise.all([fast?.close(), medium?.close(), slow?.close()]);
});

function fleet(limits: Record<string, { rpm?: number }> = {}): GatewayOptions['openAICompatibleProviders'] {
  return [
    { name: 'fast', baseUrl: fast.baseUrl, throughput: 8, capacity: 4, ...limits.fast },
    { name: 'medium', baseUrl: medium.baseUrl, throughput: 4, capacity: 4, ...limits.medium },
    { name: 'slow', baseUrl: slow.baseUrl, throughput: 1, capacity: 2, ...limits.slow },
  ];
}

interface Client {
  gateway: GatewayHandle;
  agent: Agent;
}

async function withGateway(options: Partial<GatewayOptions>, dependencies: GatewayDependencies, body: (client: Client) => Promise<void>): Promise<void> {
  const gateway = await runMultiProviderInferenceServer({ openAICompatibleProviders: fleet(), port: 0, host: '127.0.0.1', logLevel: 'silent', ...options }, dependencies);
  // The test's own connection pool, closed first: the gateway's close then has no idle client connection to wait for.
  const agent = new Agent({ connections: 64 });
  try {
    await body({ gateway, agent });
  } finally {
    await agent.close();
    await gateway.close();
  }
}

async function send({ gateway, agent }: Client, stream = false): Promise<Served> {
  const response = await request(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'm', stream, messages: [{ role: 'user', content: 'hi' }] }),
  });
  await response.body.arrayBuffer();
  assert.equal(response.statusCode, 200);
  const header = (name: string): string => {
    const value = response.headers[name];
    return typeof value === 'string' ? value : '';
  };
  return { provider: header('x-provider-address'), reason: header('x-route-reason') };
}

async function sequential(client: Client, count: number): Promise<Served[]> {
  const served: Served[] = [];
  for (let sent = 0; sent < count; sent += 1) served.push(await send(client));
  return served;
}

/** `count` requests at once, every other one streamed. */
function concurrent(client: Client, count: number): Promise<Served[]> {
  return Promise.all(Array.from({ length: count }, (_, index) => send(client, index % 2 === 1)));
}

function tally(served: readonly Served[]): Record<string, number> {
  const counts: Record<string, number> = { fast: 0, medium: 0, slow: 0 };
  for (const { provider } of served) counts[provider] = (counts[provider] ?? 0) + 1;
  return counts;
}

function report(t: TestContext, label: string, served: readonly Served[]): Record<string, number> {
  const counts = tally(served);
  t.diagnostic(`${label}: ${JSON.stringify(counts)}`);
  return counts;
}

function assertReasons(served: readonly Served[], pattern: RegExp): void {
  for (const { reason } of served) assert.match(reason, pattern);
}

describe('routing strategies over a mixed fleet (fast 10 ms, medium 40 ms, slow 120 ms)', () => {
  it('random: shares follow declared throughput 8:4:1', async (t) => {
    await withGateway({ strategy: 'random' }, { random: seededRandom(7) }, async (client) => {
      const alone = report(t, 'sequential 40', await sequential(client, 40));
      assert.ok(alone.fast! > alone.medium! && alone.medium! > alone.slow!, JSON.stringify(alone));
      const together = await concurrent(client, 24);
      report(t, 'concurrent 24', together);
      assertReasons(together, /^random: share 0\.\d+$/);
    });
  });

  it('min-expected-latency: (in flight + 1) / throughput, so the fast one alone while idle, then by throughput', async (t) => {
    await withGateway({ strategy: 'min-expected-latency' }, {}, async (client) => {
      const alone = await sequential(client, 20);
      assert.deepEqual(report(t, 'sequential 20', alone), { fast: 20, medium: 0, slow: 0 });
      assertReasons(alone, /^min-expected-latency: 0\.125$/);
      // 13 at once (answers held back 300 ms, so all 13 are in flight together): the expected
      // latencies (in flight + 1) / throughput fill 8:4:1 exactly.
      const delays = [fast.delayMs, medium.delayMs, slow.delayMs];
      fast.delayMs = medium.delayMs = slow.delayMs = 300;
      try {
        const together = await concurrent(client, 13);
        assert.deepEqual(report(t, 'concurrent 13', together), { fast: 8, medium: 4, slow: 1 });
      } finally {
        [fast.delayMs, medium.delayMs, slow.delayMs] = delays as [number, number, number];
      }
    });
  });

  it('min-observed-latency: measures each, then the lowest time to first byte, exploring now and then', async (t) => {
    await withGateway({ strategy: 'min-observed-latency', strategyOptions: { explore: 0.1 } }, { random: seededRandom(3) }, async (client) => {
      const alone = await sequential(client, 30);
      const counts = report(t, 'sequential 30', alone);
      assert.deepEqual(
        alone.slice(0, 3).map(({ provider, reason }) => `${provider} ${reason}`),
        ['fast min-observed-latency: explore (no sample)', 'medium min-observed-latency: explore (no sample)', 'slow min-observed-latency: explore (no sample)'],
      );
      assert.ok(counts.fast! >= 20, JSON.stringify(counts));
      for (const { provider, reason } of alone.slice(3)) {
        if (provider === 'fast') assert.match(reason, /^min-observed-latency: ttfb \d+ ms$/);
        else assert.match(reason, /^min-observed-latency: explore \(draw 0\.\d+\)$/);
      }
      report(t, 'concurrent 24', await concurrent(client, 24));
    });
  });

  it('least-load: reads each backend\'s /metrics and avoids the one other clients saturate', async (t) => {
    fast.externalRunning = 6; // 1.5 of its capacity 4, from traffic that does not pass the gateway
    slow.externalRunning = 1; // 0.5 of its capacity 2
    const readsBefore = fast.metricsReads;
    try {
      await withGateway({ strategy: 'least-load', strategyOptions: { metricsInterval: 100 } }, {}, async (client) => {
        while (fast.metricsReads === readsBefore || medium.metricsReads === 0 || slow.metricsReads === 0) await new Promise((resolve) => setTimeout(resolve, 20));
        await new Promise((resolve) => setTimeout(resolve, 50));
        const alone = await sequential(client, 20);
        assert.deepEqual(report(t, 'sequential 20', alone), { fast: 0, medium: 20, slow: 0 });
        assertReasons(alone, /^least-load: 0(\.\d+)?$/);
        const together = await concurrent(client, 12);
        const counts = report(t, 'concurrent 12', together);
        assert.ok(counts.medium! > counts.fast!, JSON.stringify(counts));
        assertReasons(together, /^least-load: \d+(\.\d+)?( \(all >= 0\.5\))?$/);
      });
      const readsAtClose = fast.metricsReads;
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(fast.metricsReads, readsAtClose, 'the poller stops with the gateway');
    } finally {
      fast.externalRunning = 0;
      slow.externalRunning = 0;
    }
  });

  it('usage-based: keeps each provider under its rpm, lowest share first, then the first to free', async (t) => {
    // A clock 1 s into a minute window, so the test never straddles a window boundary.
    const offset = (Date.now() % 60_000) - 1000;
    const options = { strategy: 'usage-based', openAICompatibleProviders: fleet({ fast: { rpm: 6 }, medium: { rpm: 4 }, slow: { rpm: 2 } }) } as const;
    await withGateway(options, { now: () => Date.now() - offset }, async (client) => {
      const served = await sequential(client, 14);
      assert.deepEqual(report(t, 'sequential 12 within limits', served.slice(0, 12)), { fast: 6, medium: 4, slow: 2 });
      assertReasons(served.slice(0, 12), /^usage-based: 0(\.\d+)?$/);
      assertReasons(served.slice(12), /^usage-based: all at cap, frees in \d+ ms$/);
    });
  });
});
