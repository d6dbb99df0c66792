import type { ProviderRegistry } from '../fleet/provider-registry.js';
import { allowedExcess, emptyAccount, excessOf, type ProviderAccount, type RefundNote, type Tolerance, type WalletBook } from './billing-book.js';
import type { ReconciliationSummary } from './settlement-reconciler.js';
import type { ChainAccount, WalletChain } from './wallet-chain.js';

/** One provider as `GET /admin/billing` shows it (amounts: neuron, decimal strings; times ISO 8601). */
export interface BillingProviderView {
  provider: string;
  /** In the fleet now (it may have left: reclaimed, removed). */
  inFleet: boolean;
  /** `overcharging` while flagged, else `ok`. */
  status: 'ok' | 'overcharging';
  answers: number;
  served: string;
  settled: string;
  /** served − settled: not settled yet (negative: settled more than served, within the tolerance unless flagged). */
  pending: string;
  /** settled − served − acceptedExcess: what the tolerance is applied to. */
  excess: string;
  /** The excess the tolerance allows for what was served. */
  allowedExcess: string;
  /** Excess accepted by an operator's readmission. */
  acceptedExcess: string;
  settlements: number;
  refusedSettlements: number;
  lastServedAt: string | null;
  lastSettlement: { block: number; transaction: string; at: string; amount: string; status: number } | null;
  overchargingSince: string | null;
  /** The SDK's fee cache for it (fees added by `processResponse` since the last auto-funding round); null when unknown. */
  sdkFeeCache: string | null;
  /** The sub-account on chain now; null when it could not be read. */
  subAccount: { exists: boolean; balance: string; pendingRefund: string; locked: string; refunds: Array<{ amount: string; requestedAt: string; unlockAt: string; processed: boolean }> } | null;
  /** The gateway's last refund of it. */
  refund: { state: string; reason: string; requestedAt: string; amount: string; unlockAt: string | null; retrieved: string; settledAt: string | null; transactions: string[] } | null;
}

/** `GET /admin/billing`. */
export interface BillingView {
  /** False when the gateway has no 0G wallet (nothing is settled on chain). */
  enabled: boolean;
  wallet: string | null;
  /** `<chain id>:<inference contract>`. */
  network: string | null;
  /** `file` (kept across restarts) or `memory`. */
  persistence: 'file' | 'memory';
  /** The last block whose settlements are counted. */
  cursor: number | null;
  lastReconciliation: (Omit<ReconciliationSummary, 'at'> & { at: string }) | null;
  tolerance: { absolute: string; relative: number };
  reclaimAfterMs: number;
  totals: { served: string; settled: string; pending: string; locked: string; refundsPending: string };
  providers: BillingProviderView[];
  /** Refunds asked for and not retrieved yet, with when they unlock. */
  refundsPending: Array<{ provider: string; amount: string; unlockAt: string | null; requestedAt: string }>;
  /** Ledger and sub-account balances as the funding keeper last read them (0G). */
  funding: object | null;
}

