/**
 * Bodies and answers of the run-time membership routes (the node API and the admin provider
 * routes): the request schemas validate the bodies and document them; the answer schemas document
 * (and the tests check) what the routes send.
 */
import { z } from 'zod';
import { providerNameSchema, providerUrlSchema } from '../../config/gateway-config-schema.js';
import { providerViewSchema, queueStatsSchema } from './response-schemas.js';

const poolName = z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/, 'must be 1-100 characters of A-Z a-z 0-9 _ . -');

/** Membership options a run-time add may set (as in the config's provider entries). */
const membershipFields = {
  weight: z.number().int().min(1).max(1000).optional().describe('Relative share for weighted strategies. Default 1.'),
  maxConcurrent: z.number().int().positive().optional().describe('Most requests in flight on it at once; beyond, requests wait in the admission queue. Default: no cap.'),
  pool: poolName.optional().describe('The pool it belongs to.'),
  throughput: z.number().positive().optional(),
  capacity: z.number().int().positive().optional(),
  rpm: z.number().int().positive().optional(),
  tpm: z.number().int().positive().optional(),
};

/** `POST /nodes/add`. */
export const nodeAddRequestSchema = z
  .object({
    url: providerUrlSchema.describe('The server\'s base URL, e.g. `http://10.0.0.5:8000` (`/v1` is appended unless it ends with it); its id in the fleet. http or https only, no user name or password (use `apiKey`), not a link-local or metadata address, nor a range of `providerUrls.deny`.'),
    name: providerNameSchema.optional().describe('Its id instead of the URL (visible ASCII, no control characters).'),
    models: z.array(z.string().min(1).max(256)).max(1000).optional().describe('The models it serves. Default: whatever model the client names.'),
    apiKey: z.string().min(1).max(4096).optional().describe('Sent upstream as `Authorization: Bearer`; never shown.'),
    ...membershipFields,
  })
  .strict();

/** `POST /admin/providers`. */
export const adminProviderAddSchema = z
  .object({
    address: z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'must be a 0x-prefixed 20-byte hex address').describe('A 0G provider address (acknowledged and funded through the gateway wallet before it serves).'),
    ...membershipFields,
  })
  .strict();

/** `PATCH /admin/providers/{id}`: the fields given change; `null` clears a cap or pool. */
export const adminProviderPatchSchema = z
  .object({
    weight: z.number().int().min(1).max(1000).optional(),
    maxConcurrent: z.number().int().positive().nullable().optional().describe('`null`: no cap.'),
    pool: poolName.nullable().optional().describe('`null`: no pool.'),
    throughput: z.number().positive().nullable().optional(),
    capacity: z.number().int().positive().nullable().optional(),
    rpm: z.number().int().positive().nullable().optional(),
    tpm: z.number().int().positive().nullable().optional(),
  })
  .strict();

/** What an add, update or removal did. */
export const memberChangeSchema = z.object({
  id: z.string(),
  action: z.enum(['added', 'updated', 'replaced', 'draining', 'removed']),
  provider: providerViewSchema.nullable().describe('The provider now (null once it left).'),
});

/** One node of `GET /nodes/status`. */
export const nodeStatusSchema = z.object({
  id: z.string(),
  url: z.string(),
  kind: z.string(),
  models: z.array(z.string()),
  weight: z.number(),
  maxConcurrent: z.number().int().nullable(),
  pool: z.string().nullable(),
  state: z.string().describe('`active` or `draining`.'),
  healthy: z.boolean(),
  inRotation: z.boolean(),
  inFlight: z.number().int(),
  served: z.number().int(),
  errorRate: z.number(),
  ewmaLatencyMs: z.number().nullable(),
});

/** `GET /nodes/status`. */
export const nodesStatusSchema = z.object({ nodes: z.array(nodeStatusSchema), queue: queueStatsSchema });

/** `GET /admin/queue`. */
export const adminQueueSchema = queueStatsSchema.extend({ retryAfterMs: z.number().int(), defaultPriority: z.number().int(), inFlight: z.number().int() });
