import type { IncomingMessage } from 'node:http';
import { Busboy, type BusboyInstance } from '@fastify/busboy';
import { GatewayError } from '../errors/index.js';
import type { MultipartUpload } from '../providers/inference-provider.js';

/** Default of `limits.maxUploadBytes`: the largest multipart body a media route reads (OpenAI's 25 MB). */
export const DEFAULT_MAX_UPLOAD_BYTES = 25 * 1024 * 1024;
/** Most parts (fields and files) a form may have. */
const MAX_PARTS = 64;
/** Largest text field, bytes (a prompt). */
const MAX_FIELD_BYTES = 256 * 1024;

/** One file part of a form: its name, file name, type and size (its bytes stay in the upload). */
export interface FormFile {
  readonly name: string;
  readonly filename: string;
  readonly mimeType: string;
  readonly size: number;
}

/** A multipart form as read: its text fields, its file parts, and the raw body kept for forwarding. */
export interface MultipartForm {
  /** Text fields; a repeated name keeps the first. */
  readonly fields: Record<string, string>;
  readonly files: readonly FormFile[];
  readonly upload: MultipartUpload;
}

function tooLarge(limit: number): GatewayError {
  return new GatewayError('body_too_large', `The upload is larger than this route accepts (${limit} bytes; limits.maxUploadBytes)`, { details: { limitBytes: limit } });
}

function malformed(message: string, part: string | null): GatewayError {
  return new GatewayError('invalid_request', `Malformed multipart form${part ? ` (part \`${part}\`)` : ''}: ${message}`, { param: part });
}

/**
 * Reads a `multipart/form-data` body with a streaming parser (`@fastify/busboy`), counting bytes as
 * they arrive: past `maxBytes` (or when `Content-Length` announces more) it stops reading (the
 * caller closes the connection after its answer) and rejects 413 `body_too_large` naming the limit. The raw body is kept once, as the chunks it came
 * in (forwarded byte for byte, again on failover); file contents are not copied. 415
 * `unsupported_media_type` for another content type or a compressed body; 400 `invalid_request`
 * naming the part for a malformed form (cut, too many parts, a field too long). How long a client
 * may take is bounded by the server's `requestTimeout`.
 */
export async function readMultipartForm(request: IncomingMessage, maxBytes: number): Promise<MultipartForm> {
  const contentType = request.headers['content-type'] ?? '';
  if (!/^multipart\/form-data\s*;.*\bboundary=/i.test(contentType)) {
    throw new GatewayError('unsupported_media_type', 'The request body must be sent as Content-Type: multipart/form-data (with a boundary)');
  }
  const encoding = request.headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
    throw new GatewayError('unsupported_media_type', `The request body must not be compressed (Content-Encoding: ${encoding})`);
  }
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes);
  const fields: Record<string, string> = {};
  const files: FormFile[] = [];
  const chunks: Buffer[] = [];
  let size = 0;
  let parser: BusboyInstance;
  try {
    parser = Busboy({ headers: { ...request.headers, 'content-type': contentType }, limits: { parts: MAX_PARTS, fieldSize: MAX_FIELD_BYTES, fieldNameSize: 200 } });
  } catch (error) {
    throw new GatewayError('unsupported_media_type', `The multipart Content-Type cannot be read: ${error instanceof Error ? error.message : String(error)}`);
  }
  /** The part being read (a file whose end has not come), for naming it in errors. */
  let current: string | null = null;
  let failure: GatewayError | undefined;
  const fail = (error: GatewayError): void => {
    failure ??= error;
  };
  parser.on('field', (name, value, _nameTruncated, valueTruncated) => {
    if (valueTruncated) return fail(malformed(`the field is longer than ${MAX_FIELD_BYTES} bytes`, name));
    if (!Object.hasOwn(fields, name)) fields[name] = value;
  });
  parser.on('file', (name, stream, filename, _encoding, mimeType) => {
    current = name;
    let fileSize = 0;
    stream.on('data', (data: Buffer) => (fileSize += data.length));
    stream.on('end', () => {
      files.push({ name, filename, mimeType, size: fileSize });
      current = null;
    });
    stream.on('error', () => undefined);
  });
  parser.on('partsLimit', () => fail(malformed(`more than ${MAX_PARTS} parts`, null)));
  const finished = new Promise<void>((resolve, reject) => {
    parser.on('finish', resolve);
    parser.on('error', (error: unknown) => reject(malformed(error instanceof Error ? error.message : String(error), current)));
  });
  finished.catch(() => undefined);
  try {
    await new Promise<void>((resolve, reject) => {
      const stop = (error: GatewayError): void => {
        // Read no more: the connection is closed after the error answer (the rest is never taken in).
        request.off('data', onData);
        request.pause();
        reject(error);
      };
      const onData = (buffer: Buffer): void => {
        size += buffer.length;
        if (size > maxBytes) return stop(tooLarge(maxBytes));
        chunks.push(buffer);
        if (!parser.write(buffer)) {
          request.pause();
          parser.once('drain', () => request.resume());
        }
        if (failure) stop(failure);
      };
      request.on('data', onData);
      request.once('end', resolve);
      request.once('error', (error) => reject(new GatewayError('client_closed_request', 'The client aborted the request', { cause: error })));
      request.once('close', () => {
        if (!request.complete) reject(new GatewayError('client_closed_request', 'The client aborted the request'));
      });
    });
  } catch (error) {
    parser.destroy();
    throw error;
  }
  parser.end();
  await finished;
  if (failure) throw failure;
  const model = fields.model;
  return { fields, files, upload: { contentType, chunks, size, model, files } };
}
