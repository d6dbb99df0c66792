import { z } from 'zod';

const neuron = z.string().regex(/^-?\d+$/).describe('neuron, decimal');
const time = z.string().describe('ISO 8601');

/** One provider of `GET /admin/billing`. */
export const billingProviderSchema = z.object({
  provider: z.string(),
  inFleet: z.boolean(),
  status: z.enum(['ok', 'overcharging']),
  answers: z.number().int().describe('Answers served through the wallet whose fee is counted.'),
  served: neuron.describe('Fees of those answers (usage × price), neuron.'),
  settled: neuron.describe('What the provider took on chain (settlements of the wallet), neuron.'),
  pending: neuron.describe('served − settled: not settled yet.'),
  excess: neuron.describe('settled − served − acceptedExcess, what the tolerance is applied to.'),
  allowedExcess: neuron,
  acceptedExcess: neuron.describe('Excess accepted by readmitting the provider.'),
  settlements: z.number().int(),
  refusedSettlements: z.number().int(),
  lastServedAt: time.nullable(),
  lastSettlement: z.object({ block: z.number().int(), transaction: z.string(), at: time, amount: neuron, status: z.number().int() }).nullable(),
  overchargingSince: time.nullable(),
  sdkFeeCache: neuron.nullable().describe("The SDK's fee cache for the provider (auto-funding's fallback); null when not in the fleet."),
  subAccount: z
    .object({
      exists: z.boolean(),
      balance: neuron,
      pendingRefund: neuron,
      locked: neuron.describe('balance − pendingRefund'),
      refunds: z.array(z.object({ amount: neuron, requestedAt: time, unlockAt: time, processed: z.boolean() })),
    })
    .nullable()
    .describe('The sub-account on chain now; null when it could not be read.'),
  refund: z
    .object({
      state: z.enum(['requested', 'retrieved', 'cancelled']),
      reason: z.string(),
      requestedAt: time,
      amount: neuron,
      unlockAt: time.nullable(),
      retrieved: neuron,
      settledAt: time.nullable(),
      transactions: z.array(z.string()),
    })
    .nullable()
    .describe("The gateway's last refund of this sub-account."),
});

/** `GET /admin/billing`. */
export const adminBillingSchema = z.object({
  enabled: z.boolean().describe('False without a 0G wallet.'),
  wallet: z.string().nullable(),
  network: z.string().nullable().describe('`<chain id>:<inference contract>`'),
  persistence: z.enum(['file', 'memory']),
  cursor: z.number().int().nullable().describe('The last block whose settlements are counted.'),
  lastReconciliation: z
    .object({ at: time, fromBlock: z.number().int(), toBlock: z.number().int(), settlements: z.number().int(), flagged: z.array(z.string()), durationMs: z.number() })
    .nullable(),
  tolerance: z.object({ absolute: neuron, relative: z.number() }),
  reclaimAfterMs: z.number().int(),
  totals: z.object({ served: neuron, settled: neuron, pending: neuron, locked: neuron, refundsPending: neuron }),
  providers: z.array(billingProviderSchema),
  refundsPending: z.array(z.object({ provider: z.string(), amount: neuron, unlockAt: time.nullable(), requestedAt: time })),
  funding: z.record(z.string(), z.unknown()).nullable().describe('Ledger and sub-account balances as the funding keeper last read them (0G).'),
});
