/** One part of a `multipart/form-data` body. */
export interface FormPart {
  /** The `name` of its Content-Disposition. */
  readonly name: string;
  /** The `filename`, when the part is a file. */
  readonly filename?: string;
  /** Its Content-Type, when given. */
  readonly contentType?: string;
  readonly data: Buffer;
}

/** A parsed form: fields (text parts) and files. */
export interface ParsedForm {
  readonly fields: ReadonlyMap<string, string>;
  readonly files: ReadonlyMap<string, FormPart>;
}

/** Most parts a form may have (a simulated provider's bound, not OpenAI's). */
const MAX_PARTS = 64;
/** Longest part header block, in bytes. */
const MAX_HEADER_BYTES = 16 * 1024;

/** The boundary of a `multipart/form-data` Content-Type, or null when it is not one. */
export function multipartBoundary(contentType: string | undefined): string | null {
  if (!contentType || !/^multipart\/form-data\s*;/i.test(contentType)) return null;
  const match = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType);
  return match?.[1] ?? match?.[2] ?? null;
}

function headerParameter(header: string, name: string): string | undefined {
  const match = new RegExp(`;\\s*${name}="((?:[^"\\\\]|\\\\.)*)"`, 'i').exec(header) ?? new RegExp(`;\\s*${name}=([^;\\s]+)`, 'i').exec(header);
  return match?.[1]?.replace(/\\(.)/g, '$1');
}

/**
 * Parses a whole `multipart/form-data` body (already read, and bounded by the caller): at most
 * 64 parts, each with a `form-data` Content-Disposition naming it. A part with a `filename` is a
 * file, others are UTF-8 fields; a repeated name keeps the first. Throws an Error naming what is
 * wrong (the caller answers 400).
 */
export function parseMultipart(body: Buffer, boundary: string): ParsedForm {
  const delimiter = Buffer.from(`--${boundary}`);
  const fields = new Map<string, string>();
  const files = new Map<string, FormPart>();
  let position = body.indexOf(delimiter);
  if (position !== 0 && position !== -1 && body.subarray(0, position).toString('latin1').trim() !== '') position = -1;
  if (position === -1) throw new Error('the body does not start with the multipart boundary');
  let parts = 0;
  for (;;) {
    position += delimiter.length;
    if (body.subarray(position, position + 2).toString('latin1') === '--') break;
    if (body.subarray(position, position + 2).toString('latin1') !== '\r\n') throw new Error('a boundary line is not followed by CRLF');
    position += 2;
    const headerEnd = body.indexOf('\r\n\r\n', position);
    if (headerEnd === -1 || headerEnd - position > MAX_HEADER_BYTES) throw new Error(`part ${parts + 1} has no complete header block`);
    const headers = body.subarray(position, headerEnd).toString('utf8').split('\r\n');
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), headerEnd + 4);
    if (next === -1) throw new Error(`part ${parts + 1} is not closed by a boundary (the form is cut)`);
    const data = body.subarray(headerEnd + 4, next);
    parts += 1;
    if (parts > MAX_PARTS) throw new Error(`more than ${MAX_PARTS} parts`);
    const disposition = headers.find((line) => /^content-disposition:/i.test(line));
    if (!disposition || !/^content-disposition:\s*form-data/i.test(disposition)) throw new Error(`part ${parts} has no form-data Content-Disposition`);
    const name = headerParameter(disposition, 'name');
    if (!name) throw new Error(`part ${parts} has no name`);
    const filename = headerParameter(disposition, 'filename');
    const contentType = headers.find((line) => /^content-type:/i.test(line))?.replace(/^content-type:\s*/i, '');
    if (filename !== undefined) {
      if (!files.has(name)) files.set(name, { name, filename, ...(contentType ? { contentType } : {}), data: Buffer.from(data) });
    } else if (!fields.has(name)) fields.set(name, data.toString('utf8'));
    position = next + 2;
  }
  return { fields, files };
}
