import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { RequestLogConfig } from '../config/index.js';

/** A row as a query returns it: column name to value (numbers, strings, booleans or null). */
export type DatabaseRow = Record<string, unknown>;

/**
 * The little the request log needs from a database, so PGlite and PostgreSQL run the same SQL:
 * parameterised queries (`$1`, ...) and multi-statement scripts (migrations).
 */
export interface LogDatabase {
  /** `pglite` or `postgres`. */
  readonly kind: 'pglite' | 'postgres';
  query(sql: string, params?: readonly unknown[]): Promise<DatabaseRow[]>;
  /** Runs several `;`-separated statements (no parameters). */
  exec(sql: string): Promise<void>;
  close(): Promise<void>;
}

/** PGlite's shared buffers (in this process's memory). */
const PGLITE_SHARED_BUFFERS = '16MB';
/** How long a PostgreSQL connection attempt may take before a write counts as failed, ms. */
const CONNECT_TIMEOUT_MS = 2000;
/** Longest one query may take (a hung server fails the batch, which is kept for the next try), ms. */
const QUERY_TIMEOUT_MS = 10_000;

/**
 * Opens the configured database. The driver is loaded here, on first use: a gateway without a
 * request log never loads PGlite (a WASM PostgreSQL) or `pg`.
 */
export async function openLogDatabase(config: Pick<RequestLogConfig, 'path' | 'url'>): Promise<LogDatabase> {
  if (config.url !== undefined) return openPostgres(config.url);
  if (config.path !== undefined) return openPglite(config.path);
  throw new Error('requestLog needs a path or a url');
}

async function openPglite(path: string): Promise<LogDatabase> {
  const { PGlite } = await import('@electric-sql/pglite');
  // PostgreSQL's default 128 MB of shared buffers would be ~250 MB more resident in this process; an append-mostly log needs few.
  const options = { startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${PGLITE_SHARED_BUFFERS}`] };
  // Creating the database (initdb) grows the WASM memory to ~600 MB, which an instance never gives
  // back: create it with one instance, close that, and serve from a fresh one (~115 MB).
  if (!existsSync(join(path, 'PG_VERSION'))) await (await PGlite.create(path, options)).close();
  const db = await PGlite.create(path, options);
  return {
    kind: 'pglite',
    query: async (sql, params = []) => (await db.query<DatabaseRow>(sql, [...params])).rows,
    exec: async (sql) => {
      try {
        await db.exec(sql);
      } catch (error) {
        // A script that opened a transaction and failed leaves it aborted: end it.
        await db.exec('ROLLBACK').catch(() => undefined);
        throw error;
      }
    },
    close: () => db.close(),
  };
}

async function openPostgres(url: string): Promise<LogDatabase> {
  const { default: pg } = await import('pg');
  // A few connections: batched writes, retention and the admin queries.
  const pool = new pg.Pool({ connectionString: url, max: 4, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, idleTimeoutMillis: 10_000, query_timeout: QUERY_TIMEOUT_MS, application_name: 'zg-gateway' });
  // An idle connection the server drops must not become an unhandled 'error' event.
  pool.on('error', () => undefined);
  return {
    kind: 'postgres',
    query: async (sql, params = []) => (await pool.query<DatabaseRow>(sql, [...params])).rows,
    exec: async (sql) => {
      const client = await pool.connect();
      try {
        await client.query(sql);
      } catch (error) {
        // A script that opened a transaction and failed leaves this connection's transaction aborted: end it.
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}
