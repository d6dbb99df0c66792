export { LruSessionStore, type LruSessionStoreOptions } from './lru-session-store.js';
export type { ResponseRecord, SessionStore } from './session-store.js';
