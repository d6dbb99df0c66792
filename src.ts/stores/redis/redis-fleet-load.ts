import type { FleetLoadStore } from '../fleet-load-store.js';
import type { RedisConnection } from './redis-connection.js';

/** Most other instances read per exchange (bounds the reply; a fleet is far smaller). */
const MAX_INSTANCES = 64;

/**
 * The in-flight exchange of {@link FleetLoadStore} in Redis, beside the shared prefix index: each
 * instance's counts are one JSON string `<base>inflight:<gatewayId>` (`{"<provider>":<count>}`,
 * set with `PX`, replaced whole so a provider back to 0 disappears), and the instances are the
 * members of the set `<base>inflight`. One exchange is one pipeline (one round trip): `SET` own,
 * `SADD` + `PEXPIRE` the set, `SMEMBERS`, `MGET` the others known from the previous exchange, and
 * `SREM` of those whose counts had expired. A new instance is thus read from the second exchange on.
 */
export class RedisFleetLoad implements FleetLoadStore {
  readonly #connection: RedisConnection;
  readonly #base: string;
  readonly #isAvailable: () => boolean;
  readonly #traffic: { roundTrips: number; bytesOut: number; bytesIn: number; failures: number };
  #others: string[] = [];

  /** `base`: `<prefix>:v1:`; `traffic`: the counters it adds to (the prefix store's). */
  constructor(connection: RedisConnection, base: string, isAvailable: () => boolean, traffic: { roundTrips: number; bytesOut: number; bytesIn: number; failures: number }) {
    this.#connection = connection;
    this.#base = `${base}inflight`;
    this.#isAvailable = isAvailable;
    this.#traffic = traffic;
  }

  get available(): boolean {
    return this.#isAvailable();
  }

  async exchangeInFlight(gatewayId: string, counts: ReadonlyMap<string, number>, ttlMs: number): Promise<ReadonlyMap<string, number> | undefined> {
    if (!this.available) return undefined;
    const own = `${this.#base}:${gatewayId}`;
    const value = JSON.stringify(Object.fromEntries([...counts].filter(([, count]) => count > 0)));
    const ttl = String(Math.max(1, Math.ceil(ttlMs)));
    const others = this.#others.filter((id) => id !== gatewayId).slice(0, MAX_INSTANCES);
    const pipeline = this.#connection.client.pipeline();
    pipeline.set(own, value, 'PX', ttl);
    pipeline.sadd(this.#base, gatewayId);
    pipeline.pexpire(this.#base, String(Math.max(60_000, 100 * ttlMs)));
    pipeline.smembers(this.#base);
    if (others.length > 0) pipeline.mget(...others.map((id) => `${this.#base}:${id}`));
    this.#traffic.roundTrips += 1;
    this.#traffic.bytesOut += 80 + own.length + value.length + 2 * this.#base.length + gatewayId.length + others.reduce((sum, id) => sum + this.#base.length + id.length + 10, 0);
    try {
      const results = await pipeline.exec();
      if (!results || results.some(([error]) => error)) throw new Error('pipeline failed');
      const members = (results[3]?.[1] as string[] | undefined) ?? [];
      const values = others.length > 0 ? ((results[4]?.[1] as Array<string | null> | undefined) ?? []) : [];
      this.#traffic.bytesIn += 30 + members.reduce((sum, id) => sum + id.length + 8, 0) + values.reduce((sum, item) => sum + (item?.length ?? 0) + 8, 0);
      const expired = others.filter((_, at) => values[at] === null || values[at] === undefined);
      // Members whose counts expired are instances that stopped: dropped (a live one adds itself back at its next exchange).
      if (expired.length > 0) this.#connection.client.srem(this.#base, ...expired).catch(() => undefined);
      this.#others = members.filter((id) => id !== gatewayId && !expired.includes(id));
      const sum = new Map<string, number>();
      for (const item of values) {
        if (!item) continue;
        for (const [provider, count] of Object.entries(parseCounts(item))) sum.set(provider, (sum.get(provider) ?? 0) + count);
      }
      return sum;
    } catch {
      this.#traffic.failures += 1;
      return undefined;
    }
  }
}

function parseCounts(text: string): Record<string, number> {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null) return {};
    return Object.fromEntries(Object.entries(parsed).filter((entry): entry is [string, number] => typeof entry[1] === 'number' && Number.isFinite(entry[1]) && entry[1] > 0));
  } catch {
    return {};
  }
}
