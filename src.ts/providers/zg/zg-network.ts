import { Contract, JsonRpcProvider, Network, Wallet, ZeroAddress, type InterfaceAbi } from 'ethers';
import type { Logger } from 'pino';
import { GatewayError, toGatewayError } from '../../errors/index.js';
import { installSdkConsoleRouting, runWithSdkLogger } from '../../logging/sdk-console.js';
import type { UpstreamHttpClient } from '../http/upstream-http-client.js';
import { providerUrlProblem } from '../http/provider-url.js';
import type { ModelOffer } from '../inference-provider.js';
import { classifyChainError } from './classify-chain-error.js';
import { SessionHeaderCache } from './session-header-cache.js';
import { ZgProvider } from './zg-provider.js';
import { createZGComputeNetworkBroker, defaultContractAddresses, loadServingContractArtifacts, type ZGComputeNetworkBroker } from './zg-sdk.js';
import { serviceModels } from './provider-models.js';
import { ZgServiceDirectory } from './zg-service-directory.js';
import type { ZgService } from './zg-service.js';
import { ZgWalletAccounts } from './zg-wallet-accounts.js';
import { WalletTransactions } from './wallet-transactions.js';

/** How the gateway connects to a 0G network. */
export interface ZgNetworkOptions {
  /** The wallet's private key. Never logged. */
  privateKey: string;
  /** JSON-RPC endpoint of the 0G chain. */
  rpcUrl: string;
  /** Contract addresses; when absent the SDK picks them from the chain id. */
  contracts?: { ledger?: string | undefined; inference?: string | undefined; fineTuning?: string | undefined };
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
  /**
   * Checks a provider's self-published service URL before anything is sent to it or any funds
   * move (scheme, deny list); rejects to refuse the provider. Default: http and https only.
   */
  checkServiceUrl?: (url: string) => Promise<void>;
}

/** The default service URL check: http and https only. */
async function checkSchemeOnly(url: string): Promise<void> {
  const problem = providerUrlProblem(url);
  if (problem) throw new GatewayError('invalid_request', `The URL ${problem}`, { param: 'url' });
}

/** Balances in neuron. */
export interface LedgerBalance {
  available: bigint;
  total: bigint;
}

/** The wallet's sub-account with one provider, in neuron. */
export interface SubAccountBalance {
  balance: bigint;
  pendingRefund: bigint;
  /** False when the sub-account does not exist. */
  exists: boolean;
}

/**
 * One wallet-authenticated 0G broker for the whole gateway (not one per provider), and the
 * providers initialised through it. Every SDK call runs with its console output routed to the
 * gateway's logger.
 */
export class ZgNetwork {
  readonly walletAddress: string;
  readonly #broker: ZGComputeNetworkBroker;
  readonly #rpc: JsonRpcProvider;
  /** The contract's service registry, read-only: lets a provider be checked before any funds move. */
  readonly #directory: ZgServiceDirectory;
  /** The wallet's settlements, sub-accounts and refunds on chain. */
  readonly accounts: ZgWalletAccounts;
  readonly #options: ZgNetworkOptions;
  readonly #logger: Logger;
  readonly #providers = new Map<string, ZgProvider>();
  /** The address as the SDK was given it, per provider (lower-case): the SDK's caches are keyed by that string. */
  readonly #sdkAddresses = new Map<string, string>();
  readonly #restoreConsole: () => void;
  #closed = false;
  /** Every transaction this gateway sends from its wallet, one at a time. */
  readonly #transactions = new WalletTransactions();

  /** Which chain and contract the wallet's accounts live on: `<chain id>:<inference contract>` (lower-case). */
  readonly networkId: string;

  private constructor(broker: ZGComputeNetworkBroker, rpc: JsonRpcProvider, addresses: { chainId: bigint; inference: string; ledger: string }, walletAddress: string, options: ZgNetworkOptions, logger: Logger, restoreConsole: () => void) {
    this.networkId = `${addresses.chainId}:${addresses.inference.toLowerCase()}`;
    this.#broker = broker;
    this.#rpc = rpc;
    this.#directory = new ZgServiceDirectory(new Contract(addresses.inference, loadServingContractArtifacts().inference.abi as InterfaceAbi, rpc));
    this.accounts = new ZgWalletAccounts({
      rpc,
      walletAddress,
      inferenceAddress: addresses.inference,
      ledgerAddress: addresses.ledger,
      retrieveFund: (provider) => this.#transaction((sdk) => sdk.ledger.retrieveFundFromProvider('inference', provider, options.gasPrice)),
    });
    this.walletAddress = walletAddress;
    this.#options = options;
    this.#logger = logger;
    this.#restoreConsole = restoreConsole;
  }