/** What the report is built from. */
export interface BillingReportInput {
  network: WalletChain | undefined;
  wallet: WalletBook | undefined;
  cursor: number | null;
  registry: ProviderRegistry;
  tolerance: Tolerance;
  reclaimAfterMs: number;
  persistence: 'file' | 'memory';
  last: ReconciliationSummary | null;
  funding: object | null;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const isoSeconds = (seconds: number | null): string | null => (seconds === null ? null : new Date(seconds * 1000).toISOString());

function subAccountView(account: ChainAccount | null): BillingProviderView['subAccount'] {
  if (!account) return null;
  return {
    exists: account.exists,
    balance: account.balance.toString(),
    pendingRefund: account.pendingRefund.toString(),
    locked: (account.balance - account.pendingRefund).toString(),
    refunds: account.refunds.map((refund) => ({ amount: refund.amount.toString(), requestedAt: isoSeconds(refund.requestedAt) ?? '', unlockAt: isoSeconds(refund.unlockAt) ?? '', processed: refund.processed })),
  };
}

function refundView(note: RefundNote | undefined): BillingProviderView['refund'] {
  if (!note) return null;
  return {
    state: note.state,
    reason: note.reason,
    requestedAt: iso(note.requestedAt) ?? '',
    amount: note.amount.toString(),
    unlockAt: isoSeconds(note.unlockAt),
    retrieved: note.retrieved.toString(),
    settledAt: iso(note.settledAt),
    transactions: note.transactions,
  };
}

function providerView(account: ProviderAccount, input: BillingReportInput, chain: ChainAccount | null, feeCache: bigint | null): BillingProviderView {
  const last = account.lastSettlement;
  return {
    provider: account.provider,
    inFleet: input.registry.get(account.provider) !== undefined,
    status: account.overcharging ? 'overcharging' : 'ok',
    answers: account.answers,
    served: account.served.toString(),
    settled: account.settled.toString(),
    pending: (account.served - account.settled).toString(),
    excess: excessOf(account).toString(),
    allowedExcess: allowedExcess(account.served, input.tolerance).toString(),
    acceptedExcess: account.acceptedExcess.toString(),
    settlements: account.settlements,
    refusedSettlements: account.refused,
    lastServedAt: iso(account.lastServedAt),
    lastSettlement: last ? { block: last.block, transaction: last.transaction, at: iso(last.at) ?? '', amount: last.amount.toString(), status: last.status } : null,
    overchargingSince: iso(account.overcharging?.since ?? null),
    sdkFeeCache: feeCache === null ? null : feeCache.toString(),
    subAccount: subAccountView(chain),
    refund: refundView(input.wallet?.refunds.get(account.provider.toLowerCase())),
  };
}

/**
 * Builds `GET /admin/billing`: the book's figures per provider (every provider of the wallet's book,
 * and every 0G provider of the fleet), with each sub-account read from the chain now.
 */
export async function billingReport(input: BillingReportInput): Promise<BillingView> {
  const { network, wallet, registry } = input;
  const accounts = new Map<string, ProviderAccount>(wallet?.accounts ?? []);
  for (const entry of registry.list()) {
    if (entry.descriptor.kind === 'zg' && !accounts.has(entry.id.toLowerCase())) accounts.set(entry.id.toLowerCase(), emptyAccount(entry.id));
  }
  for (const note of wallet?.refunds.values() ?? []) if (!accounts.has(note.provider.toLowerCase())) accounts.set(note.provider.toLowerCase(), emptyAccount(note.provider));
  const providers = await Promise.all(
    [...accounts.values()].map(async (account) => {
      const chain = network ? await network.accounts.account(account.provider).catch(() => null) : null;
      const feeCache = network && registry.get(account.provider) ? await network.cachedFee(account.provider).catch(() => null) : null;
      return providerView(account, input, chain, feeCache);
    }),
  );
  let served = 0n;
  let settled = 0n;
  let locked = 0n;
  for (const view of providers) {
    served += BigInt(view.served);
    settled += BigInt(view.settled);
    locked += BigInt(view.subAccount?.locked ?? '0');
  }
  const refundsPending = [...(wallet?.refunds.values() ?? [])]
    .filter((note) => note.state === 'requested')
    .map((note) => ({ provider: note.provider, amount: note.amount.toString(), unlockAt: isoSeconds(note.unlockAt), requestedAt: iso(note.requestedAt) ?? '' }));
  return {
    enabled: network !== undefined,
    wallet: network?.walletAddress ?? null,
    network: network?.networkId ?? null,
    persistence: input.persistence,
    cursor: input.cursor,
    lastReconciliation: input.last ? { ...input.last, at: iso(input.last.at) ?? '' } : null,
    tolerance: { absolute: input.tolerance.absolute.toString(), relative: input.tolerance.relative },
    reclaimAfterMs: input.reclaimAfterMs,
    totals: {
      served: served.toString(),
      settled: settled.toString(),
      pending: (served - settled).toString(),
      locked: locked.toString(),
      refundsPending: refundsPending.reduce((sum, refund) => sum + BigInt(refund.amount), 0n).toString(),
    },
    providers,
    refundsPending,
    funding: input.funding,
  };
}
