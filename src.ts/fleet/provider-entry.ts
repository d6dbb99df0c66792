import type { ProviderSnapshot } from '../strategies/index.js';
import type { CircuitBreaker } from '../health/index.js';
import { serviceTypeOf, type InferenceProvider, type ProviderDescriptor, type ServiceType } from '../providers/inference-provider.js';
import { ProviderStats } from '../observability/stats/index.js';
import { MissingCapabilities } from './missing-capabilities.js';

/** How a provider takes part in the fleet, as configured. */
export interface ProviderMembershipOptions {
  /** Relative share for weighted strategies: a finite number >= 1. Default 1. */
  weight?: number;
  /** Most requests in flight at once on this provider. Default: no cap. */
  maxConcurrent?: number;
  /** Declared throughput (relative), for throughput-aware strategies. Default: unknown. */
  throughput?: number;
  /** Named pool, for pool routing. Default: none. */
  pool?: string;
  /** Requests the backend runs at once, for `least-load` (its load is running ÷ capacity). Default: unknown. */
  capacity?: number;
  /** Requests per minute the provider accepts, for `usage-based`. Default: no limit. */
  rpm?: number;
  /** Tokens (prompt + completion) per minute the provider accepts, for `usage-based`. Default: no limit. */
  tpm?: number;
  /** What operators call it (a 0G provider's configured name, shown on `/status`). Default: none. */
  name?: string;
}

/** Most models whose context window one provider's entry remembers. */
export const MAX_LEARNED_CONTEXTS = 1000;

/** Whether a provider takes new requests: `active`, or `draining` (finishing its in-flight requests before it leaves). */
export type MembershipState = 'active' | 'draining';

/** Whether the wallet can pay a 0G provider: `ok`, or `needs-funds` after it answered 402. */
export type FundingState = 'ok' | 'needs-funds';

/** Whether a provider's answers verify: `trusted`, or `untrusted` after a failed verification. */
export type TrustState = 'trusted' | 'untrusted';

/** A state with when it began and why. */
export interface StateNote<S extends string> {
  state: S;
  /** Epoch ms. */
  since: number;
  reason: string | null;
}

/**
 * One provider in the fleet: the adapter, its place in the joining order, its configuration,
 * and its health (breaker, funding, trust), load (in flight) and figures (stats). The registry
 * owns it; strategies see it through the read-only {@link ProviderSnapshot} it implements.
 */
export class ProviderEntry implements ProviderSnapshot {
  readonly id: string;
  readonly index: number;
  readonly provider: InferenceProvider;
  readonly breaker: CircuitBreaker;
  readonly stats = new ProviderStats();
  weight: number;
  maxConcurrent: number | undefined;
  throughput: number | undefined;
  pool: string | undefined;
  capacity: number | undefined;
  rpm: number | undefined;
  tpm: number | undefined;
  name: string | undefined;
  inFlight = 0;
  membership: StateNote<MembershipState>;
  funding: StateNote<FundingState>;
  trust: StateNote<TrustState>;
  /** Verification figures: answers verified, failed, unverifiable (no signature), and the last failure. */
  readonly verification: { verified: number; failed: number; unverifiable: number; lastFailure: { responseId: string; at: string } | null } = {
    verified: 0,
    failed: 0,
    unverifiable: 0,
    lastFailure: null,
  };
  /** What the answers it served cost, neuron (usage × its price when each was served). */
  spendNeuron = 0n;
  /** Models the provider said it does not serve, until when (epoch ms). */
  readonly unservedModels = new Map<string, number>();
  /** Routes and parameters the provider said it does not serve (404/405 on a route, an "unsupported parameter" 400), until when. */
  readonly missingCapabilities = new MissingCapabilities();
  /** Context windows the provider showed to be smaller than declared (a "context length exceeded" 400), by model; at most {@link MAX_LEARNED_CONTEXTS}. */
  readonly learnedContext = new Map<string, number>();
  lastHealthCheck: string | null = null;
  lastProbeError: string | null = null;
  /** When it joined (epoch ms). */
  readonly joinedAt: number;

  constructor(provider: InferenceProvider, index: number, breaker: CircuitBreaker, options: ProviderMembershipOptions, now: number) {
    this.id = provider.id;
    this.index = index;
    this.provider = provider;
    this.breaker = breaker;
    this.weight = options.weight ?? 1;
    this.maxConcurrent = options.maxConcurrent;
    this.throughput = options.throughput;
    this.pool = options.pool;
    this.capacity = options.capacity;
    this.rpm = options.rpm;
    this.tpm = options.tpm;
    this.name = options.name;
    this.joinedAt = now;
    this.membership = { state: 'active', since: now, reason: null };
    this.funding = { state: 'ok', since: now, reason: null };
    this.trust = { state: 'trusted', since: now, reason: null };
  }

  get descriptor(): ProviderDescriptor {
    return this.provider.descriptor;
  }

  /** True while it may be given a new request: active, breaker letting requests through, funded, trusted. */
  isAvailable(): boolean {
    return this.membership.state === 'active' && this.funding.state === 'ok' && this.trust.state === 'trusted' && this.breaker.isAvailable();
  }

  /** True while it is below its concurrency cap. */
  hasCapacity(): boolean {
    return this.maxConcurrent === undefined || this.inFlight < this.maxConcurrent;
  }

  /**
   * True when it serves `model` as a `serviceType` model (default `chat`; a provider listing no
   * models takes any chat model, never an embedding one) and has not said otherwise recently.
   */
  serves(model: string, now: number, serviceType: ServiceType = 'chat'): boolean {
    const models = this.provider.descriptor.models;
    let listed = models.length === 0 && serviceType === 'chat';
    for (const offer of models) {
      if (offer.id === model && serviceTypeOf(offer) === serviceType) {
        listed = true;
        break;
      }
    }
    if (!listed) return false;
    const until = this.unservedModels.get(model);
    if (until === undefined) return true;
    if (now < until) return false;
    this.unservedModels.delete(model);
    return true;
  }

  /**
   * The context window it has for `model`, tokens: the smaller of its offer's declared
   * `contextLength` and what it showed (see {@link learnContextLimit}); undefined when unknown.
   */
  contextWindow(model: string): number | undefined {
    const declared = this.provider.descriptor.models.find((offer) => offer.id === model)?.contextLength;
    const learned = this.learnedContext.get(model);
    if (declared === undefined) return learned;
    return learned === undefined ? declared : Math.min(declared, learned);
  }

  /** Remembers that `model` on this provider takes at most `tokens` (a lower figure wins; bounded map). */
  learnContextLimit(model: string, tokens: number): void {
    const known = this.learnedContext.get(model);
    if (known !== undefined && known <= tokens) return;
    this.learnedContext.delete(model);
    if (this.learnedContext.size >= MAX_LEARNED_CONTEXTS) this.learnedContext.delete(this.learnedContext.keys().next().value as string);
    this.learnedContext.set(model, Math.max(1, Math.floor(tokens)));
  }

  /** Why it is not in rotation now, or null when it is. */
  outOfRotationReason(): string | null {
    if (this.membership.state !== 'active') return `membership: ${this.membership.state}`;
    if (this.trust.state !== 'trusted') return `trust: ${this.trust.reason ?? this.trust.state}`;
    if (this.funding.state !== 'ok') return `funding: ${this.funding.reason ?? this.funding.state}`;
    const breaker = this.breaker.state;
    if (breaker === 'open') return `breaker open (${this.breaker.reason ?? 'failures'})`;
    return null;
  }
}
