import { Contract, Interface, getAddress, zeroPadValue, type InterfaceAbi, type JsonRpcProvider, type Log } from 'ethers';
import { classifyChainError } from './classify-chain-error.js';
import { loadServingContractArtifacts } from './zg-sdk.js';

/** One settlement of the wallet's fees by a provider, as the chain recorded it. */
export interface ChainSettlement {
  /** The provider that settled (checksummed). */
  readonly provider: string;
  /** Neuron taken from the wallet's sub-account (the ledger's `FundSpent`); 0 for a refused settlement. */
  readonly amount: bigint;
  /** The contract's status (`TEESettlementResult`): 0 settled, 1 partly settled, 2 and above refused. */
  readonly status: number;
  /** What the settlement asked for and could not take (`TEESettlementResult.unsettledAmount`), neuron. */
  readonly unsettledAmount: bigint;
  readonly blockNumber: number;
  readonly transactionHash: string;
  /** Position of its `TEESettlementResult` log in the block. */
  readonly logIndex: number;
  /** Its block's chain time, s. */
  readonly timestamp: number;
}

/** A refund the wallet asked of a sub-account (the contract releases it after its lock time). */
export interface ChainRefund {
  readonly amount: bigint;
  /** When it was asked for, chain time (s). */
  readonly requestedAt: number;
  /** When it may be retrieved, chain time (s): `requestedAt` + the contract's lock time. */
  readonly unlockAt: number;
  readonly processed: boolean;
}

/** The wallet's sub-account with one provider, refunds included, in neuron. */
export interface ChainAccount {
  readonly exists: boolean;
  readonly balance: bigint;
  readonly pendingRefund: bigint;
  readonly refunds: readonly ChainRefund[];
}

/** What {@link ZgWalletAccounts} reads and sends through. */
export interface ZgWalletAccountsOptions {
  rpc: JsonRpcProvider;
  walletAddress: string;
  inferenceAddress: string;
  ledgerAddress: string;
  /** Asks the SDK to retrieve funds from one provider's sub-account (`ledger.retrieveFundFromProvider`). */
  retrieveFund(provider: string): Promise<void>;
}

const lower = (value: string): string => value.toLowerCase();

/**
 * The gateway wallet's own accounts on chain, read-only except for refunds: settlements of its fees
 * (the inference contract's `TEESettlementResult` with the ledger's `FundSpent` and the contract's
 * `BalanceUpdated` of the same settlement, all indexed by the wallet), its sub-accounts with their
 * refunds, and the refund transaction (requesting a refund and retrieving matured ones are one SDK call).
 */
export class ZgWalletAccounts {
  readonly #options: ZgWalletAccountsOptions;
  readonly #inference: Interface;
  readonly #ledger: Interface;
  readonly #contract: Contract;
  readonly #walletTopic: string;
  #lockTime: number | undefined;

  constructor(options: ZgWalletAccountsOptions) {
    this.#options = options;
    const artifacts = loadServingContractArtifacts();
    this.#inference = new Interface(artifacts.inference.abi as InterfaceAbi);
    this.#ledger = new Interface(artifacts.ledger.abi as InterfaceAbi);
    this.#contract = new Contract(options.inferenceAddress, this.#inference, options.rpc);
    this.#walletTopic = zeroPadValue(options.walletAddress, 32);
  }

  /** The latest block: number and chain time (s). */
  async latestBlock(): Promise<{ number: number; timestamp: number }> {
    try {
      const block = await this.#options.rpc.getBlock('latest');
      if (!block) throw new Error('no latest block');
      return { number: block.number, timestamp: block.timestamp };
    } catch (error) {
      throw classifyChainError(error, 'Reading the latest block');
    }
  }

