import { isError } from 'ethers';
import { GatewayError } from '../../errors/index.js';

/** Contract custom errors that mean "the wallet cannot pay". */
const FUNDS_REVERTS = new Set(['InsufficientAvailableBalance', 'InsufficientBalance', 'LedgerNotExists', 'MinimumDepositRequired']);

function revertName(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const revert = (error as { revert?: { name?: unknown } }).revert;
  return typeof revert?.name === 'string' ? revert.name : undefined;
}

/**
 * Classifies an error from the SDK or ethers by ethers' error `code` and the decoded contract
 * revert name, never by message text. The SDK re-throws with the original properties copied,
 * so `code` and `revert` survive its wrapping.
 */
export function classifyChainError(error: unknown, action: string): GatewayError {
  if (GatewayError.isInstance(error)) return error;
  const reverted = revertName(error);
  if (isError(error, 'INSUFFICIENT_FUNDS') || (reverted !== undefined && FUNDS_REVERTS.has(reverted))) {
    return new GatewayError('insufficient_funds', `${action}: the gateway wallet cannot pay${reverted ? ` (${reverted})` : ''}`, {
      cause: error,
      details: reverted ? { revert: reverted } : undefined,
    });
  }
  if (isError(error, 'CALL_EXCEPTION')) {
    return new GatewayError('chain_error', `${action}: the contract call reverted${reverted ? ` (${reverted})` : ''}`, {
      cause: error,
      details: reverted ? { revert: reverted } : undefined,
    });
  }
  if (isError(error, 'NETWORK_ERROR') || isError(error, 'TIMEOUT') || isError(error, 'SERVER_ERROR')) {
    return new GatewayError('chain_error', `${action}: the chain RPC is not reachable`, { cause: error, retryable: true });
  }
  return new GatewayError('chain_error', `${action} failed`, { cause: error });
}
