export { LruSessionStore, type LruSessionStoreOptions } from './lru-session-store.js';
export { responseRecordBytes, type ResponseRecord, type SessionStore, type StoredConversation } from './session-store.js';
export { RedisConnection, redactRedisUrl, type RedisConnectionOptions } from './redis/redis-connection.js';
export { RedisSessionStore, type RedisSessionStoreOptions } from './redis/redis-session-store.js';
export { RedisCounterStore, type RedisCounterStoreOptions } from './redis/redis-counter-store.js';
export { jsonValueCodec, type ValueCodec } from './redis/value-codec.js';
export { FailSoftSessionStore, type FailSoftSessionStoreOptions } from './fail-soft/fail-soft-session-store.js';
export { FailSoftCounterStore, type FailSoftCounterStoreOptions } from './fail-soft/fail-soft-counter-store.js';
export { RedisKeyDirectory, type RedisKeyDirectoryOptions, type StoredApiKey, type StoredApiKeys } from './redis/redis-key-directory.js';
