import { timingSafeEqual } from 'node:crypto';
import { GatewayError } from '../errors/index.js';
import { parseApiKey, parseApiKeys, type ApiKeyBudget, type ApiKeyEntry } from './api-key-schema.js';
import { fingerprintOfHash, hashDigest, presentedKeyDigest } from './api-key-secrets.js';

/** A key's limits, as the limiter applies them. Absent = unlimited. */
export interface ApiKeyLimits {
  readonly rpm?: number;
  readonly tpm?: number;
  readonly maxConcurrent?: number;
  readonly budget?: ApiKeyBudget;
  /** Allowed model ids; absent = every model. */
  readonly models?: readonly string[];
  /** The highest admission priority its requests get; absent = the queue's default priority. */
  readonly maxPriority?: number;
}

/** The key a request was authenticated with: its public identity and limits, never its hash. */
export interface AuthenticatedKey {
  /** The configured id. */
  readonly id: string;
  /** 12 hex digits that name the key without revealing it. */
  readonly fingerprint: string;
  readonly limits: ApiKeyLimits;
}

/** What `list()` shows of a key: everything but its hash. */
export interface ApiKeyPublicView extends AuthenticatedKey {
  /** ISO 8601, or null when it never expires. */
  readonly expiresAt: string | null;
  readonly disabled: boolean;
  /** Whether `expiresAt` has passed. */
  readonly expired: boolean;
}

/** Why an authentication failed; attached as the error's `cause` (never serialised to clients), for logs. */
export interface AuthenticationFailure {
  readonly reason: 'missing' | 'malformed' | 'unknown' | 'expired' | 'disabled';
  /** The key's id, for `expired` and `disabled` (ids are not secret). */
  readonly keyId?: string;
}

/** Options for {@link ApiKeyRegistry}. */
export interface ApiKeyRegistryOptions {
  /** Clock in epoch ms that expiry is checked with. Default: `Date.now`. */
  now?: () => number;
}

interface StoredKey {
  readonly entry: ApiKeyEntry;
  readonly digest: Buffer;
  readonly expiresAtMs: number;
  readonly authenticated: AuthenticatedKey;
}

const BEARER = /^bearer[ \t]+(\S+)$/i;
const INVALID_KEY_MESSAGE = 'Invalid API key';
const MISSING_KEY_MESSAGE = 'Missing API key: send it as `Authorization: Bearer <key>`';
const MALFORMED_MESSAGE = 'Malformed Authorization header: expected `Authorization: Bearer <key>`';

/**
 * The client keys the gateway accepts, by hash. `authenticate` hashes the presented key with SHA-256,
 * looks the digest up in a map, and confirms the match with `crypto.timingSafeEqual`. What is looked
 * up is a digest the caller cannot steer, so the lookup's timing reveals nothing about how much of a
 * stored key a guess shares; plaintext keys are never held.
 *
 * Every failure is GatewayError('invalid_api_key') (401) with the same message for unknown, expired,
 * disabled and revoked keys; the reason is in the error's `cause` ({@link AuthenticationFailure}).
 */
export class ApiKeyRegistry {
  #byId = new Map<string, StoredKey>();
  #byDigest = new Map<string, StoredKey>();
  readonly #now: () => number;

  /** Entries are parsed entries (`parseApiKeys`, `loadKeysFile`); duplicates throw `invalid_config`. */
  constructor(entries: readonly ApiKeyEntry[] = [], options: ApiKeyRegistryOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.replaceAll(entries);
  }

  /** How many keys are configured (disabled and expired ones included). */
  get size(): number {
    return this.#byId.size;
  }

