import type { Logger } from 'pino';
import { formatEther, parseEther } from 'ethers';
import type { ProviderEntry } from './provider-entry.js';
import type { ProviderRegistry } from './provider-registry.js';
import { ZgProvider } from '../providers/zg/zg-provider.js';
import type { ZgNetwork } from '../providers/zg/zg-network.js';

/** The provider's own floor: a sub-account must hold its unsettled fees plus 1 0G (the provider broker's rule). */
const MIN_LOCKED = 10n ** 18n;

/** Options for {@link FundingKeeper}. */
export interface FundingKeeperOptions {
  registry: ProviderRegistry;
  network: () => ZgNetwork | undefined;
  logger: Logger;
  /** Fewest ms between two top-up transactions for one provider (checks, and a return to rotation, are not held back by it; a deposit seen on the ledger lifts it). */
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

/** Fewest ms between two checks of one provider's sub-account, and between two ledger reads asked for by refused requests. */
export const FUNDING_CHECK_SPACING_MS = 1000;

/**
 * Keeps 0G providers funded: a provider that answered 402 is out of rotation (`needs-funds`) and
 * is checked at once: back in rotation as soon as its sub-account holds what the provider requires
 * (the 402 was transient), else topped up from the ledger. What is rate-limited is the top-up
 * transaction (at most every `topUpCooldownMs` per provider), never the return: checks (reads) run
 * at once, then at most every {@link FUNDING_CHECK_SPACING_MS} (a later one is scheduled, not left
 * to the next tick). A deposit seen on the ledger (its available balance rose) re-checks every
 * provider that needs funds at once and lets each top up regardless of the cool-down; requests
 * refused with 402 ask for a ledger read ({@link nudge}), so a deposit is seen within about a
 * second while clients are waiting. It reads the ledger on every tick and warns once when it
 * falls under the floor.
 */
export class FundingKeeper {
  readonly #options: FundingKeeperOptions;
  readonly #now: () => number;
  /** When each provider was last topped up (a transaction was sent). */
  readonly #lastTopUp = new Map<string, number>();
  /** When each provider's sub-account was last checked. */
  readonly #lastCheck = new Map<string, number>();
  /** Checks scheduled for later (spacing), by provider. */
  readonly #scheduled = new Map<string, ReturnType<typeof setTimeout>>();
  /** Providers with a check running, and whether another is wanted once it ends (with a forced top-up). */
  readonly #inProgress = new Map<string, { again: boolean; force: boolean }>();
  #ledger: { available: bigint; total: bigint; readAt: number } | undefined;
  readonly #accounts = new Map<string, { balance: bigint; pendingRefund: bigint; readAt: number }>();
  #belowFloor = false;
  readonly #floor: bigint;
  #lastNudge = Number.NEGATIVE_INFINITY;
  #stopped = false;

  constructor(options: FundingKeeperOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#floor = parseEther(String(options.ledgerFloor));
    options.registry.onOutcome((outcome, entry) => {
      if (outcome.errorCode === 'insufficient_funds') this.#request(entry, false);
    });
  }

  /** Checks every provider that needs funds, and the ledger. Never rejects. */
  async tick(): Promise<void> {
    await this.#readLedger();
    await Promise.all(this.#needingFunds().map((entry) => this.#restore(entry, false)));
  }

  /**
   * A request was refused because every provider that could serve needs funds: reads the ledger
   * (a deposit re-checks them all) and re-checks them, at most once per {@link FUNDING_CHECK_SPACING_MS}. Quick; never throws.
   */
  nudge(): void {
    if (this.#stopped || !this.#options.network()) return;
    const now = this.#now();
    if (now - this.#lastNudge < FUNDING_CHECK_SPACING_MS) return;
    this.#lastNudge = now;
    void this.#readLedger().then(() => {
      for (const entry of this.#needingFunds()) this.#request(entry, false);
    });
  }

  /** Cancels scheduled checks; no check starts after. */
  stop(): void {
    this.#stopped = true;
    for (const timer of this.#scheduled.values()) clearTimeout(timer);
    this.#scheduled.clear();
  }

  #needingFunds(): ProviderEntry[] {
    return this.#options.registry.list().filter((entry) => entry.funding.state === 'needs-funds');
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
      needsFunds: this.#needingFunds().map((entry) => entry.id),
    };
  }

  async #readLedger(): Promise<void> {
    const network = this.#options.network();
    if (!network) return;
    try {
      const ledger = await network.ledgerBalance();
      const previous = this.#ledger;
      this.#ledger = { ...ledger, readAt: this.#now() };
      const below = ledger.available < this.#floor;
      if (below && !this.#belowFloor) {
        this.#options.logger.warn({ event: 'ledger_low', available: formatEther(ledger.available), floor: formatEther(this.#floor) }, 'the 0G ledger is under its floor: deposit funds');
      }
      this.#belowFloor = below;
      if (previous && ledger.available > previous.available) {
        const waiting = this.#needingFunds();
        if (waiting.length > 0) {
          this.#options.logger.info({ event: 'ledger_deposit_seen', available: formatEther(ledger.available), providers: waiting.map((entry) => entry.id) }, 'funds arrived on the ledger: topping up the providers that need funds now');
          for (const entry of waiting) this.#request(entry, true);
        }
      }
    } catch (error) {
      this.#options.logger.debug({ event: 'ledger_read_failed', err: error }, 'could not read the ledger');
    }
  }

