import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Contract, Wallet } from 'ethers';
import { type DevnetProvider, type LocalDevnet } from 'zg-devnet';
import { InferenceReader, authorizationFor, postChat } from './helpers/direct-client.js';
import { GAS_PRICE, startDevnetWithAccounts, waitFor, type SdkUser } from './helpers/sdk-user.js';

const LEDGER_ABI = ['function getLedger(address user) view returns (tuple(address user, uint256 availableBalance, uint256 totalBalance, string additionalInfo))'];

describe('settlement and chain time', () => {
  let devnet: LocalDevnet;
  let user: SdkUser;
  let close: () => Promise<void>;
  let chain: InferenceReader;
  let wallet: Wallet;
  const provider = (index: number): DevnetProvider => {
    const found = devnet.providers[index];
    assert.ok(found);
    return found;
  };
  const chat = async (target: DevnetProvider, text: string): Promise<void> => {
    const response = await postChat(target, await authorizationFor(wallet, target.address), { messages: [{ role: 'user', content: text }] });
    assert.equal(response.status, 200, await response.text());
  };

  before(async () => {
    // The second provider settles by itself every 150 ms; the first only when told.
    ({ devnet, user, close } = await startDevnetWithAccounts({ providers: 2, settleIntervalMs: 150 }));
    chain = new InferenceReader(devnet);
    wallet = new Wallet(devnet.userPrivateKey);
  });
  after(async () => {
    await close?.();
  });

  it('keeps every settlement: user, amount, transaction and block, matching the chain', async () => {
    const target = provider(0);
    const historyBefore = target.settlements.length;
    const amounts: bigint[] = [];
    for (const round of [1, 2]) {
      await chat(target, `round ${round} of questions`);
      const fee = target.unsettledFee(devnet.userAddress);
      const balanceBefore = (await chain.account(devnet.userAddress, target.address)).balance;
      const report = await target.settle();
      amounts.push(fee);
      const record = target.settlements[target.settlements.length - 1];
      assert.ok(record && report.transactionHash);
      assert.equal(record.user, devnet.userAddress.toLowerCase());
      assert.equal(record.amount, fee);
      assert.equal(record.transactionHash, report.transactionHash);
      const receipt = await devnet.rpc.getTransactionReceipt(record.transactionHash);
      assert.equal(receipt?.status, 1);
      assert.equal(receipt?.blockNumber, record.blockNumber);
      assert.equal((await chain.account(devnet.userAddress, target.address)).balance, balanceBefore - fee);
    }
    assert.deepEqual(target.settlements.slice(historyBefore).map((record) => record.amount), amounts, 'oldest first');
  });

  it('settleIntervalMs settles in the background', async () => {
    const target = provider(1);
    await chat(target, 'settle me without being asked');
    const fee = target.unsettledFee(devnet.userAddress);
    assert.ok(fee > 0n);
    assert.ok(await waitFor(() => target.unsettledFee(devnet.userAddress) === 0n, 5000), 'settled by the timer');
    assert.equal(target.settlements[target.settlements.length - 1]?.amount, fee);
    assert.equal(provider(0).unsettledFee(devnet.userAddress), 0n);
  });

  it('advanceTime moves the chain clock, so a refund matures only after the lock time', async () => {
    const target = provider(0);
    const ledger = new Contract(devnet.contracts.ledger, LEDGER_ABI, devnet.rpc);
    const available = async (): Promise<bigint> => ((await ledger.getFunction('getLedger').staticCall(devnet.userAddress)) as { availableBalance: bigint }).availableBalance;
    const locked = (await chain.account(devnet.userAddress, target.address)).balance;
    assert.ok(locked > 0n);
    const availableBefore = await available();

    await user.broker.ledger.retrieveFundFromProvider('inference', target.address, GAS_PRICE);
    const requested = await chain.account(devnet.userAddress, target.address);
    assert.equal(requested.pendingRefund, locked, 'the whole balance is pending refund');
    assert.equal(await available(), availableBefore, 'nothing returns at once');
    await user.broker.ledger.retrieveFundFromProvider('inference', target.address, GAS_PRICE);
    assert.equal(await available(), availableBefore, 'nor on a second try before the lock time');

    const blockBefore = await devnet.rpc.getBlock('latest');
    await devnet.advanceTime(3601);
    const blockAfter = await devnet.rpc.getBlock('latest');
    assert.ok(blockBefore && blockAfter);
    assert.ok(blockAfter.timestamp - blockBefore.timestamp >= 3601, `clock moved ${blockAfter.timestamp - blockBefore.timestamp} s`);

    await user.broker.ledger.retrieveFundFromProvider('inference', target.address, GAS_PRICE);
    assert.equal(await available(), availableBefore + locked, 'the matured refund is back in the ledger');
    assert.equal((await chain.account(devnet.userAddress, target.address)).balance, 0n);
  });
});
