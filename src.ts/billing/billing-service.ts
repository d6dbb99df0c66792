import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Logger } from 'pino';
import type { ServedAnswerFacts } from '../dispatch/complete-request.js';
import type { GatewayCompanion } from '../gateway/gateway.js';
import type { ProviderEntry } from '../fleet/provider-entry.js';
import type { ProviderRegistry } from '../fleet/provider-registry.js';
import { PeriodicTask } from '../internal/periodic-task.js';
import { TOTAL_WINDOW, type CounterStore } from '../stores/counter-store.js';
import { providerRemovedChannel, type ProviderMembershipEvent } from '../observability/index.js';
import { networkBook, providerAccount, recordServed, walletBook, type BillingBooks, type Tolerance } from './billing-book.js';
import { billingReport, type BillingView } from './billing-report.js';
import { BillingStateFile } from './billing-state-file.js';
import { FundReclaimer } from './fund-reclaimer.js';
import { SettlementReconciler, type ReconciliationSummary } from './settlement-reconciler.js';
import type { WalletChain } from './wallet-chain.js';

/** How long served fees wait before they are written (they are written at close too), ms. */
const SAVE_DELAY_MS = 1000;

/** Options for {@link BillingService}. */
export interface BillingServiceOptions {
  registry: ProviderRegistry;
  logger: Logger;
  /** The gateway's 0G wallet connection, once made (undefined: no 0G provider, nothing to bill). */
  network: () => WalletChain | undefined;
  /** Takes a 0G provider out of the fleet to reclaim its funds (funded again on demand). */
  park: (id: string, reason: string) => Promise<boolean>;
  /** The funding keeper's summary (ledger and sub-accounts), for the report. */
  fundingSummary: () => object | undefined;
  /** The billing state's JSON file; undefined: memory only. */
  stateFile: string | undefined;
  /** Reconciliation and refund period, ms. */
  reconcileIntervalMs: number;
  tolerance: Tolerance;
  /** Idle time after which a provider is reclaimed, ms; 0: never. */
  reclaimAfterMs: number;
  /** Most blocks per `eth_getLogs`. */
  maxBlockRange: number;
  /** Where a state without a cursor starts following the chain. Default: the latest block. */
  startBlock?: number | undefined;
  /**
   * A counter store shared by every instance using the wallet (Redis): each served fee is added to it
   * too, and reconciliation compares settlements with its fleet-wide totals. Default none: this
   * instance's own count (right for one instance per wallet).
   */
  sharedServed?: () => CounterStore | undefined;
  /** Clock, ms. Default `Date.now`. */
  now?: () => number;
}

/** The shared counter of the fees served through `wallet` by `provider` on `networkId` (`answers`: of the answers, in windows of `reclaimAfter`). */
export function servedCounterKey(networkId: string, wallet: string, provider: string, what: 'served' | 'answers' = 'served'): string {
  return `billing:${what}:${networkId}:${wallet.toLowerCase()}:${provider.toLowerCase()}`;
}

/**
 * Settlement you can audit, as one companion of the gateway: counts every served 0G answer's fee
 * once (per network, wallet and provider, from the core's served-answer listener), reconciles it
 * with the wallet's settlements on chain every `reconcileIntervalMs` (flagging providers that take
 * more), reclaims idle or removed providers' funds, and reports it all (`GET /admin/billing`). Its
 * state is written to `stateFile` (served fees within a second, the cursor with the settlements it covers).
 */
export class BillingService implements GatewayCompanion {
  readonly books: BillingBooks;
  readonly #options: BillingServiceOptions;
  readonly #now: () => number;
  readonly #file: BillingStateFile;
  readonly #reconciler: SettlementReconciler;
  readonly #reclaimer: FundReclaimer;
  readonly #task: PeriodicTask;
  /** Chain work runs one step at a time (reconciliation, refunds). */
  #queue: Promise<unknown> = Promise.resolve();
  #saveTimer: NodeJS.Timeout | undefined;
  #closed = false;
  /** The shared counter store, once used (closed with the service: closing is idempotent, and it may be the client keys' store too). */
  #shared: CounterStore | undefined;
  readonly #onRemoved = (message: unknown): void => this.#removed(message as ProviderMembershipEvent);

