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

/** What the prefix-affinity layer reports, when the gateway has one (`handle.gateway.affinity.stats()`). */
export interface AffinityFigures {
  decisions: Record<string, number>;
  /** Requests the layer keyed, and its time on them, µs. */
  work: { requests: number; micros: number };
  shared: Record<string, number> | undefined;
  index: unknown;
}

interface WithAffinity {
  gateway?: { affinity?: { stats(): AffinityFigures } };
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
    handlers: {
      inFlight: () => gateway.inFlight(),
      // Typed loosely: gateways without the affinity layer answer null.
      affinity: (): AffinityFigures | null => {
        const stats = (gateway as unknown as WithAffinity).gateway?.affinity?.stats();
        return stats ? { decisions: { ...stats.decisions }, work: { ...stats.work }, shared: stats.shared ? { ...stats.shared } : undefined, index: stats.index } : null;
      },
    },
    stop: () => gateway.close(),
  };
});
