/**
 * The billing state, in memory: per network (chain and inference contract), the chain cursor and,
 * per wallet and provider, what was served and what was settled. Pure bookkeeping: no I/O, no clock.
 */

/** One settlement as the book keeps the last one of a provider. */
export interface SettlementNote {
  readonly block: number;
  readonly transaction: string;
  /** Chain time of its block, epoch ms. */
  readonly at: number;
  /** Neuron taken from the sub-account. */
  readonly amount: bigint;
  /** The contract's status: 0 settled, 1 partly, 2 and above refused. */
  readonly status: number;
}

/** What one wallet owes and paid one provider. */
export interface ProviderAccount {
  /** The provider's address as first seen (checksummed when known). */
  provider: string;
  /** Fees of the answers served through this wallet (usage × price), neuron. */
  served: bigint;
  /** Answers counted in `served`. */
  answers: number;
  /** When the last answer was served, epoch ms; null before the first. */
  lastServedAt: number | null;
  /** What the provider took on chain (settlements), neuron. */
  settled: bigint;
  /** Settlements counted in `settled` (refused ones apart). */
  settlements: number;
  /** Settlements the contract refused (status 2 and above); they move nothing. */
  refused: number;
  lastSettlement: SettlementNote | null;
  /** Set while the provider is flagged: when, and the figures that decided. */
  overcharging: { since: number; settled: bigint; served: bigint } | null;
  /** An excess an operator accepted by readmitting the provider; only what comes on top of it counts. */
  acceptedExcess: bigint;
}

/** A refund the gateway asked of a provider's sub-account. */
export interface RefundNote {
  provider: string;
  /** Why (idle, removed from the fleet). */
  reason: string;
  /** When it was asked for, epoch ms. */
  requestedAt: number;
  /** Neuron asked back (the sub-account's pending refund after the request). */
  amount: bigint;
  /** When the contract releases it, chain time in s; null when unknown. */
  unlockAt: number | null;
  /** `requested` until retrieved into the ledger, `cancelled` when the provider was funded again first. */
  state: 'requested' | 'retrieved' | 'cancelled';
  /** When it was retrieved (or cancelled), epoch ms. */
  settledAt: number | null;
  /** Neuron returned to the ledger. */
  retrieved: bigint;
  /** Transactions that asked for and retrieved it. */
  transactions: string[];
}

/** One wallet's accounts and refunds with every provider (keys: lower-case provider addresses). */
export interface WalletBook {
  readonly accounts: Map<string, ProviderAccount>;
  readonly refunds: Map<string, RefundNote>;
}

/** One network's part of the state. */
export interface NetworkBook {
  /** The last block whose settlements are counted; null before the first reconciliation. */
  cursor: number | null;
  /** Keys: lower-case wallet addresses. */
  readonly wallets: Map<string, WalletBook>;
}

/** The whole state (keys: network ids, `<chain id>:<inference contract>`). */
export type BillingBooks = Map<string, NetworkBook>;

/** How much settled may exceed served before a provider is flagged. */
export interface Tolerance {
  /** Neuron. */
  readonly absolute: bigint;
  /** Share of `served` (0.02 = 2 %). */
  readonly relative: number;
}

export function emptyAccount(provider: string): ProviderAccount {
  return { provider, served: 0n, answers: 0, lastServedAt: null, settled: 0n, settlements: 0, refused: 0, lastSettlement: null, overcharging: null, acceptedExcess: 0n };
}

/** The network's book (created empty). */
export function networkBook(books: BillingBooks, networkId: string): NetworkBook {
  let book = books.get(networkId);
  if (!book) {
    book = { cursor: null, wallets: new Map() };
    books.set(networkId, book);
  }
  return book;
}

/** The wallet's book in a network (created empty). */
export function walletBook(book: NetworkBook, wallet: string): WalletBook {
  const key = wallet.toLowerCase();
  let found = book.wallets.get(key);
  if (!found) {
    found = { accounts: new Map(), refunds: new Map() };
    book.wallets.set(key, found);
  }
  return found;
}

/** The wallet's account with `provider` (created empty). */
export function providerAccount(wallet: WalletBook, provider: string): ProviderAccount {
  const key = provider.toLowerCase();
  let account = wallet.accounts.get(key);
  if (!account) {
    account = emptyAccount(provider);
    wallet.accounts.set(key, account);
  }
  return account;
}

/** Counts one served answer's fee. */
export function recordServed(account: ProviderAccount, fee: bigint, at: number): void {
  account.served += fee;
  account.answers += 1;
  account.lastServedAt = account.lastServedAt === null ? at : Math.max(account.lastServedAt, at);
}

/** Counts one settlement read from the chain. */
export function recordSettlement(account: ProviderAccount, settlement: SettlementNote): void {
  if (settlement.status >= 2) account.refused += 1;
  else {
    account.settled += settlement.amount;
    account.settlements += 1;
  }
  account.lastSettlement = settlement;
}

/** Settled beyond what was served and beyond what an operator accepted, neuron (negative: less settled than served). */
export function excessOf(account: ProviderAccount): bigint {
  return account.settled - account.served - account.acceptedExcess;
}

/** The excess allowed for `served` under `tolerance`, neuron. */
export function allowedExcess(served: bigint, tolerance: Tolerance): bigint {
  const perMillion = BigInt(Math.round(tolerance.relative * 1_000_000));
  return tolerance.absolute + (served * perMillion) / 1_000_000n;
}

/** True when the provider settled more than it served, beyond the tolerance. */
export function overcharges(account: ProviderAccount, tolerance: Tolerance): boolean {
  return excessOf(account) > allowedExcess(account.served, tolerance);
}
