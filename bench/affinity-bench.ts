/**
 * `npm run bench -- affinity`: the cache-aware routing benchmark. A multi-turn workload over a
 * local 0G devnet whose providers keep simulated KV prefix caches (prefill costs time per
 * uncached token), through the gateway under each routing system in turn — round-robin,
 * least-load (the gateway's least-connections: fewest requests in flight), prefix affinity
 * (`affinity: { enabled: true }`, when the gateway has it) and the oracle (every conversation
 * sends `X-Session-Id`) — in scenarios: one instance; several instances sharing Redis behind a
 * round-robin client; one provider leaving mid-run; and a control workload without shared
 * prefixes. Every process is separate (devnet, gateways, client, Redis). Every cache is emptied
 * before each system. Progress on stderr; a Markdown table then one JSON line on stdout.
 */
import { availableParallelism } from 'node:os';
import { startTestRedis, type TestRedis } from '../test/helpers/redis-server.js';
import type { ConversationRunArgs, ConversationRunResult } from './affinity-client.js';
import type { AffinityDevnetArgs, AffinityDevnetInfo, DevnetProviderFigures } from './affinity-devnet-child.js';
import { affinityTable, figuresOf, type SystemFigures } from './affinity-figures.js';
import { readAffinityOptions, type AffinityBenchOptions } from './affinity-options.js';
import { buildWorkload, type Conversation } from './affinity-workload.js';
import type { AffinityFigures, GatewayChildArgs, GatewayChildInfo } from './gateway-child.js';
import { ChildHandle, killOnExit } from './ipc.js';

function log(line: string): void {
  process.stderr.write(`[bench affinity] ${line}\n`);
}

/** The gateway options of one system; `affinity` is passed through untyped (main's gateway does not know it). */
function systemOptions(system: string): Record<string, unknown> {
  switch (system) {
    case 'least-load':
      return { strategy: 'least-connections' };
    case 'affinity':
      return { strategy: 'least-connections', affinity: { enabled: true } };
    default:
      return { strategy: 'round-robin' };
  }
}

interface Fleet {
  devnet: ChildHandle;
  info: AffinityDevnetInfo;
  client: ChildHandle;
  redis: TestRedis | undefined;
}

let runNumber = 0;

async function startGateways(fleet: Fleet, options: AffinityBenchOptions, system: string, instances: number, addresses: string[]): Promise<ChildHandle[]> {
  runNumber += 1;
  const store = fleet.redis && instances > 1 ? { store: { type: 'redis', url: fleet.redis.url, prefix: `bench${runNumber}` } } : {};
  const gatewayOptions = {
    providers: addresses,
    key: fleet.info.userPrivateKey,
    rpc: fleet.info.rpcUrl,
    chainId: fleet.info.chainId,
    ledgerContract: fleet.info.contracts.ledger,
    inferenceContract: fleet.info.contracts.inference,
    fineTuningContract: fleet.info.contracts.fineTuning,
    gasPrice: 1_000_000_000,
    rpcPollingInterval: 20,
    ...systemOptions(system),
    ...store,
  } as unknown as GatewayChildArgs['options'];
  const handles: ChildHandle[] = [];
  const start = async (index: number): Promise<void> => {
    const started = await ChildHandle.start<GatewayChildInfo>(`gateway-${index + 1}`, { script: 'gateway-child.js', args: { options: gatewayOptions } satisfies GatewayChildArgs, readyTimeoutMs: 90_000, verbose: options.verbose });
    (started.handle as ChildHandle & { url?: string }).url = started.info.url;
    handles[index] = started.handle;
  };
  try {
    // The first funds the providers' sub-accounts if they need it; the others then start together.
    await start(0);
    await Promise.all(Array.from({ length: instances - 1 }, (_, index) => start(index + 1)));
  } catch (error) {
    await Promise.all(handles.filter(Boolean).map((handle) => handle.stop()));
    throw error;
  }
  return handles;
}

