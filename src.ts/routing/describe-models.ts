import { serviceTypeOf, type ServiceType } from '../providers/inference-provider.js';
import type { RoutePlanner } from './route-planner.js';
import type { ProviderRegistry } from '../fleet/provider-registry.js';

/** 1 0G in neuron. */
const NEURON_PER_0G = 10n ** 18n;
const MILLION = 1_000_000n;

/** A price per million tokens in 0G, as a decimal string (exact: neuron per token × 10^6 / 10^18). */
export function perMillionTokens(neuronPerToken: bigint): string {
  const scaled = neuronPerToken * MILLION;
  const whole = scaled / NEURON_PER_0G;
  const fraction = (scaled % NEURON_PER_0G).toString().padStart(18, '0').replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : whole.toString();
}

/** One model group as `GET /v1/models` lists it: OpenAI's shape plus what a router on 0G needs. */
export interface ModelView {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
  /** Providers in the fleet serving it, and how many of them are in rotation now. */
  providers: number;
  healthy_providers: number;
  /** Services on chain offering it that the gateway has not funded (yet). */
  catalog_providers: number;
  /** Range of prices, 0G per million tokens; null when no provider states one. */
  pricing: { unit: '0G per 1M tokens'; prompt: { min: string; max: string }; completion: { min: string; max: string } } | null;
  /** How its providers prove their answers (TeeML, ZKML, ...; none for plain upstreams). */
  verifiability: string[];
  context_length: number | null;
  /** What it is served as: `chat` when any provider offers it as chat (or only the catalog does), else the type its providers offer. */
  service_type: ServiceType;
  /** Every type it is served as, when providers offer the same id as more than one. */
  service_types?: ServiceType[];
  /** For an alias: the model it stands for. */
  alias_of?: string;
}

/** Every model group the gateway serves (and the aliases not hidden), sorted by id. */
export function describeModels(registry: ProviderRegistry, planner: RoutePlanner, catalogModels: ReadonlyMap<string, number>): ModelView[] {
  const now = Date.now();
  const views = new Map<string, ModelView>();
  const created = Math.floor(now / 1000);
  for (const model of planner.servedModels()) {
    let providers = 0;
    let healthy = 0;
    let minIn: bigint | undefined;
    let maxIn: bigint | undefined;
    let minOut: bigint | undefined;
    let maxOut: bigint | undefined;
    let context: number | null = null;
    const verifiability = new Set<string>();
    const types = new Set<ServiceType>();
    for (const entry of registry.entries.values()) {
      const offer = entry.descriptor.models.find((candidate) => candidate.id === model);
      if (!offer || !entry.serves(model, now, serviceTypeOf(offer))) continue;
      types.add(serviceTypeOf(offer));
      providers += 1;
      if (entry.isAvailable()) healthy += 1;
      verifiability.add(entry.descriptor.verifiability);
      if (offer.contextLength !== undefined) context = Math.max(context ?? 0, offer.contextLength);
      if (offer.inputPrice > 0n || offer.outputPrice > 0n) {
        minIn = minIn === undefined || offer.inputPrice < minIn ? offer.inputPrice : minIn;
        maxIn = maxIn === undefined || offer.inputPrice > maxIn ? offer.inputPrice : maxIn;
        minOut = minOut === undefined || offer.outputPrice < minOut ? offer.outputPrice : minOut;
        maxOut = maxOut === undefined || offer.outputPrice > maxOut ? offer.outputPrice : maxOut;
      }
    }
    views.set(model, {
      id: model,
      object: 'model',
      created,
      owned_by: 'zg-gateway',
      providers,
      healthy_providers: healthy,
      catalog_providers: catalogModels.get(model) ?? 0,
      pricing:
        minIn === undefined || maxIn === undefined || minOut === undefined || maxOut === undefined
          ? null
          : { unit: '0G per 1M tokens', prompt: { min: perMillionTokens(minIn), max: perMillionTokens(maxIn) }, completion: { min: perMillionTokens(minOut), max: perMillionTokens(maxOut) } },
      verifiability: [...verifiability].sort(),
      context_length: context,
      service_type: types.size === 0 || types.has('chat') ? 'chat' : ([...types][0] as ServiceType),
      ...(types.size > 1 ? { service_types: [...types].sort() } : {}),
    });
  }
  for (const [alias, model] of planner.visibleAliases()) {
    const target = views.get(model);
    if (target && !views.has(alias)) views.set(alias, { ...target, id: alias, alias_of: model });
  }
  return [...views.values()].sort((left, right) => left.id.localeCompare(right.id));
}
