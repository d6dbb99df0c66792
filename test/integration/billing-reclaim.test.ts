import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Contract } from 'ethers';
import OpenAI from 'openai';
import { adminBillingSchema, runMultiProviderInferenceServer, type BillingView, type GatewayHandle } from 'zg-gateway';
import { startLocalDevnet, type DevnetProvider, type LocalDevnet } from 'zg-devnet';
import { devnetGatewayOptions, LogCapture, waitFor } from '../helpers/devnet-gateway.js';
import { asAdmin } from '../helpers/admin-fetch.js';

const LEDGER_ABI = ['function getLedger(address user) view returns (tuple(address user, uint256 availableBalance, uint256 totalBalance, string additionalInfo))'];
const RECLAIM_AFTER_MS = 1200;

let devnet: LocalDevnet;
let gateway: GatewayHandle;
const logs = new LogCapture();

before(async () => {
  devnet = await startLocalDevnet({ providers: 2 });
  gateway = await runMultiProviderInferenceServer(
    devnetGatewayOptions(devnet, { autoFundingInterval: 3_600_000, healthCheckInterval: 3_600_000, billing: { reconcileInterval: 3_600_000, reclaimAfter: RECLAIM_AFTER_MS } }),
    { logger: logs.logger },
  );
});
after(async () => {
  await gateway?.close();
  await devnet?.stop();
});

const billingOf = async (): Promise<BillingView> => adminBillingSchema.parse(await (await fetch(`${gateway.url}/admin/billing`, asAdmin(gateway))).json()) as BillingView;
const viewOf = (view: BillingView, provider: DevnetProvider) => {
  const found = view.providers.find((entry) => entry.provider.toLowerCase() === provider.address.toLowerCase());
  assert.ok(found, `${provider.name} is in /admin/billing`);
  return found;
};
const ledgerAvailable = async (): Promise<bigint> =>
  ((await new Contract(devnet.contracts.ledger, LEDGER_ABI, devnet.rpc).getFunction('getLedger').staticCall(devnet.userAddress)) as { availableBalance: bigint }).availableBalance;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test('an idle provider leaves the fleet, its refund is requested, retrieved into the ledger once the lock time passed on chain, and it is funded again when needed', async (t) => {
  const [busy, idle] = devnet.providers as [DevnetProvider, DevnetProvider];
  const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const chatOn = async (provider: DevnetProvider): Promise<string | null> => {
    const body = { model: busy.model, messages: [{ role: 'user' as const, content: 'keep me busy' }], provider: { only: [provider.address] } };
    const { response } = await openai.chat.completions.create(body as OpenAI.ChatCompletionCreateParamsNonStreaming).withResponse();
    return response.headers.get('x-provider-address');
  };
  const idleLocked = BigInt(viewOf(await billingOf(), idle).subAccount?.locked ?? '0');
  assert.ok(idleLocked > 0n, 'the idle provider was funded at start');
  // `busy` serves now and then; `idle` never does.
  await sleep(RECLAIM_AFTER_MS / 2);
  assert.equal(await chatOn(busy), busy.address);
  await sleep(RECLAIM_AFTER_MS / 2 + 100);
  await gateway.billing.reclaimIdle();

  const members = gateway.providers.list().map((member) => member.id);
  assert.deepEqual(members, [busy.address], 'the idle provider left the fleet; the busy one stays');
  let view = await billingOf();
  const requested = viewOf(view, idle);
  assert.equal(requested.refund?.state, 'requested');
  assert.equal(requested.refund?.amount, idleLocked.toString(), 'its whole balance is asked back');
  assert.equal(requested.subAccount?.pendingRefund, idleLocked.toString());
  assert.equal(requested.subAccount?.locked, '0');
  const chainNow = (await devnet.rpc.getBlock('latest'))?.timestamp ?? 0;
  const unlockAt = Date.parse(requested.refund?.unlockAt ?? '') / 1000;
  assert.ok(unlockAt >= chainNow + 3590 && unlockAt <= chainNow + 3600, `unlocks after the contract's lock time (${unlockAt - chainNow} s)`);
  assert.deepEqual(view.refundsPending, [{ provider: idle.address, amount: idleLocked.toString(), unlockAt: requested.refund?.unlockAt ?? null, requestedAt: requested.refund?.requestedAt ?? '' }]);
  const requestLog = logs.records().find((line) => line.event === 'refund_requested');
  assert.ok(Array.isArray(requestLog?.transactions) && requestLog.transactions.length === 1, 'the refund transaction is logged with its hash');

  const before = await ledgerAvailable();
  await gateway.billing.reclaimIdle();
  assert.equal(viewOf(await billingOf(), idle).refund?.state, 'requested', 'not retrieved before the lock time');
  assert.equal(await ledgerAvailable(), before);

  await devnet.advanceTime(3601);
  await gateway.billing.reclaimIdle();
  view = await billingOf();
  const retrieved = viewOf(view, idle);
  assert.deepEqual([retrieved.refund?.state, retrieved.refund?.retrieved, retrieved.subAccount?.balance], ['retrieved', idleLocked.toString(), '0']);
  assert.equal(await ledgerAvailable(), before + idleLocked, 'the refund is back in the ledger');
  assert.deepEqual(view.refundsPending, []);
  assert.equal(retrieved.refund?.transactions.length, 2, 'request and retrieval, each logged');
  t.diagnostic(`reclaimed ${idle.address}: ${idleLocked} neuron requested, retrieved after advancing the chain 3601 s`);

  // Needed again: with the busy provider gone quiet too, both are reclaimed; a request brings one back, funded.
  await sleep(RECLAIM_AFTER_MS + 100);
  await gateway.billing.reclaimIdle();
  assert.deepEqual(gateway.providers.list(), [], 'the busy provider, idle now, was reclaimed too');
  const first = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: busy.model, messages: [{ role: 'user', content: 'anyone?' }] }) });
  assert.equal(first.status, 503, 'no provider now: 503, and the demand brings one back');
  assert.ok(await waitFor(() => gateway.providers.list().length === 1, 10_000), 'one parked provider is initialised and funded again');
  const answer = await openai.chat.completions.create({ model: busy.model, messages: [{ role: 'user', content: 'welcome back' }] }).withResponse();
  const back = answer.response.headers.get('x-provider-address') ?? '';
  const revived = viewOf(await billingOf(), back === busy.address ? busy : idle);
  assert.ok(BigInt(revived.subAccount?.locked ?? '0') > 0n, 'funded again');
});