  /** Settlements of the wallet's fees in blocks `fromBlock`..`toBlock` (inclusive), in chain order. */
  async settlements(fromBlock: number, toBlock: number): Promise<ChainSettlement[]> {
    const topics = [
      [this.#inference.getEvent('TEESettlementResult')?.topicHash ?? '', this.#inference.getEvent('BalanceUpdated')?.topicHash ?? '', this.#ledger.getEvent('FundSpent')?.topicHash ?? ''],
      this.#walletTopic,
    ];
    let logs: Log[];
    try {
      logs = await this.#options.rpc.getLogs({ address: [this.#options.inferenceAddress, this.#options.ledgerAddress], topics, fromBlock, toBlock });
    } catch (error) {
      throw classifyChainError(error, `Reading the wallet's settlements in blocks ${fromBlock}-${toBlock}`);
    }
    const settlements = await this.#pair([...logs].sort((left, right) => left.blockNumber - right.blockNumber || left.index - right.index));
    const times = new Map<number, number>();
    try {
      for (const settlement of settlements) {
        if (!times.has(settlement.blockNumber)) times.set(settlement.blockNumber, (await this.#options.rpc.getBlock(settlement.blockNumber))?.timestamp ?? 0);
      }
    } catch (error) {
      throw classifyChainError(error, 'Reading the blocks of settlements');
    }
    return settlements.map((settlement) => ({ ...settlement, timestamp: times.get(settlement.blockNumber) ?? 0 }));
  }

  /**
   * Each `TEESettlementResult` closes one settlement: the `FundSpent` (amount) and `BalanceUpdated`
   * (provider) the contract emitted for the wallet since the previous one in that transaction belong to it.
   */
  async #pair(logs: readonly Log[]): Promise<Array<Omit<ChainSettlement, 'timestamp'>>> {
    const settlements: Array<Omit<ChainSettlement, 'timestamp'>> = [];
    let transaction = '';
    let spent = 0n;
    let provider: string | undefined;
    for (const log of logs) {
      if (log.transactionHash !== transaction) {
        transaction = log.transactionHash;
        spent = 0n;
        provider = undefined;
      }
      const fromLedger = lower(log.address) === lower(this.#options.ledgerAddress);
      const parsed = (fromLedger ? this.#ledger : this.#inference).parseLog(log);
      if (!parsed) continue;
      if (parsed.name === 'FundSpent') {
        if (lower(String(parsed.args.getValue('service'))) === lower(this.#options.inferenceAddress)) spent += parsed.args.getValue('amount') as bigint;
      } else if (parsed.name === 'BalanceUpdated') {
        provider = getAddress(String(parsed.args.getValue('provider')));
      } else if (parsed.name === 'TEESettlementResult') {
        const status = Number(parsed.args.getValue('status'));
        // A refused settlement moves nothing and emits no BalanceUpdated: its sender is the provider.
        const settledBy = provider ?? getAddress((await this.#options.rpc.getTransaction(log.transactionHash))?.from ?? log.address);
        settlements.push({
          provider: settledBy,
          amount: status <= 1 ? spent : 0n,
          status,
          unsettledAmount: parsed.args.getValue('unsettledAmount') as bigint,
          blockNumber: log.blockNumber,
          transactionHash: log.transactionHash,
          logIndex: log.index,
        });
        spent = 0n;
        provider = undefined;
      }
    }
    return settlements;
  }

  /** The contract's refund lock time, s (read once). */
  async lockTime(): Promise<number> {
    if (this.#lockTime === undefined) {
      try {
        this.#lockTime = Number((await this.#contract.getFunction('lockTime').staticCall()) as bigint);
      } catch (error) {
        throw classifyChainError(error, 'Reading the refund lock time');
      }
    }
    return this.#lockTime;
  }

  /** The wallet's sub-account with `provider`, refunds included (`exists: false` when there is none). */
  async account(provider: string): Promise<ChainAccount> {
    const lockTime = await this.lockTime();
    try {
      const exists = (await this.#contract.getFunction('accountExists').staticCall(this.#options.walletAddress, provider)) as boolean;
      if (!exists) return { exists: false, balance: 0n, pendingRefund: 0n, refunds: [] };
      const account = (await this.#contract.getFunction('getAccount').staticCall(this.#options.walletAddress, provider)) as {
        balance: bigint;
        pendingRefund: bigint;
        refunds: ReadonlyArray<{ amount: bigint; createdAt: bigint; processed: boolean }>;
      };
      return {
        exists: true,
        balance: account.balance,
        pendingRefund: account.pendingRefund,
        refunds: account.refunds.map((refund) => ({
          amount: refund.amount,
          requestedAt: Number(refund.createdAt),
          unlockAt: Number(refund.createdAt) + lockTime,
          processed: refund.processed,
        })),
      };
    } catch (error) {
      throw classifyChainError(error, `Reading the sub-account with ${provider}`);
    }
  }

  /**
   * One refund transaction through the SDK: matured refunds of the sub-account with `provider`
   * return to the ledger, and what is left in it is asked back (released after the lock time).
   * Resolves with the hashes of the transactions that touched that sub-account meanwhile.
   */
  async retrieveFund(provider: string): Promise<string[]> {
    const before = (await this.latestBlock()).number;
    try {
      await this.#options.retrieveFund(provider);
    } catch (error) {
      throw classifyChainError(error, `Retrieving funds from the sub-account with ${provider}`);
    }
    const after = (await this.latestBlock()).number;
    const topics = [[this.#inference.getEvent('RefundRequested')?.topicHash ?? '', this.#inference.getEvent('BalanceUpdated')?.topicHash ?? ''], this.#walletTopic, zeroPadValue(provider, 32)];
    try {
      const logs = await this.#options.rpc.getLogs({ address: this.#options.inferenceAddress, topics, fromBlock: before + 1, toBlock: after });
      return [...new Set(logs.map((log) => log.transactionHash))];
    } catch {
      return [];
    }
  }
}
