/** How much more loaded than the least loaded candidate a warm provider may be and still get the request. */
export interface LoadBounds {
  /** In-flight requests above the least loaded candidate's (SGLang's `balance_abs_threshold`). */
  readonly absolute: number;
  /** Multiple of the least loaded candidate's in-flight count (SGLang's `balance_rel_threshold`). */
  readonly relative: number;
}

/**
 * Why sending the request to a warm provider with `warmInFlight` requests in flight would unbalance
 * the candidates, or undefined when it would not. SGLang's rule, applied to the provider affinity
 * would choose rather than to the busiest candidate (a busy provider affinity does not choose does
 * not stop affinity elsewhere): imbalanced when its in-flight count exceeds the least loaded
 * candidate's by more than `absolute` AND is more than `relative` times it. The reason shows the
 * ratio against the least loaded (counted as 1 when it is idle), e.g. `imbalance 2.1 > 1.5`.
 */
export function imbalanceOf(warmInFlight: number, leastInFlight: number, bounds: LoadBounds): string | undefined {
  if (warmInFlight - leastInFlight <= bounds.absolute || warmInFlight <= bounds.relative * leastInFlight) return undefined;
  const ratio = warmInFlight / Math.max(leastInFlight, 1);
  return `imbalance ${ratio.toFixed(1)} > ${bounds.relative} (${warmInFlight} vs ${leastInFlight} in flight)`;
}
