export { TOTAL_WINDOW, type CounterStore, type WindowSnapshot } from './counter-store.js';
export { MemoryCounterStore, type MemoryCounterStoreOptions } from './memory-counter-store.js';
export { exceedsLimit, msUntilFits, slidingUsage } from './sliding-window.js';
