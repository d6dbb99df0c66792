import type { ModelOffer, PriceTier, ProviderDescriptor, ServiceType, Verifiability } from '../inference-provider.js';
import { withoutCredentials } from '../http/provider-url.js';
import { parseMultiModelInfo, parseTieredPricing } from './zg-sdk.js';

/** A 0G inference service as the chain publishes it (`getService` / `listService`). */
export interface ZgService {
  readonly provider: string;
  readonly serviceType: string;
  /** The service URL (requests go to `<url>/v1/proxy`). */
  readonly url: string;
  /** Neuron per prompt token. */
  readonly inputPrice: bigint;
  /** Neuron per completion token. */
  readonly outputPrice: bigint;
  /** Seconds since the epoch of the last update. */
  readonly updatedAt: bigint;
  /** The on-chain default model. */
  readonly model: string;
  readonly verifiability: string;
  readonly additionalInfo: string;
  readonly teeSignerAddress: string;
  readonly teeSignerAcknowledged: boolean;
}

/** Copies the fields of a contract `Service` struct (an ethers Result) into a plain object. */
export function serviceFromContract(raw: ZgService): ZgService {
  return {
    provider: raw.provider,
    serviceType: raw.serviceType,
    // A provider's self-published URL: credentials in it are never kept (nor shown).
    url: withoutCredentials(raw.url).replace(/\/+$/, ''),
    inputPrice: raw.inputPrice,
    outputPrice: raw.outputPrice,
    updatedAt: raw.updatedAt,
    model: raw.model,
    verifiability: raw.verifiability,
    additionalInfo: raw.additionalInfo,
    teeSignerAddress: raw.teeSignerAddress,
    teeSignerAcknowledged: raw.teeSignerAcknowledged,
  };
}

/** The contract's verifiability, or `none` for a value it does not define. */
export function verifiabilityOf(service: ZgService): Verifiability {
  const value = service.verifiability;
  return value === 'TeeML' || value === 'OpML' || value === 'ZKML' ? value : 'none';
}

/** True when the service publishes a per-model catalog (`MultiModel: true` in `additionalInfo`). */
export function isMultiModel(service: ZgService): boolean {
  return parseMultiModelInfo(service.additionalInfo).multiModel;
}

/** Tiered price multipliers from `additionalInfo`, sorted by prompt size. */
export function tiersOf(additionalInfo: string): PriceTier[] | undefined {
  const parsed = parseTieredPricing(additionalInfo);
  if (!parsed) return undefined;
  return [...parsed.tiers].sort((left, right) => left.maxInputTokens - right.maxInputTokens);
}

/**
 * The address whose signature proves this service's answers. As the SDK decides it: the TEE
 * signer registered on chain, or, for a decentralised provider whose model runs in a separate
 * TEE (`TargetSeparated`), that TEE's address from `additionalInfo`.
 */
export function signingAddressOf(service: ZgService): string {
  try {
    const info = JSON.parse(service.additionalInfo) as { ProviderType?: unknown; TargetSeparated?: unknown; TargetTeeAddress?: unknown };
    const centralized = info.ProviderType === 'centralized';
    if (info.TargetSeparated === true && !centralized && typeof info.TargetTeeAddress === 'string') return info.TargetTeeAddress;
  } catch {
    // Not JSON: the registered signer stands.
  }
  return service.teeSignerAddress;
}

/** The single model offer of a service without a catalog: its on-chain model at its on-chain prices. */
export function defaultOffer(service: ZgService): ModelOffer {
  const tiers = tiersOf(service.additionalInfo);
  return { id: service.model, inputPrice: service.inputPrice, outputPrice: service.outputPrice, ...(tiers ? { tiers } : {}) };
}

/** The 0G service types the gateway serves (the contract's `serviceType`), and what the gateway calls each. */
const ZG_SERVICE_TYPES: Readonly<Record<string, ServiceType>> = Object.freeze({
  chatbot: 'chat',
  'text-to-image': 'text-to-image',
  'image-editing': 'image-editing',
  'speech-to-text': 'speech-to-text',
});

/** The gateway's service type of a 0G service, or undefined for a type it does not serve. */
export function serviceTypeOfService(service: ZgService): ServiceType | undefined {
  return Object.hasOwn(ZG_SERVICE_TYPES, service.serviceType) ? ZG_SERVICE_TYPES[service.serviceType] : undefined;
}

/** The gateway's view of a service: the given models (a catalog) or its on-chain default, offered as the service's type. */
export function describeService(service: ZgService, models?: readonly ModelOffer[]): ProviderDescriptor {
  const verifiability = verifiabilityOf(service);
  const serviceType = serviceTypeOfService(service) ?? 'chat';
  const offers = models && models.length > 0 ? models : [defaultOffer(service)];
  return {
    id: service.provider,
    kind: 'zg',
    address: service.provider,
    endpoint: `${service.url}/v1/proxy`,
    models: serviceType === 'chat' ? offers : offers.map((offer) => ({ ...offer, serviceType })),
    verifiable: verifiability !== 'none',
    verifiability,
  };
}
