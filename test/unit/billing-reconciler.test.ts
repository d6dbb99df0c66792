import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  allowedExcess,
  BillingService,
  booksFromJson,
  booksToJson,
  emptyAccount,
  MemoryCounterStore,
  networkBook,
  overcharges,
  providerAccount,
  recordServed,
  SettlementReconciler,
  walletBook,
  type BillingBooks,
  type ChainAccount,
  type ChainSettlement,
  type ServedAnswerFacts,
  type WalletChain,
} from 'zg-gateway';
import { FakeProvider, fakeClock, silentLogger, testRegistry } from '../helpers/fakes.js';

const WALLET = '0x00000000000000000000000000000000000000aa';
const PROVIDER = '0x00000000000000000000000000000000000000Bb';

/** A chain the test writes settlements into, block by block. */
class FakeChain implements WalletChain {
  readonly networkId = '31337:0xinference';
  readonly walletAddress = WALLET;
  head = 0;
  readonly blocks = new Map<number, ChainSettlement[]>();
  readonly ranges: Array<[number, number]> = [];
  readonly accounts = {
    latestBlock: async () => ({ number: this.head, timestamp: this.head * 2 }),
    settlements: async (from: number, to: number): Promise<ChainSettlement[]> => {
      this.ranges.push([from, to]);
      const found: ChainSettlement[] = [];
      for (let block = from; block <= to; block++) found.push(...(this.blocks.get(block) ?? []));
      return found;
    },
    account: async (): Promise<ChainAccount> => this.subAccount,
    retrieveFund: async (): Promise<string[]> => {
      const failure = this.failNextRefund;
      this.failNextRefund = undefined;
      if (failure) throw failure;
      // The contract: matured refunds return, the rest is asked back (unlocking 100 s later).
      const matured = this.subAccount.refunds.filter((refund) => !refund.processed && refund.unlockAt <= this.head * 2);
      const back = matured.reduce((sum, refund) => sum + refund.amount, 0n);
      const rest = this.subAccount.balance - this.subAccount.pendingRefund;
      const refunds = [...this.subAccount.refunds.map((refund) => (matured.includes(refund) ? { ...refund, processed: true } : refund))];
      if (rest > 0n) refunds.push({ amount: rest, requestedAt: this.head * 2, unlockAt: this.head * 2 + 100, processed: false });
      this.subAccount = { exists: true, balance: this.subAccount.balance - back, pendingRefund: this.subAccount.pendingRefund - back + rest, refunds };
      return [`0xrefund${this.head}`];
    },
  };
  subAccount: ChainAccount = { exists: true, balance: 0n, pendingRefund: 0n, refunds: [] };
  failNextRefund: Error | undefined;

  /** Mines `count` empty blocks. */
  mine(count = 1): void {
    this.head += count;
  }

  /** Mines a block holding one settlement of `amount` by `provider`. */
  settle(amount: bigint, provider = PROVIDER, status = 0): void {
    this.head += 1;
    const settlement = { provider, amount, status, unsettledAmount: 0n, blockNumber: this.head, transactionHash: `0xtx${this.head}`, logIndex: 0, timestamp: this.head * 2 };
    this.blocks.set(this.head, [...(this.blocks.get(this.head) ?? []), settlement]);
  }

  async cachedFee(): Promise<bigint> {
    return 0n;
  }
}

const answer = (costNeuron: bigint | undefined, servedAt = 1): ServedAnswerFacts => ({ responseId: 'r', chatId: 'c', model: 'm', upstreamModel: 'm', usage: undefined, costNeuron, servedAt });

function setUp(tolerance = { absolute: 0n, relative: 0 }, maxBlockRange = 1000) {
  const chain = new FakeChain();
  const registry = testRegistry(fakeClock());
  const entry = registry.add(new FakeProvider(PROVIDER, ['m'], 'zg'));
  const books: BillingBooks = new Map();
  let writes = 0;
  const reconciler = new SettlementReconciler({ books, registry, logger: silentLogger, tolerance, maxBlockRange, startBlock: undefined, now: () => 5, persist: async () => void writes++ });
  const account = () => providerAccount(walletBook(networkBook(books, chain.networkId), WALLET), PROVIDER);
  return { chain, registry, entry, books, reconciler, account, writes: () => writes };
}

