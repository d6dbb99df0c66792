import { z } from 'zod';

const poolName = z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/, 'must be 1-100 characters of A-Z a-z 0-9 _ . -');

/**
 * The admission queue: where a request waits while every provider that could serve it is at its
 * `maxConcurrent` cap, highest priority first (FIFO within a priority).
 */
export const queueConfigSchema = z
  .object({
    /** Most requests waiting at once; the next gets 429 `queue_full`. 0: never wait (429 at once when every candidate is full). Default 1000. */
    maxSize: z.number().int().min(0).max(1_000_000).default(1000),
    /** Longest a request waits, ms; then 503 `queue_timeout`. Default 30000. */
    timeoutMs: z.number().int().positive().default(30_000),
    /** `Retry-After` of `queue_full` and `queue_timeout` answers, ms (rounded up to whole seconds). Default 1000. */
    retryAfterMs: z.number().int().positive().default(1000),
    /** Priority of a request that states none (`X-Priority` header or `user_level` body field, 0-10, higher first). Default 5. */
    defaultPriority: z.number().int().min(0).max(10).default(5),
  })
  .strict();

/** One named pool of providers (a provider joins with its `pool` option). */
export const poolConfigSchema = z
  .object({
    /**
     * Where the pool's requests go when none of its providers can take them (all at their cap, or
     * none healthy): `false` nowhere (they wait in the queue), `true` any provider outside the pool
     * (in a pool that accepts overflow, or in none), or these pools, in order. Default false.
     */
    overflow: z.union([z.boolean(), z.array(poolName).max(20)]).default(false),
    /** Requests for these models (or aliases) use this pool when they send no `X-Pool`. Default none. */
    models: z.array(z.string().min(1).max(256)).max(1000).optional(),
    /** Whether other pools' `overflow: true` may use this pool's providers. Default true. */
    acceptOverflow: z.boolean().default(true),
  })
  .strict();

/** Pools by name. */
export const poolsConfigSchema = z
  .record(poolName, poolConfigSchema)
  .superRefine((pools, context) => {
    const owner = new Map<string, string>();
    for (const [name, pool] of Object.entries(pools)) {
      if (Array.isArray(pool.overflow)) {
        for (const [index, other] of pool.overflow.entries()) {
          if (!Object.hasOwn(pools, other)) context.addIssue({ code: 'custom', path: [name, 'overflow', index], message: 'names no pool of this config' });
        }
      }
      for (const [index, model] of (pool.models ?? []).entries()) {
        if (owner.has(model)) context.addIssue({ code: 'custom', path: [name, 'models', index], message: 'names a model another pool already has (a model belongs to one pool)' });
        owner.set(model, name);
      }
    }
  });

export type QueueConfig = z.output<typeof queueConfigSchema>;
export type PoolConfig = z.output<typeof poolConfigSchema>;
