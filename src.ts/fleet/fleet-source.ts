import type { ProviderMembershipOptions } from './provider-entry.js';

/** A configured provider that could not be initialised (kept out of rotation, tried again later). */
export interface FailedProvider {
  readonly address: string;
  readonly code: string;
  readonly message: string;
  /** When it was last tried (ISO 8601). */
  readonly at: string;
}

/**
 * Where the fleet's providers come from (a configured list, the chain's catalog, the node API,
 * a watched file): it brings them into the registry and tells it what joined, changed or left.
 * The core starts it, ticks it periodically and closes it; it never imports the source.
 */
export interface FleetSource {
  /** Brings the configured providers into the registry; rejects only when nothing at all can serve. */
  start(): Promise<void>;
  /** Providers that could not be initialised (yet), with why. */
  readonly failed: readonly FailedProvider[];
  /** Periodic upkeep (retrying failed initialisations, refreshing a catalog). Must not reject. */
  tick(): Promise<void>;
  /** Facts about the wallet's funds for error details and `/admin` (e.g. the ledger balance), when known. */
  fundingSummary?(): object | undefined;
  /** A request was refused for want of funds: the source may look for a deposit or a top-up now (in the background; quick, must not throw). */
  fundsWanted?(): void;
  /** A request found no available provider for `model` (the source may bring one in, in the background). */
  demand?(model: string): void;
  /** Models the source knows of beyond the fleet (e.g. discovered but not funded yet), with how many providers offer each. */
  catalogModels?(): ReadonlyMap<string, number>;
  /** Reads the source's catalog again now and applies it; resolves with what changed (undefined when it has no catalog). */
  refreshCatalog?(): Promise<object | undefined>;
  /** Providers the source knows of that are not in the fleet, with why (for `/admin/providers`). */
  candidates?(): object[];
  /** Stops whatever the source runs (network connections, timers). */
  close(): Promise<void>;
}

/** A plain OpenAI-compatible server as the node API registers it (`POST /nodes/add`). */
export interface UpstreamNode {
  /** Its base URL (`/v1` is appended unless it ends with it); also its id unless `name` is given. */
  readonly url: string;
  readonly name?: string | undefined;
  /** The models it serves; absent: whatever model the client names (kept as they were on an update). */
  readonly models?: readonly string[] | undefined;
  readonly apiKey?: string | undefined;
}

/** How a node API call changed the fleet. */
export interface NodeChange {
  readonly id: string;
  /** `added`; `updated` in place (membership, models); `replaced` (new URL or key: the old one drained first). */
  readonly action: 'added' | 'updated' | 'replaced';
}

/**
 * Run-time membership changes (the node API, `POST/DELETE/PATCH /admin/providers`): the HTTP layer
 * calls this port; the catalog implements it over the registry. Removals drain first.
 */
export interface FleetControl {
  /** Adds a node, or updates the one with the same id (an existing URL). */
  upsertNode(node: UpstreamNode, membership: ProviderMembershipOptions): Promise<NodeChange>;
  /** Adds a 0G provider by address (initialised through the wallet first; rejects with why it cannot serve). */
  addZg(address: string, membership: ProviderMembershipOptions): Promise<string>;
  /** Takes a provider out: no new requests at once; resolves once its in-flight requests finished and it left. False when unknown. */
  remove(id: string, reason: string): Promise<boolean>;
  /** The id a node URL (or name) is known by, as `upsertNode` gave it. */
  nodeId(url: string): string;
}
