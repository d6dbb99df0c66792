/**
 * A tiny printer of the gateway's pino JSON lines for a person at a terminal:
 * `12:03:04.567 INFO  gateway listening  url=http://127.0.0.1:3000 strategy=round-robin`.
 * Written here rather than adding pino-pretty and its dependencies for a few dozen lines.
 * The lines are the logger's, already redacted: this only changes their layout, and writes no raw
 * control character a value carried (parsing the JSON brings back the ESC and C1 characters its
 * escapes stood for): each is shown as `\u00XX`.
 */
import { escapeControlCharacters } from '../logging/escape-control-characters.js';

const LEVELS: Readonly<Record<number, string>> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const COLOURS: Readonly<Record<string, string>> = { TRACE: '90', DEBUG: '90', INFO: '32', WARN: '33', ERROR: '31', FATAL: '35' };
/** Fields every line has, shown in the layout itself or left out. */
const OMITTED = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name', 'service']);

function clock(time: unknown): string {
  const date = typeof time === 'number' ? new Date(time) : new Date();
  return date.toISOString().slice(11, 23);
}

/** A value as written after `name=`: bare when it is one plain word, else JSON; never a raw control character. */
function cell(value: unknown): string {
  if (typeof value === 'string' && /^[^\s"=\u0000-\u001f\u007f-\u009f]+$/.test(value)) return value;
  return escapeControlCharacters(JSON.stringify(value) ?? String(value));
}

/** One JSON log line as a human-readable line (a line that is not JSON is passed through). */
export function prettyLogLine(line: string, colour: boolean): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return escapeControlCharacters(line.endsWith('\n') ? line.slice(0, -1) : line) + '\n';
  }
  const level = LEVELS[typeof record.level === 'number' ? record.level : 30] ?? 'INFO';
  const label = colour ? `\u001b[${COLOURS[level] ?? '0'}m${level.padEnd(5)}\u001b[0m` : level.padEnd(5);
  const error = typeof record.err === 'object' && record.err !== null ? (record.err as { message?: unknown; stack?: unknown }) : undefined;
  const fields = Object.entries(record)
    .filter(([name]) => !OMITTED.has(name) && name !== 'err')
    .map(([name, value]) => `${name}=${cell(value)}`);
  if (error && typeof error.message === 'string') fields.push(`err=${cell(error.message)}`);
  const stack =
    error && typeof error.stack === 'string' && (record.level as number) >= 50
      ? '\n    ' + error.stack.split('\n').slice(1).map((frame) => escapeControlCharacters(frame.trim())).join('\n    ')
      : '';
  return `${clock(record.time)} ${label} ${typeof record.msg === 'string' ? escapeControlCharacters(record.msg) : ''}${fields.length > 0 ? '  ' + fields.join(' ') : ''}${stack}\n`;
}

/** A pino destination that writes {@link prettyLogLine}s to `out`. */
export function prettyLogStream(out: NodeJS.WritableStream, colour: boolean): { write(line: string): void } {
  return {
    write(chunk: string): void {
      for (const line of chunk.split('\n')) if (line.trim() !== '') out.write(prettyLogLine(line, colour));
    },
  };
}
