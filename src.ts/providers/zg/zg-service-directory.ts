import { isError, type Contract } from 'ethers';
import { GatewayError } from '../../errors/index.js';
import { classifyChainError } from './classify-chain-error.js';
import { serviceFromContract, type ZgService } from './zg-service.js';

/** Most services asked for in one `getAllServices` call. */
const PAGE_SIZE = 50;
/** A bound on pages read, so a hostile contract cannot make a refresh endless. */
const MAX_PAGES = 200;

/**
 * Read-only access to the inference contract's service registry: one service, or the whole
 * catalog page by page (`getAllServices`), acknowledged or not. No transaction, no outside call.
 */
export class ZgServiceDirectory {
  readonly #inference: Contract;

  constructor(inference: Contract) {
    this.#inference = inference;
  }

  /**
   * One provider's service. Rejects with `provider_init_failed` when the address has no
   * inference service; with `chain_error` when the chain cannot be read.
   */
  async read(address: string): Promise<ZgService> {
    try {
      return serviceFromContract((await this.#inference.getFunction('getService').staticCall(address)) as ZgService);
    } catch (error) {
      if (isError(error, 'CALL_EXCEPTION')) {
        throw new GatewayError('provider_init_failed', `Provider ${address} is not registered as an inference service on this chain`, {
          cause: error,
          details: { provider: address, ...(error.revert?.name ? { revert: error.revert.name } : {}) },
        });
      }
      throw classifyChainError(error, `Reading the service of provider ${address}`);
    }
  }

  /** Every service registered, all pages (acknowledged or not). Rejects with `chain_error`. */
  async listAll(): Promise<ZgService[]> {
    const services: ZgService[] = [];
    try {
      for (let page = 0; page < MAX_PAGES; page++) {
        const result = (await this.#inference.getFunction('getAllServices').staticCall(page * PAGE_SIZE, PAGE_SIZE)) as { services: ZgService[]; total: bigint };
        services.push(...result.services.map(serviceFromContract));
        if (result.services.length < PAGE_SIZE || BigInt(services.length) >= result.total) break;
      }
    } catch (error) {
      throw classifyChainError(error, 'Reading the service catalog');
    }
    return services;
  }
}
