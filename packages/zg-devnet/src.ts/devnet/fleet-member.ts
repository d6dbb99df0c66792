import type { Contract, Wallet } from 'ethers';
import { registerService, readService, removeService } from '../chain/inference-service.js';
import { randomWallet } from '../chain/local-rpc-provider.js';
import { DevnetError } from '../devnet-error.js';
import type { ProviderFault } from '../provider/fault-modes.js';
import type { KvCacheStats } from '../provider/kv-prefix-cache.js';
import type { SettlementRecord, SettlementReport } from '../provider/fees-and-settlement.js';
import type { ModelCatalog, ServedModel } from '../provider/model-catalog.js';
import type { SimulatedProviderStats } from '../provider/provider-stats.js';
import type { ServiceType } from '../provider/service-types.js';
import type { SimulatedProvider } from '../provider/simulated-provider.js';
import type { DevnetProvider, LeaveOptions, ServiceUpdate } from './devnet-types.js';
import { catalogAfterUpdate, checkUpdateUrl } from './validate-options.js';

/** What a member needs from its fleet. */
export interface FleetHooks {
  /** The contract owner acknowledges the provider's current signer. */
  acknowledge(address: string): Promise<void>;
  /** The member's service is gone from the chain: drop it from the list. */
  departed(member: FleetMember): void;
}

/** The registration a service update sends (also used for the first one). */
export function registrationOf(url: string, catalog: ModelCatalog, teeSignerAddress: string): Parameters<typeof registerService>[1] {
  const model = catalog.defaultModel;
  return { serviceType: catalog.serviceType, url, model: model.id, inputPrice: model.inputPrice, outputPrice: model.outputPrice, additionalInfo: catalog.additionalInfo(), teeSignerAddress };
}

/** One provider of the devnet: its server, and its service on chain. */
export class FleetMember implements DevnetProvider {
  private onChainUrl: string;
  private leaving: Promise<void> | null = null;
  private hasLeft = false;

  constructor(
    private readonly simulated: SimulatedProvider,
    private readonly inferenceAsProvider: Contract,
    private readonly hooks: FleetHooks,
  ) {
    this.onChainUrl = simulated.url;
  }

  get name(): string {
    return this.simulated.name;
  }
  get address(): string {
    return this.simulated.address;
  }
  get url(): string {
    return this.onChainUrl;
  }
  get serverUrl(): string {
    return this.simulated.url;
  }
  get model(): string {
    return this.simulated.catalog().defaultModel.id;
  }
  get models(): readonly ServedModel[] {
    return this.simulated.catalog().models;
  }
  get serviceType(): ServiceType {
    return this.simulated.catalog().serviceType;
  }
  get multiModel(): boolean {
    return this.simulated.catalog().multiModel;
  }
  get signerAddress(): string {
    return this.simulated.signerAddress();
  }
  get inputPrice(): bigint {
    return this.simulated.catalog().defaultModel.inputPrice;
  }
  get outputPrice(): bigint {
    return this.simulated.catalog().defaultModel.outputPrice;
  }
  get stats(): Readonly<SimulatedProviderStats> {
    return this.simulated.stats;
  }
  get kvCache(): KvCacheStats {
    return this.simulated.kvCache.stats();
  }
  clearKvCache(): void {
    this.simulated.kvCache.clear();
  }
  get fault(): ProviderFault {
    return this.simulated.fault();
  }
  get settlements(): readonly SettlementRecord[] {
    return this.simulated.settlements;
  }
  get left(): boolean {
    return this.hasLeft;
  }

  setFault(fault: ProviderFault): Promise<void> {
    return this.simulated.setFault(fault);
  }

  async settle(): Promise<SettlementReport> {
    try {
      return await this.simulated.settle();
    } catch (error) {
      throw DevnetError.isInstance(error) ? error : new DevnetError('chain_error', `settlement by ${this.name} failed`, { cause: error });
    }
  }

  unsettledFee(user: string): bigint {
    return this.simulated.unsettledFee(user);
  }

  async updateService(update: ServiceUpdate): Promise<void> {
    if (this.hasLeft || this.leaving) throw new DevnetError('stopped', `${this.name} has left: its service cannot be updated`);
    checkUpdateUrl(update.url);
    const catalog = catalogAfterUpdate(this.simulated.catalog(), update);
    const signer: Wallet = update.rotateSigner === true ? randomWallet() : this.simulated.teeSigner();
    const url = update.url ?? this.onChainUrl;
    await this.simulated.sendInOrder(async () => {
      // The contract clears the acknowledgement on any update; the owner restores it for the same signer.
      const reacknowledge = update.rotateSigner !== true && (await readService(this.inferenceAsProvider, this.address)).teeSignerAcknowledged;
      await registerService(this.inferenceAsProvider, registrationOf(url, catalog, signer.address), false);
      this.simulated.setCatalog(catalog);
      this.simulated.setTeeSigner(signer);
      this.onChainUrl = url;
      if (reacknowledge) await this.hooks.acknowledge(this.address);
    });
  }

  leave(options: LeaveOptions = {}): Promise<void> {
    const graceMs = options.graceMs ?? 10_000;
    if (!Number.isFinite(graceMs) || graceMs < 0) return Promise.reject(new DevnetError('invalid_options', 'leave graceMs must be a number ≥ 0'));
    this.leaving ??= (async () => {
      try {
        await this.simulated.sendInOrder(() => removeService(this.inferenceAsProvider));
      } catch (error) {
        this.leaving = null;
        throw error;
      }
      this.hasLeft = true;
      this.hooks.departed(this);
      await this.simulated.drain(graceMs);
    })();
    return this.leaving;
  }
}
