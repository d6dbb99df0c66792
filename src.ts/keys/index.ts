export {
  apiKeySchema,
  apiKeysConfigSchema,
  parseApiKeys,
  parseApiKey,
  serializeApiKeyEntry,
  type ApiKeyBudget,
  type ApiKeyConfig,
  type ApiKeyEntry,
  type ApiKeyLimitsConfig,
  type ParseApiKeysOptions,
} from './api-key-schema.js';
export {
  API_KEY_PREFIX,
  fingerprintOfApiKey,
  fingerprintOfHash,
  generateApiKey,
  hashApiKey,
} from './api-key-secrets.js';
export { createApiKey, type CreatedApiKey } from './create-api-key.js';
export { loadKeysFile, MAX_KEYS_FILE_BYTES } from './load-keys-file.js';
export {
  ApiKeyRegistry,
  type ApiKeyLimits,
  type ApiKeyPublicView,
  type ApiKeyRegistryOptions,
  type AuthenticatedKey,
  type AuthenticationFailure,
} from './api-key-registry.js';
export { BUDGET_PERIODS, periodBounds, type BudgetPeriod, type PeriodBounds } from './budget-period.js';
export { TOTAL_WINDOW, type CounterStore, type WindowSnapshot } from '../stores/counter-store.js';
export { MemoryCounterStore, type MemoryCounterStoreOptions } from '../stores/memory-counter-store.js';
export { exceedsLimit, msUntilFits, slidingUsage } from './sliding-window.js';
export { costOf, type TokenPrice, type UsageTokens } from './cost.js';
export { KeySpendTracker, type KeySpendTrackerOptions, type KeyTotals, type PeriodSpend } from './key-spend-tracker.js';
export { KeyLimiter, type AdmissionRequest, type KeyLimiterOptions } from './key-limiter.js';
export type { KeyTicket } from './key-ticket.js';
export { ClientKeys, type ClientKeysOptions, type KeyView } from './client-keys.js';
