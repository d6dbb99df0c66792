import { isError, type Contract } from 'ethers';
import { EPHEMERAL_TOKEN_ID, parseAndCheckSessionToken, type TokenRejection } from './session-token.js';

/** How long an on-chain account read is reused, in ms. */
const ACCOUNT_CACHE_MS = 1000;

/** A user's sub-account with one provider, as the inference contract reports it. */
export interface AccountView {
  readonly nonce: bigint;
  readonly balance: bigint;
  readonly pendingRefund: bigint;
  readonly acknowledged: boolean;
  readonly generation: bigint;
  readonly revokedBitmap: bigint;
}

/**
 * Reads users' sub-accounts with one provider from the inference contract, reusing a read for
 * up to a second (a real provider caches too; `fresh` skips the cache).
 */
export class ChainAccounts {
  private readonly cache = new Map<string, { at: number; account: AccountView | null }>();

  constructor(
    private readonly inference: Contract,
    private readonly providerAddress: string,
  ) {}

  /** The account of `user` with this provider, or null when it has none. */
  async read(user: string, fresh = false): Promise<AccountView | null> {
    const key = user.toLowerCase();
    const cached = this.cache.get(key);
    if (!fresh && cached && Date.now() - cached.at < ACCOUNT_CACHE_MS) return cached.account;
    let account: AccountView | null;
    try {
      const raw = (await this.inference.getFunction('getAccount').staticCall(user, this.providerAddress)) as AccountView;
      account = {
        nonce: raw.nonce,
        balance: raw.balance,
        pendingRefund: raw.pendingRefund,
        acknowledged: raw.acknowledged,
        generation: raw.generation,
        revokedBitmap: raw.revokedBitmap,
      };
    } catch (error) {
      // The contract reverts AccountNotExists for an unknown user: a fact, not a failure.
      if (isError(error, 'CALL_EXCEPTION')) account = null;
      else throw error;
    }
    this.cache.set(key, { at: Date.now(), account });
    return account;
  }
}

/** The outcome of checking a request's session token. */
export type Authentication = { readonly ok: true; readonly user: string } | { readonly ok: false; readonly reason: TokenRejection };

/**
 * Checks the SDK's `Authorization: Bearer app-sk-...` header as a real provider does: the
 * signature, that the token is for this provider and not expired, then on chain that the user's
 * account exists and is acknowledged, the generation matches and the token id is not revoked.
 * Returns the user's lowercase address.
 */
export async function authenticate(authorization: string | undefined, providerAddress: string, accounts: ChainAccounts): Promise<Authentication> {
  const parsed = parseAndCheckSessionToken(authorization);
  if (!parsed.ok) return parsed;
  const { token } = parsed;
  const refuse = (reason: TokenRejection): Authentication => ({ ok: false, reason });
  if (token.provider.toLowerCase() !== providerAddress.toLowerCase()) return refuse('wrong-provider');
  if (token.expiresAt !== 0 && token.expiresAt < Date.now()) return refuse('expired');
  const account = await accounts.read(token.address);
  if (!account) return refuse('no-account');
  if (!account.acknowledged) return refuse('not-acknowledged');
  if (BigInt(token.generation) !== account.generation) return refuse('stale-generation');
  if (token.tokenId !== EPHEMERAL_TOKEN_ID && (account.revokedBitmap & (1n << BigInt(token.tokenId))) !== 0n) return refuse('revoked');
  return { ok: true, user: token.address.toLowerCase() };
}
