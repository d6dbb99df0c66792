import { GatewayError } from '../errors/index.js';
import { SERVICE_TYPES, serviceTypeOf, type ServiceType } from '../providers/inference-provider.js';
import type { ProviderEntry } from '../fleet/provider-entry.js';
import type { ProviderRegistry } from '../fleet/provider-registry.js';
import { needsError, type PlanCheck } from './needs-diagnosis.js';
import { fitsContext, unservedFeature, type RequestFeature, type RequestNeeds } from './request-needs.js';

/** Per-request limits on which providers may serve (from the client's `provider` preferences or its key). */
export interface ProviderFilter {
  /** Only these provider ids (addresses or names, case-insensitive). */
  readonly only?: ReadonlySet<string>;
  /** Never these. */
  readonly ignore?: ReadonlySet<string>;
  /** Only providers that can prove their answers. */
  readonly requireVerifiable?: boolean;
  /** Highest price per token, neuron (per model offer). */
  readonly maxInputPrice?: bigint;
  readonly maxOutputPrice?: bigint;
  /** Only providers that declare every feature the request uses (OpenRouter's `require_parameters`); unknown is not enough. */
  readonly requireParameters?: boolean;
}

/** One model group to try, in order: the requested model first, then its fallbacks. */
export interface RouteTarget {
  /** The model group served. */
  readonly model: string;
  /** The model the client asked for, when this target is one of its fallbacks. */
  readonly fallbackFor: string | undefined;
  /** May `entry` serve this target now? (Serves the model and passes the request's filter; health is checked apart.) */
  accepts(entry: ProviderEntry, now: number): boolean;
  /** The model id sent to `entry`. */
  upstreamModel(entry: ProviderEntry): string;
  /** The pool this target draws from; undefined: any provider (the request names no pool, or it overflows anywhere). */
  readonly pool: string | undefined;
  /** The pool the request asked for, when this target is its overflow. */
  readonly overflowFrom: string | undefined;
  /** Why this fallback: `context_length` for a `contextWindowFallbacks` model (no provider of the requested one fits); undefined otherwise. */
  readonly fallbackReason?: 'context_length' | undefined;
}

/** A named pool of providers (providers join one with their `pool` option). */
export interface PoolOptions {
  /**
   * Where the pool's requests go when none of its providers can take them (all full, or none
   * healthy): `false` nowhere, `true` any provider outside it (of a pool that accepts overflow, or
   * of none), or these pools, in order.
   */
  readonly overflow: boolean | readonly string[];
  /** Requests for these models (or aliases) use this pool when they name none. */
  readonly models?: readonly string[] | undefined;
  /** Whether other pools' `overflow: true` may use its providers. Default true. */
  readonly acceptOverflow?: boolean | undefined;
}

/** Which providers a target may use by pool. */
type PoolRule = { kind: 'any' } | { kind: 'in'; pool: string; overflowFrom: string | undefined } | { kind: 'outside'; pool: string; closed: ReadonlySet<string> };

/** What the planner decided for a request. */
export interface RoutePlan {
  /** The model the client named (undefined when it named none). */
  readonly requestedModel: string | undefined;
  readonly targets: readonly RouteTarget[];
  /** What the request needs from a provider (context window, features); undefined for embeddings. */
  readonly needs?: RequestNeeds | undefined;
}

/** The routing configuration the planner follows. */
export interface RoutePlannerOptions {
  /** The model for requests that name none. Default: the only model group, when there is one. */
  defaultModel?: string | undefined;
  /** Client-facing names for model groups: `{ "gpt-4o-mini": "qwen-2.5-7b" }`. */
  modelAliases?: Readonly<Record<string, string>>;
  /** Model groups tried in order when a group cannot serve: `{ "qwen-2.5-7b": ["llama-3-8b"] }`. */
  fallbacks?: Readonly<Record<string, readonly string[]>>;
  /** Aliases left out of `/v1/models`. */
  hiddenAliases?: ReadonlySet<string>;
  /** Models offered beyond the fleet (discovered providers not funded yet): known, so not `model_not_found`. */
  catalogModels?: () => ReadonlyMap<string, number>;
  /** Serve only providers that can prove their answers (TeeML, ZKML). Default false. */
  requireVerifiable?: boolean;
  /** Named pools (`X-Pool`, or a model mapped to a pool), with where each overflows. Default none. */
  pools?: Readonly<Record<string, PoolOptions>>;
  /** Bigger models for requests too long for every provider of a model: `{ "llama-8k": ["llama-128k"] }`. Default none. */
  contextWindowFallbacks?: Readonly<Record<string, readonly string[]>>;
}

