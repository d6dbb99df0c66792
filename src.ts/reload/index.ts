export { applyConfigChange, type ReloadReport, type ReloadTarget } from './apply-config-change.js';
export type { FleetChangeReport } from './fleet-changes.js';
export { changedOptions, classifyChanges, LIVE_OPTIONS } from './live-options.js';
export { watchConfigFile, type ConfigFileWatcher, type ConfigFileWatcherOptions } from './config-file-watcher.js';
export { STORE_KEYS_POLL_MS } from './store-key-poller.js';
