import type { ModelOffer } from '../providers/inference-provider.js';
import { serviceTypeOfService, verifiabilityOf, type ZgService } from '../providers/zg/zg-service.js';

/** Which of the chain's services to serve (`providers: { discover: {...} }`); every field optional. */
export interface DiscoverOptions {
  /** Only these models (a multi-model service keeps the ones listed). */
  readonly models?: readonly string[];
  /** Only services proving their answers this way (`TeeML`, `OpML`, `ZKML`). */
  readonly verifiability?: readonly string[];
  /** Highest price per prompt token, neuron (per model). */
  readonly maxInputPrice?: bigint;
  /** Highest price per completion token, neuron (per model). */
  readonly maxOutputPrice?: bigint;
  /** Only these provider addresses. */
  readonly include?: readonly string[];
  /** Never these provider addresses. */
  readonly exclude?: readonly string[];
}

/** What the filter kept of a service: the models to serve, or why none. */
export type FilterResult = { readonly offers: ModelOffer[]; readonly excluded: null } | { readonly offers: []; readonly excluded: string };

const lower = (values: readonly string[] | undefined): Set<string> | undefined => (values ? new Set(values.map((value) => value.toLowerCase())) : undefined);

/**
 * Applies the discover options to one service and its model offers. A service is left out with
 * a reason (shown in `/admin/providers`) when its service type is not one the gateway serves
 * (chatbot, text-to-image, image-editing, speech-to-text), its signer is not acknowledged, it is excluded or
 * not included, its verifiability is not wanted, or none of its models is wanted at the price.
 */
export function filterService(service: ZgService, offers: readonly ModelOffer[], options: DiscoverOptions): FilterResult {
  const address = service.provider.toLowerCase();
  const include = lower(options.include);
  const exclude = lower(options.exclude);
  if (serviceTypeOfService(service) === undefined) return { offers: [], excluded: `serves ${service.serviceType}, which the gateway does not serve` };
  if (!service.teeSignerAcknowledged) return { offers: [], excluded: 'its TEE signer is not acknowledged by the contract owner' };
  if (exclude?.has(address)) return { offers: [], excluded: 'listed in discover.exclude' };
  if (include && !include.has(address)) return { offers: [], excluded: 'not listed in discover.include' };
  const verifiability = verifiabilityOf(service);
  if (options.verifiability && !options.verifiability.includes(verifiability)) return { offers: [], excluded: `its verifiability ${verifiability} is not in discover.verifiability` };
  const wanted = options.models ? new Set(options.models) : undefined;
  const kept = offers.filter(
    (offer) =>
      (!wanted || wanted.has(offer.id)) &&
      (options.maxInputPrice === undefined || offer.inputPrice <= options.maxInputPrice) &&
      (options.maxOutputPrice === undefined || offer.outputPrice <= options.maxOutputPrice),
  );
  if (kept.length > 0) return { offers: kept, excluded: null };
  if (wanted && !offers.some((offer) => wanted.has(offer.id))) return { offers: [], excluded: 'serves none of discover.models' };
  return { offers: [], excluded: 'every model it serves is priced above discover.maxInputPrice / maxOutputPrice' };
}

/** True when two readings of a service differ in anything the gateway routes or verifies by. */
export function serviceChanged(before: ZgService, after: ZgService): boolean {
  return (
    before.updatedAt !== after.updatedAt ||
    before.url !== after.url ||
    before.model !== after.model ||
    before.inputPrice !== after.inputPrice ||
    before.outputPrice !== after.outputPrice ||
    before.verifiability !== after.verifiability ||
    before.additionalInfo !== after.additionalInfo ||
    before.teeSignerAddress.toLowerCase() !== after.teeSignerAddress.toLowerCase() ||
    before.teeSignerAcknowledged !== after.teeSignerAcknowledged
  );
}
