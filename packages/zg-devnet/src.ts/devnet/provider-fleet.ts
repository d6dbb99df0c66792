import { Contract, parseEther, type InterfaceAbi, type JsonRpcProvider, type Wallet } from 'ethers';
import { loadServingContractArtifacts } from '../chain/contract-artifacts.js';
import type { ServingContractAddresses } from '../chain/deploy-serving-contracts.js';
import { acknowledgeSigner, registerService } from '../chain/inference-service.js';
import { randomWallet, setBalance } from '../chain/local-rpc-provider.js';
import { DevnetError } from '../devnet-error.js';
import { SerialQueue } from '../internal/serial-queue.js';
import type { KvCacheSpec } from '../provider/kv-prefix-cache.js';
import { SimulatedProvider } from '../provider/simulated-provider.js';
import type { DevnetProvider, ProviderSpec } from './devnet-types.js';
import { FleetMember, registrationOf } from './fleet-member.js';
import { catalogForSpec } from './validate-options.js';

/** What the fleet works with. */
export interface FleetOptions {
  /** anvil's RPC, direct (the providers' own chain traffic is never counted). */
  rpc: JsonRpcProvider;
  /** The contracts' owner, connected to `rpc`. */
  owner: Wallet;
  contracts: ServingContractAddresses;
  chainId: number;
  /** Model of providers whose spec names none. */
  defaultModel: string;
  /** Settle each provider every this many ms (0: never by itself). */
  settleIntervalMs: number;
  /** Every chat provider's KV cache spec (a spec's own fields win). */
  kvCache: KvCacheSpec;
}

/** Native balance given to each provider wallet (stake and gas). */
const PROVIDER_BALANCE = parseEther('1000');

/** The devnet's providers: started, staked and registered on demand, removed when they leave. */
export class ProviderFleet {
  private readonly members: FleetMember[] = [];
  /** Every server ever started, left or not: stop() stops them all. */
  private readonly servers = new Set<SimulatedProvider>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly ownerTransactions = new SerialQueue();
  private readonly inferenceAsOwner: Contract;
  private created = 0;
  private stopped = false;

  constructor(private readonly options: FleetOptions) {
    this.inferenceAsOwner = new Contract(options.contracts.inference, loadServingContractArtifacts().inference.abi as InterfaceAbi, options.owner);
  }

  /** The providers registered now. */
  get providers(): readonly DevnetProvider[] {
    return Object.freeze([...this.members]);
  }

  /** Starts a provider's server, stakes and registers its service, and has its signer acknowledged (unless `acknowledged: false`). */
  async add(spec: ProviderSpec = {}): Promise<DevnetProvider> {
    if (this.stopped) throw new DevnetError('stopped', 'the devnet is stopped');
    const catalog = catalogForSpec(spec, this.options.defaultModel);
    this.created += 1;
    const { rpc, contracts, chainId } = this.options;
    const wallet = randomWallet(rpc);
    const simulated = new SimulatedProvider({
      name: spec.name ?? `provider-${this.created}`,
      catalog,
      wallet,
      teeSigner: randomWallet(),
      inferenceAddress: contracts.inference,
      chainId,
      chunkIntervalMs: spec.chunkIntervalMs ?? 0,
      kvCache: { ...this.options.kvCache, ...spec.kvCache },
    });
    this.servers.add(simulated);
    try {
      await setBalance(rpc, wallet.address, PROVIDER_BALANCE);
      await simulated.listen();
      const inferenceAsProvider = new Contract(contracts.inference, loadServingContractArtifacts().inference.abi as InterfaceAbi, wallet);
      await simulated.sendInOrder(() => registerService(inferenceAsProvider, registrationOf(simulated.url, catalog, simulated.signerAddress()), true));
      if (spec.acknowledged !== false) await this.acknowledge(wallet.address);
      const member = new FleetMember(simulated, inferenceAsProvider, {
        acknowledge: (address) => this.acknowledge(address),
        departed: (departed) => this.remove(departed),
      });
      this.members.push(member);
      this.startSettling(member);
      return member;
    } catch (error) {
      this.servers.delete(simulated);
      await simulated.stop();
      throw DevnetError.isInstance(error) ? error : new DevnetError('chain_error', `adding provider ${simulated.name} failed`, { cause: error });
    }
  }

  /** The contract owner acknowledges the provider's current TEE signer. */
  acknowledge(provider: DevnetProvider | string): Promise<void> {
    const address = typeof provider === 'string' ? provider : provider.address;
    return this.ownerTransactions.run(() => acknowledgeSigner(this.inferenceAsOwner, address));
  }

  private startSettling(member: FleetMember): void {
    if (this.options.settleIntervalMs <= 0) return;
    const timer = setInterval(() => {
      member.settle().catch(() => undefined);
    }, this.options.settleIntervalMs);
    timer.unref();
    this.timers.set(member.address, timer);
  }

  private remove(member: FleetMember): void {
    const index = this.members.indexOf(member);
    if (index >= 0) this.members.splice(index, 1);
    clearInterval(this.timers.get(member.address));
    this.timers.delete(member.address);
  }

  /** Stops every provider server (settlements under way finish first). Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers.values()) clearInterval(timer);
    this.timers.clear();
    await Promise.allSettled([...this.servers].map((server) => server.stop()));
  }
}
