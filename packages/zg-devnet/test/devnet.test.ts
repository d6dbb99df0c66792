import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Contract, Wallet, hexlify, randomBytes } from 'ethers';
import { startLocalDevnet, type DevnetProvider, type LocalDevnet } from 'zg-devnet';
import { InferenceReader, authorizationFor, type OnChainAccount, type OnChainService } from './helpers/direct-client.js';
import { connectSdkUser, messageContent, openAccount, processAlive, sdkChat, waitFor, type SdkUser } from './helpers/sdk-user.js';

async function postChat(provider: DevnetProvider, authorization: string | undefined): Promise<{ status: number; message: string }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (authorization !== undefined) headers.authorization = authorization;
  const response = await fetch(`${provider.url}/v1/proxy/chat/completions`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ model: provider.model, messages: [{ role: 'user', content: 'hello' }] }),
    signal: AbortSignal.timeout(5000),
  });
  const body = (await response.json()) as { error?: { message?: string } };
  return { status: response.status, message: body.error?.message ?? '' };
}

describe('local devnet', () => {
  let devnet: LocalDevnet | undefined;
  let chain: InferenceReader;
  let user: SdkUser | undefined;

  const dev = (): LocalDevnet => {
    assert.ok(devnet, 'the devnet did not start');
    return devnet;
  };
  const acknowledgedProviders = (): DevnetProvider[] => dev().providers.slice(0, 3);
  const unacknowledgedProvider = (): DevnetProvider => {
    const provider = dev().providers[3];
    assert.ok(provider);
    return provider;
  };

  const readService = (address: string): Promise<OnChainService> => chain.service(address);
  const readAccount = (user: string, provider: string): Promise<OnChainAccount> => chain.account(user, provider);

  before(async () => {
    devnet = await startLocalDevnet({ providers: [{}, {}, {}, { name: 'unacknowledged', acknowledged: false }] });
    chain = new InferenceReader(devnet);
    // The unmodified SDK opens (and funds) the user's sub-account with the first provider.
    user = await connectSdkUser(devnet);
    const first = devnet.providers[0];
    assert.ok(first);
    await openAccount(user, first.address);
  });

  after(async () => {
    user?.close();
    await devnet?.stop();
  });

  it('deploys the three serving contracts (they have code)', async () => {
    const { contracts, rpc } = dev();
    const addresses = [contracts.ledger, contracts.inference, contracts.fineTuning];
    assert.equal(new Set(addresses.map((address) => address.toLowerCase())).size, 3, 'three distinct contracts');
    for (const address of addresses) {
      const code = await rpc.getCode(address);
      assert.notEqual(code, '0x', `no code at ${address}`);
      assert.ok(code.length > 2);
    }
  });

  it('registers every provider on chain with its url, model and TEE signer', async () => {
    const providers = dev().providers;
    assert.equal(providers.length, 4);
    for (const provider of providers) {
      const service = await readService(provider.address);
      assert.equal(service.provider.toLowerCase(), provider.address.toLowerCase());
      assert.equal(service.url, provider.url);
      assert.match(service.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(service.model, provider.model);
      assert.equal(service.serviceType, 'chatbot');
      assert.equal(service.verifiability, 'TeeML');
      assert.equal(service.inputPrice, provider.inputPrice);
      assert.equal(service.outputPrice, provider.outputPrice);
      assert.equal(service.teeSignerAddress.toLowerCase(), provider.signerAddress.toLowerCase());
      assert.notEqual(service.teeSignerAddress.toLowerCase(), provider.address.toLowerCase(), 'the TEE signer is a key of its own');
      assert.deepEqual(JSON.parse(service.additionalInfo), { ProviderType: 'decentralized' });
    }
  });

  it('acknowledges the TEE signers by default, not the one specified acknowledged: false', async () => {
    for (const provider of acknowledgedProviders()) {
      assert.equal((await readService(provider.address)).teeSignerAcknowledged, true, provider.name);
    }
    const unacknowledged = unacknowledgedProvider();
    assert.equal(unacknowledged.name, 'unacknowledged');
    assert.equal((await readService(unacknowledged.address)).teeSignerAcknowledged, false);
  });

  it('gives providers distinct addresses, urls and signers, and by default the same model', () => {
    const providers = dev().providers;
    const distinct = (values: string[]): number => new Set(values.map((value) => value.toLowerCase())).size;
    assert.equal(distinct(providers.map((provider) => provider.address)), providers.length);
    assert.equal(distinct(providers.map((provider) => provider.url)), providers.length);
    assert.equal(distinct(providers.map((provider) => provider.signerAddress)), providers.length);
    assert.deepEqual(
      providers.map((provider) => provider.model),
      providers.map(() => 'zg-devnet-chat'),
    );
    assert.deepEqual(
      providers.map((provider) => provider.name),
      ['provider-1', 'provider-2', 'provider-3', 'unacknowledged'],
    );
  });

  it('funds the user wallet and creates its ledger', async () => {
    const { rpc, userAddress, userPrivateKey } = dev();
    assert.equal(new Wallet(userPrivateKey).address, userAddress);
    assert.ok((await rpc.getBalance(userAddress)) > 0n);
    const ledger = new Contract(dev().contracts.ledger, ['function getLedger(address user) view returns (tuple(address user, uint256 availableBalance, uint256 totalBalance, string additionalInfo))'], rpc);
    const raw: unknown = await ledger.getFunction('getLedger').staticCall(userAddress);
    const account = raw as { user: string; totalBalance: bigint };
    assert.equal(account.user.toLowerCase(), userAddress.toLowerCase());
    assert.ok(account.totalBalance > 0n);
  });

  it('accepts a session token signed exactly like the SDK does (control for the rejections below)', async () => {
    const provider = acknowledgedProviders()[0];
    assert.ok(provider);
    // `before` opened the user's sub-account with this provider through the SDK.
    const user = new Wallet(dev().userPrivateKey);
    const before = provider.stats.rejectedAuth;
    const answer = await postChat(provider, await authorizationFor(user, provider.address));
    assert.equal(answer.status, 200, answer.message);
    assert.equal(provider.stats.rejectedAuth, before);
  });

  it('rejects bad and forged session tokens with 401 and counts them', async () => {
    const provider = acknowledgedProviders()[1];
    assert.ok(provider);
    const stranger = new Wallet(hexlify(randomBytes(32)));
    const user = new Wallet(dev().userPrivateKey);
    const otherProvider = acknowledgedProviders()[0];
    assert.ok(otherProvider);

    const garbageToken = `Bearer app-sk-${Buffer.from('not a token at all').toString('base64')}`;
    // A well-signed token whose body was changed afterwards: the signature no longer recovers to `address`.
    const signed = await authorizationFor(stranger, provider.address);
    const decoded = Buffer.from(signed.slice('Bearer app-sk-'.length), 'base64').toString('utf8');
    const tampered = `Bearer app-sk-${Buffer.from(decoded.replace(stranger.address, user.address)).toString('base64')}`;

    const cases: Array<{ what: string; authorization: string | undefined; reason: RegExp }> = [
      { what: 'no header', authorization: undefined, reason: /missing/ },
      { what: 'garbage token', authorization: garbageToken, reason: /malformed/ },
      { what: 'not even base64', authorization: 'Bearer app-sk-%%%', reason: /malformed/ },
      { what: 'token claiming another address', authorization: tampered, reason: /bad-signature/ },
      { what: 'well-signed token of a user without an on-chain account', authorization: signed, reason: /no-account/ },
      { what: "the real user's token for another provider", authorization: await authorizationFor(user, otherProvider.address), reason: /wrong-provider/ },
      { what: "the real user's expired token", authorization: await authorizationFor(user, provider.address, { expiresAt: Date.now() - 1000 }), reason: /expired/ },
    ];
    for (const [index, testCase] of cases.entries()) {
      const rejectedBefore = provider.stats.rejectedAuth;
      const servedBefore = provider.stats.served;
      const answer = await postChat(provider, testCase.authorization);
      assert.equal(answer.status, 401, `${testCase.what}: expected 401, got ${answer.status} (${answer.message})`);
      assert.match(answer.message, testCase.reason, testCase.what);
      assert.equal(provider.stats.rejectedAuth, rejectedBefore + 1, `${testCase.what}: rejectedAuth after case ${index}`);
      assert.equal(provider.stats.served, servedBefore, `${testCase.what}: nothing served`);
    }
    assert.equal(provider.unsettledFee(stranger.address), 0n);
  });

  it('settles fees on chain: the sub-account pays exactly the settled fee', async () => {
    const { userAddress } = dev();
    const provider = acknowledgedProviders()[0];
    assert.ok(provider);
    const texts = ['first question', 'a second, somewhat longer question about settlement', 'third'];
    const sdk = user;
    assert.ok(sdk);
    for (const text of texts) {
      const answer = await sdkChat(sdk, provider.address, { messages: [{ role: 'user', content: text }] });
      assert.equal(answer.status, 200, answer.text);
      assert.ok(messageContent(answer.body).includes(text));
      assert.equal(await sdk.broker.inference.processResponse(provider.address, answer.chatId, JSON.stringify(answer.body.usage)), true);
    }

    const fee = provider.unsettledFee(userAddress);
    assert.ok(fee > 0n, 'chats left an unsettled fee');
    const accountBefore = await readAccount(userAddress, provider.address);
    assert.equal(accountBefore.acknowledged, true);
    assert.ok(accountBefore.balance >= fee);

    const settlementsBefore = provider.stats.settlements;
    const report = await provider.settle();
    assert.ok(report.transactionHash, 'a settlement transaction was sent');
    const mine = report.results.filter((result) => result.user.toLowerCase() === userAddress.toLowerCase());
    assert.equal(mine.length, 1, 'one settlement for the user');
    const settlement = mine[0];
    assert.ok(settlement);
    assert.equal(settlement.status, 0, 'settlement status 0 (success)');
    assert.equal(settlement.totalFee, fee);
    assert.equal(provider.stats.settlements, settlementsBefore + 1);

    const receipt = await dev().rpc.getTransactionReceipt(report.transactionHash);
    assert.equal(receipt?.status, 1);
    const accountAfter = await readAccount(userAddress, provider.address);
    assert.equal(accountAfter.balance, accountBefore.balance - fee, 'balance decreased by exactly the settled fee');
    assert.equal(accountAfter.nonce, accountBefore.nonce + 1n, 'the settlement nonce advanced');
    assert.equal(provider.unsettledFee(userAddress), 0n);

    // Nothing left to settle: a second run sends nothing.
    const again = await provider.settle();
    assert.deepEqual(again.results, []);
    assert.equal(again.transactionHash, null);
  });

  it('stop() ends anvil and every provider server, and is idempotent', async () => {
    const running = dev();
    const pid = running.anvilPid;
    const urls = running.providers.map((provider) => provider.url);
    assert.equal(processAlive(pid), true);
    user?.close();
    user = undefined;
    await running.stop();
    assert.equal(await waitFor(() => !processAlive(pid), 5000), true, 'anvil exited');
    for (const url of urls) {
      await assert.rejects(fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) }), `${url} still answers`);
    }
    await running.stop();
  });
});