test('discovery: a reclaimed provider frees its maxFundedProviders slot, a catalog refresh leaves its model alone, a request funds one again', async () => {
  const discovering = await startLocalDevnet({ providers: 2 });
  const reclaimAfter = 800;
  const auto = await runMultiProviderInferenceServer(
    { ...devnetGatewayOptions(discovering, { autoFundingInterval: 3_600_000, healthCheckInterval: 3_600_000, catalogRefreshInterval: 3_600_000 }), providers: 'auto', maxFundedProviders: 1, billing: { reconcileInterval: 3_600_000, reclaimAfter } },
    { logger: logs.logger },
  );
  try {
    const model = discovering.providers[0]?.model ?? '';
    assert.equal(auto.providers.list().length, 1, 'one provider per model, under the cap of 1');
    const [funded] = auto.providers.list();
    await sleep(reclaimAfter + 100);
    await auto.billing.reclaimIdle();
    assert.deepEqual(auto.providers.list(), [], 'reclaimed: the slot is free');
    const view = adminBillingSchema.parse(await (await fetch(`${auto.url}/admin/billing`, asAdmin(auto))).json()) as BillingView;
    assert.equal(view.providers.find((entry) => entry.provider === funded?.id)?.refund?.state, 'requested');
    const refresh = (await (await fetch(`${auto.url}/admin/catalog/refresh`, asAdmin(auto, { method: 'POST' }))).json()) as { added: string[] };
    assert.deepEqual(refresh.added, [], 'a refresh does not fund an idle model again');
    const first = await fetch(`${auto.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello?' }] }) });
    assert.equal(first.status, 503);
    assert.ok(await waitFor(() => auto.providers.list().length === 1, 10_000), 'the request funded a provider again: the cap counted the slot as free');
    const again = await fetch(`${auto.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello again' }] }) });
    assert.equal(again.status, 200);
    assert.ok(!logs.records().some((line) => line.event === 'funding_cap_reached'));
  } finally {
    await auto.close();
    await discovering.stop();
  }
});
