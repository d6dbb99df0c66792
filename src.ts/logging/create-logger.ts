import pino, { type Logger } from 'pino';

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
 * The gateway's structured logger (JSON lines on stdout), secrets redacted. Lines are written
 * asynchronously (pino's SonicBoom destination, `sync: false`): a request never waits for stdout;
 * pino flushes what is pending when the process exits, and `close()` flushes too.
 */
export function createLogger(level: string): Logger {
  return pino(
    {
      name: 'zg-gateway',
      level,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      base: { service: 'zg-gateway' },
    },
    pino.destination({ dest: 1, sync: false }),
  );
}
