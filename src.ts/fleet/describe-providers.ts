import type { LatencySummary, ProviderLastError } from '../observability/stats/index.js';
import type { ProviderEntry } from './provider-entry.js';
import type { ProviderRegistry } from './provider-registry.js';

/** One model offer as JSON shows it (prices are decimal strings of neuron per token). */
export interface ModelOfferView {
  id: string;
  upstreamId?: string;
  inputPrice: string;
  outputPrice: string;
  contextLength?: number;
  /** What it is offered as, when not `chat`. */
  type?: string;
}

/**
 * Everything known about one provider, in one JSON-ready shape: the single view `/health`,
 * `/admin/providers`, `/metrics` and `/status` are all built from.
 */
export interface ProviderView {
  id: string;
  /** What operators named it (a 0G provider's `providers` entry name); null: not named. */
  name: string | null;
  address: string;
  kind: string;
  endpoint: string;
  models: ModelOfferView[];
  verifiable: boolean;
  verifiability: string;
  weight: number;
  maxConcurrent: number | null;
  throughput: number | null;
  pool: string | null;
  /** May take a new request now. */
  inRotation: boolean;
  /** Why not, when it may not. */
  outOfRotationReason: string | null;
  /** Breaker not open (the `/health` notion of healthy). */
  healthy: boolean;
  membership: { state: string; since: string; reason: string | null };
  funding: { state: string; since: string; reason: string | null };
  trust: { state: string; since: string; reason: string | null };
  /** Answers verified (by sampling or clients), failed, unverifiable; the last failure. */
  verification: { verified: number; failed: number; unverifiable: number; lastFailure: { responseId: string; at: string } | null };
  breaker: { state: string; reason: string | null; retryAt: string | null; windowRequests: number; windowFailures: number; consecutiveFailures: number };
  inFlight: number;
  attempts: number;
  served: number;
  failures: number;
  /** Attempts that ended because the client left (or stopped reading): not counted in `failures`. */
  clientAborts: number;
  errorRate: number;
  lastError: ProviderLastError | null;
  ewmaTtfbMs: number | null;
  ewmaLatencyMs: number | null;
  outputTokensPerSecond: number | null;
  latencyMs: LatencySummary;
  promptTokens: number;
  completionTokens: number;
  /** What its answers cost in all, neuron (decimal string). */
  spendNeuron: string;
  /** Routes (`completions`) and route parameters (`completions:logprobs`) it said it does not serve, until when: left out of requests that need them, nothing else. */
  missingCapabilities: Array<{ capability: string; until: string }>;
  lastHealthCheck: string | null;
  lastProbeError: string | null;
  joinedAt: string;
}

function note<S extends string>(value: { state: S; since: number; reason: string | null }): { state: S; since: string; reason: string | null } {
  return { state: value.state, since: new Date(value.since).toISOString(), reason: value.reason };
}

const round = (value: number | undefined): number | null => (value === undefined ? null : Math.round(value * 100) / 100);

/** The view of one provider. */
export function describeProvider(entry: ProviderEntry, now = Date.now()): ProviderView {
  const descriptor = entry.descriptor;
  const stats = entry.stats;
  const breaker = entry.breaker.snapshot();
  const outOfRotationReason = entry.outOfRotationReason();
  return {
    id: entry.id,
    name: entry.name ?? null,
    address: descriptor.address,
    kind: descriptor.kind,
    endpoint: descriptor.endpoint,
    models: descriptor.models.map((offer) => ({
      id: offer.id,
      ...(offer.upstreamId ? { upstreamId: offer.upstreamId } : {}),
      inputPrice: offer.inputPrice.toString(),
      outputPrice: offer.outputPrice.toString(),
      ...(offer.contextLength !== undefined ? { contextLength: offer.contextLength } : {}),
      ...(offer.serviceType !== undefined && offer.serviceType !== 'chat' ? { type: offer.serviceType } : {}),
    })),
    verifiable: descriptor.verifiable,
    verifiability: descriptor.verifiability,
    weight: entry.weight,
    maxConcurrent: entry.maxConcurrent ?? null,
    throughput: entry.throughput ?? null,
    pool: entry.pool ?? null,
    inRotation: outOfRotationReason === null,
    outOfRotationReason,
    healthy: breaker.state !== 'open',
    membership: note(entry.membership),
    funding: note(entry.funding),
    trust: note(entry.trust),
    verification: { ...entry.verification },
    breaker,
    inFlight: entry.inFlight,
    attempts: stats.attempts,
    served: stats.served,
    failures: stats.failures,
    clientAborts: stats.clientAborts,
    errorRate: Math.round(stats.errorRate * 1000) / 1000,
    lastError: stats.lastError,
    ewmaTtfbMs: round(stats.ewmaTtfbMs),
    ewmaLatencyMs: round(stats.ewmaLatencyMs),
    outputTokensPerSecond: round(stats.outputTokensPerSecond),
    latencyMs: stats.latency(),
    promptTokens: stats.promptTokens,
    completionTokens: stats.completionTokens,
    spendNeuron: entry.spendNeuron.toString(),
    missingCapabilities: entry.missingCapabilities.list(now),
    lastHealthCheck: entry.lastHealthCheck,
    lastProbeError: entry.lastProbeError,
    joinedAt: new Date(entry.joinedAt).toISOString(),
  };
}

/** The view of every provider of the fleet, in joining order. */
export function describeProviders(registry: ProviderRegistry): ProviderView[] {
  const now = Date.now();
  return registry.list().map((entry) => describeProvider(entry, now));
}
