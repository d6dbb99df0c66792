/**
 * Splits a byte stream into server-sent events without decoding anything in between:
 * bytes go in in whatever pieces the network delivers, whole events come out as the exact
 * bytes received (their blank-line terminator included), so a multibyte character split
 * across packets is never decoded half-way. Lines may end in LF, CRLF or CR (the SSE spec).
 */

/** One event's bytes and its fields, decoded once the whole event is in. */
export interface SplitEvent {
  readonly raw: Buffer;
  /** The `event:` field, when present. */
  readonly type: string | undefined;
  /** The `data:` lines joined with `\n`; undefined when the event had no data line. */
  readonly data: string | undefined;
}

/** Thrown by {@link SseEventSplitter.push} when one event grows past the limit. */
export class SseEventTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`an SSE event exceeded ${limit} bytes`);
  }
}

const LF = 0x0a;
const CR = 0x0d;

/** Decodes complete events; a byte order mark at the start of the stream is dropped here (the raw bytes keep it). */
const decoder = new TextDecoder('utf-8');

/** Parses the fields of one complete event. */
function parseFields(raw: Buffer): { type: string | undefined; data: string | undefined } {
  const text = decoder.decode(raw);
  let type: string | undefined;
  let data: string | undefined;
  let start = 0;
  // The terminator bytes at the end produce empty lines, which carry no field.
  while (start < text.length) {
    let end = start;
    while (end < text.length && text.charCodeAt(end) !== LF && text.charCodeAt(end) !== CR) end++;
    const line = text.slice(start, end);
    if (end < text.length && text.charCodeAt(end) === CR && text.charCodeAt(end + 1) === LF) end++;
    start = end + 1;
    if (line.length === 0 || line.charCodeAt(0) === 0x3a /* ':' comment */) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 0x20) value = value.slice(1);
    if (field === 'data') data = data === undefined ? value : `${data}\n${value}`;
    else if (field === 'event') type = value;
  }
  return { type, data };
}

/**
 * An incremental splitter. `push(chunk)` returns the events completed by that chunk;
 * `end()` returns what a final, unterminated event held (or nothing).
 */
export class SseEventSplitter {
  readonly #maxEventBytes: number;
  /** Pieces of the event being assembled (zero-copy views of the pushed chunks). */
  #pieces: Buffer[] = [];
  #size = 0;
  /** Bytes in the current line so far (0 right after a line terminator). */
  #lineLength = 0;
  /** The last byte was a CR: a following LF belongs to the same terminator. */
  #afterCR = false;

  /** @param maxEventBytes Largest event accepted (its bytes, terminator included). */
  constructor(maxEventBytes: number) {
    this.#maxEventBytes = maxEventBytes;
  }

  push(chunk: Buffer): SplitEvent[] {
    const events: SplitEvent[] = [];
    let from = 0;
    let index = 0;
    const length = chunk.length;
    while (index < length) {
      const byte = chunk[index] as number;
      if (byte === LF && this.#afterCR) {
        // Second half of a CRLF whose CR ended an event: that event is gone, the LF leads the next one.
        this.#afterCR = false;
        index++;
        continue;
      }
      this.#afterCR = byte === CR;
      if (byte !== LF && byte !== CR) {
        this.#lineLength++;
        index++;
        continue;
      }
      index++;
      if (this.#lineLength > 0) {
        this.#lineLength = 0;
        continue;
      }
      // A blank line: the event ends here (a CR's LF, if one follows, is taken above).
      if (byte === CR && index < length && chunk[index] === LF) {
        index++;
        this.#afterCR = false;
      }
      this.#take(chunk.subarray(from, index));
      from = index;
      events.push(this.#complete());
    }
    if (from < length) this.#take(chunk.subarray(from));
    return events;
  }

  /** The event left unterminated when the stream ended, if it held any field. */
  end(): SplitEvent | undefined {
    if (this.#size === 0) return undefined;
    const event = this.#complete();
    return event.data === undefined && event.type === undefined ? undefined : event;
  }

  #take(piece: Buffer): void {
    if (piece.length === 0) return;
    this.#size += piece.length;
    if (this.#size > this.#maxEventBytes) throw new SseEventTooLarge(this.#maxEventBytes);
    this.#pieces.push(piece);
  }

  #complete(): SplitEvent {
    const raw = this.#pieces.length === 1 ? (this.#pieces[0] as Buffer) : Buffer.concat(this.#pieces, this.#size);
    this.#pieces = [];
    this.#size = 0;
    this.#lineLength = 0;
    return { raw, ...parseFields(raw) };
  }
}
