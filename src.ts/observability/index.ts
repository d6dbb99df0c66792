export * from './channels.js';
export * from './store-counts.js';