  /** Connects the wallet, builds the broker and makes sure the wallet has a ledger. */
  static async connect(options: ZgNetworkOptions, logger: Logger): Promise<ZgNetwork> {
    const restoreConsole = installSdkConsoleRouting();
    const network = options.chainId !== undefined ? Network.from(options.chainId) : undefined;
    const rpc = new JsonRpcProvider(options.rpcUrl, network, {
      staticNetwork: network ?? false,
      batchMaxCount: 1,
      cacheTimeout: -1,
      pollingInterval: options.rpcPollingIntervalMs ?? 1000,
    });
    const fail = (error: GatewayError): never => {
      rpc.destroy();
      restoreConsole();
      throw error;
    };
    let wallet: Wallet;
    try {
      wallet = new Wallet(options.privateKey, rpc);
    } catch (error) {
      return fail(new GatewayError('invalid_config', 'The private key is not a valid secp256k1 key', { param: 'key', cause: error }));
    }
    let broker: ZGComputeNetworkBroker;
    try {
      broker = await runWithSdkLogger(logger, () =>
        createZGComputeNetworkBroker(wallet, options.contracts?.ledger, options.contracts?.inference, options.contracts?.fineTuning, options.gasPrice),
      );
    } catch (error) {
      return fail(classifyChainError(error, 'Connecting the 0G broker'));
    }
    let addresses: { chainId: bigint; inference: string; ledger: string };
    try {
      const chainId = options.chainId !== undefined ? BigInt(options.chainId) : (await rpc.getNetwork()).chainId;
      const defaults = defaultContractAddresses(chainId);
      addresses = { chainId, inference: options.contracts?.inference || defaults.inference, ledger: options.contracts?.ledger || defaults.ledger };
    } catch (error) {
      return fail(classifyChainError(error, 'Reading the chain id'));
    }
    const connected = new ZgNetwork(broker, rpc, addresses, wallet.address, options, logger, restoreConsole);
    try {
      await connected.#ensureLedger();
    } catch (error) {
      await connected.close();
      throw error;
    }
    return connected;
  }

  /** Runs an SDK call with its console output routed to the logger. */
  #sdk<T>(action: (broker: ZGComputeNetworkBroker) => Promise<T>): Promise<T> {
    return runWithSdkLogger(this.#logger, () => action(this.#broker));
  }

