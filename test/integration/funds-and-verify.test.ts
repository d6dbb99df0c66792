import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createZGComputeNetworkBroker } from '@0glabs/0g-serving-broker';
import { Wallet, formatEther, isError } from 'ethers';
import { runMultiProviderInferenceServer, type GatewayHandle, type ProviderView } from 'zg-gateway';
import { startLocalDevnet, type LocalDevnet } from 'zg-devnet';
import { devnetGatewayOptions, LogCapture, waitFor } from '../helpers/devnet-gateway.js';
import { asAdmin } from '../helpers/admin-fetch.js';

interface Answer {
  status: number;
  provider: string | null;
  body: { id?: string; error?: { code: string; message: string; details?: { funding?: { ledger?: { available: string } } } } };
}

async function chat(gateway: GatewayHandle, model: string, content: string): Promise<Answer> {
  const response = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model, messages: [{ role: 'user', content }] }) });
  return { status: response.status, provider: response.headers.get('x-provider-address'), body: (await response.json()) as Answer['body'] };
}

async function admin(gateway: GatewayHandle): Promise<{ providers: ProviderView[]; funding: { ledger: { available: string } | null; needsFunds: string[] } }> {
  return (await (await fetch(`${gateway.url}/admin/providers`, asAdmin(gateway))).json()) as never;
}

describe('verification is bounded and counted in flight', () => {
  let devnet: LocalDevnet;
  let gateway: GatewayHandle;
  before(async () => {
    devnet = await startLocalDevnet({ providers: 1 });
    gateway = await runMultiProviderInferenceServer(devnetGatewayOptions(devnet, { timeouts: { verify: 400 } }));
  });
  after(async () => {
    await gateway?.close();
    await devnet?.stop();
  });

  test('a provider whose signature endpoint never answers: 503 verify_unavailable at timeouts.verify; in flight meanwhile', async () => {
    const provider = devnet.providers[0];
    assert.ok(provider);
    const served = await chat(gateway, provider.model, 'verify me');
    assert.equal(served.status, 200);
    await provider.setFault({ mode: 'verify-stall' });
    try {
      const started = Date.now();
      const pending = fetch(`${gateway.url}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: served.body.id }) });
      assert.ok(await waitFor(() => gateway.inFlight() === 1, 300), 'the verify counts as in flight');
      const response = await pending;
      const elapsed = Date.now() - started;
      assert.equal(response.status, 503);
      assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'verify_unavailable');
      assert.ok(elapsed >= 350 && elapsed < 2000, `answered after ${elapsed} ms`);
      assert.equal(gateway.inFlight(), 0);
    } finally {
      await provider.setFault({ mode: 'none' });
    }
    const again = await fetch(`${gateway.url}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: served.body.id }) });
    assert.equal(((await again.json()) as { isValid: boolean }).isValid, true);
  });
});

describe('funds are a state of their own: a dry sub-account leaves rotation, is topped up, and comes back', () => {
  let devnet: LocalDevnet;
  let gateway: GatewayHandle;
  const logs = new LogCapture();
  before(async () => {
    devnet = await startLocalDevnet({ providers: 2 });
    gateway = await runMultiProviderInferenceServer(
      devnetGatewayOptions(devnet, { autoFundingInterval: 3_600_000, healthCheckInterval: 3_600_000, funding: { checkIntervalMs: 200, topUpCooldownMs: 200, ledgerFloor: 5 } }),
      { logger: logs.logger },
    );
  });
  after(async () => {
    await gateway?.close();
    await devnet?.stop();
  });

  test('ledger and sub-accounts emptied → 402 naming the cause and the ledger balance; a deposit brings the providers back', async () => {
    const model = devnet.providers[0]?.model ?? '';
    assert.equal((await chat(gateway, model, 'funded')).status, 200);
    // The operator's other tool (the SDK, same wallet) empties the ledger and asks every sub-account back.
    const wallet = new Wallet(devnet.userPrivateKey, devnet.rpc);
    const broker = await createZGComputeNetworkBroker(wallet, devnet.contracts.ledger, devnet.contracts.inference, devnet.contracts.fineTuning, 1e9);
    const available = (await broker.ledger.getLedger()).availableBalance;
    await asOtherSender(() => broker.ledger.refund(Math.floor(Number(formatEther(available))), 1e9));
    for (const provider of devnet.providers) await asOtherSender(() => broker.ledger.retrieveFundFromProvider('inference', provider.address, 1e9));
    // Providers reuse a chain read for up to a second (as real ones cache): let that pass.
    await new Promise((resolve) => setTimeout(resolve, 1100));

    const first = await chat(gateway, model, 'nobody is paid');
    assert.equal(first.status, 402);
    assert.equal(first.body.error?.code, 'insufficient_funds');
    assert.ok(await waitFor(async () => (await admin(gateway)).providers.every((view) => view.funding.state === 'needs-funds'), 5000), 'both need funds');
    const view = await admin(gateway);
    for (const provider of view.providers) {
      assert.equal(provider.breaker.state, 'closed', 'a 402 is not a breaker failure');
      assert.equal(provider.inRotation, false);
    }
    assert.deepEqual(new Set(view.funding.needsFunds), new Set(devnet.providers.map((provider) => provider.address)));
    const second = await chat(gateway, model, 'still nobody');
    assert.equal(second.status, 402);
    assert.match(second.body.error?.message ?? '', /needs funds.*ledger available: 0\.\d+ 0G/);
    assert.ok(logs.records().some((record) => record.event === 'ledger_low'), 'the ledger under its floor was logged');

    await asOtherSender(() => broker.ledger.depositFund(20, 1e9));
    assert.ok(await waitFor(async () => (await admin(gateway)).providers.every((entry) => entry.funding.state === 'ok'), 10_000), 'topped up and back in rotation');
    const back = await chat(gateway, model, 'paid again');
    assert.equal(back.status, 200);
    assert.ok(logs.records().some((record) => record.event === 'funding_transfer'), 'each top-up transaction is logged');
    assert.equal(gateway.inFlight(), 0);
  });
});

/**
 * The operator's other tool shares the gateway's wallet, so the gateway's own top-ups may take the
 * nonce it picked: as a person would, it sends the transaction again (the gateway does the same).
 */
async function asOtherSender<T>(send: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await send();
    } catch (error) {
      if (attempt >= 5 || !(isError(error, 'NONCE_EXPIRED') || isError(error, 'REPLACEMENT_UNDERPRICED'))) throw error;
    }
  }
}
