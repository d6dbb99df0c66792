import { serviceTypeOf } from '../providers/inference-provider.js';
import { describeModels, type ModelView } from './describe-models.js';
import type { ProviderRegistry } from '../fleet/provider-registry.js';
import type { RoutePlanner } from './route-planner.js';

/** Numbers objects by identity, so a signature can tell a replaced object from the same one. */
const identities = new WeakMap<object, number>();
let nextIdentity = 1;
function identityOf(value: object): number {
  let id = identities.get(value);
  if (id === undefined) {
    id = nextIdentity++;
    identities.set(value, id);
  }
  return id;
}

/**
 * `GET /v1/models`, built once and kept until the fleet or the catalog changes. Each call compares a
 * signature of the fleet (every provider's id, offers and prices, whether it is in rotation, the models
 * it said it does not serve now) and of the routing options (aliases), and the catalog's models with
 * those it was built from: O(providers × offers + catalog models) map lookups, instead of describing
 * every model again (10,000 catalog models took about 1 s of CPU per call). A client key's view picks
 * its models out of the built list by id: O(models of the key).
 */
export class ModelListCache {
  readonly #registry: ProviderRegistry;
  readonly #planner: RoutePlanner;
  readonly #catalog: () => ReadonlyMap<string, number>;
  #signature: string | undefined;
  #catalogModels: ReadonlyMap<string, number> = new Map();
  #views: readonly ModelView[] = [];
  #byId = new Map<string, ModelView>();
  #builds = 0;

  constructor(registry: ProviderRegistry, planner: RoutePlanner, catalog: () => ReadonlyMap<string, number>) {
    this.#registry = registry;
    this.#planner = planner;
    this.#catalog = catalog;
  }

  /** How many times the list was built (for tests and diagnostics). */
  get builds(): number {
    return this.#builds;
  }

  /**
   * The models a client may see, sorted by id: every one, or (`allowed`: a key's `models`) only those
   * it names. The views are shared: do not modify them.
   */
  list(allowed?: readonly string[]): readonly ModelView[] {
    this.#refresh();
    if (allowed === undefined) return this.#views;
    const views: ModelView[] = [];
    for (const id of new Set(allowed)) {
      const view = this.#byId.get(id);
      if (view) views.push(view);
    }
    return views.sort((left, right) => (left.id < right.id ? -1 : left.id > right.id ? 1 : 0));
  }

  /** One model (or visible alias) a client may see, or undefined. */
  get(id: string, allowed?: readonly string[]): ModelView | undefined {
    if (allowed !== undefined && !allowed.includes(id)) return undefined;
    this.#refresh();
    return this.#byId.get(id);
  }

  #refresh(): void {
    const catalog = this.#catalog();
    const signature = this.#fleetSignature();
    if (signature === this.#signature && sameCatalog(catalog, this.#catalogModels)) return;
    this.#views = describeModels(this.#registry, this.#planner, catalog);
    this.#byId = new Map(this.#views.map((view) => [view.id, view]));
    this.#catalogModels = catalog;
    this.#signature = signature;
    this.#builds += 1;
  }

  #fleetSignature(): string {
    const now = Date.now();
    const parts: string[] = [String(identityOf(this.#planner.options))];
    for (const entry of this.#registry.entries.values()) {
      parts.push(`${entry.id}\u0001${entry.isAvailable() ? 1 : 0}`);
      for (const offer of entry.descriptor.models) {
        const type = serviceTypeOf(offer);
        parts.push(`${offer.id}\u0002${offer.inputPrice}\u0002${offer.outputPrice}\u0002${offer.contextLength ?? ''}\u0002${type}\u0002${entry.serves(offer.id, now, type) ? 1 : 0}`);
      }
      parts.push(entry.descriptor.verifiability);
    }
    return parts.join('\u0000');
  }
}

function sameCatalog(left: ReadonlyMap<string, number>, right: ReadonlyMap<string, number>): boolean {
  if (left === right) return true;
  if (left.size !== right.size) return false;
  for (const [model, count] of left) if (right.get(model) !== count) return false;
  return true;
}
