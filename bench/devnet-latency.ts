/**
 * Figures for the 0G adapter and the gateway on the local devnet, measured in one run:
 * - SDK `getRequestHeaders` (after auto-funding started) and `verify` (`processResponse`), median of N;
 * - one chat directly to a simulated provider vs. through the gateway (added latency), median of N;
 * - gateway throughput at a fixed concurrency for a fixed number of requests.
 *
 * Usage: npm run bench -- [samples=200] [concurrency=16] [requests=600]
 */
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { UpstreamHttpClient, ZgNetwork, runMultiProviderInferenceServer } from 'zg-gateway';
import { gatewayOptionsForDevnet, startLocalDevnet } from 'zg-devnet';

function percentile(samples: number[], fraction: number): number {
  const sorted = [...samples].sort((left, right) => left - right);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] ?? Number.NaN;
}

function describe(label: string, samples: number[]): string {
  return `${label.padEnd(44)} median ${percentile(samples, 0.5).toFixed(2)} ms   p95 ${percentile(samples, 0.95).toFixed(2)} ms   (n=${samples.length})`;
}

async function timed<T>(samples: number[], action: () => Promise<T>): Promise<T> {
  const start = performance.now();
  const result = await action();
  samples.push(performance.now() - start);
  return result;
}

async function main(): Promise<void> {
  const [samplesArgument, concurrencyArgument, requestsArgument] = process.argv.slice(2);
  const sampleCount = Number(samplesArgument ?? 200);
  const concurrency = Number(concurrencyArgument ?? 16);
  const totalRequests = Number(requestsArgument ?? 600);
  const devnet = await startLocalDevnet({ providers: 3 });
  const silent = pino({ level: 'silent' });
  const client = new UpstreamHttpClient();
  const network = await ZgNetwork.connect(
    { privateKey: devnet.userPrivateKey, rpcUrl: devnet.rpcUrl, chainId: devnet.chainId, contracts: devnet.contracts, gasPrice: 1e9, rpcPollingIntervalMs: 20 },
    silent,
  );
  const gateway = await runMultiProviderInferenceServer({
    ...gatewayOptionsForDevnet(devnet),
    port: 0,
    host: '127.0.0.1',
    logLevel: 'silent',
  });
  try {
    const target = devnet.providers[0];
    if (!target) throw new Error('no provider');
    const provider = await network.initProvider(target.address, client);
    const body = (text: string): string => JSON.stringify({ messages: [{ role: 'user', content: text }] });

    const headerSamples: number[] = [];
    for (let index = 0; index < sampleCount; index++) await timed(headerSamples, () => provider.signRequestHeaders());

    const chatIds: Array<{ chatId: string; usage: unknown }> = [];
    const directSamples: number[] = [];
    for (let index = 0; index < sampleCount; index++) {
      await timed(directSamples, async () => {
        const headers = await provider.signRequestHeaders();
        const response = await fetch(`${provider.descriptor.endpoint}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: body(`direct ${index}`) });
        const json = (await response.json()) as { id: string; usage: unknown };
        chatIds.push({ chatId: response.headers.get('zg-res-key') ?? json.id, usage: json.usage });
      });
    }
    const verifySamples: number[] = [];
    let verified = 0;
    for (const { chatId } of chatIds) {
      if (await timed(verifySamples, () => provider.verify(chatId, provider.descriptor.models[0]?.id ?? "", AbortSignal.timeout(10_000)))) verified += 1;
    }

    const gatewaySamples: number[] = [];
    for (let index = 0; index < sampleCount; index++) {
      await timed(gatewaySamples, async () => {
        const response = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(`gateway ${index}`) });
        await response.json();
      });
    }

    let next = 0;
    let failures = 0;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < totalRequests) {
          next += 1;
          const response = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(`load ${next}`) });
          await response.arrayBuffer();
          if (response.status !== 200) failures += 1;
        }
      }),
    );
    const seconds = (performance.now() - start) / 1000;

    const directMedian = percentile(directSamples, 0.5);
    const gatewayMedian = percentile(gatewaySamples, 0.5);
    console.log('');
    console.log(describe('SDK getRequestHeaders (auto-funding on)', headerSamples));
    console.log(describe(`SDK verify / processResponse (${verified} true)`, verifySamples));
    console.log(describe('chat direct to provider (headers + HTTP)', directSamples));
    console.log(describe('chat through the gateway', gatewaySamples));
    console.log(`${'gateway added latency (median)'.padEnd(44)} ${(gatewayMedian - directMedian).toFixed(2)} ms  (ratio ${(gatewayMedian / directMedian).toFixed(2)})`);
    console.log(`${`gateway throughput, ${concurrency} concurrent`.padEnd(44)} ${(totalRequests / seconds).toFixed(0)} req/s  (${totalRequests} requests, ${failures} failed, ${seconds.toFixed(2)} s)`);
  } finally {
    await gateway.close();
    await network.close();
    await client.close();
    await devnet.stop();
  }
  // The SDK leaves 300 s timers after its transactions; a benchmark script may end itself.
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
