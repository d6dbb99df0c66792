export { AffinityRouter, AFFINITY_DECISIONS, type AffinityRouterOptions, type AffinityStats, type CacheTokens } from './affinity-router.js';
export { AffinityRequest, sharedPositions, type AffinityCandidate, type AffinityChoice, type AffinityDecision, type AffinityHost } from './affinity-request.js';
export { DEFAULT_AFFINITY_SETTINGS, CHARS_PER_TOKEN, type AffinitySettings } from './affinity-settings.js';
export { FleetLoad, FLEET_LOAD_PERIOD_MS, FLEET_LOAD_TTL_PERIODS, type FleetLoadOptions, type FleetLoadStats } from './fleet-load.js';
export { imbalanceOf, type LoadBounds } from './load-bounds.js';
export { prefixBlockHashes, renderPrompt } from './prefix-blocks.js';
export { PrefixIndex, BLOCK_STATE_BYTES, HOLDER_STATE_BYTES, type PrefixIndexOptions, type PrefixIndexStats, type PrefixMatch } from './prefix-index.js';
export { readWithin } from './read-within.js';
