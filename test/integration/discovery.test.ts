import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runMultiProviderInferenceServer, type GatewayHandle, type ProviderView } from 'zg-gateway';
import { startLocalDevnet, type DevnetProvider, type LocalDevnet } from 'zg-devnet';
import { devnetGatewayOptions, LogCapture, waitFor } from '../helpers/devnet-gateway.js';
import { asAdmin } from '../helpers/admin-fetch.js';

const GWEI = 1_000_000_000n;

interface Admin {
  providers: ProviderView[];
  catalog: Array<{ address: string; status: string; models: Array<{ id: string; inputPrice: string }> }>;
}

async function admin(gateway: GatewayHandle): Promise<Admin> {
  return (await (await fetch(`${gateway.url}/admin/providers`, asAdmin(gateway))).json()) as Admin;
}

async function chat(gateway: GatewayHandle, model: string, content = 'hi'): Promise<{ status: number; provider: string | null; code?: string }> {
  const response = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model, messages: [{ role: 'user', content }] }) });
  const body = (await response.json()) as { error?: { code: string } };
  return { status: response.status, provider: response.headers.get('x-provider-address'), ...(body.error ? { code: body.error.code } : {}) };
}

async function refresh(gateway: GatewayHandle): Promise<{ services: number; matching: number; joined: string[]; left: string[]; added: string[]; removed: string[]; changed: string[]; durationMs: number }> {
  const response = await fetch(`${gateway.url}/admin/catalog/refresh`, asAdmin(gateway, { method: 'POST' }));
  assert.equal(response.status, 200);
  return (await response.json()) as never;
}

