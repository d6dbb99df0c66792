// Shared by the KeyLimiter tests: a limiter on a fake clock, keys with given limits, refusals.
import assert from 'node:assert/strict';
import {
  ApiKeyRegistry,
  GatewayError,
  KeyLimiter,
  MemoryCounterStore,
  createApiKey,
  type ApiKeyLimitsConfig,
  type AuthenticatedKey,
  type CounterStore,
  type KeyTicket,
} from 'zg-gateway';

/** 2025-01-06T12:00:00Z, a Monday, on a minute boundary. */
export const START = Date.UTC(2025, 0, 6, 12, 0, 0);
export const MINUTE = 60_000;

export function setup(options: { store?: (now: () => number) => CounterStore } = {}) {
  let time = START;
  const now = (): number => time;
  const store = options.store?.(now) ?? new MemoryCounterStore({ now });
  const limiter = new KeyLimiter({ store, now });
  return { limiter, store, now, advance: (ms: number) => (time += ms), setTime: (at: number) => (time = at) };
}

/** A registered key with these limits, as `authenticate` would return it. */
export function keyWith(limits: ApiKeyLimitsConfig, id = 'k'): AuthenticatedKey {
  const key = new ApiKeyRegistry([createApiKey(id, limits).entry]).get(id);
  assert.ok(key);
  return key;
}

export async function refusal(admission: Promise<unknown>, code: string): Promise<GatewayError> {
  try {
    await admission;
  } catch (error) {
    assert.ok(GatewayError.isInstance(error), `not a GatewayError: ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected ${code}`);
}

export function settledCounts(results: Array<PromiseSettledResult<KeyTicket>>): { admitted: number; codes: string[] } {
  const codes = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => (r.reason as GatewayError).code);
  return { admitted: results.length - codes.length, codes: [...new Set(codes)] };
}

/** A store whose every operation first waits a varying number of event-loop turns, like a remote one. */
export function slowStore(inner: CounterStore): CounterStore {
  let turn = 0;
  const pause = async (): Promise<void> => {
    for (let i = (turn++ * 7) % 5; i > 0; i--) await new Promise<void>((resolve) => setImmediate(resolve));
  };
  return {
    kind: 'slow',
    increment: async (...args) => (await pause(), inner.increment(...args)),
    decrement: async (...args) => (await pause(), inner.decrement(...args)),
    read: async (...args) => (await pause(), inner.read(...args)),
    snapshot: async (...args) => (await pause(), inner.snapshot(...args)),
    close: () => inner.close(),
  };
}

