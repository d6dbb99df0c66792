export { openLogDatabase, type DatabaseRow, type LogDatabase } from './log-database.js';
export { migrate, MIGRATIONS } from './migrations.js';
export { RequestLogWriter, type RequestLogCounts, type RequestLogWriterOptions } from './request-log-writer.js';
export { GROUP_COLUMNS, INTERVAL_MS, listRequests, MAX_USAGE_ROWS, usage, type LoggedRequest, type RequestFilters, type UsageGroup, type UsageInterval, type UsageRow } from './request-log-queries.js';
export { toCsv } from './csv.js';
export { isLoggedRequest, rowValues, type LoggedEvent } from './request-row.js';
export { startRequestLog, type RequestLog } from './start-request-log.js';
