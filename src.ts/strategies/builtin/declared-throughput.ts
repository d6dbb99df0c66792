import type { ProviderSnapshot } from '../balancing-strategy.js';

/**
 * The average of the throughputs the candidates declare, the stand-in for a candidate that
 * declares none (lmdeploy's rule); undefined when none declares one.
 * @internal
 */
export function averageDeclaredThroughput(candidates: readonly ProviderSnapshot[]): number | undefined {
  let sum = 0;
  let declared = 0;
  for (const candidate of candidates) {
    if (candidate.throughput === undefined) continue;
    sum += candidate.throughput;
    declared += 1;
  }
  return declared === 0 ? undefined : sum / declared;
}

/**
 * A figure for `X-Route-Reason`: three significant digits, without exponent or trailing zeros
 * (0.0333, 0.31, 42.5, 1230).
 * @internal
 */
export function routeFigure(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 1000) return String(Math.round(value));
  return String(Number(value.toPrecision(3)));
}
