import { ERROR_CODES, type ErrorCode } from './error-codes.js';

const GATEWAY_ERROR_MARK = Symbol.for('zg-gateway.GatewayError');

/** Options for {@link GatewayError}. */
export interface GatewayErrorOptions {
  /** Whether trying the same request on another provider may succeed. Default: false. */
  retryable?: boolean;
  /** The OpenAI-style `param` naming the offending field, when there is one. */
  param?: string | null;
  /** The underlying error. Never serialised to clients. */
  cause?: unknown;
  /** HTTP status received from an upstream provider, when the error came from one. */
  upstreamStatus?: number;
  /** A `Retry-After` received from an upstream, in milliseconds. */
  retryAfterMs?: number;
  /** Extra, client-safe details (serialised into the error body). */
  details?: Record<string, unknown>;
}

/**
 * The one error type of the gateway: a stable `code`, the HTTP `status` that code maps to,
 * an OpenAI-style `type`, and whether a retry elsewhere makes sense.
 *
 * It is marked with `Symbol.for(...)`, so {@link GatewayError.isInstance} recognises errors
 * created by another copy of this library (the CommonJS and the ESM build side by side).
 */
export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly type: string;
  readonly retryable: boolean;
  readonly param: string | null;
  readonly upstreamStatus: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: GatewayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.type = ERROR_CODES[code].type;
    this.retryable = options.retryable ?? false;
    this.param = options.param ?? null;
    this.upstreamStatus = options.upstreamStatus;
    this.retryAfterMs = options.retryAfterMs;
    this.details = options.details;
    Object.defineProperty(this, GATEWAY_ERROR_MARK, { value: true });
  }

  /** True for a GatewayError from any copy of this library. */
  static isInstance(value: unknown): value is GatewayError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[GATEWAY_ERROR_MARK] === true;
  }

  /** The OpenAI-style JSON body for this error. */
  toJSON(): OpenAIErrorBody {
    return {
      error: {
        message: this.message,
        type: this.type,
        param: this.param,
        code: this.code,
        ...(this.details ? { details: this.details } : {}),
      },
    };
  }
}

/** The body every error response has, as OpenAI's API shapes it. */
export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string; details?: Record<string, unknown> };
}

/** Turns anything thrown into a GatewayError (unknown errors become `internal_error`). */
export function toGatewayError(error: unknown): GatewayError {
  if (GatewayError.isInstance(error)) return error;
  return new GatewayError('internal_error', 'Internal gateway error', { cause: error });
}
