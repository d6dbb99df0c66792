import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createZGComputeNetworkBroker } from '@0glabs/0g-serving-broker';
import { Wallet, formatEther, isError } from 'ethers';
import { runMultiProviderInferenceServer, type GatewayHandle, type ProviderView } from 'zg-gateway';
import { startLocalDevnet, type LocalDevnet } from 'zg-devnet';
import { devnetGatewayOptions, LogCapture, waitFor } from '../helpers/devnet-gateway.js';
import { asAdmin } from '../helpers/admin-fetch.js';

/** The default top-up cool-down (`funding.topUpCooldownMs`): a provider with funds must not wait for it. */
const DEFAULT_TOP_UP_COOLDOWN_MS = 10_000;

async function chat(gateway: GatewayHandle, model: string, content: string): Promise<number> {
  const response = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model, messages: [{ role: 'user', content }] }) });
  await response.arrayBuffer();
  return response.status;
}

async function providers(gateway: GatewayHandle): Promise<ProviderView[]> {
  return ((await (await fetch(`${gateway.url}/admin/providers`, asAdmin(gateway))).json()) as { providers: ProviderView[] }).providers;
}

/** Sends a chat every `everyMs` until one is served; returns how long that took and how many 402s came meanwhile. */
async function untilServed(gateway: GatewayHandle, model: string, everyMs: number, limitMs: number): Promise<{ elapsedMs: number; refused: number; served: boolean }> {
  const started = performance.now();
  let refused = 0;
  while (performance.now() - started < limitMs) {
    const status = await chat(gateway, model, 'are you back?');
    if (status === 200) return { elapsedMs: Math.round(performance.now() - started), refused, served: true };
    if (status === 402) refused += 1;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return { elapsedMs: Math.round(performance.now() - started), refused, served: false };
}

/** Keeps clients asking for `ms` (all refused for want of funds). */
async function refusedFor(gateway: GatewayHandle, model: string, ms: number): Promise<number[]> {
  const statuses: number[] = [];
  const until = performance.now() + ms;
  while (performance.now() < until) {
    statuses.push(await chat(gateway, model, 'no funds?'));
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return statuses;
}

/** The operator's other tool shares the gateway's wallet: a transaction whose nonce the gateway took is sent again. */
async function asOtherSender<T>(send: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await send();
    } catch (error) {
      if (attempt >= 5 || !(isError(error, 'NONCE_EXPIRED') || isError(error, 'REPLACEMENT_UNDERPRICED'))) throw error;
    }
  }
}

describe('funds: a needs-funds provider is retried at once when funds are there, not after the top-up cool-down (default funding options)', () => {
  let devnet: LocalDevnet;
  let gateway: GatewayHandle;
  let model: string;
  const logs = new LogCapture();
  before(async () => {
    devnet = await startLocalDevnet({ providers: 2 });
    model = devnet.providers[0]?.model ?? '';
    // Default `funding` (checkIntervalMs 5000, topUpCooldownMs 10000); the SDK's own auto-funding is kept out of the way.
    gateway = await runMultiProviderInferenceServer(devnetGatewayOptions(devnet, { autoFundingInterval: 3_600_000, healthCheckInterval: 3_600_000 }), { logger: logs.logger });
  });
  after(async () => {
    await gateway?.close();
    await devnet?.stop();
  });

  test('a transient 402 on every provider while the sub-accounts hold funds: served again about as soon as the providers are', async () => {
    assert.equal(await chat(gateway, model, 'funded'), 200);
    for (const provider of devnet.providers) await provider.setFault({ mode: 'http-error', status: 402 });
    const during = await refusedFor(gateway, model, 1500);
    assert.ok(during.every((status) => status === 402), `all refused while the providers say 402: ${during.join(',')}`);
    assert.ok((await providers(gateway)).some((view) => view.funding.state === 'needs-funds'), 'positive control: providers were taken out for funds');
    for (const provider of devnet.providers) await provider.setFault({ mode: 'none' });
    const back = await untilServed(gateway, model, 100, 30_000);
    console.log(`transient 402 (funds present): first 200 ${back.elapsedMs} ms after the providers stopped refusing; ${back.refused} more 402s meanwhile (cool-down ${DEFAULT_TOP_UP_COOLDOWN_MS} ms)`);
    assert.ok(back.served, 'served again');
    assert.ok(back.elapsedMs < DEFAULT_TOP_UP_COOLDOWN_MS, `not held back by the top-up cool-down (${back.elapsedMs} ms)`);
    for (const view of await providers(gateway)) assert.equal(view.breaker.state, 'closed');
  });

  test('ledger and sub-accounts emptied, then a deposit: the deposit is seen and the providers topped up at once', async () => {
    const wallet = new Wallet(devnet.userPrivateKey, devnet.rpc);
    const broker = await createZGComputeNetworkBroker(wallet, devnet.contracts.ledger, devnet.contracts.inference, devnet.contracts.fineTuning, 1e9);
    const available = (await broker.ledger.getLedger()).availableBalance;
    await asOtherSender(() => broker.ledger.refund(Math.floor(Number(formatEther(available))), 1e9));
    for (const provider of devnet.providers) await asOtherSender(() => broker.ledger.retrieveFundFromProvider('inference', provider.address, 1e9));
    // Providers reuse a chain read for up to a second (as real ones cache): let that pass.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    assert.equal(await chat(gateway, model, 'nobody is paid'), 402);
    assert.ok(await waitFor(async () => (await providers(gateway)).every((view) => view.funding.state === 'needs-funds'), 10_000), 'both need funds');
    // Clients keep asking while the wallet is dry (the keeper's failed top-ups start their cool-down).
    const during = await refusedFor(gateway, model, 1500);
    assert.ok(during.every((status) => status === 402));
    await asOtherSender(() => broker.ledger.depositFund(20, 1e9));
    const back = await untilServed(gateway, model, 100, 30_000);
    console.log(`deposit → first 200: ${back.elapsedMs} ms; ${back.refused} 402s meanwhile (cool-down ${DEFAULT_TOP_UP_COOLDOWN_MS} ms, check interval 5000 ms)`);
    assert.ok(back.served, 'served again');
    assert.ok(back.elapsedMs < DEFAULT_TOP_UP_COOLDOWN_MS, `not held back by the top-up cool-down (${back.elapsedMs} ms)`);
    assert.ok(logs.records().some((record) => record.event === 'ledger_deposit_seen'), 'the deposit was seen on the ledger');
    assert.ok(logs.records().some((record) => record.event === 'funding_transfer'), 'and the providers topped up');
    assert.equal(gateway.inFlight(), 0);
  });
});
