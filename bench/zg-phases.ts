/**
 * The 0G phases on the local devnet: a simulated provider direct (with one SDK-signed session
 * token reused for every request) against the gateway in front of it, alternated at
 * concurrency 1 and under load; then the JSON-RPC calls the gateway makes per chat, counted by
 * a relay between the gateway and anvil during a burst of chats (and, for comparison, while idle).
 */
import type { ClosedLoopArgs, ClosedLoopResult } from './load-generator.js';
import type { DevnetChildArgs, DevnetChildInfo } from './devnet-child.js';
import type { GatewayChildArgs, GatewayChildInfo } from './gateway-child.js';
import { ChildHandle, killOnExit } from './ipc.js';
import { alternateClosedLoop, type ClosedLoopTotals, type Target } from './measure.js';
import type { PhaseContext } from './openai-phases.js';
import type { RpcCounts, RpcRelayArgs, RpcRelayInfo } from './rpc-relay.js';

const GAS_PRICE = 1_000_000_000;
const IDLE_WINDOW_MS = 2000;

export interface ZgPhaseResults {
  c1: Map<string, ClosedLoopTotals>;
  load: Map<string, ClosedLoopTotals>;
  sdk: DevnetChildInfo['sdk'];
  rpc: {
    chats: number;
    errors: number;
    burst: RpcCounts;
    /** Calls the gateway made in IDLE_WINDOW_MS with no traffic (timers: health checks, auto-funding). */
    idle: RpcCounts;
    idleWindowMs: number;
  };
  /** Session-token rejections by the simulated provider (should be 0). */
  providerRejectedAuth: number;
  gatewayMaxRssMb: number;
}

export async function runZgPhases(context: PhaseContext): Promise<ZgPhaseResults> {
  const { options, loadgen, log } = context;
  const settings = options.zg;
  const started: ChildHandle[] = [];
  try {
    log(`zg: starting the local devnet (${settings.providers} provider) and timing ${settings.sdkSamples} SDK calls`);
    const devnet = await ChildHandle.start<DevnetChildInfo>('devnet', {
      script: 'devnet-child.js',
      args: { providers: settings.providers, sdkSamples: settings.sdkSamples, gasPrice: GAS_PRICE } satisfies DevnetChildArgs,
      readyTimeoutMs: 180_000,
      verbose: options.verbose,
    });
    started.push(devnet.handle);
    killOnExit(devnet.info.anvilPid);
    const relay = await ChildHandle.start<RpcRelayInfo>('rpc-relay', {
      script: 'rpc-relay.js',
      args: { target: devnet.info.rpcUrl } satisfies RpcRelayArgs,
      readyTimeoutMs: 15_000,
      verbose: options.verbose,
    });
    started.push(relay.handle);
    const provider = devnet.info.providers[0];
    if (!provider) throw new Error('the devnet reported no provider');
    const gateway = await ChildHandle.start<GatewayChildInfo>('zg-gateway', {
      script: 'gateway-child.js',
      args: {
        options: {
          providers: [provider.address],
          key: devnet.info.userPrivateKey,
          rpc: relay.info.url,
          chainId: devnet.info.chainId,
          ledgerContract: devnet.info.contracts.ledger,
          inferenceContract: devnet.info.contracts.inference,
          fineTuningContract: devnet.info.contracts.fineTuning,
          gasPrice: GAS_PRICE,
          rpcPollingInterval: 20,
        },
      } satisfies GatewayChildArgs,
      readyTimeoutMs: 60_000,
      verbose: options.verbose,
      execArgv: context.gatewayExecArgv,
    });
    started.push(gateway.handle);
    log(`zg: provider ${provider.endpoint}, gateway ${gateway.info.url}, RPC relay ${relay.info.url}`);

    const body = JSON.stringify({ model: provider.model, messages: [{ role: 'user', content: 'Say hello to the benchmark.' }] });
    const direct: Target = { name: 'direct', origin: provider.url, path: '/v1/proxy/chat/completions', headers: { 'content-type': 'application/json', ...devnet.info.directHeaders } };
    const viaGateway: Target = { name: 'gateway', origin: gateway.info.url, path: '/v1/chat/completions', headers: { 'content-type': 'application/json' }, server: gateway.handle };
    const watch = new Map([
      ['upstream', devnet.handle],
      ['loadgen', loadgen],
      ['rpcRelay', relay.handle],
    ]);
    const onRun = (phase: string) => (target: string, round: number, summary: string) => log(`  zg ${phase} round ${round + 1}/${options.rounds} ${target.padEnd(8)} ${summary}`);

    log(`zg: concurrency 1, ${options.rounds} rounds x ${settings.c1DurationMs} ms per target`);
    const c1 = await alternateClosedLoop(
      { loadgen, targets: [direct, viaGateway], rounds: options.rounds, watch, onRun: onRun('c1') },
      { body, concurrency: 1, durationMs: settings.c1DurationMs, maxRequests: 200_000, requestTimeoutMs: options.requestTimeoutMs },
      options.warmupMs,
    );
    log(`zg: concurrency ${settings.loadConcurrency}, ${options.rounds} rounds x ${settings.loadDurationMs} ms per target`);
    const load = await alternateClosedLoop(
      { loadgen, targets: [direct, viaGateway], rounds: options.rounds, watch, onRun: onRun(`c${settings.loadConcurrency}`) },
      { body, concurrency: settings.loadConcurrency, durationMs: settings.loadDurationMs, maxRequests: 2_000_000, requestTimeoutMs: options.requestTimeoutMs },
      0,
    );

    log(`zg: counting JSON-RPC calls: ${IDLE_WINDOW_MS} ms idle, then ${settings.rpcBurstChats} chats through the gateway`);
    await relay.handle.call('reset', null, 5000);
    await new Promise((resolve) => setTimeout(resolve, IDLE_WINDOW_MS));
    const idle = await relay.handle.call<RpcCounts>('counts', null, 5000);
    await relay.handle.call('reset', null, 5000);
    const burst = await loadgen.call<ClosedLoopResult>(
      'closedLoop',
      {
        origin: viaGateway.origin,
        path: viaGateway.path,
        headers: viaGateway.headers,
        body,
        concurrency: settings.rpcBurstConcurrency,
        durationMs: 60_000,
        maxRequests: settings.rpcBurstChats,
        requestTimeoutMs: options.requestTimeoutMs,
      } satisfies ClosedLoopArgs,
      90_000,
    );
    const burstCounts = await relay.handle.call<RpcCounts>('counts', null, 5000);
    const providerStats = await devnet.handle.call<Array<{ rejectedAuth: number }>>('providerStats', null, 5000);
    const gatewayMaxRssMb = (await gateway.handle.usage()).maxRssMb;
    return {
      c1,
      load,
      sdk: devnet.info.sdk,
      rpc: { chats: burst.completed, errors: burst.errors, burst: burstCounts, idle, idleWindowMs: IDLE_WINDOW_MS },
      providerRejectedAuth: providerStats.reduce((sum, stats) => sum + stats.rejectedAuth, 0),
      gatewayMaxRssMb,
    };
  } finally {
    // The gateway first (it talks to the relay and the devnet), the devnet last.
    for (const handle of started.reverse()) await handle.stop();
  }
}
