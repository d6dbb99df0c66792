import { Contract, Wallet, hexlify, parseEther, randomBytes, type InterfaceAbi, type JsonRpcProvider } from 'ethers';
import { DevnetError } from '../devnet-error.js';
import { loadServingContractArtifacts } from '../chain/contract-artifacts.js';
import { startAnvil, type AnvilHandle } from '../chain/anvil-process.js';
import { createLocalRpcProvider } from '../chain/local-rpc-provider.js';
import { deployServingContracts, type ServingContractAddresses } from '../chain/deploy-serving-contracts.js';
import type { ProviderFault } from '../provider/fault-modes.js';
import { SimulatedProvider, type SettlementReport, type SimulatedProviderStats } from '../provider/simulated-provider.js';

/** How one simulated provider is set up. Every field is optional. */
export interface ProviderSpec {
  /** Name shown in its replies. Default `provider-<n>`. */
  name?: string;
  /** Model registered on chain and answered with. Default `options.model`. */
  model?: string;
  /** Neuron per prompt token. Default 1e9 (1 gwei). */
  inputPrice?: bigint;
  /** Neuron per completion token. Default 2e9. */
  outputPrice?: bigint;
  /** Whether the contract owner acknowledges its TEE signer. Default true. */
  acknowledged?: boolean;
  /** Gap between stream chunks in ms. Default 0. */
  chunkIntervalMs?: number;
}

export interface LocalDevnetOptions {
  /** How many simulated providers, or one spec each. Default 3. */
  providers?: number | ProviderSpec[];
  /** Default model name for providers without one (interchangeable providers). Default `zg-devnet-chat`. */
  model?: string;
  /** Native balance given to the user wallet, in 0G. Default 10000. */
  userBalance?: string;
  /** Ledger created for the user with this deposit, in 0G; 0 creates none. Default 100. */
  userLedgerDeposit?: string;
  /** Chain id. Default 31337. */
  chainId?: number;
  /** Settle providers' fees on chain every this many ms; 0 disables. Default 0 (call `settle()`). */
  settleIntervalMs?: number;
}

/** A simulated provider as the devnet reports it. */
export interface DevnetProvider {
  readonly name: string;
  /** On-chain provider address. */
  readonly address: string;
  /** Service URL registered on chain. */
  readonly url: string;
  readonly model: string;
  /** The TEE signer address registered and acknowledged on chain. */
  readonly signerAddress: string;
  readonly inputPrice: bigint;
  readonly outputPrice: bigint;
  readonly stats: Readonly<SimulatedProviderStats>;
  /** The fault currently shown. */
  readonly fault: ProviderFault;
  /** Shows a fault for chat requests (`{ mode: 'none' }` clears it). */
  setFault(fault: ProviderFault): Promise<void>;
  /** Settles unsettled fees on chain now. */
  settle(): Promise<SettlementReport>;
  /** Unsettled fees of `user`, in neuron. */
  unsettledFee(user: string): bigint;
}

/** A running local 0G devnet. */
export interface LocalDevnet {
  readonly rpcUrl: string;
  readonly chainId: number;
  readonly contracts: ServingContractAddresses;
  /** Deployer and owner of the contracts. A throw-away key of this devnet only. */
  readonly ownerPrivateKey: string;
  /** A funded user wallet (native balance and a ledger). A throw-away key of this devnet only. */
  readonly userPrivateKey: string;
  readonly userAddress: string;
  readonly providers: readonly DevnetProvider[];
  /** The anvil process id. */
  readonly anvilPid: number;
  /** An ethers provider for this chain (fast polling). */
  readonly rpc: JsonRpcProvider;
  /** Stops every provider server and anvil. Idempotent. */
  stop(): Promise<void>;
}

/** A fresh random key (a plain Wallet, which the SDK requires, not an HD wallet). */
function randomWallet(rpc?: JsonRpcProvider): Wallet {
  return new Wallet(hexlify(randomBytes(32)), rpc);
}

async function setBalance(rpc: JsonRpcProvider, address: string, amount: bigint): Promise<void> {
  await rpc.send('anvil_setBalance', [address, `0x${amount.toString(16)}`]);
}

/**
 * Starts a local 0G devnet: anvil on 127.0.0.1 (a free port), the real 0G serving contracts
 * deployed from the SDK's bytecode, and simulated providers registered on chain with their
 * TEE signers acknowledged by the owner, plus a funded user wallet.
 *
 * Whatever was started is stopped again if start-up fails halfway.
 */
