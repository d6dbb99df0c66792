import type { DeclaredCapabilities, RequestFeature } from './inference-provider.js';

/** The features the gateway tells apart in a request, in the order they are named in errors. */
export const REQUEST_FEATURES: readonly RequestFeature[] = ['tools', 'json_schema', 'vision', 'logprobs'];

/** A declared capability list (`['tools', 'vision']`) as a per-feature table: listed features served, the other known ones not. */
export function capabilityTable(list: readonly string[]): DeclaredCapabilities {
  const table: Partial<Record<RequestFeature, boolean>> = {};
  for (const feature of REQUEST_FEATURES) table[feature] = list.includes(feature);
  return table;
}

/**
 * What a `/v1/models` entry (OpenRouter's shape, which 0G multi-model providers use) says about the
 * features: `supported_parameters` tells tools (`tools`), json_schema (`structured_outputs` or
 * `response_format`) and logprobs (`logprobs`); `architecture.input_modalities` (or
 * `input_modalities`) tells vision (`image`). What the entry does not mention stays unsaid.
 */
export function catalogCapabilities(entry: Record<string, unknown>): DeclaredCapabilities | undefined {
  const table: Partial<Record<RequestFeature, boolean>> = {};
  const parameters = entry.supported_parameters;
  if (Array.isArray(parameters)) {
    const listed = new Set(parameters.filter((value): value is string => typeof value === 'string'));
    table.tools = listed.has('tools');
    table.json_schema = listed.has('structured_outputs') || listed.has('response_format');
    table.logprobs = listed.has('logprobs');
  }
  const architecture = typeof entry.architecture === 'object' && entry.architecture !== null ? (entry.architecture as Record<string, unknown>) : {};
  const modalities = architecture.input_modalities ?? entry.input_modalities;
  if (Array.isArray(modalities)) table.vision = modalities.includes('image');
  return Object.keys(table).length > 0 ? table : undefined;
}