  /** Runs an SDK call that sends transactions: queued behind the gateway's others, sent again on a nonce clash. */
  #transaction<T>(action: (broker: ZGComputeNetworkBroker) => Promise<T>): Promise<T> {
    return this.#transactions.run(() => this.#sdk(action));
  }

  async #ensureLedger(): Promise<void> {
    try {
      await this.#sdk((broker) => broker.ledger.getLedger());
      return;
    } catch (error) {
      const classified = classifyChainError(error, 'Reading the ledger');
      if (classified.code !== 'insufficient_funds') throw classified;
    }
    const deposit = this.#options.ledgerDeposit;
    if (!deposit) {
      throw new GatewayError('insufficient_funds', `The wallet ${this.walletAddress} has no 0G ledger; create one (broker.ledger.addLedger) or set ledgerDeposit`, {
        details: { wallet: this.walletAddress },
      });
    }
    try {
      await this.#transaction((broker) => broker.ledger.addLedger(deposit, this.#options.gasPrice));
      this.#logger.info({ event: 'ledger_created', wallet: this.walletAddress, deposit }, 'created the 0G ledger');
    } catch (error) {
      throw classifyChainError(error, 'Creating the ledger');
    }
  }

  /** The chain's service registry (read-only). */
  get directory(): ZgServiceDirectory {
    return this.#directory;
  }

  /** Reads a provider's service from the chain (see {@link ZgServiceDirectory.read}). */
  readService(address: string): Promise<ZgService> {
    return this.#directory.read(address);
  }

  /**
   * Initialises one provider: reads its service from the chain (and, for a multi-model service, its
   * model catalog) and refuses it (before any funds move) when its TEE signer is not acknowledged or
   * its catalog cannot be read; then makes sure the wallet's sub-account exists
   * and the signer is acknowledged by the wallet, and starts auto-funding. Rejects with a typed
   * error naming the reason; other providers are unaffected.
   */
  async initProvider(address: string, client: UpstreamHttpClient, models?: readonly ModelOffer[]): Promise<ZgProvider> {
    if (this.#closed) throw new GatewayError('shutting_down', 'The 0G network connection is closed');
    const existing = this.#providers.get(address.toLowerCase());
    if (existing) return existing;
    const service = await this.readService(address);
    try {
      await (this.#options.checkServiceUrl ?? checkSchemeOnly)(service.url);
    } catch (error) {
      throw new GatewayError('provider_init_failed', `Provider ${address}: its service URL is refused: ${toGatewayError(error).message}`, { cause: error, details: { provider: address } });
    }
    if (!service.teeSignerAcknowledged || service.teeSignerAddress === ZeroAddress) {
      throw new GatewayError('provider_init_failed', `Provider ${address}: its TEE signer is not acknowledged by the contract owner, so its responses cannot be verified`, {
        details: { provider: address },
      });
    }
    // Read before any transaction too: a provider whose catalog cannot be read is refused unfunded.
    let offers = models;
    try {
      offers ??= await serviceModels(client, service, AbortSignal.timeout(5000));
    } catch (error) {
      throw new GatewayError('provider_init_failed', `Provider ${address} serves several models and its catalog could not be read`, { cause: error, details: { provider: address } });
    }
    const gasPrice = this.#options.gasPrice;
    const autoFunding = this.#options.autoFunding ?? {};
    try {
      await this.#transaction(async (broker) => {
        // Creates the sub-account (1 0G from the ledger) when missing, then records the wallet's acknowledgement.
        await broker.inference.checkProviderSignerStatus(address, gasPrice);
        await broker.inference.acknowledgeProviderSigner(address, gasPrice);
        await broker.inference.startAutoFunding(address, { interval: autoFunding.intervalMs ?? 30_000, bufferMultiplier: autoFunding.bufferMultiplier ?? 2 }, gasPrice);
      });
    } catch (error) {
      throw classifyChainError(error, `Initialising provider ${address}`);
    }
    const headers = new SessionHeaderCache({
      fetchHeaders: (forceNewToken) =>
        this.#sdk(async (broker) => {
          if (forceNewToken) await broker.inference.requestProcessor.generateSessionToken(address);
          return (await broker.inference.getRequestHeaders(address)) as unknown as Record<string, string>;
        }).catch((error: unknown) => {
          throw classifyChainError(error, `Signing request headers for provider ${address}`);
        }),
    });
    const provider = new ZgProvider({
      service,
      models: offers,
      client,
      headers,
      recordFee: (usageJson) => this.#sdk((broker) => broker.inference.processResponse(address, undefined, usageJson)),
      stopAutoFunding: () => this.#broker.inference.stopAutoFunding(address),
    });
    // Signed now, so the first chat does not wait for it.
    await headers.get();
    this.#providers.set(address.toLowerCase(), provider);
    this.#sdkAddresses.set(address.toLowerCase(), address);
    return provider;
  }

  /** The wallet's ledger balances, in neuron. */
  async ledgerBalance(): Promise<LedgerBalance> {
    try {
      const ledger = await this.#sdk((broker) => broker.ledger.getLedger());
      return { available: ledger.availableBalance, total: ledger.totalBalance };
    } catch (error) {
      throw classifyChainError(error, 'Reading the ledger');
    }
  }

  /** The wallet's sub-account with `address`, in neuron. */
  async subAccount(address: string): Promise<SubAccountBalance> {
    try {
      const account = await this.#sdk((broker) => broker.inference.getAccount(address));
      return { balance: account.balance, pendingRefund: account.pendingRefund, exists: true };
    } catch (error) {
      const classified = classifyChainError(error, `Reading the sub-account with ${address}`);
      if (classified.code === 'chain_error' && classified.retryable) throw classified;
      return { balance: 0n, pendingRefund: 0n, exists: false };
    }
  }

  /** Tops the sub-account with `address` up from the ledger now, as auto-funding would (unsettled fees plus a buffer). */
  async topUp(address: string): Promise<void> {
    const bufferMultiplier = this.#options.autoFunding?.bufferMultiplier ?? 2;
    await this.#transaction((broker) => broker.inference.requestProcessor.checkAndFund(address, bufferMultiplier, this.#options.gasPrice));
  }

  /**
   * The SDK's fee cache for `address`, neuron: fees `processResponse` added since the last top-up
   * (auto-funding's fallback when the provider cannot say what is unsettled; each auto-funding round
   * replaces it with the provider's own figure).
   */
  async cachedFee(address: string): Promise<bigint> {
    // Private in the SDK's typings; the same call auto-funding makes.
    const processor = this.#broker.inference.requestProcessor as unknown as { getCachedFee(provider: string): Promise<bigint> };
    return processor.getCachedFee(this.#sdkAddresses.get(address.toLowerCase()) ?? address);
  }

  /** Stops auto-funding for one provider and forgets it (it may be initialised again). */
  forget(address: string): void {
    const key = address.toLowerCase();
    if (!this.#providers.has(key)) return;
    this.#providers.delete(key);
    // The SDK keys its timers by the address string it was given, which may differ in case from `address`.
    this.#broker.inference.stopAutoFunding(this.#sdkAddresses.get(key) ?? address);
  }

  /** Stops auto-funding for every provider and closes the RPC connection. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#broker.inference.stopAutoFunding();
    this.#providers.clear();
    this.#rpc.destroy();
    this.#restoreConsole();
  }
}
