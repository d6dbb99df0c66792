import { z } from 'zod';

/**
 * The durable request log: one row per API request, written off the request path in batches.
 * `path`: an embedded PGlite database in that directory (one instance); `url`: a PostgreSQL
 * database (several instances may share it). Exactly one of the two.
 */
export const requestLogConfigSchema = z
  .object({
    /** Directory of an embedded PGlite database (created when missing). */
    path: z.string().min(1).optional(),
    /** `postgres://user:password@host:port/database` of a PostgreSQL server. */
    url: z.string().regex(/^postgres(ql)?:\/\/\S+$/i, 'must be a postgres:// URL').optional(),
    /** Rows older than this many days are deleted. Default 30. */
    retentionDays: z.number().positive().max(36_500).default(30),
    /** Most rows kept (the oldest are deleted beyond). Default 1000000. */
    maxRows: z.number().int().positive().default(1_000_000),
    /** Most rows waiting to be written; beyond, new rows are dropped (counted and logged). Default 10000. */
    maxBuffered: z.number().int().positive().max(1_000_000).default(10_000),
    /** Most rows in one INSERT. Default 500. */
    batchSize: z.number().int().min(1).max(2000).default(500),
    /** How often buffered rows are written, ms. Default 1000. */
    flushInterval: z.number().int().positive().default(1000),
    /** How often retention and the size bound are enforced, ms. Default 600000 (10 min). */
    pruneInterval: z.number().int().positive().default(600_000),
  })
  .strict()
  .refine((value) => (value.path === undefined) !== (value.url === undefined), { message: 'give exactly one of path and url' });

/** The `requestLog` option, validated. */
export type RequestLogConfig = z.output<typeof requestLogConfigSchema>;