describe("providers: 'auto' serves the chain's catalog and follows it", () => {
  let devnet: LocalDevnet;
  let gateway: GatewayHandle;
  const logs = new LogCapture();
  const named = (name: string): DevnetProvider => {
    const provider = devnet.providers.find((candidate) => candidate.name === name);
    assert.ok(provider, name);
    return provider;
  };

  before(async () => {
    devnet = await startLocalDevnet({
      providers: [
        { name: 'llama-a', model: 'llama', inputPrice: 2n * GWEI, outputPrice: 2n * GWEI },
        { name: 'llama-b', model: 'llama', inputPrice: 1n * GWEI, outputPrice: 1n * GWEI },
        { name: 'qwen-a', model: 'qwen' },
        { name: 'multi', models: [{ id: 'mistral', inputPrice: 3n * GWEI, outputPrice: 3n * GWEI }, { id: 'qwen', inputPrice: 9n * GWEI, outputPrice: 9n * GWEI }] },
        { name: 'dear-llama', model: 'llama', inputPrice: 100n * GWEI, outputPrice: 100n * GWEI },
        { name: 'unacknowledged', model: 'llama', acknowledged: false },
      ],
    });
    const { providers: _static, ...options } = devnetGatewayOptions(devnet, {
      healthCheckInterval: 3_600_000,
      catalogRefreshInterval: 3_600_000,
      maxFundedProviders: 4,
      verifySampleRate: 0,
    });
    void _static;
    gateway = await runMultiProviderInferenceServer({ ...options, providers: { discover: { maxInputPrice: (50n * GWEI).toString() } } }, { logger: logs.logger });
  });
  after(async () => {
    await gateway?.close();
    await devnet?.stop();
  });

  test('at start: one funded provider per model (the cheapest), the rest known with why they are not serving', async () => {
    const view = await admin(gateway);
    const funded = view.providers.map((provider) => provider.id).sort();
    assert.deepEqual(funded, [named('llama-b').address, named('qwen-a').address, named('multi').address].sort(), 'llama → the cheaper llama-b; qwen → qwen-a (cheaper than the multi); mistral → multi');
    const status = new Map(view.catalog.map((entry) => [entry.address, entry.status]));
    assert.match(status.get(named('llama-a').address) ?? '', /not funded yet/);
    assert.match(status.get(named('dear-llama').address) ?? '', /left out: every model it serves is priced above/);
    assert.match(status.get(named('unacknowledged').address) ?? '', /left out: its TEE signer is not acknowledged/);
    const models = ((await (await fetch(`${gateway.url}/v1/models`)).json()) as { data: Array<{ id: string; providers: number; catalog_providers: number }> }).data;
    assert.deepEqual(models.map((model) => model.id), ['llama', 'mistral', 'qwen']);
    assert.equal(models.find((model) => model.id === 'llama')?.catalog_providers, 2, 'llama-a and llama-b match the filter');
    for (const model of ['llama', 'mistral', 'qwen']) assert.equal((await chat(gateway, model)).status, 200);
    assert.ok(logs.records().filter((record) => record.event === 'provider_funded').length === 3, 'one log line per funding');
  });

  test('demand funds another provider of a model whose providers are out, up to maxFundedProviders', async () => {
    await named('llama-b').setFault({ mode: 'down' });
    try {
      // llama-b is the only funded llama: the first request fails on it, and that demand funds the next cheapest.
      const failed = await chat(gateway, 'llama');
      assert.equal(failed.status, 502);
      assert.ok(await waitFor(async () => (await admin(gateway)).providers.some((provider) => provider.id === named('llama-a').address), 10_000), 'llama-a funded on demand');
      assert.ok(await waitFor(async () => (await chat(gateway, 'llama')).provider === named('llama-a').address, 5000));
      assert.equal((await admin(gateway)).providers.length, 4, 'the cap (4) is reached');
    } finally {
      await named('llama-b').setFault({ mode: 'none' });
    }
  });

  test('a provider registered on chain joins at the next refresh; a repriced one is picked up; one that leaves drains and goes', async () => {
    const started = Date.now();
    const added = await devnet.addProvider({ name: 'newcomer', model: 'gemma', inputPrice: 2n * GWEI, outputPrice: 2n * GWEI });
    const first = await refresh(gateway);
    assert.ok(first.services >= 7);
    assert.deepEqual(first.joined, [added.address], 'the refresh names the service that joined since the last one');
    assert.deepEqual(first.left, []);
    const joined = (await admin(gateway)).catalog.find((entry) => entry.address === added.address);
    assert.ok(joined, 'the newcomer is known');
    assert.equal((await chat(gateway, 'gemma')).status, 503, 'the cap is reached: its model is known but no provider can be funded');
    assert.match((await admin(gateway)).catalog.find((entry) => entry.address === added.address)?.status ?? '', /maxFundedProviders reached/);

    await named('qwen-a').updateService({ inputPrice: 7n * GWEI, outputPrice: 7n * GWEI });
    const second = await refresh(gateway);
    assert.ok(second.changed.includes(named('qwen-a').address));
    const qwen = (await admin(gateway)).providers.find((provider) => provider.id === named('qwen-a').address);
    assert.equal(qwen?.models[0]?.inputPrice, (7n * GWEI).toString());
    assert.equal(qwen?.trust.state, 'trusted', 'the same signer, re-acknowledged: still trusted');

    const leaving = named('multi');
    const inFlight = fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mistral', stream: true, messages: [{ role: 'user', content: 'a long answer please with many words to stream slowly' }] }),
    });
    await leaving.setFault({ mode: 'slow-drip', intervalMs: 60 });
    const leftOnChain = leaving.leave({ graceMs: 10_000 });
    assert.ok(await waitFor(() => leaving.left, 5000), 'its service is removed on chain');
    const third = await refresh(gateway);
    assert.ok(third.removed.includes(leaving.address));
    assert.deepEqual(third.left, [leaving.address], 'and the service that left');
    const stream = await (await inFlight).text();
    assert.match(stream, /data: \[DONE\]\n\n$/, 'its in-flight stream finished');
    await leftOnChain;
    assert.ok(await waitFor(async () => !(await admin(gateway)).providers.some((provider) => provider.id === leaving.address), 10_000), 'it left the fleet');
    assert.equal(gateway.inFlight(), 0);
    const elapsed = Date.now() - started;
    assert.ok(third.durationMs < 5000, `a refresh takes ${third.durationMs} ms (whole scenario ${elapsed} ms)`);
  });
});
