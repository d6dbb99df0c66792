import pino, { type DestinationStream, type Logger } from 'pino';
import { escapeJsonLogLine } from './escape-control-characters.js';

/** Paths pino blanks in every log line: keys, bearer tokens, signatures. */
export const REDACTED_PATHS = [
  'key',
  'privateKey',
  'apiKey',
  'adminToken',
  'metricsToken',
  'authorization',
  'signature',
  '*.key',
  '*.privateKey',
  '*.apiKey',
  '*.adminToken',
  '*.metricsToken',
  '*.authorization',
  '*.signature',
  'headers.authorization',
  '*.headers.authorization',
  'config.key',
];

/**
 * The gateway's structured logger, secrets redacted: JSON lines on stdout, or into `destination`
 * (e.g. the CLI's human-readable printer). Stdout is written asynchronously (pino's SonicBoom
 * destination, `sync: false`): a request never waits for it; pino flushes what is pending when the
 * process exits, and `close()` flushes too. Every line leaves with no raw control character (C0, DEL,
 * C1: see `escapeJsonLogLine`), whatever a client or provider put in the values it logs.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    name: 'zg-gateway',
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { service: 'zg-gateway' },
    // The one place every line passes through, child loggers' included.
    hooks: { streamWrite: escapeJsonLogLine },
  };
  return pino(options, destination ?? pino.destination({ dest: 1, sync: false }));
}
