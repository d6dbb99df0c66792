import { keccak256, toUtf8Bytes, type Contract, type Wallet } from 'ethers';
import type { ChainAccounts } from './session-auth.js';

/** The provider's own minimum locked balance (1 0G), as the real provider broker enforces. */
const MIN_LOCKED_BALANCE = 10n ** 18n;

/** The outcome of one settlement run. */
export interface SettlementReport {
  /** Users whose fees were submitted, with the amount and the contract's status (0 success, 1 partial, ...). */
  results: Array<{ user: string; totalFee: bigint; status: number }>;
  /** The settlement transaction, or null when there was nothing to settle. */
  transactionHash: string | null;
}

/** One user's settlement as submitted on chain (see `DevnetProvider.settlements`). */
export interface SettlementRecord {
  /** The user (lowercase address). */
  readonly user: string;
  /** The fee submitted, in neuron (more than `servedFee` under the `overcharge` fault). */
  readonly amount: bigint;
  /** The fee of what was actually served, in neuron. */
  readonly servedFee: bigint;
  /** The contract's status for this settlement (0 success, 1 partial, others refused). */
  readonly status: number;
  readonly transactionHash: string;
  readonly blockNumber: number;
}

/** What a settlement needs to sign and send. */
export interface FeeLedgerOptions {
  /** The provider's wallet (pays gas), connected to the chain. */
  wallet: Wallet;
  /** The inference contract, connected to `wallet`. */
  inference: Contract;
  inferenceAddress: string;
  chainId: number;
  accounts: ChainAccounts;
  /** The TEE key signing settlements now (it may be rotated). */
  currentTeeSigner(): Wallet;
  /** Runs provider-wallet transactions one at a time (shared with service updates). */
  sendInOrder<T>(send: () => Promise<T>): Promise<T>;
  /** Called once per settlement transaction mined. */
  onSent(): void;
}

const SETTLEMENT_TYPES = {
  TEESettlement: [
    { name: 'requestsHash', type: 'bytes32' },
    { name: 'nonce', type: 'uint256' },
    { name: 'provider', type: 'address' },
    { name: 'user', type: 'address' },
    { name: 'totalFee', type: 'uint256' },
  ],
};

/**
 * Fees per user for what a provider served, the 402 balance check, and settlement on chain:
 * one EIP-712 `TEESettlement` per user signed by the TEE key, all sent in one `settleFeesWithTEE`.
 */
export class FeeLedger {
  /** Every settlement submitted, oldest first. */
  readonly history: SettlementRecord[] = [];
  private readonly unsettled = new Map<string, { fee: bigint; chatIds: string[] }>();
  private running: Promise<SettlementReport> | null = null;

  constructor(private readonly options: FeeLedgerOptions) {}

  /** Adds a served chat's fee to the user's unsettled total. */
  record(user: string, chatId: string, fee: bigint): void {
    const entry = this.unsettled.get(user) ?? { fee: 0n, chatIds: [] };
    entry.fee += fee;
    entry.chatIds.push(chatId);
    this.unsettled.set(user, entry);
  }

  /** Fees served but not yet settled for this user, in neuron. */
  unsettledFee(user: string): bigint {
    return this.unsettled.get(user.toLowerCase())?.fee ?? 0n;
  }

  /** Whether the user's locked balance covers its unsettled fees plus the provider's minimum (a stale cached read is re-read before refusing). */
  async canServe(user: string): Promise<boolean> {
    const required = this.unsettledFee(user) + MIN_LOCKED_BALANCE;
    const locked = (account: Awaited<ReturnType<ChainAccounts['read']>>): bigint => (account ? account.balance - account.pendingRefund : 0n);
    if (locked(await this.options.accounts.read(user)) >= required) return true;
    return locked(await this.options.accounts.read(user, true)) >= required;
  }

  /** Waits for a settlement under way, if any. */
  async idle(): Promise<void> {
    await this.running?.catch(() => undefined);
  }

  /** Settles every user's unsettled fees now (one run at a time), submitting `overchargeFactor` × each fee. */
  settle(overchargeFactor = 1): Promise<SettlementReport> {
    if (!this.running) {
      this.running = this.options.sendInOrder(() => this.settleNow(overchargeFactor)).finally(() => {
        this.running = null;
      });
    }
    return this.running;
  }

  private async settleNow(overchargeFactor: number): Promise<SettlementReport> {
    const entries = [...this.unsettled.entries()].filter(([, value]) => value.fee > 0n);
    if (entries.length === 0) return { results: [], transactionHash: null };
    const { wallet, inference, chainId, inferenceAddress, accounts } = this.options;
    const domain = { name: '0G Inference Serving', version: '1', chainId, verifyingContract: inferenceAddress };
    const teeSigner = this.options.currentTeeSigner();
    const factorPerMille = BigInt(Math.round(overchargeFactor * 1000));
    const settlements = [];
    const served = new Map<string, { fee: bigint; chatCount: number }>();
    for (const [user, value] of entries) {
      const account = await accounts.read(user, true);
      const nonce = (account?.nonce ?? 0n) + 1n;
      const requestsHash = keccak256(toUtf8Bytes(value.chatIds.join(',')));
      const totalFee = (value.fee * factorPerMille) / 1000n;
      const message = { requestsHash, nonce, provider: wallet.address, user, totalFee };
      const signature = await teeSigner.signTypedData(domain, SETTLEMENT_TYPES, message);
      settlements.push({ user, provider: wallet.address, totalFee, requestsHash, nonce, signature });
      served.set(user, { fee: value.fee, chatCount: value.chatIds.length });
    }
    const settle = inference.getFunction('settleFeesWithTEE');
    const statuses = (await settle.staticCall(settlements)) as bigint[];
    const transaction = await settle(settlements);
    const receipt = await transaction.wait();
    this.options.onSent();
    const transactionHash = transaction.hash as string;
    const blockNumber = Number((receipt as { blockNumber?: number } | null)?.blockNumber ?? 0);
    const results = settlements.map((settlement, index) => {
      const status = Number(statuses[index] ?? 255);
      const actual = served.get(settlement.user) ?? { fee: 0n, chatCount: 0 };
      if (status === 0 || status === 1) {
        // Only what was settled leaves the books: chats served meanwhile stay unsettled.
        const entry = this.unsettled.get(settlement.user);
        if (entry) {
          entry.fee -= actual.fee;
          entry.chatIds.splice(0, actual.chatCount);
        }
      }
      this.history.push(
        Object.freeze({ user: settlement.user, amount: settlement.totalFee, servedFee: actual.fee, status, transactionHash, blockNumber }),
      );
      return { user: settlement.user, totalFee: settlement.totalFee, status };
    });
    return { results, transactionHash };
  }
}
