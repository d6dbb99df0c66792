import { parseEther } from 'ethers';
import { DevnetError } from '../devnet-error.js';
import { checkKvCacheSpec, type KvCacheSpec } from '../provider/kv-prefix-cache.js';
import { ModelCatalog, toServedModel, type ModelSpec } from '../provider/model-catalog.js';
import { DEFAULT_MODEL_OF_TYPE, DEFAULT_PRICES_OF_TYPE, isServiceType, SERVICE_TYPES, type ServiceType } from '../provider/service-types.js';
import type { LocalDevnetOptions, ProviderSpec, ServiceUpdate } from './devnet-types.js';

/** Default prices of a single-model provider, neuron per token. */
export const DEFAULT_INPUT_PRICE = 1_000_000_000n;
export const DEFAULT_OUTPUT_PRICE = 2_000_000_000n;

function invalid(message: string): DevnetError {
  return new DevnetError('invalid_options', message);
}

/** A decimal amount of 0G, as parseEther reads it. */
function amountOf(value: string, what: string): bigint {
  try {
    const amount = parseEther(value);
    if (amount < 0n) throw invalid(`${what} must not be negative`);
    return amount;
  } catch (error) {
    if (DevnetError.isInstance(error)) throw error;
    throw invalid(`${what} must be a decimal amount of 0G such as '100', not ${JSON.stringify(value)}`);
  }
}

/** The start-up options, checked before anything starts, with their defaults. */
export interface CheckedDevnetOptions {
  specs: ProviderSpec[];
  defaultModel: string;
  userBalance: bigint;
  userLedgerDeposit: bigint;
  chainId: number;
  settleIntervalMs: number;
  refundLockTimeSeconds: number;
  countRpcCalls: boolean;
  /** Every chat provider's KV cache spec (before a spec's own fields). */
  kvCache: KvCacheSpec;
}

/** Checks `startLocalDevnet` options; throws `invalid_options` naming the first bad one. */
export function checkDevnetOptions(options: LocalDevnetOptions): CheckedDevnetOptions {
  const providers = options.providers ?? 3;
  if (typeof providers === 'number' && (!Number.isInteger(providers) || providers < 1 || providers > 50)) throw invalid(`providers must be 1..50 or a list of specs, not ${providers}`);
  if (Array.isArray(providers) && providers.length === 0) throw invalid('a devnet needs at least one provider');
  const services = options.services ?? [];
  if (!Array.isArray(services)) throw invalid('services must be a list of service types');
  services.forEach((service, index) => {
    if (!isServiceType(service)) throw invalid(`services[${index}] must be one of ${SERVICE_TYPES.join(', ')}, not ${JSON.stringify(service)}`);
  });
  const specs = [
    ...(typeof providers === 'number' ? Array.from({ length: providers }, (): ProviderSpec => ({})) : providers),
    ...services.map((serviceType): ProviderSpec => ({ serviceType })),
  ];
  if (specs.length > 50) throw invalid(`a devnet has at most 50 providers, not ${specs.length}`);
  const defaultModel = options.model ?? 'zg-devnet-chat';
  if (typeof defaultModel !== 'string' || defaultModel.trim() === '') throw invalid('model must be a non-empty string');
  specs.forEach((spec, index) => catalogForSpec(spec, defaultModel, `providers[${index}]`));
  const chainId = options.chainId ?? 31337;
  if (!Number.isInteger(chainId) || chainId < 1) throw invalid(`chainId must be a positive integer, not ${chainId}`);
  const settleIntervalMs = options.settleIntervalMs ?? 0;
  if (!Number.isFinite(settleIntervalMs) || settleIntervalMs < 0) throw invalid('settleIntervalMs must be a number ≥ 0');
  const refundLockTimeSeconds = options.refundLockTimeSeconds ?? 3600;
  if (!Number.isInteger(refundLockTimeSeconds) || refundLockTimeSeconds < 1) throw invalid('refundLockTimeSeconds must be a positive integer');
  return {
    specs,
    defaultModel,
    userBalance: amountOf(options.userBalance ?? '10000', 'userBalance'),
    userLedgerDeposit: amountOf(options.userLedgerDeposit ?? '100', 'userLedgerDeposit'),
    chainId,
    settleIntervalMs,
    refundLockTimeSeconds,
    countRpcCalls: options.countRpcCalls === true,
    kvCache: kvCacheOption(options.kvCache, 'kvCache'),
  };
}

