import { z } from 'zod';
import { GatewayError } from '../errors/index.js';
import { knownOptionNames, rawIssuePath, rememberRawPath, safeIssueMessage, safePathParts } from '../internal/describe-schema-issue.js';
import { BUDGET_PERIODS, type BudgetPeriod } from './budget-period.js';
import { API_KEY_HASH_PATTERN, hashApiKey } from './api-key-secrets.js';

/** A key's budget: at most `amount` neuron spent per `period`. */
export interface ApiKeyBudget {
  /** Neuron (1 0G = 10^18 neuron), a positive integer. */
  readonly amount: bigint;
  /** The period the amount is for (calendar periods in UTC; `total` never resets). */
  readonly period: BudgetPeriod;
}

/**
 * A client key as the gateway keeps it: validated, frozen, and with its plaintext already
 * replaced by a hash. Absent limits are unlimited.
 */
export interface ApiKeyEntry {
  /** The name shown in `/admin/keys` and logs; unique. 1-100 of `A-Z a-z 0-9 . _ @ -`. */
  readonly id: string;
  /** `sha256:<64 lowercase hex>` of the key. */
  readonly hash: string;
  /** Requests per minute (sliding window). Default: unlimited. */
  readonly rpm?: number;
  /** Tokens (prompt + completion) per minute (sliding window). Default: unlimited. */
  readonly tpm?: number;
  /** Requests in flight at once, per gateway instance. Default: unlimited. */
  readonly maxConcurrent?: number;
  /** Spending limit. Default: none. */
  readonly budget?: ApiKeyBudget;
  /** Model ids the key may use. Default (absent): every model. */
  readonly models?: readonly string[];
  /**
   * The highest admission-queue priority (0-10) its requests get: a higher `X-Priority` / `user_level`
   * is lowered to it. Default (absent): the queue's `defaultPriority`.
   */
  readonly maxPriority?: number;
  /** When the key stops working, ISO 8601 (normalised to UTC, `toISOString()`). Default: never. */
  readonly expiresAt?: string;
  /** A disabled key is refused like an unknown one. Default: false. */
  readonly disabled: boolean;
}

const positiveInt = z.int().positive();
const keyId = z.string().regex(/^[A-Za-z0-9._@-]{1,100}$/, 'must be 1 to 100 characters from A-Z a-z 0-9 . _ @ -');
/** Plaintext keys: long enough not to be guessed, and sendable in a header as one token. */
const plaintextKey = z
  .string()
  .min(16, 'must be at least 16 characters')
  .max(512, 'must be at most 512 characters')
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');
const storedHash = z
  .string()
  .transform((hash) => hash.toLowerCase())
  .pipe(z.string().regex(API_KEY_HASH_PATTERN, "must be 'sha256:' followed by 64 hex digits"));
const neuronAmount = z
  .union([
    z.string().regex(/^\d+$/, 'must be a whole number of neuron, in decimal digits'),
    z.number().refine(Number.isSafeInteger, 'must be an integer up to 2^53 - 1 (write larger amounts as a string)'),
  ])
  .transform((amount) => BigInt(amount))
  .refine((amount) => amount > 0n, 'must be greater than 0');
const budgetSchema = z.object({ amount: neuronAmount, period: z.enum(BUDGET_PERIODS) }).strict();
const expiry = z.union([z.iso.datetime({ offset: true }), z.iso.date()], { error: 'must be an ISO 8601 date or date-time' });

/** Which field a parsed entry's hash came from, so duplicate-key errors can name it. */
const hashSource = new WeakMap<ApiKeyEntry, 'key' | 'hash'>();

/**
 * One client key in configuration. Exactly one of `key` (plaintext, hashed at once and never kept)
 * or `hash` (`sha256:<hex>`). Unknown fields are refused. Parses to a frozen {@link ApiKeyEntry}.
 */
export const apiKeySchema = z
  .object({
    id: keyId,
    key: plaintextKey.optional(),
    hash: storedHash.optional(),
    rpm: positiveInt.optional(),
    tpm: positiveInt.optional(),
    maxConcurrent: positiveInt.optional(),
    budget: budgetSchema.optional(),
    models: z.array(z.string().min(1)).min(1, 'must name at least one model (omit it to allow all)').optional(),
    maxPriority: z.int().min(0).max(10).optional(),
    expiresAt: expiry.optional(),
    disabled: z.boolean().optional(),
  })
  .strict()
  .superRefine((value, context) => {
    if ((value.key === undefined) === (value.hash === undefined)) {
      context.addIssue({ code: 'custom', path: ['key'], message: 'exactly one of key or hash is required' });
    }
  })
  .transform((value): ApiKeyEntry => {
    const entry: ApiKeyEntry = Object.freeze({
      id: value.id,
      hash: value.hash ?? hashApiKey(value.key ?? ''),
      ...(value.rpm !== undefined ? { rpm: value.rpm } : {}),
      ...(value.tpm !== undefined ? { tpm: value.tpm } : {}),
      ...(value.maxConcurrent !== undefined ? { maxConcurrent: value.maxConcurrent } : {}),
      ...(value.budget !== undefined ? { budget: Object.freeze({ ...value.budget }) } : {}),
      ...(value.models !== undefined ? { models: Object.freeze([...new Set(value.models)]) } : {}),
      ...(value.maxPriority !== undefined ? { maxPriority: value.maxPriority } : {}),
      ...(value.expiresAt !== undefined ? { expiresAt: new Date(value.expiresAt).toISOString() } : {}),
      disabled: value.disabled ?? false,
    });
    hashSource.set(entry, value.hash === undefined ? 'key' : 'hash');
    return entry;
  });

