import type { LogDatabase } from './log-database.js';

/** One schema step: applied once, in order, recorded in `schema_migrations`. */
interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * The request log's schema, versioned. Append new steps; never edit one that shipped. Times are
 * epoch milliseconds (BIGINT) so hour and day buckets are the same integer arithmetic in every
 * PostgreSQL; neuron amounts are NUMERIC (exact, beyond 64 bits).
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'request_log',
    sql: `
      CREATE TABLE IF NOT EXISTS request_log (
        seq BIGSERIAL PRIMARY KEY,
        request_id TEXT NOT NULL,
        instance_id TEXT NOT NULL,
        time_ms BIGINT NOT NULL,
        key_id TEXT,
        model_requested TEXT,
        model TEXT,
        provider TEXT,
        route TEXT NOT NULL,
        method TEXT NOT NULL,
        outcome TEXT NOT NULL,
        status INTEGER NOT NULL,
        error_code TEXT,
        attempts INTEGER NOT NULL,
        ttft_ms DOUBLE PRECISION,
        duration_ms DOUBLE PRECISION NOT NULL,
        prompt_tokens INTEGER,
        completion_tokens INTEGER,
        cost_neuron NUMERIC(78, 0),
        cost_estimated BOOLEAN NOT NULL DEFAULT FALSE,
        stream BOOLEAN,
        fallback_for TEXT,
        pool TEXT,
        priority INTEGER,
        trace_id TEXT
      );
      CREATE INDEX IF NOT EXISTS request_log_time ON request_log (time_ms, seq);
      CREATE INDEX IF NOT EXISTS request_log_key_time ON request_log (key_id, time_ms);
      CREATE INDEX IF NOT EXISTS request_log_model_time ON request_log (model, time_ms);
      CREATE INDEX IF NOT EXISTS request_log_provider_time ON request_log (provider, time_ms);
    `,
  },
];

/** Any number: the lock key that makes instances starting together migrate one at a time. */
const MIGRATION_LOCK = 7_021_021;

/**
 * Brings the schema up to date: each step missing from `schema_migrations` runs in a transaction
 * holding an advisory lock (two instances sharing one PostgreSQL do not race). Returns the
 * version reached; a database newer than this code is left as it is.
 */
export async function migrate(db: LogDatabase): Promise<number> {
  await db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())');
  for (const step of MIGRATIONS) {
    const applied = await db.query('SELECT 1 FROM schema_migrations WHERE version = $1', [step.version]);
    if (applied.length > 0) continue;
    await db.exec(`BEGIN;
      SELECT pg_advisory_xact_lock(${MIGRATION_LOCK});
      ${step.sql};
      INSERT INTO schema_migrations (version, name) VALUES (${step.version}, '${step.name}') ON CONFLICT (version) DO NOTHING;
      COMMIT;`);
  }
  const rows = await db.query('SELECT max(version) AS version FROM schema_migrations');
  return Number(rows[0]?.version ?? 0);
}
