/**
 * What tracing costs: the same gateway (a child process, one fast fake upstream) with tracing off
 * and on (every request sampled, exported to an OTLP sink in this process that accepts and drops),
 * alternated (order swapped every round) `rounds` times. Reports, per mode, the median over rounds of requests per second and
 * of the gateway's own CPU time per request (user + system, from its process), JSON chats at
 * concurrency `CONCURRENCY`.
 *
 *   npm run build && node build/bench/tracing-overhead.js [requests per round, default 4000] [rounds, default 3]
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import type { FakeUpstreamArgs, FakeUpstreamInfo } from './fake-upstream.js';
import type { GatewayChildArgs, GatewayChildInfo } from './gateway-child.js';
import { ChildHandle } from './ipc.js';

const CONCURRENCY = 16;
const WARMUP = 500;
const MODEL = 'bench-model';
const BODY = JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'Say hello.' }] });

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

/** Sends `count` chats at `CONCURRENCY`; resolves to the elapsed ms. Throws on a non-200. */
async function drive(origin: string, count: number): Promise<number> {
  const pool = new Pool(origin, { connections: CONCURRENCY, pipelining: 1 });
  let next = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (next < count) {
      next += 1;
      const response = await pool.request({ method: 'POST', path: '/v1/chat/completions', headers: { 'content-type': 'application/json' }, body: BODY });
      await response.body.dump();
      if (response.statusCode !== 200) throw new Error(`status ${response.statusCode}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const elapsed = performance.now() - started;
  await pool.close();
  return elapsed;
}

async function main(): Promise<void> {
  const requests = Number(process.argv[2] ?? 4000);
  const rounds = Number(process.argv[3] ?? 3);
  let exports = 0;
  const sink = createServer((request, response) => {
    exports += 1;
    request.resume();
    request.on('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
  const upstream = await ChildHandle.start<FakeUpstreamInfo>('upstream', {
    script: 'fake-upstream.js',
    args: { model: MODEL, completionTokens: 16, streamChunks: 8, streamGapMs: 0 } satisfies FakeUpstreamArgs,
    readyTimeoutMs: 15_000,
  });
  const results: Record<'off' | 'on', { rps: number[]; cpuUs: number[] }> = { off: { rps: [], cpuUs: [] }, on: { rps: [], cpuUs: [] } };
  try {
    for (let round = 0; round < rounds; round++) {
      // Alternating which goes first, so neither mode always runs on a warmer (or busier) machine.
      for (const mode of round % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
        const options: GatewayChildArgs['options'] = {
          openAICompatibleProviders: [{ name: 'bench-upstream', baseUrl: upstream.info.baseUrl, model: MODEL }],
          ...(mode === 'on' ? { tracing: { endpoint, sampleRatio: 1, batchDelayMs: 1000 } } : {}),
        };
        // TRACING_CPU_PROF=<dir>: a V8 CPU profile of each gateway (summarise with cpu-profile-summary.js).
        const profile = process.env.TRACING_CPU_PROF;
        const execArgv = profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`, `--cpu-prof-name=gateway-${mode}-${round + 1}.cpuprofile`] : undefined;
        const gateway = await ChildHandle.start<GatewayChildInfo>('gateway', { script: 'gateway-child.js', args: { options } satisfies GatewayChildArgs, readyTimeoutMs: 30_000, ...(execArgv ? { execArgv } : {}) });
        try {
          await drive(gateway.info.url, WARMUP);
          const before = await gateway.handle.usage();
          const elapsed = await drive(gateway.info.url, requests);
          const after = await gateway.handle.usage();
          const rps = (requests / elapsed) * 1000;
          const cpuUs = ((after.cpuMs - before.cpuMs) * 1000) / requests;
          results[mode].rps.push(rps);
          results[mode].cpuUs.push(cpuUs);
          process.stdout.write(`round ${round + 1} tracing ${mode.padEnd(3)}: ${rps.toFixed(0)} req/s, ${cpuUs.toFixed(0)} µs gateway CPU per request\n`);
        } finally {
          await gateway.handle.stop();
        }
      }
    }
  } finally {
    await upstream.handle.stop();
    sink.close();
  }
  const off = { rps: median(results.off.rps), cpu: median(results.off.cpuUs) };
  const on = { rps: median(results.on.rps), cpu: median(results.on.cpuUs) };
  process.stdout.write(
    `median of ${rounds} rounds x ${requests} JSON chats at concurrency ${CONCURRENCY}:\n` +
      `  off: ${off.rps.toFixed(0)} req/s, ${off.cpu.toFixed(0)} µs CPU/request\n` +
      `  on:  ${on.rps.toFixed(0)} req/s, ${on.cpu.toFixed(0)} µs CPU/request (${exports} OTLP exports received)\n` +
      `  tracing on: ${(((on.cpu - off.cpu) / off.cpu) * 100).toFixed(1)}% CPU per request, ${(((on.rps - off.rps) / off.rps) * 100).toFixed(1)}% req/s\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