/** A list of client keys: every entry valid, ids unique, and no key listed twice. */
export const apiKeysConfigSchema = z.array(apiKeySchema).superRefine((entries, context) => {
  const byId = new Map<string, number>();
  const byHash = new Map<string, number>();
  entries.forEach((entry, index) => {
    const sameId = byId.get(entry.id);
    if (sameId !== undefined) {
      context.addIssue({ code: 'custom', path: [index, 'id'], message: `id "${entry.id}" is already used by entry ${sameId}` });
    }
    const sameKey = byHash.get(entry.hash);
    if (sameKey !== undefined) {
      const other = entries[sameKey]?.id ?? '';
      context.addIssue({ code: 'custom', path: [index, hashSource.get(entry) ?? 'hash'], message: `is the same key as "${other}"` });
    }
    byId.set(entry.id, index);
    byHash.set(entry.hash, index);
  });
});

/** A client key as written in configuration or a keys file (the input of {@link apiKeySchema}). */
export type ApiKeyConfig = z.input<typeof apiKeySchema>;

/** The limits part of {@link ApiKeyConfig}: everything but `id`, `key` and `hash`. */
export type ApiKeyLimitsConfig = Omit<ApiKeyConfig, 'id' | 'key' | 'hash'>;

/** Options for {@link parseApiKeys}. */
export interface ParseApiKeysOptions {
  /** Name of the list in error `param`s, e.g. `apiKeys[2].rpm`. Default: `apiKeys`. */
  param?: string;
  /** Where the list came from (a file path), named in error messages. Default: none. */
  source?: string;
}

/**
 * Validates a list of client keys and returns them hashed and frozen. Throws
 * GatewayError('invalid_config') whose `param` names the first offending entry and field
 * (`apiKeys[2].budget.amount`) and whose message names the entry by its id. Never echoes a key.
 */
export function parseApiKeys(input: unknown, options: ParseApiKeysOptions = {}): ApiKeyEntry[] {
  const result = apiKeysConfigSchema.safeParse(input);
  if (result.success) return result.data;
  throw configError(result.error, input, options.param ?? 'apiKeys', options.source);
}

/** Validates one client key (see {@link parseApiKeys}); `param` defaults to `apiKey`. */
export function parseApiKey(input: unknown, options: ParseApiKeysOptions = {}): ApiKeyEntry {
  const result = apiKeySchema.safeParse(input);
  if (result.success) return result.data;
  throw configError(result.error, input, options.param ?? 'apiKey', options.source, true);
}

/** The JSON-ready configuration form of an entry (budget amount as a decimal string, `hash`, no key). */
export function serializeApiKeyEntry(entry: ApiKeyEntry): ApiKeyConfig {
  return {
    id: entry.id,
    hash: entry.hash,
    ...(entry.rpm !== undefined ? { rpm: entry.rpm } : {}),
    ...(entry.tpm !== undefined ? { tpm: entry.tpm } : {}),
    ...(entry.maxConcurrent !== undefined ? { maxConcurrent: entry.maxConcurrent } : {}),
    ...(entry.budget !== undefined ? { budget: { amount: entry.budget.amount.toString(), period: entry.budget.period } } : {}),
    ...(entry.models !== undefined ? { models: [...entry.models] } : {}),
    ...(entry.maxPriority !== undefined ? { maxPriority: entry.maxPriority } : {}),
    ...(entry.expiresAt !== undefined ? { expiresAt: entry.expiresAt } : {}),
    ...(entry.disabled ? { disabled: true } : {}),
  };
}

let keyOptionNames: ReadonlySet<string> | undefined;

function configError(error: z.ZodError, input: unknown, param: string, source: string | undefined, single = false): GatewayError {
  const issue = error.issues[0];
  // An unknown field is not named (it came from the file, which may not be a keys file at all):
  // the message says "an unknown key" and the path stops at its entry.
  const names = (keyOptionNames ??= knownOptionNames(apiKeySchema));
  const path: Array<string | number> = (issue?.path ?? []).map((part) => (typeof part === 'number' ? part : (safePathParts([part], names)[0] ?? '*')));
  const index = !single && typeof path[0] === 'number' ? (path.shift() as number) : undefined;
  const entryName = single ? describeEntry(input, undefined) : index !== undefined ? describeEntry((input as unknown[])[index], index) : undefined;
  const field = path.length > 0 ? path.map(String).join('.') + ' ' : '';
  const fullParam = param + (index !== undefined ? `[${index}]` : '') + path.map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`)).join('');
  const extra = error.issues.length - 1;
  const more = extra > 0 ? ` (and ${extra} more problem${extra > 1 ? 's' : ''})` : '';
  const where = [source, entryName].filter((part) => part !== undefined).join(': ');
  const problem = issue?.code === 'unrecognized_keys' ? `has ${safeIssueMessage(issue)}` : safeIssueMessage(issue);
  const message = `${where ? where + ': ' : ''}${field}${problem}${more}`;
  return rememberRawPath(new GatewayError('invalid_config', `Invalid API key configuration: ${message}`, { param: fullParam }), rawIssuePath(issue));
}

/** `key "alice" (entry 2)`: the id only when it is a plausible one, so a misplaced secret is not echoed. */
function describeEntry(entry: unknown, index: number | undefined): string {
  const id = typeof entry === 'object' && entry !== null ? (entry as { id?: unknown }).id : undefined;
  const position = index !== undefined ? ` (entry ${index})` : '';
  return typeof id === 'string' && /^[A-Za-z0-9._@-]{1,100}$/.test(id) ? `key "${id}"${position}` : `key${position || ' entry'}`;
}
