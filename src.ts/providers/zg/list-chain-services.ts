import { Contract, JsonRpcProvider, Network, type InterfaceAbi } from 'ethers';
import { UpstreamHttpClient } from '../http/upstream-http-client.js';
import type { ModelOffer, Verifiability } from '../inference-provider.js';
import { classifyChainError } from './classify-chain-error.js';
import { serviceModels } from './provider-models.js';
import { defaultContractAddresses, loadServingContractArtifacts } from './zg-sdk.js';
import { ZgServiceDirectory } from './zg-service-directory.js';
import { isMultiModel, verifiabilityOf, type ZgService } from './zg-service.js';

/** Options for {@link listChainServices}. */
export interface ListChainServicesOptions {
  /** JSON-RPC endpoint of the 0G chain. */
  rpcUrl: string;
  /** The inference contract. Default: the SDK's for the chain id the RPC reports. */
  inferenceContract?: string;
  /** Chain id; when given the RPC is not asked for it. */
  chainId?: number;
  /** Bound on reading one multi-model provider's `/v1/models`, ms. Default 5000. */
  catalogTimeoutMs?: number;
}

/** One inference service registered on chain, as `zg-gateway providers` lists it. */
export interface ChainServiceListing {
  readonly provider: string;
  /** The service URL. */
  readonly url: string;
  readonly verifiability: Verifiability;
  readonly teeSignerAddress: string;
  /** Whether the contract owner acknowledged the TEE signer (the gateway refuses providers whose signer is not). */
  readonly teeSignerAcknowledged: boolean;
  /** True when the service publishes a catalog of several models (read from its `/v1/models`). */
  readonly multiModel: boolean;
  /** The models it serves with their prices, neuron per token (the on-chain model for single-model services). */
  readonly models: readonly ModelOffer[];
  /** Why a multi-model catalog could not be read (its on-chain model is listed instead), or null. */
  readonly catalogError: string | null;
}

/**
 * Every inference service registered on a 0G chain, read-only: no wallet, no private key, no
 * transaction (the contract's `getAllServices`, page by page, and each multi-model provider's
 * `/v1/models`). Rejects with GatewayError('chain_error') when the chain cannot be read.
 */
export async function listChainServices(options: ListChainServicesOptions): Promise<ChainServiceListing[]> {
  const network = options.chainId !== undefined ? Network.from(options.chainId) : undefined;
  const rpc = new JsonRpcProvider(options.rpcUrl, network, { staticNetwork: network ?? false, batchMaxCount: 1 });
  const client = new UpstreamHttpClient({ connectTimeoutMs: 3000 });
  try {
    let inference = options.inferenceContract;
    if (!inference) {
      try {
        inference = defaultContractAddresses((await rpc.getNetwork()).chainId).inference;
      } catch (error) {
        throw classifyChainError(error, 'Reading the chain id');
      }
    }
    const directory = new ZgServiceDirectory(new Contract(inference, loadServingContractArtifacts().inference.abi as InterfaceAbi, rpc));
    const services = await directory.listAll();
    return await Promise.all(services.map((service) => listing(service, client, options.catalogTimeoutMs ?? 5000)));
  } finally {
    rpc.destroy();
    await client.close().catch(() => undefined);
  }
}

async function listing(service: ZgService, client: UpstreamHttpClient, timeoutMs: number): Promise<ChainServiceListing> {
  const multiModel = isMultiModel(service);
  let models: readonly ModelOffer[];
  let catalogError: string | null = null;
  try {
    models = await serviceModels(client, service, AbortSignal.timeout(timeoutMs));
  } catch (error) {
    catalogError = error instanceof Error ? error.message : String(error);
    models = [{ id: service.model, inputPrice: service.inputPrice, outputPrice: service.outputPrice }];
  }
  return {
    provider: service.provider,
    url: service.url,
    verifiability: verifiabilityOf(service),
    teeSignerAddress: service.teeSignerAddress,
    teeSignerAcknowledged: service.teeSignerAcknowledged,
    multiModel,
    models,
    catalogError,
  };
}
