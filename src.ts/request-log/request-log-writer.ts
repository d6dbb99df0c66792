import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Logger } from 'pino';
import { requestDoneChannel } from '../observability/index.js';
import type { LogDatabase } from './log-database.js';
import { migrate } from './migrations.js';
import { columnArrays, INSERT_ROWS, isLoggedRequest, type LoggedEvent } from './request-row.js';

/** Options for {@link RequestLogWriter}. */
export interface RequestLogWriterOptions {
  /** The gateway whose events are logged (events carry it: several gateways may share a process). */
  gatewayId: string;
  /** Opens the database (called again after a failure, at the next flush). */
  open: () => Promise<LogDatabase>;
  logger: Logger;
  maxBuffered: number;
  batchSize: number;
  flushIntervalMs: number;
  retentionDays: number;
  maxRows: number;
  pruneIntervalMs: number;
  now?: () => number;
}

/** What the writer did, for `/metrics` and tests. */
export interface RequestLogCounts {
  written: number;
  dropped: number;
  failedWrites: number;
  buffered: number;
}

/** Fewest ms between two warnings about dropped rows or a failed write. */
const WARN_EVERY_MS = 60_000;

/**
 * Writes the request log: subscribes to `zg-gateway:request:done`, keeps each event in a bounded
 * buffer (one array push on the request path), and writes batches from a timer. A slow or absent
 * database never touches a request: while it is down the buffer fills, a failed batch is put back
 * (catch-up once it is back), and beyond `maxBuffered` new rows are dropped, counted and logged at
 * most once a minute. Retention and the size bound run from their own timer.
 */
export class RequestLogWriter {
  readonly #options: RequestLogWriterOptions;
  readonly #now: () => number;
  #buffer: LoggedEvent[] = [];
  #db: Promise<LogDatabase> | undefined;
  #flushing: Promise<void> | undefined;
  #flushTimer: NodeJS.Timeout | undefined;
  #pruneTimer: NodeJS.Timeout | undefined;
  #closed = false;
  #lastWarnAt = Number.NEGATIVE_INFINITY;
  #droppedSinceWarn = 0;
  readonly counts = { written: 0, dropped: 0, failedWrites: 0 };

  readonly #onEvent = (message: unknown): void => {
    const event = message as LoggedEvent;
    if (event.gatewayId !== this.#options.gatewayId || !isLoggedRequest(event)) return;
    if (this.#buffer.length >= this.#options.maxBuffered) return this.#drop(1);
    this.#buffer.push(event);
  };

  constructor(options: RequestLogWriterOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Starts listening and the timers; opens the database in the background (a failure is retried at each flush). */
  start(): void {
    subscribe(requestDoneChannel.name, this.#onEvent);
    this.#flushTimer = setInterval(() => void this.flush(), this.#options.flushIntervalMs);
    this.#flushTimer.unref();
    this.#pruneTimer = setInterval(() => void this.prune().catch(() => undefined), this.#options.pruneIntervalMs);
    this.#pruneTimer.unref();
    void this.database().catch(() => undefined);
  }

  /** Rows waiting, written, dropped, failed batches. */
  snapshot(): RequestLogCounts {
    return { ...this.counts, buffered: this.#buffer.length };
  }

  /** The open, migrated database (opened on first use; a failed open is tried again next time). */
  database(): Promise<LogDatabase> {
    this.#db ??= (async () => {
      const db = await this.#options.open();
      try {
        await migrate(db);
      } catch (error) {
        await db.close().catch(() => undefined);
        throw error;
      }
      return db;
    })().catch((error: unknown) => {
      this.#db = undefined;
      throw error;
    });
    return this.#db;
  }

  /** Writes what is buffered, one batch after another; resolves when done or when a batch failed. */
  flush(): Promise<void> {
    this.#flushing ??= this.#writeAll().finally(() => (this.#flushing = undefined));
    return this.#flushing;
  }

  /** Deletes rows past the retention and beyond `maxRows`. Returns how many. */
  async prune(): Promise<number> {
    const db = await this.database();
    const cutoff = Math.floor(this.#now() - this.#options.retentionDays * 86_400_000);
    const old = await db.query('WITH gone AS (DELETE FROM request_log WHERE time_ms < $1 RETURNING 1) SELECT count(*)::int AS n FROM gone', [cutoff]);
    const excess = await db.query(
      'WITH edge AS (SELECT seq FROM request_log ORDER BY seq DESC OFFSET $1 LIMIT 1), gone AS (DELETE FROM request_log WHERE seq <= (SELECT seq FROM edge) RETURNING 1) SELECT count(*)::int AS n FROM gone',
      [this.#options.maxRows],
    );
    return Number(old[0]?.n ?? 0) + Number(excess[0]?.n ?? 0);
  }

  /** Stops listening, writes what is buffered (one try), closes the database. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    unsubscribe(requestDoneChannel.name, this.#onEvent);
    clearInterval(this.#flushTimer);
    clearInterval(this.#pruneTimer);
    await this.flush();
    if (this.#buffer.length > 0) this.#drop(this.#buffer.splice(0).length, true);
    const db = await this.#db?.catch(() => undefined);
    await db?.close().catch(() => undefined);
  }

  async #writeAll(): Promise<void> {
    while (this.#buffer.length > 0) {
      const batch = this.#buffer.splice(0, this.#options.batchSize);
      try {
        const db = await this.database();
        await db.query(INSERT_ROWS, columnArrays(batch));
        this.counts.written += batch.length;
      } catch (error) {
        this.counts.failedWrites += 1;
        // Put back in front (catch-up when the database is back), within the bound; the newest beyond it are dropped.
        const room = Math.max(0, this.#options.maxBuffered - batch.length);
        const kept = this.#buffer.splice(0, room);
        const lost = this.#buffer.length;
        this.#buffer = [...batch, ...kept];
        if (lost > 0) this.#drop(lost);
        this.#warn('request_log_write_failed', 'could not write the request log; rows are kept for the next try', error);
        return;
      }
    }
  }

  #drop(count: number, atClose = false): void {
    this.counts.dropped += count;
    this.#droppedSinceWarn += count;
    this.#warn('request_log_rows_dropped', atClose ? 'request log rows dropped at close (the database did not take them)' : 'request log buffer full: rows dropped');
  }

  /** One warning a minute at most, carrying the rows dropped since the last one. */
  #warn(event: string, message: string, error?: unknown): void {
    const now = this.#now();
    if (now - this.#lastWarnAt < WARN_EVERY_MS) return;
    this.#lastWarnAt = now;
    this.#options.logger.warn({ event, droppedRows: this.#droppedSinceWarn, totalDropped: this.counts.dropped, buffered: this.#buffer.length, err: error }, message);
    this.#droppedSinceWarn = 0;
  }
}
