import type { ClientKeys } from '../../keys/index.js';
import { usage, type RequestLog } from '../../request-log/index.js';
import type { StatusKeyUsage, StatusUsageSource } from './status-sources.js';

/** The window the status page's per-key usage covers when read from the request log: the last 24 h. */
export const REQUEST_LOG_USAGE_WINDOW_MS = 86_400_000;

/**
 * Per-key usage for `/status` from the request log: requests, tokens and spend of each key over the
 * last {@link REQUEST_LOG_USAGE_WINDOW_MS} (every instance writing to the log, not only this one).
 * Requests without a key are left out. In-flight requests are not logged (null); whether a key is
 * disabled comes from `clientKeys` when given.
 */
export function requestLogUsage(requestLog: Pick<RequestLog, 'database'>, clientKeys?: ClientKeys, now: () => number = Date.now): StatusUsageSource {
  return {
    async usageByKey(): Promise<StatusKeyUsage[]> {
      const db = await requestLog.database();
      // Day buckets: the window spans at most two of them per key, summed here.
      const rows = await usage(db, 'key', 'day', { from: now() - REQUEST_LOG_USAGE_WINDOW_MS });
      const byKey = new Map<string, StatusKeyUsage>();
      for (const row of rows) {
        if (row.group === null) continue;
        const sum = byKey.get(row.group) ?? { id: row.group, requests: 0, promptTokens: 0, completionTokens: 0, spendNeuron: '0', inFlight: null, disabled: false };
        sum.requests += row.requests;
        sum.promptTokens += row.promptTokens;
        sum.completionTokens += row.completionTokens;
        sum.spendNeuron = (BigInt(sum.spendNeuron) + BigInt(row.spendNeuron)).toString();
        byKey.set(row.group, sum);
      }
      if (clientKeys) {
        const disabled = new Set((await clientKeys.describeKeys()).filter((key) => key.disabled || key.expired).map((key) => key.id));
        for (const entry of byKey.values()) entry.disabled = disabled.has(entry.id);
      }
      return [...byKey.values()];
    },
  };
}