const ANY_MODEL = '';

/** `a chat`, `an embedding`, `a text-to-image`, … (for error messages). */
function describeType(serviceType: ServiceType): string {
  return `${serviceType === 'embedding' || serviceType === 'image-editing' ? 'an' : 'a'} ${serviceType}`;
}

/**
 * Whether a provider may take a request that names no model (the fleet serves no listed model):
 * a chat request only goes to a provider with no models listed or with a chat offer, never to an
 * embedding-only one; other service types always name their model.
 */
function takesAny(entry: ProviderEntry, serviceType: ServiceType): boolean {
  if (serviceType !== 'chat') return false;
  const models = entry.descriptor.models;
  return models.length === 0 || models.some((offer) => serviceTypeOf(offer) === 'chat');
}

function idMatches(set: ReadonlySet<string> | undefined, entry: ProviderEntry): boolean {
  return set !== undefined && (set.has(entry.id.toLowerCase()) || set.has(entry.descriptor.address.toLowerCase()));
}

function describeFilter(filter: ProviderFilter): string {
  const parts: string[] = [];
  if (filter.only) parts.push(`only: ${[...filter.only].join(', ')}`);
  if (filter.ignore) parts.push(`ignore: ${[...filter.ignore].join(', ')}`);
  if (filter.requireVerifiable) parts.push('verifiable providers only');
  if (filter.maxInputPrice !== undefined) parts.push(`prompt price at most ${filter.maxInputPrice} neuron/token`);
  if (filter.maxOutputPrice !== undefined) parts.push(`completion price at most ${filter.maxOutputPrice} neuron/token`);
  if (filter.requireParameters) parts.push('declared features only');
  return parts.length > 0 ? ` (${parts.join('; ')})` : '';
}

/** True when `entry` passes the request's filter for `model`. */
export function passesFilter(entry: ProviderEntry, model: string, filter: ProviderFilter | undefined): boolean {
  if (!filter) return true;
  if (filter.only && !idMatches(filter.only, entry)) return false;
  if (filter.ignore && idMatches(filter.ignore, entry)) return false;
  const descriptor = entry.descriptor;
  if (filter.requireVerifiable && !descriptor.verifiable) return false;
  if (filter.maxInputPrice !== undefined || filter.maxOutputPrice !== undefined) {
    const offer = descriptor.models.find((candidate) => candidate.id === model);
    if (!offer) return descriptor.models.length === 0 && (filter.maxInputPrice ?? 0n) >= 0n;
    if (filter.maxInputPrice !== undefined && offer.inputPrice > filter.maxInputPrice) return false;
    if (filter.maxOutputPrice !== undefined && offer.outputPrice > filter.maxOutputPrice) return false;
  }
  return true;
}

/** What a request needs of its targets' providers, and (for a context-window fallback) when the target is open at all. */
interface TargetNeeds {
  readonly needs: RequestNeeds;
  readonly requireDeclared: boolean;
  /** A `contextWindowFallbacks` target is only used while no provider of the requested model fits. */
  readonly onlyWhen?: (now: number) => boolean;
}

class ModelTarget implements RouteTarget, PlanCheck {
  readonly model: string;
  readonly fallbackFor: string | undefined;
  readonly fallbackReason: 'context_length' | undefined;
  readonly pool: string | undefined;
  readonly overflowFrom: string | undefined;
  readonly #filter: ProviderFilter | undefined;
  readonly #rule: PoolRule;
  readonly #serviceType: ServiceType;
  readonly #needs: TargetNeeds | undefined;

