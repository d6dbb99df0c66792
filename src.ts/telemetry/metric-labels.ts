/**
 * Label values for `/metrics`, kept to bounded sets: a label value that comes from a client
 * (a path, a model name an any-model provider accepted) or from free text (a strategy's reason)
 * never becomes a series of its own. Request ids never become labels at all.
 */

/** The value standing in for anything outside a label's known set. */
export const OTHER_LABEL = 'other';
/** The value of a label that does not apply (no provider served, no model named...). */
export const NONE_LABEL = 'none';

/**
 * Keeps at most `limit` distinct values of one label; later newcomers become `other`. A guard
 * against a churning fleet: the provider and model labels come from the fleet, which is bounded,
 * but discovery may bring many providers over a long run.
 */
export class BoundedLabel {
  readonly #seen = new Set<string>();
  readonly #limit: number;

  /** @param limit most distinct values. Default 500. */
  constructor(limit = 500) {
    this.#limit = limit;
  }

  /** `value` when known or while there is room; `other` after; `none` for undefined or empty. */
  of(value: string | undefined): string {
    if (value === undefined || value === '') return NONE_LABEL;
    if (this.#seen.has(value)) return value;
    if (this.#seen.size >= this.#limit) return OTHER_LABEL;
    this.#seen.add(value);
    return value;
  }
}

/**
 * The model label: a model group some provider of the fleet lists (its descriptor's offers),
 * else `other` (a provider that takes any model would otherwise let clients mint labels).
 * The fleet's models are read again, at most once a second, when an unknown name shows up.
 */
export class ModelLabel {
  readonly #servedModels: () => readonly string[];
  readonly #bounded = new BoundedLabel();
  readonly #now: () => number;
  #known = new Set<string>();
  #readAt = Number.NEGATIVE_INFINITY;

  constructor(servedModels: () => readonly string[], now: () => number = Date.now) {
    this.#servedModels = servedModels;
    this.#now = now;
  }

  of(model: string | undefined): string {
    if (model === undefined || model === '') return NONE_LABEL;
    if (!this.#known.has(model) && this.#now() - this.#readAt >= 1000) {
      this.#known = new Set(this.#servedModels());
      this.#readAt = this.#now();
    }
    return this.#known.has(model) ? this.#bounded.of(model) : OTHER_LABEL;
  }
}

const REASON_KIND = /^[a-z][a-z_-]{0,39}/;

/**
 * The kind of a routing reason: its leading word (lower-case letters, `-` and `_`, at most 40),
 * so `session` stays `session` and `cheapest 3 neuron` becomes `cheapest`; a pick without a
 * reason is `default`, and a reason that starts otherwise is `other`. Figures never reach a label.
 */
export function reasonKind(reason: string | undefined): string {
  if (reason === undefined || reason === '') return 'default';
  return REASON_KIND.exec(reason.toLowerCase())?.[0] ?? OTHER_LABEL;
}

/**
 * The route label of a request path: the path itself when the server has such a route,
 * `/docs/{asset}` for the API docs' assets, else `other` (404s for made-up paths).
 */
export function routeLabel(path: string, knownRoutes: ReadonlySet<string>): string {
  if (knownRoutes.has(path)) return path;
  if (path.startsWith('/docs/') && knownRoutes.has('/docs/{asset}')) return '/docs/{asset}';
  return OTHER_LABEL;
}