async function runSystem(fleet: Fleet, options: AffinityBenchOptions, scenario: string, system: string, workload: Conversation[]): Promise<SystemFigures | undefined> {
  const instances = scenario === 'multi' ? options.instances : 1;
  await fleet.devnet.call('reset', null, 10_000);
  const addresses = await fleet.devnet.call<string[]>('addresses', null, 10_000);
  let gateways: ChildHandle[];
  try {
    gateways = await startGateways(fleet, options, system, instances, addresses);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (system === 'affinity' && /affinity|unknown key/i.test(message)) {
      log(`${scenario}/${system}: skipped, this gateway has no affinity option (${message.split('\n')[0]?.slice(0, 160)})`);
      return undefined;
    }
    throw error;
  }
  try {
    const cpuBefore = await Promise.all(gateways.map((gateway) => gateway.usage()));
    const args: ConversationRunArgs = {
      origins: gateways.map((gateway) => (gateway as ChildHandle & { url?: string }).url ?? ''),
      conversations: workload,
      concurrency: options.concurrency,
      model: fleet.info.model,
      requestTimeoutMs: 120_000,
      thinkMs: options.thinkMs,
      ...(system === 'oracle' ? { sessionPrefix: `run${runNumber}-conversation-` } : {}),
    };
    const running = fleet.client.call<ConversationRunResult>('run', args, 30 * 60_000);
    let removal: Promise<unknown> | undefined;
    if (scenario === 'removal') {
      const total = workload.reduce((sum, conversation) => sum + conversation.userTurns.length, 0);
      const victim = addresses[addresses.length - 1] as string;
      // Mid-run: once half the turns are done, the last provider leaves (in-flight requests finish).
      removal = (async () => {
        let done = false;
        void running.finally(() => (done = true));
        while (!done && (await fleet.client.call<number>('progress', null, 5000)) < total / 2) await new Promise((resolve) => setTimeout(resolve, 100));
        if (done) return;
        log(`${scenario}/${system}: provider ${victim.slice(0, 10)} leaves now`);
        await fleet.devnet.call('remove', victim, 60_000);
      })();
    }
    const result = await running;
    await removal;
    const cpuAfter = await Promise.all(gateways.map((gateway) => gateway.usage()));
    const cpuMs = cpuAfter.reduce((sum, usage, index) => sum + usage.cpuMs - (cpuBefore[index]?.cpuMs ?? 0), 0);
    const providerFigures = await fleet.devnet.call<DevnetProviderFigures[]>('figures', null, 10_000);
    const layer = { micros: 0, requests: 0, decisions: {} as Record<string, number> };
    for (const gateway of gateways) {
      const stats = await gateway.call<AffinityFigures | null>('affinity', null, 5000).catch(() => null);
      if (!stats) continue;
      layer.micros += stats.work.micros;
      layer.requests += stats.work.requests;
      for (const [decision, count] of Object.entries(stats.decisions)) layer.decisions[decision] = (layer.decisions[decision] ?? 0) + count;
    }
    const figures = figuresOf(scenario, system, result, addresses, cpuMs, layer);
    const devnetPrefill = providerFigures.reduce((sum, provider) => sum + provider.promptTokens - provider.cachedTokens, 0);
    log(
      `${scenario}/${system}: ${figures.requests} turns, ${figures.failures} failures, hit rate ${(figures.hitRate * 100).toFixed(1)} %, TTFT p50 ${figures.ttftP50Ms.toFixed(0)} ms p99 ${figures.ttftP99Ms.toFixed(0)} ms, ` +
        `prefill ${figures.prefillTokens} tokens (providers counted ${devnetPrefill}), in-flight max/mean ${figures.inFlightImbalance.toFixed(2)}, gateway CPU ${figures.gatewayCpuMsPerRequest.toFixed(2)} ms/request, ${figures.wallS.toFixed(1)} s`,
    );
    if (layer.requests > 0) log(`${scenario}/${system}: affinity layer ${figures.affinityMicrosPerRequest.toFixed(1)} µs per keyed request, decisions ${JSON.stringify(layer.decisions)}`);
    if (figures.firstError) log(`${scenario}/${system}: first error: ${figures.firstError}`);
    return figures;
  } finally {
    await Promise.all(gateways.map((gateway) => gateway.stop()));
    if (scenario === 'removal') {
      const remaining = await fleet.devnet.call<string[]>('addresses', null, 10_000);
      if (remaining.length < options.providers) await fleet.devnet.call('add', null, 60_000);
    }
  }
}

export async function runAffinityBench(argv: readonly string[]): Promise<void> {
  const options = readAffinityOptions(argv);
  const shape = { ...options };
  const shared = buildWorkload(shape, true);
  const control = buildWorkload(shape, false);
  const turns = options.conversations * options.turns;
  log(
    `${options.conversations} conversations × ${options.turns} turns (${turns} requests), ${options.systemPrompts} system prompts of ${options.systemTokens} tokens, user turns ${options.userTokensMin}-${options.userTokensMax} tokens, think time ${options.thinkMs} ms, ` +
      `concurrency ${options.concurrency}, ${options.providers} providers (KV cache ${options.capacityTokens} tokens, ${options.perTokenMs} ms per uncached token + ${options.baseTtftMs} ms, ${options.prefillSlots || 'unlimited'} prefill slots, ${options.chunkMs} ms per streamed chunk); ${availableParallelism()} CPUs`,
  );
  const client = await ChildHandle.start<null>('affinity-client', { script: 'affinity-client.js', args: {}, readyTimeoutMs: 15_000, verbose: options.verbose });
  let devnet: ChildHandle | undefined;
  let redis: TestRedis | undefined;
  const rows: SystemFigures[] = [];
  try {
    log('starting the devnet');
    const started = await ChildHandle.start<AffinityDevnetInfo>('devnet', {
      script: 'affinity-devnet-child.js',
      args: {
        providers: options.providers,
        kvCache: { capacityTokens: options.capacityTokens, perUncachedTokenMs: options.perTokenMs, baseTtftMs: options.baseTtftMs, prefillSlots: options.prefillSlots },
        chunkIntervalMs: options.chunkMs,
      } satisfies AffinityDevnetArgs,
      readyTimeoutMs: 180_000,
      verbose: options.verbose,
    });
    devnet = started.handle;
    killOnExit(started.info.anvilPid);
    if (options.scenarios.includes('multi')) redis = await startTestRedis();
    const fleet: Fleet = { devnet, info: started.info, client: client.handle, redis };
    for (const scenario of options.scenarios) {
      for (const system of options.systems) {
        if (scenario === 'control' && system === 'oracle') continue; // nothing to keep together
        const row = await runSystem(fleet, options, scenario, system, scenario === 'control' ? control : shared);
        if (row) rows.push(row);
      }
    }
  } finally {
    await devnet?.stop();
    await client.handle.stop();
    await redis?.stop();
  }
  process.stdout.write(`${affinityTable(rows).join('\n')}\n\n${JSON.stringify({ options, rows })}\n`);
}