describe('billing book', () => {
  it('tolerance: flagged only beyond absolute + relative × served (exact bigint arithmetic)', () => {
    const account = emptyAccount(PROVIDER);
    recordServed(account, 1_000_000n, 1);
    const tolerance = { absolute: 10n, relative: 0.02 };
    assert.equal(allowedExcess(account.served, tolerance), 20_010n);
    account.settled = 1_020_010n;
    assert.equal(overcharges(account, tolerance), false, 'at the limit');
    account.settled += 1n;
    assert.equal(overcharges(account, tolerance), true, 'one neuron beyond');
    account.settled = 500n;
    assert.equal(overcharges(account, tolerance), false, 'less settled than served is honest timing');
  });

  it('the state file text keeps amounts beyond 2^64 exactly and refuses another layout version', () => {
    const books: BillingBooks = new Map();
    const network = networkBook(books, 'n');
    network.cursor = 42;
    const account = providerAccount(walletBook(network, WALLET), PROVIDER);
    recordServed(account, 2n ** 70n + 3n, 7);
    account.overcharging = { since: 9, settled: 2n ** 71n, served: 2n ** 70n };
    const again = booksFromJson(booksToJson(books));
    const read = again.get('n')?.wallets.get(WALLET)?.accounts.get(PROVIDER.toLowerCase());
    assert.deepEqual(read, account);
    assert.equal(again.get('n')?.cursor, 42);
    assert.throws(() => booksFromJson('{"version":2,"networks":{}}'), /layout version/);
  });
});

describe('settlement reconciler on a fake chain', () => {
  it('reads from its cursor in ranges of maxBlockRange, counts each settlement once, and starts at the latest block without a cursor', async () => {
    const { chain, reconciler, account, books, writes } = setUp(undefined, 10);
    chain.settle(999n); // before the gateway followed the chain: not its business
    chain.mine(4);
    const first = await reconciler.reconcile(chain);
    assert.deepEqual([first.fromBlock, first.toBlock, first.settlements], [6, 5, 0]);
    recordServed(account(), 300n, 1);
    chain.mine(20);
    chain.settle(100n);
    chain.mine(10);
    chain.settle(200n);
    const second = await reconciler.reconcile(chain);
    assert.deepEqual([second.fromBlock, second.toBlock, second.settlements, second.flagged], [6, 37, 2, []]);
    assert.deepEqual(chain.ranges, [[6, 15], [16, 25], [26, 35], [36, 37]]);
    assert.deepEqual([account().settled, account().settlements, account().lastSettlement?.transaction], [300n, 2, '0xtx37']);
    assert.equal(networkBook(books, chain.networkId).cursor, 37);
    assert.ok(writes() >= 4, 'the cursor is written with each range');
    assert.equal((await reconciler.reconcile(chain)).settlements, 0);
    assert.equal(account().settled, 300n);
  });

  it('refused settlements move nothing; an overcharging provider is ejected; a readmission accepts the excess so far; more on top flags it again', async () => {
    const { chain, registry, entry, reconciler, account } = setUp({ absolute: 5n, relative: 0 });
    await reconciler.reconcile(chain);
    recordServed(account(), 100n, 1);
    chain.settle(100n, PROVIDER, 3);
    chain.settle(104n);
    assert.deepEqual((await reconciler.reconcile(chain)).flagged, [], 'within the tolerance');
    assert.deepEqual([account().settled, account().refused], [104n, 1]);
    chain.settle(10n);
    assert.deepEqual((await reconciler.reconcile(chain)).flagged, [PROVIDER]);
    assert.deepEqual([entry.trust.state, entry.trust.reason], ['untrusted', 'overcharging: settled 114, served 100 neuron']);

    registry.setTrust(entry, 'trusted', 'readmitted by an operator');
    await reconciler.reconcile(chain);
    assert.deepEqual([account().overcharging, account().acceptedExcess, entry.trust.state], [null, 14n, 'trusted']);
    recordServed(account(), 50n, 2);
    chain.settle(55n);
    assert.deepEqual((await reconciler.reconcile(chain)).flagged, [], 'within the tolerance on top of what was accepted');
    chain.settle(1n);
    assert.deepEqual((await reconciler.reconcile(chain)).flagged, [PROVIDER]);
    assert.equal(entry.trust.state, 'untrusted');

    // The provider leaves and joins again (a new entry): still flagged, so out again.
    await registry.remove(PROVIDER);
    const rejoined = registry.add(new FakeProvider(PROVIDER, ['m'], 'zg'));
    assert.deepEqual((await reconciler.reconcile(chain)).flagged, []);
    assert.equal(rejoined.trust.state, 'untrusted');
  });

  it('a chain behind the cursor (reset) starts the network afresh', async () => {
    const { chain, books, reconciler, account } = setUp();
    chain.mine(50);
    await reconciler.reconcile(chain);
    recordServed(account(), 7n, 1);
    chain.head = 3;
    await reconciler.reconcile(chain);
    assert.equal(networkBook(books, chain.networkId).cursor, 3);
    assert.equal(account().served, 0n);
  });
});

