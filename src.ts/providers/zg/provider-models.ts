import { GatewayError } from '../../errors/index.js';
import { discardBody, type UpstreamHttpClient } from '../http/upstream-http-client.js';
import type { ModelOffer, PriceTier } from '../inference-provider.js';
import { catalogCapabilities } from '../capability-table.js';
import { parseMultiModelInfo } from './zg-sdk.js';
import { defaultOffer, type ZgService } from './zg-service.js';

/** Largest `/v1/models` answer read, bytes. */
const MAX_CATALOG_BYTES = 1024 * 1024;
/** Most models taken from one provider. */
const MAX_MODELS = 500;

function neuron(value: unknown): bigint | undefined {
  if (typeof value === 'bigint') return value >= 0n ? value : undefined;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  if (typeof value === 'string' && /^\d{1,40}$/.test(value.trim())) return BigInt(value.trim());
  return undefined;
}

function positiveInteger(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : undefined;
}

function tiers(value: unknown): PriceTier[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const parsed: PriceTier[] = [];
  for (const tier of value) {
    if (typeof tier !== 'object' || tier === null) continue;
    const { max_input_tokens: max, input_multiplier: input, output_multiplier: output, input_multiplier_denominator: inputDenominator, output_multiplier_denominator: outputDenominator } =
      tier as Record<string, unknown>;
    if (typeof max !== 'number' || typeof input !== 'number' || typeof output !== 'number') continue;
    const scale = (multiplier: number, denominator: unknown): number => (typeof denominator === 'number' && denominator > 0 ? multiplier / denominator : multiplier);
    parsed.push({ maxInputTokens: max, inputMultiplier: scale(input, inputDenominator), outputMultiplier: scale(output, outputDenominator) });
  }
  return parsed.length > 0 ? parsed.sort((left, right) => left.maxInputTokens - right.maxInputTokens) : undefined;
}

/**
 * Reads one entry of a provider's `/v1/models` (the shape the SDK's `getProviderModels` reads).
 * Prices are neuron per token unless the service prices in USD, in which case the on-chain prices
 * stand in (the gateway has no exchange rate). Entries without an id are skipped.
 */
export function modelOfferFromEntry(entry: unknown, service: ZgService, nativePrices: boolean): ModelOffer | undefined {
  if (typeof entry !== 'object' || entry === null) return undefined;
  const fields = entry as Record<string, unknown>;
  if (typeof fields.id !== 'string' || fields.id.length === 0 || fields.id.length > 256) return undefined;
  const pricing = (typeof fields.pricing === 'object' && fields.pricing !== null ? fields.pricing : {}) as Record<string, unknown>;
  const input = nativePrices ? neuron(pricing.prompt) : undefined;
  const output = nativePrices ? neuron(pricing.completion) : undefined;
  const contextLength = positiveInteger(fields.context_length);
  const maxCompletionTokens = positiveInteger(fields.max_completion_tokens);
  const priceTiers = tiers(pricing.tiered_pricing);
  const capabilities = catalogCapabilities(fields);
  return {
    id: fields.id,
    inputPrice: input ?? service.inputPrice,
    outputPrice: output ?? service.outputPrice,
    ...(contextLength !== undefined ? { contextLength } : {}),
    ...(maxCompletionTokens !== undefined ? { maxCompletionTokens } : {}),
    ...(priceTiers ? { tiers: priceTiers } : {}),
    ...(capabilities ? { capabilities } : {}),
  };
}

/**
 * The models a service offers: for a multi-model service (`MultiModel: true` in `additionalInfo`),
 * its `<url>/v1/models` (authoritative, per-model prices); otherwise its on-chain model. Reads at
 * most 1 MiB within `signal`. Rejects with `upstream_error` when a multi-model catalog cannot be read.
 */
export async function serviceModels(client: UpstreamHttpClient, service: ZgService, signal: AbortSignal): Promise<ModelOffer[]> {
  const info = parseMultiModelInfo(service.additionalInfo);
  if (!info.multiModel) return [defaultOffer(service)];
  let text: string;
  try {
    const response = await client.send('GET', `${service.url}/v1/models`, { signal });
    if (response.status !== 200) {
      discardBody(response.body);
      throw new Error(`HTTP ${response.status}`);
    }
    const pieces: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body) {
      size += (chunk as Buffer).length;
      if (size > MAX_CATALOG_BYTES) {
        discardBody(response.body);
        throw new Error(`larger than ${MAX_CATALOG_BYTES} bytes`);
      }
      pieces.push(chunk as Buffer);
    }
    text = Buffer.concat(pieces).toString('utf8');
  } catch (error) {
    throw new GatewayError('upstream_error', `Provider ${service.provider} did not list its models: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
      retryable: true,
      details: { provider: service.provider },
    });
  }
  let data: unknown;
  try {
    data = (JSON.parse(text) as { data?: unknown }).data;
  } catch (error) {
    throw new GatewayError('upstream_error', `Provider ${service.provider} listed its models in a body that is not JSON`, { cause: error, retryable: true });
  }
  const nativePrices = info.priceDenomination === undefined || info.priceDenomination.toUpperCase() === 'NATIVE';
  const offers = (Array.isArray(data) ? data : [])
    .slice(0, MAX_MODELS)
    .map((entry) => modelOfferFromEntry(entry, service, nativePrices))
    .filter((offer): offer is ModelOffer => offer !== undefined);
  return offers.length > 0 ? offers : [defaultOffer(service)];
}
