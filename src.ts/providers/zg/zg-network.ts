import { Contract, JsonRpcProvider, Network, Wallet, ZeroAddress, isError, type InterfaceAbi } from 'ethers';
import type { Logger } from 'pino';
import { GatewayError } from '../../errors/index.js';
import type { UpstreamHttpClient } from '../http/upstream-http-client.js';
import { classifyChainError } from './classify-chain-error.js';
import { ZgProvider } from './zg-provider.js';
import { createZGComputeNetworkBroker, defaultContractAddresses, loadServingContractArtifacts, type ZGComputeNetworkBroker } from './zg-sdk.js';

/** How the gateway connects to a 0G network. */
export interface ZgNetworkOptions {
  /** The wallet's private key. Never logged. */
  privateKey: string;
  /** JSON-RPC endpoint of the 0G chain. */
  rpcUrl: string;
  /** Contract addresses; when absent the SDK picks them from the chain id. */
  contracts?: { ledger?: string; inference?: string; fineTuning?: string };
  /** Gas price in neuron (wei); without it every SDK transaction waits 1 s first. */
  gasPrice?: number;
  /** Chain id; when given, the RPC is not asked for it (static network). */
  chainId?: number;
  /** ethers polling interval for receipts, ms. Default 1000 (use ~20 against a local chain). */
  rpcPollingIntervalMs?: number;
  /** Create the ledger with this deposit (0G) if the wallet has none. Default: don't (fail with insufficient_funds). */
  ledgerDeposit?: number;
  /** Background auto-funding of each provider sub-account. */
  autoFunding?: { intervalMs?: number; bufferMultiplier?: number };
}

/**
 * One wallet-authenticated 0G broker for the whole gateway (not one per provider), and the
 * providers initialised through it.
 */
export class ZgNetwork {
  readonly walletAddress: string;
  private readonly broker: ZGComputeNetworkBroker;
  private readonly rpc: JsonRpcProvider;
  /** The inference contract, read-only: lets a provider be checked before any funds move. */
  private readonly inferenceContract: Contract;
  private readonly options: ZgNetworkOptions;
  private readonly logger: Logger;
  private readonly providers = new Map<string, ZgProvider>();
  private closed = false;

  private constructor(
    broker: ZGComputeNetworkBroker,
    rpc: JsonRpcProvider,
    inferenceAddress: string,
    walletAddress: string,
    options: ZgNetworkOptions,
    logger: Logger,
  ) {
    this.broker = broker;
    this.rpc = rpc;
    this.inferenceContract = new Contract(inferenceAddress, loadServingContractArtifacts().inference.abi as InterfaceAbi, rpc);
    this.walletAddress = walletAddress;
    this.options = options;
    this.logger = logger;
  }

  /** Connects the wallet, builds the broker and makes sure the wallet has a ledger. */
  static async connect(options: ZgNetworkOptions, logger: Logger): Promise<ZgNetwork> {
    const network = options.chainId !== undefined ? Network.from(options.chainId) : undefined;
    const rpc = new JsonRpcProvider(options.rpcUrl, network, {
      staticNetwork: network ?? false,
      batchMaxCount: 1,
      cacheTimeout: -1,
      pollingInterval: options.rpcPollingIntervalMs ?? 1000,
    });
    let wallet: Wallet;
    try {
      wallet = new Wallet(options.privateKey, rpc);
    } catch (error) {
      rpc.destroy();
      throw new GatewayError('invalid_config', 'The private key is not a valid secp256k1 key', { param: 'key', cause: error });
    }
    let broker: ZGComputeNetworkBroker;
    try {
      broker = await createZGComputeNetworkBroker(
        wallet,
        options.contracts?.ledger,
        options.contracts?.inference,
        options.contracts?.fineTuning,
        options.gasPrice,
      );
    } catch (error) {
      rpc.destroy();
      throw classifyChainError(error, 'Connecting the 0G broker');
    }
    let inferenceAddress = options.contracts?.inference;
    if (!inferenceAddress) {
      try {
        inferenceAddress = defaultContractAddresses((await rpc.getNetwork()).chainId).inference;
      } catch (error) {
        rpc.destroy();
        throw classifyChainError(error, 'Reading the chain id');
      }
    }
    const network0g = new ZgNetwork(broker, rpc, inferenceAddress, wallet.address, options, logger);
    try {
      await network0g.ensureLedger();
    } catch (error) {
      await network0g.close();
      throw error;
    }
    return network0g;
  }

