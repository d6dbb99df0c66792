import { parseEther, type Contract } from 'ethers';
import { DevnetError } from '../devnet-error.js';

/** The stake the contract asks of a new service (`MIN_PROVIDER_STAKE`, 100 0G). */
export const PROVIDER_STAKE = parseEther('100');

/** A service as a provider registers it with `addOrUpdateService`. */
export interface ServiceRegistration {
  /** `chatbot`, `text-to-image`, `image-editing` or `speech-to-text`. */
  readonly serviceType: string;
  readonly url: string;
  /** The on-chain default model. */
  readonly model: string;
  readonly inputPrice: bigint;
  readonly outputPrice: bigint;
  /** Non-empty JSON (the contract refuses an empty string). */
  readonly additionalInfo: string;
  readonly teeSignerAddress: string;
}

/** The fields of `getService` the devnet reads back. */
export interface ServiceState {
  readonly url: string;
  readonly model: string;
  readonly teeSignerAddress: string;
  readonly teeSignerAcknowledged: boolean;
}

async function mined(what: string, send: () => Promise<{ wait(): Promise<unknown> }>): Promise<void> {
  try {
    await (await send()).wait();
  } catch (error) {
    // ethers' own code and short message (a revert's name, a nonce clash) say why, without the transaction's data.
    const { code, shortMessage } = (error ?? {}) as { code?: unknown; shortMessage?: unknown };
    const why = [code, shortMessage].filter((part) => typeof part === 'string' && part !== '').join(': ');
    throw new DevnetError('chain_error', `${what} failed on the devnet chain${why ? ` (${why})` : ''}`, { cause: error });
  }
}

/**
 * Registers (with the stake) or updates (without: the contract refuses stake on updates) the
 * service of the provider `inferenceAsProvider` is connected as. The contract clears the TEE
 * signer's acknowledgement on every update.
 */
export function registerService(inferenceAsProvider: Contract, registration: ServiceRegistration, isNew: boolean): Promise<void> {
  const service = { verifiability: 'TeeML', ...registration };
  return mined(isNew ? 'registering the service' : 'updating the service', () =>
    inferenceAsProvider.getFunction('addOrUpdateService')(service, isNew ? { value: PROVIDER_STAKE } : {}),
  );
}

/** Removes the service of the provider `inferenceAsProvider` is connected as (`removeService`; the stake is returned). */
export function removeService(inferenceAsProvider: Contract): Promise<void> {
  return mined('removing the service', () => inferenceAsProvider.getFunction('removeService')());
}

/** The contract owner acknowledges the provider's current TEE signer. */
export function acknowledgeSigner(inferenceAsOwner: Contract, provider: string): Promise<void> {
  return mined(`acknowledging the TEE signer of ${provider}`, () => inferenceAsOwner.getFunction('acknowledgeTEESignerByOwner')(provider));
}

/** Reads a provider's service. */
export async function readService(inference: Contract, provider: string): Promise<ServiceState> {
  try {
    const raw = (await inference.getFunction('getService').staticCall(provider)) as ServiceState;
    return { url: raw.url, model: raw.model, teeSignerAddress: raw.teeSignerAddress, teeSignerAcknowledged: raw.teeSignerAcknowledged };
  } catch (error) {
    throw new DevnetError('chain_error', `reading the service of ${provider} failed`, { cause: error });
  }
}