/** A `kvCache` option, checked (a copy; `{}` when not given). */
export function kvCacheOption(spec: KvCacheSpec | undefined, where: string): KvCacheSpec {
  if (spec === undefined) return {};
  if (typeof spec !== 'object' || spec === null) throw invalid(`${where} must be an object`);
  try {
    checkKvCacheSpec(spec, where);
  } catch (error) {
    throw invalid((error as Error).message);
  }
  return { ...spec };
}

/** The models a provider spec describes (checked). */
export function catalogForSpec(spec: ProviderSpec, defaultModel: string, where = 'provider'): ModelCatalog {
  if (typeof spec !== 'object' || spec === null) throw invalid(`${where} must be an object`);
  if (spec.name !== undefined && (typeof spec.name !== 'string' || spec.name.trim() === '')) throw invalid(`${where}.name must be a non-empty string`);
  if (spec.chunkIntervalMs !== undefined && (!Number.isFinite(spec.chunkIntervalMs) || spec.chunkIntervalMs < 0)) throw invalid(`${where}.chunkIntervalMs must be a number ≥ 0`);
  kvCacheOption(spec.kvCache, `${where}.kvCache`);
  const acceptAnyModel = spec.acceptAnyModel === true;
  if (spec.serviceType !== undefined && !isServiceType(spec.serviceType)) throw invalid(`${where}.serviceType must be one of ${SERVICE_TYPES.join(', ')}, not ${JSON.stringify(spec.serviceType)}`);
  const serviceType: ServiceType = spec.serviceType ?? 'chatbot';
  if (spec.models !== undefined) {
    if (spec.model !== undefined || spec.inputPrice !== undefined || spec.outputPrice !== undefined) {
      throw invalid(`${where}: give either models, or model with inputPrice/outputPrice`);
    }
    if (!Array.isArray(spec.models) || spec.models.length === 0) throw invalid(`${where}.models must list at least one model`);
    return new ModelCatalog(spec.models.map((model, index) => toServedModel(model, `${where}.models[${index}]`)), { multiModel: true, acceptAnyModel, serviceType });
  }
  const prices = DEFAULT_PRICES_OF_TYPE[serviceType];
  const single: ModelSpec = {
    id: spec.model ?? (serviceType === 'chatbot' ? defaultModel : DEFAULT_MODEL_OF_TYPE[serviceType]),
    inputPrice: spec.inputPrice ?? prices.inputPrice,
    outputPrice: spec.outputPrice ?? prices.outputPrice,
  };
  return new ModelCatalog([toServedModel(single, where)], { multiModel: false, acceptAnyModel, serviceType });
}

/** The models a provider serves after `update` (checked). */
export function catalogAfterUpdate(current: ModelCatalog, update: ServiceUpdate): ModelCatalog {
  const options = { acceptAnyModel: current.acceptAnyModel, serviceType: current.serviceType };
  const pricesGiven = update.inputPrice !== undefined || update.outputPrice !== undefined;
  if (update.models !== undefined) {
    if (update.model !== undefined || pricesGiven) throw invalid('update: give either models, or model and/or prices');
    if (!Array.isArray(update.models) || update.models.length === 0) throw invalid('update.models must list at least one model');
    return new ModelCatalog(update.models.map((model, index) => toServedModel(model, `update.models[${index}]`)), { ...options, multiModel: true });
  }
  const base = current.defaultModel;
  const defaultModel = toServedModel(
    { ...base, id: update.model ?? base.id, inputPrice: update.inputPrice ?? base.inputPrice, outputPrice: update.outputPrice ?? base.outputPrice },
    'update',
  );
  if (update.model !== undefined) return new ModelCatalog([defaultModel], { ...options, multiModel: false });
  return new ModelCatalog([defaultModel, ...current.models.slice(1)], { ...options, multiModel: current.multiModel });
}

/** Checks a service update's URL (when given). */
export function checkUpdateUrl(url: string | undefined): void {
  if (url === undefined) return;
  try {
    new URL(url);
  } catch {
    throw invalid(`update.url must be an absolute URL, not ${JSON.stringify(url)}`);
  }
}