  private async ensureLedger(): Promise<void> {
    try {
      await this.broker.ledger.getLedger();
      return;
    } catch (error) {
      const classified = classifyChainError(error, 'Reading the ledger');
      if (classified.code !== 'insufficient_funds') throw classified;
    }
    const deposit = this.options.ledgerDeposit;
    if (!deposit) {
      throw new GatewayError('insufficient_funds', `The wallet ${this.walletAddress} has no 0G ledger; create one (broker.ledger.addLedger) or set ledgerDeposit`, {
        details: { wallet: this.walletAddress },
      });
    }
    try {
      await this.broker.ledger.addLedger(deposit, this.options.gasPrice);
      this.logger.info({ event: 'ledger_created', wallet: this.walletAddress, deposit }, 'created the 0G ledger');
    } catch (error) {
      throw classifyChainError(error, 'Creating the ledger');
    }
  }

  /**
   * Initialises one provider: reads its service from the chain, makes sure the wallet's
   * sub-account exists and the provider's TEE signer is acknowledged, starts auto-funding.
   * Rejects with a typed error naming the reason; other providers are unaffected.
   */
  async initProvider(address: string, client: UpstreamHttpClient): Promise<ZgProvider> {
    if (this.closed) throw new GatewayError('shutting_down', 'The 0G network connection is closed');
    const existing = this.providers.get(address.toLowerCase());
    if (existing) return existing;
    const inference = this.broker.inference;
    const gasPrice = this.options.gasPrice;
    // Checked first, with a read: the SDK's own check creates (and funds) the sub-account before it answers.
    await this.assertServiceUsable(address);
    let metadata: { endpoint: string; model: string };
    try {
      metadata = await inference.getServiceMetadata(address);
    } catch (error) {
      throw classifyChainError(error, `Reading the service of provider ${address}`);
    }
    try {
      // Creates the sub-account (1 0G from the ledger) when missing, then reports the owner's acknowledgement.
      await inference.checkProviderSignerStatus(address, gasPrice);
      await inference.acknowledgeProviderSigner(address, gasPrice);
      const autoFunding = this.options.autoFunding ?? {};
      await inference.startAutoFunding(
        address,
        { interval: autoFunding.intervalMs ?? 30_000, bufferMultiplier: autoFunding.bufferMultiplier ?? 2 },
        gasPrice,
      );
    } catch (error) {
      throw classifyChainError(error, `Initialising provider ${address}`);
    }
    const provider = new ZgProvider({
      address,
      endpoint: metadata.endpoint,
      model: metadata.model,
      client,
      getRequestHeaders: async () => {
        try {
          return (await inference.getRequestHeaders(address)) as unknown as Record<string, string>;
        } catch (error) {
          throw classifyChainError(error, `Signing request headers for provider ${address}`);
        }
      },
      processResponse: (chatId, usage) => inference.processResponse(address, chatId, usage),
      stopAutoFunding: () => inference.stopAutoFunding(address),
    });
    this.providers.set(address.toLowerCase(), provider);
    return provider;
  }

  /** Rejects with `provider_init_failed` when the address has no inference service or its TEE signer is not acknowledged. */
  private async assertServiceUsable(address: string): Promise<void> {
    let service: { teeSignerAcknowledged: boolean; teeSignerAddress: string; serviceType: string };
    try {
      service = (await this.inferenceContract.getFunction('getService').staticCall(address)) as typeof service;
    } catch (error) {
      if (isError(error, 'CALL_EXCEPTION')) {
        throw new GatewayError('provider_init_failed', `Provider ${address} is not registered as an inference service on this chain`, {
          cause: error,
          details: { provider: address, ...(error.revert?.name ? { revert: error.revert.name } : {}) },
        });
      }
      throw classifyChainError(error, `Reading the service of provider ${address}`);
    }
    if (!service.teeSignerAcknowledged || service.teeSignerAddress === ZeroAddress) {
      throw new GatewayError('provider_init_failed', `Provider ${address}: its TEE signer is not acknowledged by the contract owner, so its responses cannot be verified`, {
        details: { provider: address },
      });
    }
  }

  /** Stops auto-funding for every provider and closes the RPC connection. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.broker.inference.stopAutoFunding();
    this.providers.clear();
    this.rpc.destroy();
  }
}
