import assert from 'node:assert/strict';
import { runMultiProviderInferenceServer, type GatewayHandle, type GatewayOptions, type ProviderView } from 'zg-gateway';
import { asAdmin } from './admin-fetch.js';
import { silentLogger } from './fakes.js';
import { startHostileUpstream, type HostileUpstream } from './hostile-upstream.js';

/** A gateway in front of a misbehaving upstream and an honest one, and how to stop all three. */
export interface HostilePair<Bad> {
  gateway: GatewayHandle;
  bad: Bad;
  good: HostileUpstream;
  close(): Promise<void>;
}

/**
 * Puts a gateway in front of `bad` (named `bad`) and an honest upstream (`good`), both serving model
 * `m`; round-robin starts with the bad one. `bad` is closed with the rest.
 */
export async function besideHonest<Bad extends { baseUrl: string; close(): Promise<void> }>(bad: Bad, options: Partial<GatewayOptions> = {}): Promise<HostilePair<Bad>> {
  const good = await startHostileUpstream('good');
  const gateway = await runMultiProviderInferenceServer(
    {
      openAICompatibleProviders: [
        { name: 'bad', baseUrl: bad.baseUrl, model: 'm' },
        { name: 'good', baseUrl: good.baseUrl, model: 'm' },
      ],
      port: 0,
      healthCheckInterval: 3_600_000,
      ...options,
    },
    { logger: silentLogger },
  );
  return {
    gateway,
    bad,
    good,
    close: async () => {
      await gateway.close();
      await bad.close();
      await good.close();
    },
  };
}

/** One provider as `GET /admin/providers` shows it (with the admin token). */
export async function adminView(gateway: GatewayHandle, id: string): Promise<ProviderView> {
  const body = (await (await fetch(`${gateway.url}/admin/providers`, asAdmin(gateway))).json()) as { providers: ProviderView[] };
  const view = body.providers.find((provider) => provider.id === id);
  assert.ok(view, `no ${id} in /admin/providers`);
  return view;
}
