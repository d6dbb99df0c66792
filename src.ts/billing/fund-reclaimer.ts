import type { Logger } from 'pino';
import type { ProviderRegistry } from '../fleet/provider-registry.js';
import { networkBook, walletBook, type BillingBooks, type RefundNote, type WalletBook } from './billing-book.js';
import type { ChainAccount, WalletChain } from './wallet-chain.js';

/** Options for {@link FundReclaimer}. */
export interface FundReclaimerOptions {
  books: BillingBooks;
  registry: ProviderRegistry;
  logger: Logger;
  now: () => number;
  /** A 0G provider idle this long (ms) is reclaimed; 0: never. */
  reclaimAfterMs: number;
  /** Takes a provider out of the fleet to reclaim its funds (it comes back, funded, when needed). */
  park: (id: string, reason: string) => Promise<boolean>;
  /** Writes the state. */
  persist: () => Promise<void>;
  /** Whether the provider served nothing lately on any instance sharing the wallet (asked once this instance finds it idle). Default: yes. */
  idleEverywhere?: (network: WalletChain, provider: string) => Promise<boolean>;
}

const iso = (chainSeconds: number | null): string | null => (chainSeconds === null ? null : new Date(chainSeconds * 1000).toISOString());

/** When the last unprocessed refund of an account unlocks, chain time (s); null when none is pending. */
function unlockOf(account: ChainAccount): number | null {
  const pending = account.refunds.filter((refund) => !refund.processed && refund.amount > 0n);
  return pending.length === 0 ? null : Math.max(...pending.map((refund) => refund.unlockAt));
}

/**
 * Gets idle funds back: a 0G provider that served nothing for `reclaimAfterMs` leaves the fleet and
 * its sub-account's refund is requested through the SDK (as it is for a provider removed from the
 * fleet); once the contract's lock time has passed (chain time), the refund is retrieved into the
 * ledger. Every transaction is logged with its hash. A provider funded again before that (a request
 * needed it) has its refund cancelled by the deposit, and the note says so.
 */
export class FundReclaimer {
  readonly #options: FundReclaimerOptions;
  readonly #inProgress = new Set<string>();

  constructor(options: FundReclaimerOptions) {
    this.#options = options;
  }

  #wallet(network: WalletChain): WalletBook {
    return walletBook(networkBook(this.#options.books, network.networkId), network.walletAddress);
  }

  /** Reclaims idle providers, then moves every requested refund on (retrieves those that unlocked). */
  async tick(network: WalletChain): Promise<void> {
    const { registry, reclaimAfterMs, now } = this.#options;
    const wallet = this.#wallet(network);
    if (reclaimAfterMs > 0) {
      for (const entry of registry.list()) {
        if (entry.descriptor.kind !== 'zg' || entry.membership.state !== 'active' || entry.inFlight > 0) continue;
        const lastServed = wallet.accounts.get(entry.id.toLowerCase())?.lastServedAt ?? 0;
        const idleMs = now() - Math.max(lastServed, entry.joinedAt);
        if (idleMs < reclaimAfterMs || !((await this.#options.idleEverywhere?.(network, entry.id)) ?? true)) continue;
        await this.reclaim(network, entry.id, `idle for ${idleMs} ms`);
      }
    }
    for (const note of [...wallet.refunds.values()]) if (note.state === 'requested') await this.#advance(network, note);
  }

  /**
   * Takes `provider` out of the fleet (when in it) and asks its sub-account's funds back. The refund is
   * noted before the transaction, so a refused or failed one is tried again by the next round.
   */
  async reclaim(network: WalletChain, provider: string, reason: string): Promise<void> {
    const key = provider.toLowerCase();
    if (this.#inProgress.has(key)) return;
    this.#inProgress.add(key);
    const { logger, now } = this.#options;
    try {
      if (this.#options.registry.get(provider)) await this.#options.park(provider, `reclaimed: ${reason}`);
      const account = await network.accounts.account(provider);
      if (!account.exists || account.balance === 0n) {
        logger.info({ event: 'refund_not_needed', provider, wallet: network.walletAddress, reason }, 'nothing to reclaim from a provider sub-account');
        return;
      }
      const note: RefundNote = { provider, reason, requestedAt: now(), amount: 0n, unlockAt: null, state: 'requested', settledAt: null, retrieved: 0n, transactions: [] };
      this.#wallet(network).refunds.set(key, note);
      await this.#options.persist();
      await this.#request(network, note, account);
    } finally {
      this.#inProgress.delete(key);
    }
  }

  /** Asks back what the sub-account still holds beyond its pending refunds (matured ones return to the ledger on the way). */
  async #request(network: WalletChain, note: RefundNote, before: ChainAccount): Promise<void> {
    const transactions = await network.accounts.retrieveFund(note.provider);
    const after = await network.accounts.account(note.provider);
    note.amount = after.pendingRefund;
    note.unlockAt = unlockOf(after);
    note.retrieved += before.balance - after.balance;
    note.transactions.push(...transactions);
    this.#options.logger.info(
      { event: 'refund_requested', provider: note.provider, wallet: network.walletAddress, reason: note.reason, amount: note.amount.toString(), unlockAt: iso(note.unlockAt), transactions },
      "asked a provider sub-account's funds back",
    );
    await this.#options.persist();
  }

  /** Retrieves a requested refund once its lock time passed; notes a provider funded again meanwhile. */
  async #advance(network: WalletChain, note: RefundNote): Promise<void> {
    const { logger, now } = this.#options;
    const key = note.provider.toLowerCase();
    if (this.#inProgress.has(key)) return;
    const entry = this.#options.registry.get(note.provider);
    if (entry && entry.membership.state === 'active') {
      note.state = 'cancelled';
      note.settledAt = now();
      logger.info({ event: 'refund_cancelled', provider: note.provider, wallet: network.walletAddress }, 'a provider was funded again before its refund was retrieved');
      await this.#options.persist();
      return;
    }
    this.#inProgress.add(key);
    try {
      const account = await network.accounts.account(note.provider);
      // Not all asked back yet (the request failed, or funds came in since): ask again first.
      if (account.exists && account.balance > account.pendingRefund) return await this.#request(network, note, account);
      note.unlockAt = unlockOf(account) ?? note.unlockAt;
      const chainNow = (await network.accounts.latestBlock()).timestamp;
      const due = account.exists && account.pendingRefund > 0n && (note.unlockAt === null || chainNow >= note.unlockAt);
      if (!due && account.exists && account.pendingRefund > 0n) return;
      let retrieved = 0n;
      if (due) {
        const transactions = await network.accounts.retrieveFund(note.provider);
        const after = await network.accounts.account(note.provider);
        retrieved = account.balance - after.balance;
        note.transactions.push(...transactions);
        if (after.pendingRefund > 0n) {
          note.retrieved += retrieved;
          note.unlockAt = unlockOf(after);
          logger.info({ event: 'refund_partly_retrieved', provider: note.provider, amount: retrieved.toString(), pending: after.pendingRefund.toString(), unlockAt: iso(note.unlockAt), transactions }, 'retrieved part of a refund');
          await this.#options.persist();
          return;
        }
        logger.info({ event: 'refund_retrieved', provider: note.provider, wallet: network.walletAddress, amount: retrieved.toString(), transactions }, 'a refund is back in the ledger');
      }
      note.retrieved += retrieved;
      note.state = 'retrieved';
      note.settledAt = now();
      await this.#options.persist();
    } finally {
      this.#inProgress.delete(key);
    }
  }
}