describe('billing service state file', () => {
  const directory = mkdtempSync(join(tmpdir(), 'zg-billing-unit-'));
  after(() => rmSync(directory, { recursive: true, force: true }));
  const service = (file: string | undefined, chain: FakeChain, registry = testRegistry(), shared?: MemoryCounterStore, reclaim?: { afterMs: number; now: () => number; parked: string[] }) =>
    new BillingService({
      ...(shared ? { sharedServed: () => shared } : {}),
      ...(reclaim ? { now: reclaim.now } : {}),
      registry,
      logger: silentLogger,
      network: () => chain,
      park: async (id) => {
        reclaim?.parked.push(id);
        return registry.remove(id);
      },
      fundingSummary: () => undefined,
      stateFile: file,
      reconcileIntervalMs: 3_600_000,
      tolerance: { absolute: 0n, relative: 0 },
      reclaimAfterMs: reclaim?.afterMs ?? 0,
      maxBlockRange: 100,
    });

  it('counts only 0G answers with a fee; a restart from the file keeps served totals and the cursor, counting nothing twice', async () => {
    const file = join(directory, 'state.json');
    const chain = new FakeChain();
    const registry = testRegistry();
    const zg = registry.add(new FakeProvider(PROVIDER, ['m'], 'zg'));
    const plain = registry.add(new FakeProvider('plain', ['m'], 'openai-compatible'));
    const first = service(file, chain, registry);
    await first.reconcile();
    first.recordServed(zg, answer(40n));
    first.recordServed(zg, answer(2n));
    first.recordServed(zg, answer(undefined));
    first.recordServed(plain, answer(1000n));
    chain.settle(42n);
    await first.reconcile();
    await first.close();

    chain.settle(5n);
    const second = service(file, chain, registry);
    const view = await second.report();
    assert.equal(view.cursor, 1);
    const account = view.providers.find((entry) => entry.provider === PROVIDER);
    assert.deepEqual([account?.answers, account?.served, account?.settled], [2, '42', '42']);
    assert.deepEqual(view.providers.map((entry) => entry.provider), [PROVIDER], 'plain upstreams settle nothing on chain');
    const summary = await second.reconcile();
    assert.deepEqual([summary?.fromBlock, summary?.settlements, summary?.flagged], [2, 1, [PROVIDER]]);
    await second.close();
  });

  it('instances sharing the wallet count served fees in the shared counter store: settlements of all their answers are not an overcharge', async () => {
    const chain = new FakeChain();
    const shared = new MemoryCounterStore();
    const registries = [testRegistry(), testRegistry()];
    const entries = registries.map((registry) => registry.add(new FakeProvider(PROVIDER, ['m'], 'zg')));
    const instances = registries.map((registry) => service(undefined, chain, registry, shared));
    for (const instance of instances) await instance.reconcile();
    const [first, second] = instances;
    const [entryOfFirst, entryOfSecond] = entries;
    assert.ok(first && second && entryOfFirst && entryOfSecond);
    first.recordServed(entryOfFirst, answer(30n));
    second.recordServed(entryOfSecond, answer(12n));
    chain.settle(42n);
    for (const instance of instances) {
      const summary = await instance.reconcile();
      assert.deepEqual(summary?.flagged, [], 'each instance judges on the fleet-wide total');
      const view = (await instance.report()).providers[0];
      assert.deepEqual([view?.served, view?.settled, view?.pending], ['42', '42', '0']);
    }
    chain.settle(1n);
    assert.deepEqual((await first.reconcile())?.flagged, [PROVIDER]);
    for (const instance of instances) await instance.close();
  });

  it('with a shared store, a provider idle on this instance but busy on another is not reclaimed', async () => {
    const clock = fakeClock(10_000_000);
    const chain = new FakeChain();
    const shared = new MemoryCounterStore({ now: clock.now });
    const registries = [testRegistry(clock), testRegistry(clock)];
    const entries = registries.map((registry) => registry.add(new FakeProvider(PROVIDER, ['m'], 'zg')));
    const parked: string[] = [];
    const instances = registries.map((registry) => service(undefined, chain, registry, shared, { afterMs: 1000, now: clock.now, parked }));
    const [quiet, busy] = instances;
    assert.ok(quiet && busy && entries[1]);
    clock.advance(1500);
    busy.recordServed(entries[1], answer(5n, clock.now()));
    await quiet.reclaimIdle();
    assert.deepEqual(parked, [], 'served lately on the other instance');
    clock.advance(2100);
    await quiet.reclaimIdle();
    assert.deepEqual(parked, [PROVIDER], 'idle everywhere for a whole window: reclaimed');
    for (const instance of instances) await instance.close();
  });

  it('a refund whose request failed is asked again by the next round, then retrieved once it unlocked on chain', async () => {
    const clock = fakeClock(10_000_000);
    const chain = new FakeChain();
    chain.subAccount = { exists: true, balance: 700n, pendingRefund: 0n, refunds: [] };
    const registry = testRegistry(clock);
    registry.add(new FakeProvider(PROVIDER, ['m'], 'zg'));
    const parked: string[] = [];
    const billing = service(undefined, chain, registry, undefined, { afterMs: 1000, now: clock.now, parked });
    clock.advance(1000);
    chain.failNextRefund = new Error('nonce too low');
    await assert.rejects(billing.reclaimIdle(), /nonce too low/);
    assert.deepEqual(parked, [PROVIDER]);
    let refund = (await billing.report()).providers[0]?.refund;
    assert.deepEqual([refund?.state, refund?.amount, refund?.transactions], ['requested', '0', []], 'noted before the transaction');
    await billing.reclaimIdle();
    refund = (await billing.report()).providers[0]?.refund;
    assert.deepEqual([refund?.state, refund?.amount, refund?.transactions.length], ['requested', '700', 1]);
    chain.mine(10);
    await billing.reclaimIdle();
    assert.equal((await billing.report()).providers[0]?.refund?.state, 'requested', 'locked for 100 s of chain time');
    chain.mine(50);
    await billing.reclaimIdle();
    refund = (await billing.report()).providers[0]?.refund;
    assert.deepEqual([refund?.state, refund?.retrieved, refund?.transactions.length, chain.subAccount.balance], ['retrieved', '700', 2, 0n]);
    await billing.close();
  });

  it('a state file that is not a billing state stops the start-up with invalid_config', () => {
    const file = join(directory, 'broken.json');
    writeFileSync(file, '{ not json');
    assert.throws(() => service(file, new FakeChain()), { code: 'invalid_config', param: 'billing.stateFile' });
    // A state file swapped for a symlink to something else: nothing of it is quoted, cause included.
    for (const text of ['hunter2:$6$abc:19000:0:99999:7:::\n', '{ "version": "hunter2-secret", "networks": {} }']) {
      writeFileSync(file, text);
      assert.throws(
        () => service(file, new FakeChain()),
        (error: Error & { code?: string }) => error.code === 'invalid_config' && !`${error.message} ${String(error.cause)} ${String(error.stack)}`.includes('hunter2'),
      );
    }
  });
});
