import type { Logger } from 'pino';
import { formatEther, parseEther } from 'ethers';
import type { ProviderEntry } from '../gateway/provider-entry.js';
import type { ProviderRegistry } from '../gateway/provider-registry.js';
import { ZgProvider } from '../providers/zg/zg-provider.js';
import type { ZgNetwork } from '../providers/zg/zg-network.js';

/** The provider's own floor: a sub-account must hold its unsettled fees plus 1 0G (the provider broker's rule). */
const MIN_LOCKED = 10n ** 18n;

/** Options for {@link FundingKeeper}. */
export interface FundingKeeperOptions {
  registry: ProviderRegistry;
  network: () => ZgNetwork | undefined;
  logger: Logger;
  /** Fewest ms between two top-up attempts for one provider. */
  topUpCooldownMs: number;
  /** Warn when the ledger's available balance falls under this, in 0G. */
  ledgerFloor: number;
  now?: () => number;
}

/** Balances as `/admin` and error details show them (0G, decimal strings). */
export interface FundingSummary {
  ledger: { available: string; total: string; readAt: string } | null;
  ledgerFloor: string;
  belowFloor: boolean;
  subAccounts: Record<string, { balance: string; pendingRefund: string; readAt: string }>;
  needsFunds: string[];
}

/**
 * Keeps 0G providers funded: a provider that answered 402 is out of rotation (`needs-funds`);
 * the keeper tries one top-up from the ledger at once (then at most every `topUpCooldownMs`),
 * and puts it back in rotation as soon as its sub-account holds what the provider requires.
 * It reads the ledger on every tick and warns once when it falls under the floor.
 */
export class FundingKeeper {
  readonly #options: FundingKeeperOptions;
  readonly #now: () => number;
  readonly #lastAttempt = new Map<string, number>();
  readonly #inProgress = new Set<string>();
  #ledger: { available: bigint; total: bigint; readAt: number } | undefined;
  readonly #accounts = new Map<string, { balance: bigint; pendingRefund: bigint; readAt: number }>();
  #belowFloor = false;
  readonly #floor: bigint;

  constructor(options: FundingKeeperOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#floor = parseEther(String(options.ledgerFloor));
    options.registry.onOutcome((outcome, entry) => {
      if (outcome.errorCode === 'insufficient_funds') void this.#restore(entry);
    });
  }

  /** Checks every provider that needs funds, and the ledger. Never rejects. */
  async tick(): Promise<void> {
    await this.#readLedger();
    for (const entry of this.#options.registry.list()) if (entry.funding.state === 'needs-funds') await this.#restore(entry);
  }

  /** Reads every 0G provider's sub-account (for `/admin`). Never rejects. */
  async refreshAccounts(): Promise<void> {
    const network = this.#options.network();
    if (!network) return;
    for (const entry of this.#options.registry.list()) {
      if (!(entry.provider instanceof ZgProvider)) continue;
      try {
        const account = await network.subAccount(entry.id);
        this.#accounts.set(entry.id, { ...account, readAt: this.#now() });
      } catch {
        // Kept from the last reading; the chain may be briefly unreachable.
      }
    }
  }

  summary(): FundingSummary | undefined {
    if (!this.#options.network()) return undefined;
    const iso = (at: number): string => new Date(at).toISOString();
    return {
      ledger: this.#ledger ? { available: formatEther(this.#ledger.available), total: formatEther(this.#ledger.total), readAt: iso(this.#ledger.readAt) } : null,
      ledgerFloor: formatEther(this.#floor),
      belowFloor: this.#belowFloor,
      subAccounts: Object.fromEntries(
        [...this.#accounts.entries()].map(([id, account]) => [id, { balance: formatEther(account.balance), pendingRefund: formatEther(account.pendingRefund), readAt: iso(account.readAt) }]),
      ),
      needsFunds: this.#options.registry.list().filter((entry) => entry.funding.state === 'needs-funds').map((entry) => entry.id),
    };
  }

  async #readLedger(): Promise<void> {
    const network = this.#options.network();
    if (!network) return;
    try {
      const ledger = await network.ledgerBalance();
      this.#ledger = { ...ledger, readAt: this.#now() };
      const below = ledger.available < this.#floor;
      if (below && !this.#belowFloor) {
        this.#options.logger.warn({ event: 'ledger_low', available: formatEther(ledger.available), floor: formatEther(this.#floor) }, 'the 0G ledger is under its floor: deposit funds');
      }
      this.#belowFloor = below;
    } catch (error) {
      this.#options.logger.debug({ event: 'ledger_read_failed', err: error }, 'could not read the ledger');
    }
  }

  /** One attempt to bring a provider that needs funds back (rate-limited per provider). */
  async #restore(entry: ProviderEntry): Promise<void> {
    const network = this.#options.network();
    const provider = entry.provider;
    if (!network || !(provider instanceof ZgProvider) || this.#inProgress.has(entry.id)) return;
    const last = this.#lastAttempt.get(entry.id);
    if (last !== undefined && this.#now() - last < this.#options.topUpCooldownMs) return;
    this.#lastAttempt.set(entry.id, this.#now());
    this.#inProgress.add(entry.id);
    const logger = this.#options.logger;
    try {
      const before = await network.subAccount(entry.id);
      const unsettled = await provider.unsettledFee(network.walletAddress, AbortSignal.timeout(5000)).catch(() => 0n);
      const required = unsettled + MIN_LOCKED;
      let after = before;
      if (before.balance - before.pendingRefund <= required) {
        await network.topUp(entry.id);
        after = await network.subAccount(entry.id);
        if (after.balance > before.balance) {
          logger.info({ event: 'funding_transfer', provider: entry.id, amount: formatEther(after.balance - before.balance), balance: formatEther(after.balance) }, 'topped up a provider sub-account');
        }
      }
      this.#accounts.set(entry.id, { ...after, readAt: this.#now() });
      if (after.balance - after.pendingRefund > required) {
        this.#options.registry.setFunding(entry, 'ok', `sub-account holds ${formatEther(after.balance - after.pendingRefund)} 0G`);
      } else {
        await this.#readLedger();
        logger.warn(
          { event: 'funding_insufficient', provider: entry.id, balance: formatEther(after.balance), required: formatEther(required), ledgerAvailable: this.#ledger ? formatEther(this.#ledger.available) : null },
          'a provider still needs funds: the ledger cannot top its sub-account up',
        );
      }
    } catch (error) {
      logger.warn({ event: 'funding_check_failed', provider: entry.id, err: error }, 'could not check or top up a provider sub-account');
    } finally {
      this.#inProgress.delete(entry.id);
    }
  }
}