export async function startLocalDevnet(options: LocalDevnetOptions = {}): Promise<LocalDevnet> {
  const specs: ProviderSpec[] =
    typeof options.providers === 'number' || options.providers === undefined
      ? Array.from({ length: options.providers ?? 3 }, () => ({}))
      : options.providers;
  if (specs.length < 1) throw new DevnetError('invalid_options', 'a devnet needs at least one provider');
  const defaultModel = options.model ?? 'zg-devnet-chat';

  let anvil: AnvilHandle | undefined;
  let rpc: JsonRpcProvider | undefined;
  const simulated: SimulatedProvider[] = [];
  const timers: NodeJS.Timeout[] = [];
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    for (const timer of timers) clearInterval(timer);
    await Promise.allSettled(simulated.map((provider) => provider.stop()));
    rpc?.destroy();
    await anvil?.stop();
  };

  try {
    anvil = await startAnvil({ chainId: options.chainId ?? 31337 });
    rpc = createLocalRpcProvider(anvil.rpcUrl, anvil.chainId);
    const owner = randomWallet(rpc);
    const user = randomWallet(rpc);
    await setBalance(rpc, owner.address, parseEther('1000000'));
    await setBalance(rpc, user.address, parseEther(options.userBalance ?? '10000'));

    const contracts = await deployServingContracts(owner);
    const artifacts = loadServingContractArtifacts();
    const inferenceAsOwner = new Contract(contracts.inference, artifacts.inference.abi as InterfaceAbi, owner);

    for (const [index, spec] of specs.entries()) {
      const wallet = randomWallet(rpc);
      const teeSigner = randomWallet();
      await setBalance(rpc, wallet.address, parseEther('1000'));
      const provider = new SimulatedProvider({
        name: spec.name ?? `provider-${index + 1}`,
        model: spec.model ?? defaultModel,
        wallet,
        teeSigner,
        inferenceAddress: contracts.inference,
        chainId: anvil.chainId,
        rpc,
        inputPrice: spec.inputPrice ?? 1_000_000_000n,
        outputPrice: spec.outputPrice ?? 2_000_000_000n,
        chunkIntervalMs: spec.chunkIntervalMs ?? 0,
      });
      simulated.push(provider);
      await provider.listen();
      const inferenceAsProvider = new Contract(contracts.inference, artifacts.inference.abi as InterfaceAbi, wallet);
      const register = await inferenceAsProvider.getFunction('addOrUpdateService')(
        {
          serviceType: 'chatbot',
          url: provider.url,
          model: provider.model,
          verifiability: 'TeeML',
          inputPrice: provider.inputPrice,
          outputPrice: provider.outputPrice,
          additionalInfo: JSON.stringify({ ProviderType: 'decentralized' }),
          teeSignerAddress: teeSigner.address,
        },
        { value: parseEther('100') },
      );
      await register.wait();
      if (spec.acknowledged !== false) {
        await (await inferenceAsOwner.getFunction('acknowledgeTEESignerByOwner')(wallet.address)).wait();
      }
    }

    const deposit = options.userLedgerDeposit ?? '100';
    if (Number(deposit) > 0) {
      const ledgerAsUser = new Contract(contracts.ledger, artifacts.ledger.abi as InterfaceAbi, user);
      await (await ledgerAsUser.getFunction('addLedger')('', { value: parseEther(deposit) })).wait();
    }

    if (options.settleIntervalMs && options.settleIntervalMs > 0) {
      for (const provider of simulated) {
        const timer = setInterval(() => {
          provider.settle().catch(() => undefined);
        }, options.settleIntervalMs);
        timer.unref();
        timers.push(timer);
      }
    }

    const providers: DevnetProvider[] = simulated.map((provider) => ({
      name: provider.name,
      address: provider.address,
      get url() {
        return provider.url;
      },
      model: provider.model,
      signerAddress: provider.signerAddress,
      inputPrice: provider.inputPrice,
      outputPrice: provider.outputPrice,
      stats: provider.stats,
      get fault() {
        return provider.fault;
      },
      setFault: (fault: ProviderFault) => provider.setFault(fault),
      settle: () => provider.settle(),
      unsettledFee: (address: string) => provider.unsettledFee(address),
    }));

    return {
      rpcUrl: anvil.rpcUrl,
      chainId: anvil.chainId,
      contracts,
      ownerPrivateKey: owner.privateKey,
      userPrivateKey: user.privateKey,
      userAddress: user.address,
      providers,
      anvilPid: anvil.pid,
      rpc,
      stop,
    };
  } catch (error) {
    await stop();
    throw DevnetError.isInstance(error) ? error : new DevnetError('start_failed', 'the local devnet failed to start', { cause: error });
  }
}
