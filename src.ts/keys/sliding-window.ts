import type { WindowSnapshot } from '../stores/counter-store.js';

/**
 * Sliding-window estimates over two fixed windows.
 *
 * A fixed window alone lets a client spend its whole limit at the end of one window and again at
 * the start of the next: twice the limit within a few milliseconds. The estimate used here counts the
 * current fixed window fully and the previous one by the share of it still inside a sliding window of
 * the same length ending now:
 *
 *     used(now) = current + previous × (windowMs − elapsed) / windowMs,   elapsed = now − windowStart
 *
 * which assumes the previous window's traffic was spread evenly. A burst of the full limit just before
 * a boundary therefore still counts almost fully just after it, and frees up linearly over the next
 * window. All arithmetic is on integers scaled by `windowMs` (bigint), so there is no rounding.
 */

/** `used(now) × windowMs`, exactly. */
export function scaledUsage(snapshot: WindowSnapshot, windowMs: number): bigint {
  const window = BigInt(windowMs);
  return snapshot.current * window + snapshot.previous * (window - elapsedIn(snapshot, windowMs));
}

/** The sliding estimate of usage, rounded up to a whole number (for display). */
export function slidingUsage(snapshot: WindowSnapshot, windowMs: number): bigint {
  const window = BigInt(windowMs);
  return (scaledUsage(snapshot, windowMs) + window - 1n) / window;
}

/** Whether `used(now) + need` exceeds `limit`. */
export function exceedsLimit(snapshot: WindowSnapshot, windowMs: number, limit: number, need: bigint): boolean {
  return scaledUsage(snapshot, windowMs) + need * BigInt(windowMs) > BigInt(limit) * BigInt(windowMs);
}

/**
 * Milliseconds from the snapshot's `now` until `used + need ≤ limit`, assuming nothing more is used
 * meanwhile: later in the current window when the previous window's share fading out is enough,
 * otherwise in the next window, once the current window's share has faded enough. 0 when it already
 * fits. `need` must not exceed `limit` (else it never fits; the caller caps it).
 */
export function msUntilFits(snapshot: WindowSnapshot, windowMs: number, limit: number, need: bigint): number {
  const window = BigInt(windowMs);
  const elapsed = elapsedIn(snapshot, windowMs);
  const room = BigInt(limit) - need;
  if (room < 0n) throw new RangeError('need exceeds the limit');
  // In the current window: current + previous × (W − e) / W ≤ room  ⇔  e ≥ W − (room − current) × W / previous.
  const roomNow = room - snapshot.current;
  if (roomNow >= 0n) {
    if (snapshot.previous <= 0n) return 0;
    const at = window - (roomNow * window) / snapshot.previous;
    return Number(at > elapsed ? at - elapsed : 0n);
  }
  // In the next window the current window becomes the previous one: c × (W − e') / W ≤ room.
  const untilNext = window - elapsed;
  const at = window - (room * window) / snapshot.current;
  return Number(untilNext + (at > 0n ? at : 0n));
}

function elapsedIn(snapshot: WindowSnapshot, windowMs: number): bigint {
  const elapsed = Math.min(Math.max(Math.floor(snapshot.now - snapshot.windowStart), 0), windowMs);
  return BigInt(elapsed);
}