  /**
   * The key in an `Authorization` header value. Accepts `Bearer <key>` with any case of the scheme and
   * surrounding whitespace. Throws GatewayError('invalid_api_key') when the header is missing or
   * malformed, or the key is unknown, revoked, disabled or expired.
   */
  authenticate(authorizationHeader: string | undefined): AuthenticatedKey {
    const header = authorizationHeader?.trim() ?? '';
    if (header === '') throw authError(MISSING_KEY_MESSAGE, { reason: 'missing' });
    const presented = BEARER.exec(header)?.[1];
    if (presented === undefined) throw authError(MALFORMED_MESSAGE, { reason: 'malformed' });
    const digest = presentedKeyDigest(presented);
    const candidate = this.#byDigest.get(digest.toString('hex'));
    // Confirm in constant time; the fallback compares against itself so both paths do the same work.
    const matched = timingSafeEqual(candidate?.digest ?? digest, digest) && candidate !== undefined;
    if (!matched || candidate === undefined) throw authError(INVALID_KEY_MESSAGE, { reason: 'unknown' });
    if (candidate.entry.disabled) throw authError(INVALID_KEY_MESSAGE, { reason: 'disabled', keyId: candidate.entry.id });
    if (this.#now() >= candidate.expiresAtMs) throw authError(INVALID_KEY_MESSAGE, { reason: 'expired', keyId: candidate.entry.id });
    return candidate.authenticated;
  }

  /** Adds a key. Throws GatewayError('invalid_config') if its id or its key is already registered. */
  add(entry: ApiKeyEntry): void {
    const stored = toStored(parseApiKey(entryAsConfig(entry), { param: 'apiKey' }));
    if (this.#byId.has(entry.id)) {
      throw new GatewayError('invalid_config', `An API key with id "${entry.id}" already exists`, { param: 'id' });
    }
    const digestHex = stored.digest.toString('hex');
    const same = this.#byDigest.get(digestHex);
    if (same) throw new GatewayError('invalid_config', `Key "${entry.id}" is the same key as "${same.entry.id}"`, { param: 'hash' });
    this.#byId.set(entry.id, stored);
    this.#byDigest.set(digestHex, stored);
  }

  /** Removes the key with this id; requests already admitted with it finish. True when it existed. */
  revoke(id: string): boolean {
    const stored = this.#byId.get(id);
    if (!stored) return false;
    this.#byId.delete(id);
    this.#byDigest.delete(stored.digest.toString('hex'));
    return true;
  }

  /**
   * Replaces every key at once (configuration reload): validated first (duplicate ids or keys throw
   * GatewayError('invalid_config') and leave the registry unchanged). Counters are kept by id, so a
   * key that keeps its id keeps its spend and rate windows.
   */
  replaceAll(entries: readonly ApiKeyEntry[]): void {
    const checked = parseApiKeys(entries.map(entryAsConfig), { param: 'apiKeys' });
    const byId = new Map<string, StoredKey>();
    const byDigest = new Map<string, StoredKey>();
    for (const entry of checked) {
      const stored = toStored(entry);
      byId.set(entry.id, stored);
      byDigest.set(stored.digest.toString('hex'), stored);
    }
    this.#byId = byId;
    this.#byDigest = byDigest;
  }

  /** The key with this id as the limiter sees it, or undefined. */
  get(id: string): AuthenticatedKey | undefined {
    return this.#byId.get(id)?.authenticated;
  }

  /** Every key, in configuration order, without hashes. */
  list(): ApiKeyPublicView[] {
    const now = this.#now();
    return [...this.#byId.values()].map((stored) => ({
      ...stored.authenticated,
      expiresAt: stored.entry.expiresAt ?? null,
      disabled: stored.entry.disabled,
      expired: now >= stored.expiresAtMs,
    }));
  }
}

function toStored(entry: ApiKeyEntry): StoredKey {
  const limits: ApiKeyLimits = Object.freeze({
    ...(entry.rpm !== undefined ? { rpm: entry.rpm } : {}),
    ...(entry.tpm !== undefined ? { tpm: entry.tpm } : {}),
    ...(entry.maxConcurrent !== undefined ? { maxConcurrent: entry.maxConcurrent } : {}),
    ...(entry.budget !== undefined ? { budget: entry.budget } : {}),
    ...(entry.models !== undefined ? { models: entry.models } : {}),
    ...(entry.maxPriority !== undefined ? { maxPriority: entry.maxPriority } : {}),
  });
  return {
    entry,
    digest: hashDigest(entry.hash),
    expiresAtMs: entry.expiresAt !== undefined ? Date.parse(entry.expiresAt) : Number.POSITIVE_INFINITY,
    authenticated: Object.freeze({ id: entry.id, fingerprint: fingerprintOfHash(entry.hash), limits }),
  };
}

/** An entry back in configuration form, so entries built by hand are validated like configuration. */
function entryAsConfig(entry: ApiKeyEntry): unknown {
  return { ...entry, ...(entry.budget ? { budget: { amount: entry.budget.amount.toString(), period: entry.budget.period } } : {}) };
}

function authError(message: string, failure: AuthenticationFailure): GatewayError {
  return new GatewayError('invalid_api_key', message, { cause: failure });
}
