import { GatewayError } from '../errors/index.js';
import type { ProviderEntry } from '../fleet/provider-entry.js';
import { FEATURE_PARAMS, type RequestFeature, type RequestNeeds } from './request-needs.js';

/** What the diagnosis asks of one target of a plan. */
export interface PlanCheck {
  readonly model: string;
  /** Serves the model, in the pool, passes the request's filter. */
  acceptsIgnoringNeeds(entry: ProviderEntry, now: number): boolean;
  /** The request's estimate fits the provider's known context window for the model. */
  fits(entry: ProviderEntry): boolean;
  /** The first feature of the request (or of `only`) the provider cannot be sent. */
  missingFeature(entry: ProviderEntry, only?: readonly RequestFeature[]): RequestFeature | undefined;
}

/**
 * Why no provider of a plan can take a request that some provider could take without its needs:
 * - some provider's context fits but none serves a feature: 400 `unsupported_parameter` naming the
 *   first feature no fitting provider serves (declared not served, or not declared under `require_parameters`);
 * - no provider's context fits (the requested model, its fallbacks and its context-window
 *   fallbacks): 400 `context_length_exceeded` with the figures.
 * Undefined when no provider serves the plan at all (that is another error, raised elsewhere).
 */
export function needsError(entries: readonly ProviderEntry[], targets: readonly PlanCheck[], needs: RequestNeeds, now: number, model: string): GatewayError | undefined {
  let largest: number | undefined;
  let anyCandidate = false;
  const fitting: Array<{ entry: ProviderEntry; target: PlanCheck }> = [];
  for (const entry of entries) {
    for (const target of targets) {
      if (!target.acceptsIgnoringNeeds(entry, now)) continue;
      anyCandidate = true;
      if (target.fits(entry)) fitting.push({ entry, target });
      else largest = Math.max(largest ?? 0, entry.contextWindow(target.model) ?? 0);
    }
  }
  if (!anyCandidate) return undefined;
  if (fitting.length > 0) {
    // The first feature no fitting provider serves; else (each lacks another one) the first one missing.
    const named =
      needs.features.find((feature) => fitting.every(({ entry, target }) => target.missingFeature(entry, [feature]) !== undefined)) ??
      fitting.map(({ entry, target }) => target.missingFeature(entry)).find((missing) => missing !== undefined);
    return new GatewayError('unsupported_parameter', `No provider of \`${model}\` serves ${named !== undefined ? `\`${named}\`` : 'a feature of this request'} (providers that declare it are needed${named === 'vision' ? ': image content parts' : ''})`, {
      param: named !== undefined ? FEATURE_PARAMS[named] : null,
      details: { feature: named ?? null, features: needs.features, providers: fitting.map(({ entry }) => entry.id) },
    });
  }
  return new GatewayError(
    'context_length_exceeded',
    `The request needs about ${needs.tokens} tokens (prompt ~${needs.promptTokens} + completion ${needs.completionTokens}); the largest context window of \`${model}\` and its fallbacks is ${largest ?? 0} tokens. Shorten the prompt or lower max_tokens`,
    { param: 'messages', details: { estimatedTokens: needs.tokens, promptTokens: needs.promptTokens, completionTokens: needs.completionTokens, largestContext: largest ?? 0 } },
  );
}
