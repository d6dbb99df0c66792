import type { Logger } from 'pino';
import type { ProviderEntry } from '../fleet/provider-entry.js';
import type { ProviderRegistry } from '../fleet/provider-registry.js';
import {
  allowedExcess,
  excessOf,
  networkBook,
  overcharges,
  providerAccount,
  recordSettlement,
  walletBook,
  type BillingBooks,
  type ProviderAccount,
  type Tolerance,
} from './billing-book.js';
import type { WalletChain } from './wallet-chain.js';

/** What one reconciliation did. */
export interface ReconciliationSummary {
  /** When it ended, epoch ms. */
  at: number;
  /** Blocks read (inclusive); `fromBlock` > `toBlock` when there was no new block. */
  fromBlock: number;
  toBlock: number;
  /** Settlements of the wallet found in them. */
  settlements: number;
  /** Providers flagged `overcharging` by it. */
  flagged: string[];
  durationMs: number;
}

/** Options for {@link SettlementReconciler}. */
export interface SettlementReconcilerOptions {
  books: BillingBooks;
  registry: ProviderRegistry;
  logger: Logger;
  tolerance: Tolerance;
  /** Most blocks per `eth_getLogs`. */
  maxBlockRange: number;
  /** Where a book without a cursor starts; default the latest block. */
  startBlock: number | undefined;
  now: () => number;
  /** Writes the state (the cursor with the settlements it covers). */
  persist: () => Promise<void>;
  /**
   * Brings each account's `served` up to date before it is judged (the fleet-wide total, when several
   * instances share the wallet and count served fees in a shared store). Default: the book's own count.
   */
  refreshServed?: (network: WalletChain) => Promise<void>;
}

/** The reason a flagged provider is out of rotation with (its trust reason). */
export function overchargingReason(account: ProviderAccount): string {
  return `overcharging: settled ${account.settled}, served ${account.served} neuron`;
}

/**
 * Follows the wallet's settlements on chain from a stored block cursor (range by range, the cursor
 * saved with what it covers, so a restart neither misses nor counts a settlement twice) and compares,
 * per provider, what it settled with what the gateway served through the wallet. Settled ≤ served is
 * honest timing (answers not settled yet). A provider whose settlements exceed its served fees beyond
 * the tolerance is flagged `overcharging`, logged with the figures and taken out of rotation as
 * untrusted; an operator's readmission accepts the excess seen so far, and only more on top counts.
 */
export class SettlementReconciler {
  readonly #options: SettlementReconcilerOptions;
  /** Entries this reconciler took out (to tell an operator's readmission from a provider that joined again). */
  readonly #ejected = new WeakSet<ProviderEntry>();
  /** The last reconciliation, for `/admin/billing`. */
  last: ReconciliationSummary | null = null;

  constructor(options: SettlementReconcilerOptions) {
    this.#options = options;
  }

  /** Reads the settlements since the cursor, counts them, and judges every provider of the wallet. */
  async reconcile(network: WalletChain): Promise<ReconciliationSummary> {
    const started = this.#options.now();
    const { books, logger, maxBlockRange } = this.#options;
    const book = networkBook(books, network.networkId);
    const wallet = walletBook(book, network.walletAddress);
    const latest = (await network.accounts.latestBlock()).number;
    if (book.cursor !== null && book.cursor > latest) {
      logger.warn({ event: 'billing_chain_reset', network: network.networkId, cursor: book.cursor, latest }, 'the chain is behind the billing cursor (a reset chain?): its billing state starts afresh');
      books.delete(network.networkId);
      return this.reconcile(network);
    }
    book.cursor ??= (this.#options.startBlock ?? latest + 1) - 1;
    const fromBlock = book.cursor + 1;
    let found = 0;
    while (book.cursor < latest) {
      const from = book.cursor + 1;
      const to = Math.min(latest, from + maxBlockRange - 1);
      const settlements = await network.accounts.settlements(from, to);
      for (const settlement of settlements) {
        const account = providerAccount(wallet, settlement.provider);
        const note = { block: settlement.blockNumber, transaction: settlement.transactionHash, at: settlement.timestamp * 1000, amount: settlement.amount, status: settlement.status };
        recordSettlement(account, note);
        logger.info(
          { event: 'settlement_observed', provider: account.provider, wallet: network.walletAddress, amount: settlement.amount.toString(), status: settlement.status, block: note.block, transaction: note.transaction, settled: account.settled.toString(), served: account.served.toString() },
          'a provider settled fees of the wallet',
        );
      }
      found += settlements.length;
      book.cursor = to;
      await this.#options.persist();
    }
    await this.#options.refreshServed?.(network);
    const flagged = this.judge(network);
    await this.#options.persist();
    this.last = { at: this.#options.now(), fromBlock, toBlock: latest, settlements: found, flagged, durationMs: this.#options.now() - started };
    return this.last;
  }

  /** Flags providers that overcharge, applies flags to the fleet, takes readmissions into account. Returns those newly flagged. */
  judge(network: WalletChain): string[] {
    const { registry, logger, tolerance, now } = this.#options;
    const wallet = walletBook(networkBook(this.#options.books, network.networkId), network.walletAddress);
    const flagged: string[] = [];
    for (const account of wallet.accounts.values()) {
      const entry = registry.get(account.provider);
      if (account.overcharging && entry?.trust.state === 'trusted') {
        if (this.#ejected.has(entry)) {
          // An operator readmitted it: what it took so far is accepted; only more counts from now on.
          const accepted = excessOf(account);
          account.acceptedExcess += accepted;
          account.overcharging = null;
          this.#ejected.delete(entry);
          logger.warn({ event: 'overcharge_accepted', provider: account.provider, wallet: network.walletAddress, acceptedExcess: account.acceptedExcess.toString() }, 'an operator readmitted an overcharging provider: its excess so far is accepted');
        } else {
          this.#eject(entry, account);
        }
        continue;
      }
      if (account.overcharging || !overcharges(account, tolerance)) continue;
      account.overcharging = { since: now(), settled: account.settled, served: account.served };
      flagged.push(account.provider);
      logger.warn(
        {
          event: 'provider_overcharging',
          provider: account.provider,
          wallet: network.walletAddress,
          settled: account.settled.toString(),
          served: account.served.toString(),
          excess: excessOf(account).toString(),
          allowed: allowedExcess(account.served, tolerance).toString(),
          lastSettlement: account.lastSettlement?.transaction ?? null,
        },
        'a provider settled more than the gateway served: out of rotation',
      );
      if (entry) this.#eject(entry, account);
    }
    return flagged;
  }

  #eject(entry: ProviderEntry, account: ProviderAccount): void {
    this.#ejected.add(entry);
    this.#options.registry.setTrust(entry, 'untrusted', overchargingReason(account));
  }
}
