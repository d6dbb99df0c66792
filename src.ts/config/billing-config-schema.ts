import { z } from 'zod';

const neuron = z.union([z.string().regex(/^\d+$/, 'must be a whole number of neuron'), z.number().int().min(0), z.bigint().min(0n)]);

/**
 * Settlement auditing: every served 0G answer's fee is counted once per wallet and provider, the
 * wallet's settlements are followed on chain and reconciled with it, and idle sub-accounts are
 * refunded. Every field optional.
 */
export const billingConfigSchema = z
  .object({
    /**
     * JSON file keeping the billing state across restarts: the chain cursor, per wallet and provider the
     * fees served and settled, flags and refunds (written atomically, the cursor together with what it
     * covers). Default: none, kept in memory only (a restart forgets the fees served before it).
     */
    stateFile: z.string().min(1).optional(),
    /** How often settlements are read from the chain and reconciled (and idle funds checked), ms. Default 60000. */
    reconcileInterval: z.number().int().positive().default(60_000),
    /**
     * How far a provider's settlements may exceed the fees served through this wallet before it is
     * flagged `overcharging`: more than `absolute` (neuron) + `relative` × served. Defaults
     * 1000000000000000 neuron (0.001 0G) and 0.02 (2 %).
     */
    tolerance: z
      .object({
        /** Excess always tolerated, neuron. Default 1000000000000000 (0.001 0G). */
        absolute: neuron.default('1000000000000000'),
        /** Excess tolerated as a share of the fees served. Default 0.02 (2 %). */
        relative: z.number().min(0).max(100).default(0.02),
      })
      .strict()
      .prefault({}),
    /**
     * A 0G provider that served nothing for this long (ms) leaves the fleet and its sub-account is
     * refunded (it is funded again when a request needs it). `0` disables. Default 86400000 (24 h).
     */
    reclaimAfter: z.number().int().min(0).default(86_400_000),
    /** Most blocks read in one `eth_getLogs` call. Default 5000. */
    maxBlockRange: z.number().int().min(1).max(1_000_000).default(5000),
    /** The block a state without a cursor starts following the chain from. Default: the latest block when first started. */
    startBlock: z.number().int().min(0).optional(),
  })
  .strict();

/** The `billing` option, validated. */
export type BillingConfig = z.output<typeof billingConfigSchema>;
