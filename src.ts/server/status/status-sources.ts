import type { BillingView } from '../../billing/billing-report.js';
import type { ClientKeys } from '../../keys/index.js';
import { CachedRead } from './cached-read.js';
import type { StatusView } from './status-view-schema.js';

/** How often the page's billing figures are read (the report reads every sub-account on chain), ms. */
export const BILLING_READ_MS = 30_000;
/** How often per-key usage is read (a counter store, maybe Redis), ms. */
export const KEYS_READ_MS = 10_000;
/** Keys shown at most (the largest spenders). */
export const MAX_KEYS_SHOWN = 50;

/** One key's usage as the status page shows it. */
export type StatusKeyUsage = NonNullable<StatusView['keys']>['keys'][number];

/**
 * Where per-key usage can come from besides the client keys' counters: the request log, when one
 * is configured, answers this (`source: 'request-log'`). The hook is here so it can be plugged in
 * without touching the page: pass it as `usage` to {@link StatusSources}.
 */
export interface StatusUsageSource {
  usageByKey(): Promise<StatusKeyUsage[]>;
}

/** What the status view reads beyond the gateway itself. */
export interface StatusSourcesOptions {
  billing?: { report(): Promise<object> } | undefined;
  clientKeys?: ClientKeys | undefined;
  /** Per-key usage from the request log (preferred over the keys' counters when given). */
  usage?: StatusUsageSource | undefined;
  now?: () => number;
}

type Status = 'ok' | 'pending' | 'overcharging';

/** The billing summary of a report: overcharging beats pending beats ok. */
export function billingSummary(report: Partial<BillingView>, checkedAt: number, error: string | null): NonNullable<StatusView['billing']> {
  const providers = (report.providers ?? []).map((entry) => {
    const status: Status = entry.status === 'overcharging' ? 'overcharging' : BigInt(entry.pending) > 0n ? 'pending' : 'ok';
    return { provider: entry.provider, status, pending: entry.pending };
  });
  const worst = providers.some((entry) => entry.status === 'overcharging') ? 'overcharging' : providers.some((entry) => entry.status === 'pending') ? 'pending' : 'ok';
  return {
    status: error !== null ? 'unknown' : worst,
    checkedAt: new Date(checkedAt).toISOString(),
    served: report.totals?.served ?? '0',
    settled: report.totals?.settled ?? '0',
    pending: report.totals?.pending ?? '0',
    providers,
    error,
  };
}

/** The largest spenders first, at most {@link MAX_KEYS_SHOWN}. */
function topKeys(keys: StatusKeyUsage[]): StatusKeyUsage[] {
  return [...keys].sort((a, b) => (BigInt(b.spendNeuron) > BigInt(a.spendNeuron) ? 1 : BigInt(b.spendNeuron) < BigInt(a.spendNeuron) ? -1 : b.requests - a.requests)).slice(0, MAX_KEYS_SHOWN);
}

/** The status view's slower reads (billing, per-key usage), each cached for its period. */
export class StatusSources {
  readonly #billing: CachedRead<object> | undefined;
  readonly #keys: CachedRead<StatusKeyUsage[]> | undefined;
  readonly #keysSource: 'keys' | 'request-log';

  constructor(options: StatusSourcesOptions) {
    const now = options.now ?? Date.now;
    const billing = options.billing;
    this.#billing = billing ? new CachedRead(() => billing.report(), BILLING_READ_MS, now) : undefined;
    const { usage, clientKeys } = options;
    this.#keysSource = usage ? 'request-log' : 'keys';
    if (usage) this.#keys = new CachedRead(() => usage.usageByKey(), KEYS_READ_MS, now);
    else if (clientKeys)
      this.#keys = new CachedRead(
        async () =>
          (await clientKeys.describeKeys()).map((key) => ({
            id: key.id,
            requests: key.usage.requests,
            promptTokens: key.usage.promptTokens,
            completionTokens: key.usage.completionTokens,
            spendNeuron: key.spend.totalNeuron,
            inFlight: key.usage.inFlight,
            disabled: key.disabled || key.expired,
          })),
        KEYS_READ_MS,
        now,
      );
  }

  async billing(): Promise<StatusView['billing']> {
    if (!this.#billing) return null;
    const { at, value, error } = await this.#billing.get();
    // Without a 0G wallet nothing is settled: billing does not apply.
    if (value && (value as Partial<BillingView>).enabled === false) return null;
    return billingSummary((value ?? {}) as Partial<BillingView>, at, error);
  }

  async keys(): Promise<StatusView['keys']> {
    if (!this.#keys) return null;
    const { at, value } = await this.#keys.get();
    return { source: this.#keysSource, checkedAt: new Date(at).toISOString(), keys: topKeys(value ?? []) };
  }
}
