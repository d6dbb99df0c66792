import { createHash, randomBytes } from 'node:crypto';

/** The prefix of every key {@link generateApiKey} makes. */
export const API_KEY_PREFIX = 'zgk-';

/** How a stored key hash is written: `sha256:` and 64 lowercase hex digits. */
export const API_KEY_HASH_PATTERN = /^sha256:[0-9a-f]{64}$/;

const FINGERPRINT_DOMAIN = 'zg-gateway api key fingerprint\0';

/**
 * A new random client key: `zgk-` followed by 32 random bytes in base64url (47 characters).
 * Uses `crypto.randomBytes`.
 */
export function generateApiKey(): string {
  return API_KEY_PREFIX + randomBytes(32).toString('base64url');
}

/** The stored form of a key: `sha256:<hex of SHA-256 of its UTF-8 bytes>`. */
export function hashApiKey(key: string): string {
  return 'sha256:' + createHash('sha256').update(key, 'utf8').digest('hex');
}

/** The 32 digest bytes of a stored hash (`sha256:<hex>`); the caller has checked its form. */
export function hashDigest(hash: string): Buffer {
  return Buffer.from(hash.slice('sha256:'.length), 'hex');
}

/** The SHA-256 digest of a presented key, to compare with {@link hashDigest}. */
export function presentedKeyDigest(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/**
 * A short public name for a stored hash (12 hex digits), shown in `/admin/keys` and fit for logs.
 * It is a hash of the stored hash under a domain tag, not a prefix of it, so it reveals no part of
 * what the keys file holds. Operators find a key's fingerprint with `fingerprintOfApiKey(key)`.
 */
export function fingerprintOfHash(hash: string): string {
  return createHash('sha256').update(FINGERPRINT_DOMAIN + hash.toLowerCase(), 'utf8').digest('hex').slice(0, 12);
}

/** The fingerprint of a plaintext key (the same as {@link fingerprintOfHash} of its hash). */
export function fingerprintOfApiKey(key: string): string {
  return fingerprintOfHash(hashApiKey(key));
}
