import { getBytes, keccak256, toUtf8Bytes, verifyMessage } from 'ethers';

/** The session token the 0G SDK signs into `Authorization: Bearer app-sk-...`. */
export interface SessionToken {
  address: string;
  provider: string;
  timestamp: number;
  expiresAt: number;
  nonce: string;
  generation: number;
  tokenId: number;
}

/** The token id the SDK uses for ephemeral tokens; not checked against the revocation bitmap. */
export const EPHEMERAL_TOKEN_ID = 255;

/** Why a token was refused. */
export type TokenRejection =
  | 'missing'
  | 'malformed'
  | 'bad-signature'
  | 'wrong-provider'
  | 'expired'
  | 'no-account'
  | 'not-acknowledged'
  | 'stale-generation'
  | 'revoked';

/**
 * Parses `Bearer app-sk-<base64(JSON(token) + '|' + signature)>` and checks the EIP-191
 * signature over keccak256(JSON(token)) recovers to `token.address`.
 * Chain-side checks (account, generation, revocation) are the caller's.
 */
export function parseAndCheckSessionToken(
  authorization: string | undefined,
): { ok: true; token: SessionToken } | { ok: false; reason: TokenRejection } {
  if (!authorization) return { ok: false, reason: 'missing' };
  const match = /^Bearer app-sk-([A-Za-z0-9+/=]+)$/.exec(authorization.trim());
  if (!match?.[1]) return { ok: false, reason: 'malformed' };
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const separator = decoded.lastIndexOf('|');
  if (separator <= 0) return { ok: false, reason: 'malformed' };
  const rawMessage = decoded.slice(0, separator);
  const signature = decoded.slice(separator + 1);
  let token: SessionToken;
  try {
    const parsed = JSON.parse(rawMessage) as Partial<SessionToken>;
    if (
      typeof parsed.address !== 'string' ||
      typeof parsed.provider !== 'string' ||
      typeof parsed.expiresAt !== 'number' ||
      typeof parsed.generation !== 'number' ||
      typeof parsed.tokenId !== 'number'
    ) {
      return { ok: false, reason: 'malformed' };
    }
    token = parsed as SessionToken;
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  let signer: string;
  try {
    signer = verifyMessage(getBytes(keccak256(toUtf8Bytes(rawMessage))), signature);
  } catch {
    return { ok: false, reason: 'bad-signature' };
  }
  if (signer.toLowerCase() !== token.address.toLowerCase()) return { ok: false, reason: 'bad-signature' };
  return { ok: true, token };
}
