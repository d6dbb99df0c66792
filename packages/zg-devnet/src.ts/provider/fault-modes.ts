import { DevnetError } from '../devnet-error.js';

/**
 * Faults a simulated provider can be told to show, at run time. They apply to chat requests
 * (and to image and transcription requests where a JSON answer has them: not the stream-only ones)
 * (`down` to every route, `verify-stall` to the signature route, `overcharge` to settlement).
 * Modes marked "streams" change only `stream: true` chats; JSON chats are answered normally.
 */
export type ProviderFault =
  /** Serves normally. */
  | { readonly mode: 'none' }
  /** Refuses connections: the listening socket is closed until the fault is cleared. */
  | { readonly mode: 'down' }
  /** Answers chats with this HTTP status (any of 200–599: 3xx, 404, 413, 429 with `Retry-After`, 5xx...). */
  | { readonly mode: 'http-error'; readonly status: number; readonly retryAfterSeconds?: number }
  /** Answers 401 as if the session token were invalid. */
  | { readonly mode: 'reject-auth' }
  /** Waits this long before sending anything. */
  | { readonly mode: 'delay-first-byte'; readonly ms: number }
  /** Accepts the request and never answers. */
  | { readonly mode: 'stall' }
  /** Streams this many content chunks, then goes silent (connection kept open). */
  | { readonly mode: 'stall-after-chunks'; readonly chunks: number }
  /** Streams this many content chunks, then destroys the connection. */
  | { readonly mode: 'cut-after-chunks'; readonly chunks: number }
  /** Answers 200 with a body that is not JSON (JSON chats) or, after one content chunk, an SSE event that is not JSON (streams). */
  | { readonly mode: 'malformed' }
  /** Serves normally but signs the response with a key that is not its TEE signer. */
  | { readonly mode: 'bad-signature' }
  /** Streams with this gap between chunks (JSON chats: waits 3 × the gap before answering). */
  | { readonly mode: 'slow-drip'; readonly intervalMs: number }
  /** Answers 200 with a body of about this many bytes, generated as it is sent (streams: one huge SSE event). */
  | { readonly mode: 'oversized-body'; readonly bytes: number }
  /** Streams: after the role chunk, a `data:` line whose bytes keep coming and never end. */
  | { readonly mode: 'endless-sse-line' }
  /** Answers 200 with an OpenAI-style `{"error": {...}}` body instead of a completion (JSON, streams too). */
  | { readonly mode: 'error-body' }
  /** Answers 200 with a completion without `choices` (streams: a chunk without `choices`, then `[DONE]`). */
  | { readonly mode: 'no-choices' }
  /** Streams: after the role chunk, an `event: error` SSE event carrying an error JSON, then the end. */
  | { readonly mode: 'sse-error-event' }
  /** Streams: only the role-only first chunk, then the connection is destroyed. */
  | { readonly mode: 'fail-after-role' }
  /** Serves the whole answer (JSON or SSE) one byte per write, no Nagle, yielding between writes: UTF-8 characters split across packets. */
  | { readonly mode: 'byte-drip' }
  /** The signature route (`/v1/proxy/signature/:id`) never answers; chats are served normally. */
  | { readonly mode: 'verify-stall' }
  /** Serves normally; settlement submits `factor` × the fees actually served. */
  | { readonly mode: 'overcharge'; readonly factor: number };

/** The name of a fault mode. */
export type ProviderFaultMode = ProviderFault['mode'];

/** No fault. */
export const NO_FAULT: ProviderFault = Object.freeze({ mode: 'none' });

function check(condition: boolean, message: string): void {
  if (!condition) throw new DevnetError('invalid_options', `invalid fault: ${message}`);
}

const isCount = (value: unknown): boolean => typeof value === 'number' && Number.isInteger(value) && value >= 0;
const isDuration = (value: unknown): boolean => typeof value === 'number' && Number.isFinite(value) && value >= 0;

/** Checks a fault's parameters; throws a DevnetError (`invalid_options`) naming the bad one. Returns a frozen copy. */
export function validateFault(fault: ProviderFault): ProviderFault {
  check(typeof fault === 'object' && fault !== null && typeof fault.mode === 'string', 'a fault is an object with a mode');
  switch (fault.mode) {
    case 'http-error':
      check(Number.isInteger(fault.status) && fault.status >= 200 && fault.status <= 599, `http-error status must be an integer 200–599, not ${String(fault.status)}`);
      check(fault.retryAfterSeconds === undefined || isCount(fault.retryAfterSeconds), 'retryAfterSeconds must be an integer ≥ 0');
      break;
    case 'delay-first-byte':
      check(isDuration(fault.ms), 'delay-first-byte ms must be a number ≥ 0');
      break;
    case 'stall-after-chunks':
    case 'cut-after-chunks':
      check(isCount(fault.chunks), `${fault.mode} chunks must be an integer ≥ 0`);
      break;
    case 'slow-drip':
      check(isDuration(fault.intervalMs), 'slow-drip intervalMs must be a number ≥ 0');
      break;
    case 'oversized-body':
      check(isCount(fault.bytes) && fault.bytes >= 1, 'oversized-body bytes must be an integer ≥ 1');
      break;
    case 'overcharge':
      check(typeof fault.factor === 'number' && Number.isFinite(fault.factor) && fault.factor > 0, 'overcharge factor must be a finite number > 0');
      break;
    case 'none':
    case 'down':
    case 'reject-auth':
    case 'stall':
    case 'malformed':
    case 'bad-signature':
    case 'endless-sse-line':
    case 'error-body':
    case 'no-choices':
    case 'sse-error-event':
    case 'fail-after-role':
    case 'byte-drip':
    case 'verify-stall':
      break;
    default:
      check(false, `unknown mode ${JSON.stringify((fault as { mode: unknown }).mode)}`);
  }
  return Object.freeze({ ...fault });
}
