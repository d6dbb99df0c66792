import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { adminBillingSchema, runMultiProviderInferenceServer, type BillingView, type GatewayHandle, type GatewayOptions } from 'zg-gateway';
import { startLocalDevnet, type DevnetProvider, type LocalDevnet } from 'zg-devnet';
import { devnetGatewayOptions, LogCapture, waitFor, devnetProviderAt } from '../helpers/devnet-gateway.js';
import { asAdmin } from '../helpers/admin-fetch.js';

/** One answer as the client saw it. */
interface Served {
  id: string;
  provider: string;
  fee: bigint;
  cost: string | null;
}

const billingOf = async (gateway: GatewayHandle): Promise<BillingView> => adminBillingSchema.parse(await (await fetch(`${gateway.url}/admin/billing`, asAdmin(gateway))).json()) as BillingView;
const viewOf = (view: BillingView, provider: DevnetProvider) => {
  const found = view.providers.find((entry) => entry.provider.toLowerCase() === provider.address.toLowerCase());
  assert.ok(found, `${provider.name} is in /admin/billing`);
  return found;
};

describe('billing on the devnet: every fee counted once, settlements reconciled, an overcharging provider flagged, a restart resumes from its cursor', () => {
  let devnet: LocalDevnet;
  let gateway: GatewayHandle;
  let honest: DevnetProvider;
  let greedy: DevnetProvider;
  const directory = mkdtempSync(join(tmpdir(), 'zg-billing-'));
  const logs = new LogCapture();
  const answers: Served[] = [];
  const options = (): GatewayOptions =>
    devnetGatewayOptions(devnet, {
      // Every answer verified in the background too: that must add no fee either.
      verifySampleRate: 1,
      // No auto-funding round during the test: the SDK fee cache only grows by processResponse.
      autoFundingInterval: 3_600_000,
      healthCheckInterval: 3_600_000,
      billing: { stateFile: join(directory, 'billing.json'), reconcileInterval: 3_600_000, tolerance: { absolute: 0, relative: 0 }, reclaimAfter: 0 },
    });
  const feeOf = (provider: DevnetProvider, usage: { prompt_tokens: number; completion_tokens: number }): bigint =>
    BigInt(usage.prompt_tokens) * provider.inputPrice + BigInt(usage.completion_tokens) * provider.outputPrice;
  const providerAt = (address: string): DevnetProvider => devnetProviderAt(devnet, address);
  const servedBy = (provider: DevnetProvider): bigint => answers.filter((answer) => answer.provider === provider.address.toLowerCase()).reduce((sum, answer) => sum + answer.fee, 0n);

  /** One chat through the openai client, JSON or streamed (with usage, to know its fee). */
  const chat = async (text: string, stream: boolean): Promise<Served> => {
    const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    if (!stream) {
      const { data, response } = await openai.chat.completions.create({ model: honest.model, messages: [{ role: 'user', content: text }] }).withResponse();
      const provider = providerAt(response.headers.get('x-provider-address') ?? '');
      assert.ok(data.usage);
      const served = { id: data.id, provider: provider.address.toLowerCase(), fee: feeOf(provider, data.usage), cost: response.headers.get('x-request-cost') };
      answers.push(served);
      return served;
    }
    const { data, response } = await openai.chat.completions.create({ model: honest.model, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: text }] }).withResponse();
    let id = '';
    let usage: { prompt_tokens: number; completion_tokens: number } | undefined;
    for await (const chunk of data) {
      id = chunk.id;
      if (chunk.usage) usage = chunk.usage;
    }
    const provider = providerAt(response.headers.get('x-provider-address') ?? '');
    assert.ok(usage, 'the stream ends with usage');
    const served = { id, provider: provider.address.toLowerCase(), fee: feeOf(provider, usage), cost: null };
    answers.push(served);
    return served;
  };
  const verify = async (id: string): Promise<boolean> => {
    const response = await fetch(`${gateway.url}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id }) });
    return ((await response.json()) as { isValid: boolean }).isValid;
  };

  before(async () => {
    devnet = await startLocalDevnet({ providers: 2 });
    [honest, greedy] = devnet.providers as [DevnetProvider, DevnetProvider];
    gateway = await runMultiProviderInferenceServer(options(), { logger: logs.logger });
  });
  after(async () => {
    await gateway?.close();
    await devnet?.stop();
    rmSync(directory, { recursive: true, force: true });
  });

  test('N answers (JSON and streams), some verified twice, others never: the fee per provider is exactly Σ usage × price, the SDK fee cache grew once per answer', async (t) => {
    for (let index = 0; index < 8; index++) {
      const served = await chat(`question number ${index} about fees`, index % 3 === 2);
      if (served.cost !== null) assert.equal(served.cost, served.fee.toString(), 'X-Request-Cost is the fee');
      if (index % 2 === 0) {
        assert.equal(await verify(served.id), true);
        assert.equal(await verify(served.id), true);
      }
    }
    await gateway.gateway.trust.idle();
    const record = await gateway.gateway.responses.get(answers[0]?.id ?? '');
    assert.ok(record?.usage && record.price);
    assert.equal(record.providerId.toLowerCase(), answers[0]?.provider);
    assert.equal(record.costNeuron, answers[0]?.fee.toString());
    assert.equal(BigInt(record.usage.prompt_tokens) * BigInt(record.price.input) + BigInt(record.usage.completion_tokens) * BigInt(record.price.output), answers[0]?.fee);

    const view = await billingOf(gateway);
    assert.equal(view.persistence, 'file');
    for (const provider of [honest, greedy]) {
      const expected = servedBy(provider);
      assert.ok(expected > 0n, `${provider.name} served some answers`);
      const entry = viewOf(view, provider);
      assert.equal(entry.served, expected.toString(), `${provider.name}: served fee`);
      assert.equal(entry.answers, answers.filter((answer) => answer.provider === provider.address.toLowerCase()).length);
      assert.equal(entry.sdkFeeCache, expected.toString(), `${provider.name}: the SDK fee cache grew by each answer's fee once, and by nothing for verifications`);
      assert.equal(provider.unsettledFee(devnet.userAddress), expected, `${provider.name} agrees on what it is owed`);
      assert.equal(entry.status, 'ok');
    }
    assert.equal(view.totals.served, (servedBy(honest) + servedBy(greedy)).toString());
    for (const provider of [honest, greedy]) {
      const entry = viewOf(view, provider);
      t.diagnostic(`${provider.name}: ${entry.answers} answers, served fee ${entry.served} neuron, SDK fee cache ${entry.sdkFeeCache}`);
    }
  });

  test('an honest provider settles: reconciled exactly, status ok; a provider settling 2× is flagged in one reconciliation and leaves rotation', async (t) => {
    await honest.settle();
    await greedy.setFault({ mode: 'overcharge', factor: 2 });
    await greedy.settle();
    await greedy.setFault({ mode: 'none' });
    const summary = await gateway.billing.reconcile();
    assert.ok(summary);
    assert.equal(summary.settlements, 2);
    assert.deepEqual(summary.flagged, [greedy.address]);

    const view = await billingOf(gateway);
    const fair = viewOf(view, honest);
    const lastHonest = honest.settlements.at(-1);
    assert.ok(lastHonest);
    assert.deepEqual([fair.status, fair.settled, fair.pending], ['ok', servedBy(honest).toString(), '0']);
    assert.deepEqual([fair.lastSettlement?.transaction, fair.lastSettlement?.block, fair.lastSettlement?.amount], [lastHonest.transactionHash, lastHonest.blockNumber, lastHonest.amount.toString()]);

    const flagged = viewOf(view, greedy);
    const served = servedBy(greedy);
    assert.deepEqual(
      [flagged.status, flagged.served, flagged.settled, flagged.pending, flagged.excess],
      ['overcharging', served.toString(), (2n * served).toString(), (-served).toString(), served.toString()],
    );
    assert.equal(flagged.lastSettlement?.transaction, greedy.settlements.at(-1)?.transactionHash);
    t.diagnostic(`one reconciliation: ${honest.name} served ${fair.served}, settled ${fair.settled} → ${fair.status}; ${greedy.name} served ${flagged.served}, settled ${flagged.settled} → ${flagged.status}`);
    const reason = `overcharging: settled ${2n * served}, served ${served} neuron`;
    const warning = logs.records().find((line) => line.event === 'provider_overcharging');
    assert.deepEqual([warning?.provider, warning?.settled, warning?.served], [greedy.address, (2n * served).toString(), served.toString()]);

    const admin = (await (await fetch(`${gateway.url}/admin/providers`, asAdmin(gateway))).json()) as { providers: Array<{ id: string; trust: { state: string; reason: string } }> };
    const trust = admin.providers.find((entry) => entry.id === greedy.address)?.trust;
    assert.deepEqual([trust?.state, trust?.reason], ['untrusted', reason]);
    const health = (await (await fetch(`${gateway.url}/health`)).json()) as { loadBalancer: { providers: Array<{ address: string; inRotation: boolean; outOfRotationReason: string }> } };
    const unhealthy = health.loadBalancer.providers.find((entry) => entry.address === greedy.address);
    assert.deepEqual([unhealthy?.inRotation, unhealthy?.outOfRotationReason], [false, `trust: ${reason}`]);
    for (let index = 0; index < 3; index++) assert.equal((await chat(`after the flag ${index}`, false)).provider, honest.address.toLowerCase(), 'only the honest provider serves');
  });

  test('restarted mid-way (settlements made while it was down): resumes from its cursor, counts each settlement once, keeps the flag', async () => {
    const cursorBefore = (await billingOf(gateway)).cursor;
    await gateway.close();
    await honest.settle();
    const restartLogs = new LogCapture();
    gateway = await runMultiProviderInferenceServer(options(), { logger: restartLogs.logger });
    await gateway.billing.reconcile();
    const view = await billingOf(gateway);
    assert.ok(view.cursor !== null && cursorBefore !== null && view.cursor > cursorBefore);
    const settledOnChain = honest.settlements.filter((settlement) => settlement.status === 0).reduce((sum, settlement) => sum + settlement.amount, 0n);
    const fair = viewOf(view, honest);
    assert.deepEqual([fair.served, fair.settled, fair.pending, fair.settlements], [servedBy(honest).toString(), settledOnChain.toString(), '0', honest.settlements.length]);
    assert.equal(settledOnChain, servedBy(honest));
    const flagged = viewOf(view, greedy);
    assert.deepEqual([flagged.status, flagged.settled], ['overcharging', (2n * servedBy(greedy)).toString()]);
    assert.ok(await waitFor(() => gateway.gateway.registry.get(greedy.address)?.trust.state === 'untrusted', 2000), 'a flagged provider is out of rotation again after the restart');
    const again = await gateway.billing.reconcile();
    assert.deepEqual([again?.settlements, again?.flagged], [0, []], 'nothing counted twice');
  });

  test('a provider removed from the fleet has its sub-account refund requested, with its unlock time', async () => {
    assert.equal(await gateway.providers.remove(greedy.address), true);
    assert.ok(await waitFor(async () => viewOf(await billingOf(gateway), greedy).refund?.transactions.length === 1, 5000), 'the refund transaction went through');
    const view = await billingOf(gateway);
    const removed = viewOf(view, greedy);
    assert.equal(removed.inFleet, false);
    assert.ok(removed.subAccount && BigInt(removed.subAccount.pendingRefund) > 0n);
    assert.equal(removed.refund?.amount, removed.subAccount.pendingRefund);
    assert.ok(removed.refund?.unlockAt && removed.refund.transactions.length === 1);
    assert.deepEqual(view.refundsPending.map((refund) => refund.provider), [greedy.address]);
  });
});
