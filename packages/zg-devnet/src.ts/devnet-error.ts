/** What went wrong, as a stable string a caller can switch on. */
export type DevnetErrorCode =
  /** anvil has no npm binary for this platform, or its package is not installed (set `ANVIL_BIN`). */
  | 'anvil_unavailable'
  /** anvil could not be spawned or did not answer on its RPC port in time. */
  | 'anvil_start_failed'
  /** An option, provider spec, service update or fault is invalid (the message names it). */
  | 'invalid_options'
  /** Start-up failed halfway; whatever had been started was stopped again. */
  | 'start_failed'
  /** A transaction or read on the devnet chain failed (registration, update, removal, settlement...). */
  | 'chain_error'
  /** The devnet (or this provider) was stopped, or the provider left: the operation cannot run. */
  | 'stopped';

const BRAND = Symbol.for('zg-devnet.DevnetError');

/** Options of {@link DevnetError}. */
export interface DevnetErrorOptions {
  /** The underlying error, kept as the standard `cause`. */
  cause?: unknown;
}

/**
 * The one error type the devnet throws: a {@link DevnetErrorCode}, a message for people, and the
 * underlying `cause` when there is one. Use {@link DevnetError.isInstance} rather than
 * `instanceof` when the CommonJS and ESM copies of this package may both be loaded.
 */
export class DevnetError extends Error {
  readonly code: DevnetErrorCode;

  constructor(code: DevnetErrorCode, message: string, options: DevnetErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DevnetError';
    this.code = code;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** True for a DevnetError from any copy of this package (CommonJS or ESM). */
  static isInstance(value: unknown): value is DevnetError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }
}
