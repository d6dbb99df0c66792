/**
 * Per-provider in-flight counts shared by gateway instances (e.g. in Redis), so that each one's
 * affinity load check sees the fleet's load. Implementations never throw.
 */
export interface FleetLoadStore {
  /** False while the store cannot be used (then it is not asked). */
  readonly available: boolean;
  /**
   * Publishes this instance's counts (kept for `ttlMs`: an instance that stops publishing drops
   * out) and answers the sum of the other live instances' last published counts, or undefined
   * when the store failed. One round trip.
   */
  exchangeInFlight(gatewayId: string, counts: ReadonlyMap<string, number>, ttlMs: number): Promise<ReadonlyMap<string, number> | undefined>;
}
