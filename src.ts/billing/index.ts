export { BillingService, type BillingServiceOptions } from './billing-service.js';
export { billingReport, type BillingProviderView, type BillingView } from './billing-report.js';
export { SettlementReconciler, overchargingReason, type ReconciliationSummary, type SettlementReconcilerOptions } from './settlement-reconciler.js';
export { FundReclaimer, type FundReclaimerOptions } from './fund-reclaimer.js';
export { BillingStateFile, booksFromJson, booksToJson } from './billing-state-file.js';
export * from './billing-book.js';
export type { WalletChain } from './wallet-chain.js';
