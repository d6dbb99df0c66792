import { isError } from 'ethers';

/** How many times a transaction is sent again after its nonce was taken by another sender. */
const NONCE_RETRIES = 3;

/**
 * Whether `error` means the transaction's nonce was used by another transaction from the same
 * wallet (the SDK's own auto-funding timer, or the operator's other tool), so sending it again
 * with a fresh nonce is safe: the rejected transaction never reached a block. Read from ethers'
 * error code (kept by the SDK's re-throw), never from message text.
 */
export function isNonceClash(error: unknown): boolean {
  return isError(error, 'NONCE_EXPIRED') || isError(error, 'REPLACEMENT_UNDERPRICED');
}

/**
 * The gateway's transactions from its one wallet, sent one at a time (the SDK's signer has no
 * nonce manager, so two concurrent sends would pick the same nonce) and sent again when a sender
 * outside this queue took the nonce first. Each action is a whole SDK call; reads may go around it.
 */
export class WalletTransactions {
  #tail: Promise<unknown> = Promise.resolve();

  /** Runs `action` after every transaction queued before it; rejects with its last error. */
  run<T>(action: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(() => withNonceRetry(action));
    this.#tail = result.catch(() => undefined);
    return result;
  }
}

async function withNonceRetry<T>(action: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await action();
    } catch (error) {
      if (attempt >= NONCE_RETRIES || !isNonceClash(error)) throw error;
    }
  }
}