  /** Reads the state file. Throws `invalid_config` for a file that is not a billing state. */
  constructor(options: BillingServiceOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#file = new BillingStateFile(options.stateFile);
    this.books = this.#file.load();
    const persist = (): Promise<void> => this.#save();
    this.#reconciler = new SettlementReconciler({
      books: this.books,
      registry: options.registry,
      logger: options.logger,
      tolerance: options.tolerance,
      maxBlockRange: options.maxBlockRange,
      startBlock: options.startBlock,
      now: this.#now,
      persist,
      refreshServed: (network) => this.#refreshServed(network),
    });
    this.#reclaimer = new FundReclaimer({
      books: this.books,
      registry: options.registry,
      logger: options.logger,
      now: this.#now,
      reclaimAfterMs: options.reclaimAfterMs,
      park: options.park,
      persist,
      idleEverywhere: (network, provider) => this.#idleEverywhere(network, provider),
    });
    this.#task = new PeriodicTask(
      () => this.#serial(() => this.#tick()),
      options.reconcileIntervalMs,
      (error) => options.logger.warn({ event: 'billing_tick_failed', err: error }, 'billing could not read or act on the chain; trying again next time'),
    );
  }

  /** Counts one served answer's fee (the core's served-answer listener): 0G providers only, answers with usage. */
  recordServed(entry: ProviderEntry, answer: ServedAnswerFacts): void {
    const network = this.#options.network();
    if (!network || entry.descriptor.kind !== 'zg' || answer.costNeuron === undefined) return;
    recordServed(providerAccount(walletBook(networkBook(this.books, network.networkId), network.walletAddress), entry.id), answer.costNeuron, answer.servedAt);
    this.#saveSoon();
    this.#sharedStore()
      ?.increment(servedCounterKey(network.networkId, network.walletAddress, entry.id), answer.costNeuron, TOTAL_WINDOW)
      .catch((error: unknown) => this.#options.logger.warn({ event: 'billing_shared_count_failed', provider: entry.id, err: error }, 'could not add a served fee to the shared counter'));
    if (this.#options.reclaimAfterMs > 0) {
      this.#sharedStore()
        ?.increment(servedCounterKey(network.networkId, network.walletAddress, entry.id, 'answers'), 1, this.#options.reclaimAfterMs)
        .catch(() => undefined);
    }
  }

  /** With a shared counter store: no answer by `provider` on any instance in this window of `reclaimAfter` or the one before. */
  async #idleEverywhere(network: WalletChain, provider: string): Promise<boolean> {
    const shared = this.#sharedStore();
    if (!shared) return true;
    try {
      const counts = await shared.snapshot(servedCounterKey(network.networkId, network.walletAddress, provider, 'answers'), this.#options.reclaimAfterMs);
      return counts.current + counts.previous === 0n;
    } catch {
      return false;
    }
  }

  #sharedStore(): CounterStore | undefined {
    if (!this.#closed) this.#shared ??= this.#options.sharedServed?.();
    return this.#shared;
  }

  /** With a shared counter store: every account's `served` becomes the fleet-wide total (left as it is when the store cannot say). */
  async #refreshServed(network: WalletChain): Promise<void> {
    const shared = this.#sharedStore();
    if (!shared) return;
    const wallet = walletBook(networkBook(this.books, network.networkId), network.walletAddress);
    for (const account of wallet.accounts.values()) {
      try {
        account.served = await shared.read(servedCounterKey(network.networkId, network.walletAddress, account.provider), TOTAL_WINDOW);
      } catch (error) {
        this.#options.logger.warn({ event: 'billing_shared_count_failed', provider: account.provider, err: error }, 'could not read the shared served total; judging on this instance\'s count');
      }
    }
  }

  start(): void {
    subscribe(providerRemovedChannel.name, this.#onRemoved);
    this.#task.start();
  }

  /** Runs one reconciliation now (after any chain work under way); undefined without a 0G wallet. */
  reconcile(): Promise<ReconciliationSummary | undefined> {
    return this.#serial(async () => {
      const network = this.#options.network();
      return network ? this.#reconciler.reconcile(network) : undefined;
    });
  }

  /** Runs one round of idle-fund reclaiming and refund retrieval now. */
  reclaimIdle(): Promise<void> {
    return this.#serial(async () => {
      const network = this.#options.network();
      if (network) await this.#reclaimer.tick(network);
    });
  }

  /** What `GET /admin/billing` shows. */
  /** The providers flagged `overcharging` now in this wallet's book (what the last reconciliation found); no I/O. */
  overchargingProviders(): string[] {
    const network = this.#options.network();
    if (!network) return [];
    const wallet = walletBook(networkBook(this.books, network.networkId), network.walletAddress);
    return [...wallet.accounts.values()].filter((account) => account.overcharging).map((account) => account.provider);
  }

  async report(): Promise<BillingView> {
    const network = this.#options.network();
    if (network) await this.#refreshServed(network);
    const book = network ? networkBook(this.books, network.networkId) : undefined;
    return billingReport({
      network,
      wallet: book && network ? walletBook(book, network.walletAddress) : undefined,
      cursor: book?.cursor ?? null,
      registry: this.#options.registry,
      tolerance: this.#options.tolerance,
      reclaimAfterMs: this.#options.reclaimAfterMs,
      persistence: this.#file.path ? 'file' : 'memory',
      last: this.#reconciler.last,
      funding: this.#options.fundingSummary() ?? null,
    });
  }

  async #tick(): Promise<void> {
    const network = this.#options.network();
    if (!network) return;
    await this.#reconciler.reconcile(network);
    await this.#reclaimer.tick(network);
  }

  /** A 0G provider left the fleet (operator, discovery): its funds are asked back. */
  #removed(event: ProviderMembershipEvent): void {
    if (this.#closed || event.gatewayId !== this.#options.registry.gatewayId || event.kind !== 'zg' || event.reason.startsWith('reclaimed')) return;
    void this.#serial(async () => {
      const network = this.#options.network();
      if (network && !this.#options.registry.get(event.providerId)) await this.#reclaimer.reclaim(network, event.providerId, `removed from the fleet: ${event.reason}`);
    }).catch((error: unknown) => this.#options.logger.warn({ event: 'refund_failed', provider: event.providerId, err: error }, 'could not ask a removed provider\'s funds back'));
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.catch(() => undefined).then(work);
    this.#queue = run;
    return run;
  }

  #saveSoon(): void {
    if (this.#saveTimer || !this.#file.path) return;
    this.#saveTimer = setTimeout(() => {
      this.#saveTimer = undefined;
      void this.#save();
    }, SAVE_DELAY_MS);
    this.#saveTimer.unref();
  }

  async #save(): Promise<void> {
    try {
      await this.#file.save(this.books);
    } catch (error) {
      this.#options.logger.error({ event: 'billing_state_write_failed', file: this.#file.path, err: error }, 'could not write the billing state');
    }
  }

  /** Stops the schedule, waits for chain work under way, writes the state. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    unsubscribe(providerRemovedChannel.name, this.#onRemoved);
    await this.#task.stop();
    await this.#queue.catch(() => undefined);
    clearTimeout(this.#saveTimer);
    this.#saveTimer = undefined;
    await this.#save();
    await this.#shared?.close();
  }
}
