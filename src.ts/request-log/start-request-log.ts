import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { RequestLogConfig } from '../config/index.js';
import { GatewayError } from '../errors/index.js';
import { openLogDatabase, type LogDatabase } from './log-database.js';
import { RequestLogWriter, type RequestLogCounts } from './request-log-writer.js';

/** A running request log: its database for the admin queries, its counts, and close. */
export interface RequestLog {
  /** `pglite` or `postgres`. */
  readonly kind: 'pglite' | 'postgres';
  /** The migrated database (rejects while it cannot be reached). */
  database(): Promise<LogDatabase>;
  /** Writes what is buffered now. */
  flush(): Promise<void>;
  /** Applies retention and the size bound now; resolves with the rows deleted. */
  prune(): Promise<number>;
  counts(): RequestLogCounts;
  /** Adds `zg_gateway_request_log_*` series to `registry`. */
  registerMetrics(registry: Registry): void;
  /** Writes what is buffered and closes the database. */
  close(): Promise<void>;
}

/** Starts the request log of gateway `gatewayId` (listening at once; the database opens in the background). */
export function startRequestLog(config: RequestLogConfig, gatewayId: string, logger: Logger, now?: () => number): RequestLog {
  const writer = new RequestLogWriter({
    gatewayId,
    open: () => openLogDatabase(config),
    logger,
    maxBuffered: config.maxBuffered,
    batchSize: config.batchSize,
    flushIntervalMs: config.flushInterval,
    retentionDays: config.retentionDays,
    maxRows: config.maxRows,
    pruneIntervalMs: config.pruneInterval,
    ...(now ? { now } : {}),
  });
  writer.start();
  return {
    kind: config.url !== undefined ? 'postgres' : 'pglite',
    database: () =>
      writer.database().catch((error: unknown) => {
        throw new GatewayError('request_log_unavailable', 'The request log database cannot be reached now', { cause: error });
      }),
    flush: () => writer.flush(),
    prune: () => writer.prune(),
    counts: () => writer.snapshot(),
    registerMetrics: (registry) => {
      const registers = [registry];
      const counter = (name: string, help: string, read: () => number): void => {
        let reported = 0;
        new Counter({
          name,
          help,
          registers,
          collect() {
            const value = read();
            this.inc(value - reported);
            reported = value;
          },
        });
      };
      counter('zg_gateway_request_log_rows_written_total', 'Request log rows written to its database.', () => writer.counts.written);
      counter('zg_gateway_request_log_rows_dropped_total', 'Request log rows dropped: the buffer was full (database slow or down) or the database did not take them at close.', () => writer.counts.dropped);
      counter('zg_gateway_request_log_write_failures_total', 'Request log batches that failed to be written (kept for the next try).', () => writer.counts.failedWrites);
      new Gauge({ name: 'zg_gateway_request_log_buffered_rows', help: 'Request log rows waiting to be written.', registers, collect() { this.set(writer.snapshot().buffered); } });
    },
    close: () => writer.close(),
  };
}