  constructor(model: string, fallbackFor: string | undefined, filter: ProviderFilter | undefined, rule: PoolRule = { kind: 'any' }, serviceType: ServiceType = 'chat', needs?: TargetNeeds) {
    this.model = model;
    this.#serviceType = serviceType;
    this.fallbackFor = fallbackFor;
    this.fallbackReason = needs?.onlyWhen ? 'context_length' : undefined;
    this.#filter = filter;
    this.#rule = rule;
    this.#needs = needs;
    this.pool = rule.kind === 'in' ? rule.pool : undefined;
    this.overflowFrom = rule.kind === 'in' ? rule.overflowFrom : rule.kind === 'outside' ? rule.pool : undefined;
  }

  accepts(entry: ProviderEntry, now: number): boolean {
    if (!this.acceptsIgnoringNeeds(entry, now)) return false;
    const needs = this.#needs;
    if (!needs) return true;
    if (needs.onlyWhen && !needs.onlyWhen(now)) return false;
    return this.fits(entry) && this.missingFeature(entry) === undefined;
  }

  /** Serves the model, in the pool, passes the request's filter (what it needs apart). */
  acceptsIgnoringNeeds(entry: ProviderEntry, now: number): boolean {
    const rule = this.#rule;
    if (rule.kind === 'in' && entry.pool !== rule.pool) return false;
    if (rule.kind === 'outside' && (entry.pool === rule.pool || (entry.pool !== undefined && rule.closed.has(entry.pool)))) return false;
    if (this.model === ANY_MODEL ? !takesAny(entry, this.#serviceType) : !entry.serves(this.model, now, this.#serviceType)) return false;
    return passesFilter(entry, this.model, this.#filter);
  }

  /** True when the request's estimate fits the provider's known context window for the model (unknown: fits). */
  fits(entry: ProviderEntry): boolean {
    return this.#needs === undefined || fitsContext(entry.contextWindow(this.model), this.#needs.needs);
  }

  /** The first feature of the request the provider cannot be sent, if any. */
  missingFeature(entry: ProviderEntry, only?: readonly RequestFeature[]): RequestFeature | undefined {
    const needs = this.#needs;
    const features = only ?? needs?.needs.features ?? [];
    if (!needs || features.length === 0) return undefined;
    const offer = entry.descriptor.models.find((candidate) => candidate.id === this.model && serviceTypeOf(candidate) === this.#serviceType);
    return unservedFeature(entry.descriptor, offer, features, needs.requireDeclared);
  }

  upstreamModel(entry: ProviderEntry): string {
    for (const offer of entry.descriptor.models) if (offer.id === this.model && serviceTypeOf(offer) === this.#serviceType) return offer.upstreamId ?? offer.id;
    return this.model;
  }
}

/**
 * Turns a request's `model` into the ordered targets the dispatcher tries: alias → model group →
 * fallbacks. A model no provider of the fleet serves is `model_not_found` (404); so is an
 * unknown alias target. A request without a model goes to `defaultModel`, else to the only group.
 */
export class RoutePlanner {
  readonly #registry: ProviderRegistry;
  #options: RoutePlannerOptions;

  constructor(registry: ProviderRegistry, options: RoutePlannerOptions = {}) {
    this.#registry = registry;
    this.#options = options;
  }

  /** Replaces the routing configuration (config reload). */
  configure(options: RoutePlannerOptions): void {
    this.#options = options;
  }

  get options(): RoutePlannerOptions {
    return this.#options;
  }

  /** The model a name stands for (following aliases, at most 8 hops). */
  resolve(name: string): string {
    const aliases = this.#options.modelAliases ?? {};
    let model = name;
    for (let hop = 0; hop < 8 && Object.prototype.hasOwnProperty.call(aliases, model); hop++) model = aliases[model] as string;
    return model;
  }

  /** True when some provider of the fleet (whatever its health) or of the catalog (chat only) serves `model` as a `serviceType` model. */
  isServed(model: string, now = Date.now(), serviceType: ServiceType = 'chat'): boolean {
    for (const entry of this.#registry.entries.values()) if (entry.serves(model, now, serviceType)) return true;
    return serviceType === 'chat' && (this.#options.catalogModels?.().has(model) ?? false);
  }

  /**
   * The model groups served: the fleet's providers' models and the catalog's (a provider listing none
   * adds none); with `serviceType`, only the models offered as that type (the catalog's are chat).
   */
  servedModels(serviceType?: ServiceType): string[] {
    const models = new Set<string>(serviceType === undefined || serviceType === 'chat' ? (this.#options.catalogModels?.().keys() ?? []) : []);
    for (const entry of this.#registry.entries.values()) {
      for (const offer of entry.descriptor.models) if (serviceType === undefined || serviceTypeOf(offer) === serviceType) models.add(offer.id);
    }
    return [...models];
  }

  /**
   * Which model groups a client key restricted to `names` may reach: the names themselves and what
   * each stands for (an alias it may use reaches its model). Fallbacks outside this set are skipped.
   */
  reachableBy(names: readonly string[]): (model: string) => boolean {
    const reachable = new Set<string>(names);
    for (const name of names) reachable.add(this.resolve(name));
    return (model) => reachable.has(model);
  }

  /** The aliases shown in `/v1/models` (not hidden), with the model each stands for. */
  visibleAliases(): Array<[string, string]> {
    const hidden = this.#options.hiddenAliases;
    return Object.keys(this.#options.modelAliases ?? {})
      .filter((alias) => !hidden?.has(alias))
      .map((alias) => [alias, this.resolve(alias)]);
  }

  #defaultModel(): string {
    if (this.#options.defaultModel) return this.resolve(this.#options.defaultModel);
    const models = this.servedModels('chat');
    if (models.length === 1) return models[0] as string;
    const anyTaken = [...this.#registry.entries.values()].some((entry) => entry.descriptor.models.length === 0);
    if (models.length === 0 && anyTaken) return ANY_MODEL;
    throw new GatewayError('invalid_request', `The request names no model and this gateway serves several; set \`model\` to one of: ${models.sort().join(', ')}`, {
      param: 'model',
    });
  }

  #anyAccepts(targets: readonly RouteTarget[], now: number): boolean {
    for (const entry of this.#registry.entries.values()) for (const target of targets) if (target.accepts(entry, now)) return true;
    return false;
  }

  /** The pool a model (as named, or as resolved) is mapped to, if any. */
  #poolOfModel(named: string | undefined, model: string): string | undefined {
    for (const [name, pool] of Object.entries(this.#options.pools ?? {})) {
      if (pool.models?.some((entry) => entry === named || entry === model)) return name;
    }
    return undefined;
  }

  /** The pool rules of a request: its pool, then where that pool overflows (none without a pool: any provider). */
  #poolRules(pool: string | undefined): PoolRule[] {
    const pools = this.#options.pools ?? {};
    const options = pool === undefined ? undefined : pools[pool];
    if (pool === undefined || !options) return [{ kind: 'any' }];
    const rules: PoolRule[] = [{ kind: 'in', pool, overflowFrom: undefined }];
    if (options.overflow === true) {
      const closed = new Set(Object.entries(pools).filter(([, other]) => other.acceptOverflow === false).map(([name]) => name));
      rules.push({ kind: 'outside', pool, closed });
    } else if (Array.isArray(options.overflow)) {
      for (const other of options.overflow as readonly string[]) if (other !== pool) rules.push({ kind: 'in', pool: other, overflowFrom: pool });
    }
    return rules;
  }

  /** The model a request without one is served (`''` when every provider takes any model); throws like `plan`. */
  defaultModelName(): string {
    return this.#defaultModel();
  }

  /**
   * Plans a request. Throws `model_not_found` (404), `no_matching_provider` (404: providers serve the
   * model but none passes the request's filter), or `invalid_request` (no model, several served).
   * `mayUse` (a client key's models, see {@link reachableBy}) leaves out the fallbacks the key may
   * not use; the requested model itself is the key limiter's to check.
   */
  plan(
    requestedModel: string | undefined,
    requestFilter?: ProviderFilter,
    requestedPool?: string,
    mayUse?: (model: string) => boolean,
    serviceType: ServiceType = 'chat',
    needs?: RequestNeeds,
  ): RoutePlan {
    const now = Date.now();
    const filter = this.#options.requireVerifiable ? { ...requestFilter, requireVerifiable: true } : requestFilter;
    const pools = this.#options.pools ?? {};
    if (requestedPool !== undefined && !Object.hasOwn(pools, requestedPool)) {
      throw new GatewayError('invalid_request', `No pool \`${requestedPool}\`; the pools are: ${Object.keys(pools).sort().join(', ') || 'none'}`, { param: 'X-Pool' });
    }
    const model = requestedModel === undefined || requestedModel === '' ? this.#defaultModel() : this.resolve(requestedModel);
    if (model !== ANY_MODEL && !this.isServed(model, now, serviceType)) {
      // Model groups are per service type: a chat model asked for embeddings or images (or the reverse) is not served.
      const otherTypes = SERVICE_TYPES.filter((other) => other !== serviceType && this.isServed(model, now, other));
      const why = otherTypes.length > 0 ? ` as ${describeType(serviceType)} model (it is served as ${otherTypes.map(describeType).join(', ')} model)` : '';
      throw new GatewayError('model_not_found', `The model \`${requestedModel ?? model}\` does not exist or no provider serves it${why}; GET /v1/models lists the models served`, {
        param: 'model',
      });
    }
    if (model === ANY_MODEL && serviceType !== 'chat') {
      throw new GatewayError('invalid_request', `The request names no model; set \`model\` to ${describeType(serviceType)} model listed by GET /v1/models`, { param: 'model' });
    }
    const rules = this.#poolRules(requestedPool ?? this.#poolOfModel(requestedModel, model));
    const targetNeeds: TargetNeeds | undefined = needs ? { needs, requireDeclared: filter?.requireParameters === true } : undefined;
    const targets: ModelTarget[] = rules.map((rule) => new ModelTarget(model, undefined, filter, rule, serviceType, targetNeeds));
    const seen = new Set([model]);
    for (const fallback of this.#options.fallbacks?.[model] ?? []) {
      const resolved = this.resolve(fallback);
      if (seen.has(resolved) || (mayUse !== undefined && !mayUse(resolved))) continue;
      seen.add(resolved);
      for (const rule of rules) targets.push(new ModelTarget(resolved, model, filter, rule, serviceType, targetNeeds));
    }
    if (targetNeeds) {
      // Bigger models, only while no provider of the requested model fits the request (what they learn during it counts).
      const primary = targets.filter((target) => target.model === model);
      const onlyWhen = (at: number): boolean => !this.#anyEntry((entry) => primary.some((target) => target.acceptsIgnoringNeeds(entry, at) && target.fits(entry)));
      for (const bigger of this.#options.contextWindowFallbacks?.[model] ?? []) {
        const resolved = this.resolve(bigger);
        if (seen.has(resolved) || (mayUse !== undefined && !mayUse(resolved))) continue;
        seen.add(resolved);
        for (const rule of rules) targets.push(new ModelTarget(resolved, model, filter, rule, serviceType, { ...targetNeeds, onlyWhen }));
      }
      if (!this.#anyAccepts(targets, now)) {
        const error = needsError([...this.#registry.entries.values()], targets, needs as RequestNeeds, now, requestedModel ?? model);
        if (error) throw error;
      }
    }
    if (filter && !this.#anyAccepts(targets, now)) {
      const servedInFleet = [...this.#registry.entries.values()].some((entry) => entry.serves(model, now, serviceType));
      if (servedInFleet) {
        throw new GatewayError('no_matching_provider', `No provider of \`${model}\` matches ${requestFilter ? 'the request\'s provider preferences' : 'the gateway\'s requireVerifiable setting'}${describeFilter(filter)}`, {
          param: requestFilter ? 'provider' : null,
        });
      }
    }
    return { requestedModel, targets, needs };
  }

  #anyEntry(test: (entry: ProviderEntry) => boolean): boolean {
    for (const entry of this.#registry.entries.values()) if (test(entry)) return true;
    return false;
  }
}
