import type { IncomingMessage } from 'node:http';
import { GatewayError } from '../errors/index.js';
import { isJsonContentType } from './request-boundary.js';

/** Parses a body limit such as `1mb`, `512kb`, `100b` or a number of bytes. */
export function parseByteLimit(limit: string | number): number {
  if (typeof limit === 'number') return limit;
  const match = /^(\d+)(b|kb|mb)$/i.exec(limit.trim());
  if (!match) throw new GatewayError('invalid_config', `Invalid byte limit ${limit}`, { param: 'bodyLimit' });
  const unit = (match[2] as string).toLowerCase();
  return Number(match[1]) * (unit === 'mb' ? 1024 * 1024 : unit === 'kb' ? 1024 : 1);
}

/**
 * Reads a request body as UTF-8 JSON, bounded by `limit` bytes: 413 `body_too_large` past it
 * (also when `Content-Length` announces more), 415 `unsupported_media_type` for a compressed
 * body, a charset other than UTF-8 or a content type other than `application/json` (or
 * `application/*+json`): `text/plain` and forms are what a web page of any origin can send without
 * a CORS preflight, so they are refused before the body is read. 400 `invalid_json` for text that
 * is not JSON. How long the client may take is bounded by the server's `requestTimeout`.
 */
export async function readJsonBody(request: IncomingMessage, limit: number): Promise<unknown> {
  if (!isJsonContentType(request.headers['content-type'])) {
    throw new GatewayError('unsupported_media_type', 'The request body must be sent as Content-Type: application/json');
  }
  const encoding = request.headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
    throw new GatewayError('unsupported_media_type', `The request body must not be compressed (Content-Encoding: ${encoding})`);
  }
  const charset = /charset=([^;]+)/i.exec(request.headers['content-type'] ?? '')?.[1]?.trim().replace(/^"|"$/g, '').toLowerCase();
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') throw new GatewayError('unsupported_media_type', 'The request body must be UTF-8 JSON');
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw new GatewayError('body_too_large', `The request body is larger than the gateway accepts (${limit} bytes)`);
  const pieces: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of request) {
      const buffer = chunk as Buffer;
      size += buffer.length;
      if (size > limit) throw new GatewayError('body_too_large', `The request body is larger than the gateway accepts (${limit} bytes)`);
      pieces.push(buffer);
    }
  } catch (error) {
    if (GatewayError.isInstance(error)) throw error;
    throw new GatewayError('client_closed_request', 'The client aborted the request', { cause: error });
  }
  const text = (pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat(pieces, size)).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new GatewayError('invalid_json', 'The request body is not valid JSON', { cause: error });
  }
}
