/**
 * Child process: the gateway, started through the library's public API
 * (`runMultiProviderInferenceServer` from the built package) on 127.0.0.1, a free port, logs
 * silent. The orchestrator gives it serialisable options (plain upstreams, or a devnet's 0G
 * providers behind the counting RPC relay) and reads its CPU time and memory over IPC.
 */
import { runMultiProviderInferenceServer, type GatewayOptions } from 'zg-gateway';
import { runChild } from './ipc.js';

export interface GatewayChildArgs {
  /** Everything but the listening address and logging, which are fixed here. */
  options: Omit<GatewayOptions, 'port' | 'host' | 'logLevel' | 'logger'>;
}

export interface GatewayChildInfo {
  url: string;
  providers: Array<{ id: string; endpoint: string; model: string; kind: string }>;
}

runChild<GatewayChildArgs>(async ({ options }) => {
  const gateway = await runMultiProviderInferenceServer({ ...options, host: '127.0.0.1', port: 0, logLevel: 'silent' });
  return {
    info: {
      url: gateway.url,
      providers: gateway.providers.list().map(({ id, endpoint, model, kind }) => ({ id, endpoint, model, kind })),
    } satisfies GatewayChildInfo,
    handlers: { inFlight: () => gateway.inFlight() },
    stop: () => gateway.close(),
  };
});
