import type { ProviderRegistry } from './provider-registry.js';

/**
 * Probes every provider of the fleet once, in parallel, each bounded by `timeoutMs`, and feeds
 * the results to their breakers (a failed probe rests a provider; a good one ends a rest).
 * Draining providers are not probed.
 */
export async function probeFleet(registry: ProviderRegistry, timeoutMs: number): Promise<void> {
  await Promise.all(
    registry.list().map(async (entry) => {
      if (entry.membership.state !== 'active') return;
      try {
        await entry.provider.probe(AbortSignal.timeout(timeoutMs));
        registry.recordProbe(entry, true, null);
      } catch (error) {
        registry.recordProbe(entry, false, error instanceof Error ? error.message : String(error));
      }
    }),
  );
}