  /**
   * Asks for a check of `entry`: now when none ran within the spacing (or `force`: funds arrived),
   * else scheduled for when the spacing ends; one at a time per provider.
   */
  #request(entry: ProviderEntry, force: boolean): void {
    if (this.#stopped) return;
    const running = this.#inProgress.get(entry.id);
    if (running) {
      running.again = true;
      running.force ||= force;
      return;
    }
    const last = this.#lastCheck.get(entry.id);
    const wait = force || last === undefined ? 0 : last + FUNDING_CHECK_SPACING_MS - this.#now();
    if (wait <= 0) {
      void this.#restore(entry, force);
      return;
    }
    if (this.#scheduled.has(entry.id)) return;
    const timer = setTimeout(() => {
      this.#scheduled.delete(entry.id);
      if (entry.funding.state === 'needs-funds') this.#request(entry, false);
    }, wait);
    timer.unref?.();
    this.#scheduled.set(entry.id, timer);
  }

  /**
   * One check of a provider that needs funds: back in rotation when its sub-account holds enough,
   * else a top-up from the ledger (unless one was sent within `topUpCooldownMs` and no deposit was seen since).
   */
  async #restore(entry: ProviderEntry, force: boolean): Promise<void> {
    const network = this.#options.network();
    const provider = entry.provider;
    if (this.#stopped || !network || !(provider instanceof ZgProvider) || this.#inProgress.has(entry.id)) return;
    const scheduled = this.#scheduled.get(entry.id);
    if (scheduled) {
      clearTimeout(scheduled);
      this.#scheduled.delete(entry.id);
    }
    const state = { again: false, force: false };
    this.#inProgress.set(entry.id, state);
    this.#lastCheck.set(entry.id, this.#now());
    const logger = this.#options.logger;
    try {
      const before = await network.subAccount(entry.id);
      const unsettled = await provider.unsettledFee(network.walletAddress, AbortSignal.timeout(5000)).catch(() => 0n);
      const required = unsettled + MIN_LOCKED;
      let after = before;
      const lastTopUp = this.#lastTopUp.get(entry.id);
      const mayTopUp = force || lastTopUp === undefined || this.#now() - lastTopUp >= this.#options.topUpCooldownMs;
      if (before.balance - before.pendingRefund <= required && mayTopUp) {
        this.#lastTopUp.set(entry.id, this.#now());
        await network.topUp(entry.id);
        after = await network.subAccount(entry.id);
        if (after.balance > before.balance) {
          logger.info({ event: 'funding_transfer', provider: entry.id, amount: formatEther(after.balance - before.balance), balance: formatEther(after.balance) }, 'topped up a provider sub-account');
        }
      }
      this.#accounts.set(entry.id, { ...after, readAt: this.#now() });
      if (after.balance - after.pendingRefund > required) {
        this.#options.registry.setFunding(entry, 'ok', `sub-account holds ${formatEther(after.balance - after.pendingRefund)} 0G`);
      } else if (mayTopUp) {
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
    if (state.again && entry.funding.state === 'needs-funds') this.#request(entry, state.force);
  }
}
