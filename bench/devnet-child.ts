/**
 * Child process: the local 0G devnet (anvil, the real serving contracts, simulated providers)
 * as the upstream of the 0G phases. Before reporting ready it measures the SDK calls the
 * gateway makes per request, through the gateway's own `ZgNetwork`/`ZgProvider` against anvil
 * directly (so none of this is counted by the RPC relay): `getRequestHeaders` (auto-funding on)
 * and `processResponse` (verification). It also hands out one `Authorization` header signed
 * by the SDK, which the load generator reuses for the direct-to-provider requests.
 */
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { UpstreamHttpClient, ZgNetwork, type TokenUsage } from 'zg-gateway';
import { startLocalDevnet, type LocalDevnet } from './devnet-import.js';
import { runChild } from './ipc.js';

export interface DevnetChildArgs {
  providers: number;
  /** Timed `getRequestHeaders` calls (and up to 100 `processResponse` calls). */
  sdkSamples: number;
  gasPrice: number;
}

export interface DevnetChildInfo {
  rpcUrl: string;
  chainId: number;
  contracts: { ledger: string; inference: string; fineTuning: string };
  userPrivateKey: string;
  anvilPid: number;
  providers: Array<{ address: string; url: string; model: string; endpoint: string }>;
  /** SDK-signed headers for providers[0] (a session token valid for hours), reused by direct requests. */
  directHeaders: Record<string, string>;
  sdk: { getRequestHeadersMs: number[]; processResponseMs: number[]; verifiedTrue: number };
}

async function timed<T>(samples: number[], action: () => Promise<T>): Promise<T> {
  const start = performance.now();
  const result = await action();
  samples.push(performance.now() - start);
  return result;
}

runChild<DevnetChildArgs>(async (args) => {
  const devnet = await startLocalDevnet({ providers: args.providers });
  try {
    return await measureSdk(devnet, args);
  } catch (error) {
    await devnet.stop();
    throw error;
  }
});

async function measureSdk(devnet: LocalDevnet, args: DevnetChildArgs): Promise<{ info: DevnetChildInfo; handlers: Record<string, () => unknown>; stop(): Promise<void> }> {
  const first = devnet.providers[0];
  if (!first) throw new Error('the devnet has no provider');
  const client = new UpstreamHttpClient();
  const network = await ZgNetwork.connect(
    { privateKey: devnet.userPrivateKey, rpcUrl: devnet.rpcUrl, chainId: devnet.chainId, contracts: devnet.contracts, gasPrice: args.gasPrice, rpcPollingIntervalMs: 20 },
    pino({ level: 'silent' }),
  );
  const sdk: DevnetChildInfo['sdk'] = { getRequestHeadersMs: [], processResponseMs: [], verifiedTrue: 0 };
  let directHeaders: Record<string, string>;
  try {
    const provider = await network.initProvider(first.address, client);
    for (let index = 0; index < args.sdkSamples; index++) await timed(sdk.getRequestHeadersMs, () => provider.signRequestHeaders());
    directHeaders = await provider.signRequestHeaders();
    const chats: Array<{ chatId: string; usage: TokenUsage }> = [];
    for (let index = 0; index < Math.min(args.sdkSamples, 100); index++) {
      const response = await fetch(`${provider.descriptor.endpoint}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...directHeaders },
        body: JSON.stringify({ model: provider.descriptor.models[0]?.id, messages: [{ role: 'user', content: `verify ${index}` }] }),
      });
      const body = (await response.json()) as { id: string; usage: TokenUsage };
      chats.push({ chatId: response.headers.get('zg-res-key') ?? body.id, usage: body.usage });
    }
    for (const { chatId } of chats) {
      if ((await timed(sdk.processResponseMs, () => provider.verify(chatId, provider.descriptor.models[0]?.id ?? '', AbortSignal.timeout(10_000)))) === 'valid') sdk.verifiedTrue += 1;
    }
  } finally {
    await network.close();
    await client.close();
  }
  const info: DevnetChildInfo = {
    rpcUrl: devnet.rpcUrl,
    chainId: devnet.chainId,
    contracts: { ...devnet.contracts },
    userPrivateKey: devnet.userPrivateKey,
    anvilPid: devnet.anvilPid,
    providers: devnet.providers.map((provider) => ({ address: provider.address, url: provider.url, model: provider.model, endpoint: `${provider.url}/v1/proxy` })),
    directHeaders,
    sdk,
  };
  return {
    info,
    handlers: { providerStats: () => devnet.providers.map((provider) => ({ ...provider.stats })) },
    stop: () => devnet.stop(),
  };
}
