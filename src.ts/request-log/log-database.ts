import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { packageRequire } from '../internal/package-require.js';
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
  // Creating the database (initdb) blocks its thread for seconds (over 30 s on a loaded 2-core
  // machine) and grows the WASM memory to ~600 MB, never given back: done in a worker thread that
  // then exits; this thread only opens the existing directory (~0.2 s, ~120 MB).
  if (!existsSync(join(path, 'PG_VERSION'))) {
    await createInWorker(path, options.startParams).catch(async () => (await PGlite.create(path, options)).close());
  }
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

/** Runs PGlite's initdb for `path` in a worker thread (resolves once the directory is created and closed). */
function createInWorker(path: string, startParams: string[]): Promise<void> {
  const source = `const { parentPort, workerData } = require('node:worker_threads');
    const { PGlite } = require(workerData.module);
    PGlite.create(workerData.path, { startParams: workerData.startParams }).then((db) => db.close()).then(() => parentPort.postMessage('created'), (error) => parentPort.postMessage(String(error)));`;
  return new Promise((resolve, reject) => {
    const worker = new Worker(source, { eval: true, workerData: { module: packageRequire.resolve('@electric-sql/pglite'), path, startParams } });
    worker.once('message', (message: unknown) => (message === 'created' ? resolve() : reject(new Error(String(message)))));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the PGlite worker exited (${code})`)));
  });
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
