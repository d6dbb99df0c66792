import { DevnetError } from '../devnet-error.js';
import type { ServiceType } from './service-types.js';

/** One model a simulated provider serves, as given in a provider spec. */
export interface ModelSpec {
  /** Model id clients send in `model` (and the catalog lists). */
  id: string;
  /** Neuron per prompt token. */
  inputPrice: bigint;
  /** Neuron per completion token. */
  outputPrice: bigint;
  /** Advertised context window in tokens. Default 8192. */
  contextLength?: number;
  /** Advertised largest completion in tokens. Default 4096. */
  maxCompletionTokens?: number;
}

/** A model as the provider serves and bills it (defaults filled in). */
export interface ServedModel {
  readonly id: string;
  readonly inputPrice: bigint;
  readonly outputPrice: bigint;
  readonly contextLength: number;
  readonly maxCompletionTokens: number;
}

/** One entry of `GET /v1/models`, shaped as the SDK's `getProviderModels` reads it (`ProviderModelInfo`). */
export interface ModelListEntry {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
  name: string;
  context_length: number;
  max_completion_tokens: number;
  supported_parameters: string[];
  /** Native token units (neuron) per token, as decimal strings. */
  pricing: { prompt: string; completion: string };
  verifiability: 'TeeML';
  tee_attested: boolean;
}

const DEFAULT_CONTEXT_LENGTH = 8192;
const DEFAULT_MAX_COMPLETION_TOKENS = 4096;
const SUPPORTED_PARAMETERS: Readonly<Record<ServiceType, string[]>> = {
  chatbot: ['messages', 'model', 'stream', 'stream_options', 'max_tokens', 'temperature', 'top_p'],
  'text-to-image': ['prompt', 'model', 'n', 'size', 'response_format'],
  'image-editing': ['image', 'mask', 'prompt', 'model', 'n', 'size', 'response_format'],
  'speech-to-text': ['file', 'model', 'language', 'prompt', 'response_format'],
};

function positiveInteger(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw new DevnetError('invalid_options', `${what} must be a positive integer, not ${String(value)}`);
  return value;
}

/** Checks one model spec and fills in its defaults. */
export function toServedModel(spec: ModelSpec, where: string): ServedModel {
  if (typeof spec.id !== 'string' || spec.id.trim() === '') throw new DevnetError('invalid_options', `${where}.id must be a non-empty string`);
  for (const field of ['inputPrice', 'outputPrice'] as const) {
    if (typeof spec[field] !== 'bigint' || spec[field] < 0n) throw new DevnetError('invalid_options', `${where}.${field} must be a bigint ≥ 0 (neuron per token)`);
  }
  return Object.freeze({
    id: spec.id,
    inputPrice: spec.inputPrice,
    outputPrice: spec.outputPrice,
    contextLength: positiveInteger(spec.contextLength, DEFAULT_CONTEXT_LENGTH, `${where}.contextLength`),
    maxCompletionTokens: positiveInteger(spec.maxCompletionTokens, DEFAULT_MAX_COMPLETION_TOKENS, `${where}.maxCompletionTokens`),
  });
}

/**
 * The models one provider serves. The first is its on-chain default (registered as the service's
 * `model` with its prices); a multi-model provider says so in `additionalInfo` and lists every
 * model at `/v1/models`, where the SDK's `getProviderModels` reads them.
 */
export class ModelCatalog {
  readonly models: readonly ServedModel[];
  readonly multiModel: boolean;
  /** Whether a chat naming a model not served here is answered with the default model instead of 404. */
  readonly acceptAnyModel: boolean;
  /** The service type registered on chain (`chatbot` unless the spec said otherwise). */
  readonly serviceType: ServiceType;
  private readonly created = Math.floor(Date.now() / 1000);

  constructor(models: readonly ServedModel[], options: { multiModel: boolean; acceptAnyModel: boolean; serviceType?: ServiceType }) {
    if (models.length === 0) throw new DevnetError('invalid_options', 'a provider serves at least one model');
    const ids = new Set(models.map((model) => model.id));
    if (ids.size !== models.length) throw new DevnetError('invalid_options', 'model ids of one provider must be distinct');
    this.models = Object.freeze([...models]);
    this.multiModel = options.multiModel;
    this.acceptAnyModel = options.acceptAnyModel;
    this.serviceType = options.serviceType ?? 'chatbot';
  }

  /** The on-chain default model: the one used when a chat names none. */
  get defaultModel(): ServedModel {
    return this.models[0] as ServedModel;
  }

  /**
   * The model a chat asked for: its `model` when served here, the default when it names none
   * (or names another and `acceptAnyModel` is on), else null (the caller answers 404).
   */
  resolve(requested: unknown): ServedModel | null {
    if (requested === undefined || requested === null || requested === '') return this.defaultModel;
    const found = typeof requested === 'string' ? this.models.find((model) => model.id === requested) : undefined;
    if (found) return found;
    return this.acceptAnyModel ? this.defaultModel : null;
  }

  /** The service's on-chain `additionalInfo` (non-empty JSON, as the contract requires). */
  additionalInfo(): string {
    const info: Record<string, unknown> = { ProviderType: 'decentralized' };
    if (this.multiModel) {
      // The exact keys the SDK's parseMultiModelInfo reads.
      info.MultiModel = true;
      info.priceDenomination = 'NATIVE';
    }
    return JSON.stringify(info);
  }

  /** The `GET /v1/models` body. */
  listBody(ownerAddress: string): { object: 'list'; data: ModelListEntry[] } {
    return {
      object: 'list',
      data: this.models.map((model) => ({
        id: model.id,
        object: 'model',
        created: this.created,
        owned_by: ownerAddress,
        name: model.id,
        context_length: model.contextLength,
        max_completion_tokens: model.maxCompletionTokens,
        supported_parameters: SUPPORTED_PARAMETERS[this.serviceType],
        pricing: { prompt: model.inputPrice.toString(), completion: model.outputPrice.toString() },
        verifiability: 'TeeML',
        tee_attested: true,
      })),
    };
  }
}
