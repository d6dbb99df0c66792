import { z } from 'zod';
import { GatewayError } from '../errors/index.js';

/** Deepest JSON nesting accepted in a request body. */
export const MAX_JSON_DEPTH = 32;

const contentPart = z.record(z.string(), z.unknown());

/** One chat message. */
export const chatMessageSchema = z
  .object({
    role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']),
    content: z.union([z.string(), z.array(contentPart), z.null()], { error: 'must be a string, an array of content parts, or null' }).optional(),
    name: z.string().max(256).optional(),
  })
  .passthrough();

/** A price bound in 0G per million tokens (a number or a decimal string). */
const maxPrice = z.union([z.number().min(0).max(1e12), z.string().regex(/^\d{1,12}(\.\d{1,18})?$/, 'must be a decimal number of 0G per million tokens')]);

/**
 * Per-request routing preferences (`provider` in the body, like OpenRouter's): removed from the
 * body before it is forwarded.
 */
export const providerPreferencesSchema = z
  .object({
    sort: z.enum(['price', 'latency', 'throughput']).optional().describe('Prefer the cheapest, the fastest to first token, or the fastest generating provider.'),
    only: z.array(z.string().min(1).max(100)).min(1).max(100).optional().describe('Only these providers (0G addresses or upstream names).'),
    ignore: z.array(z.string().min(1).max(100)).max(100).optional().describe('Never these providers.'),
    require_verifiable: z.boolean().optional().describe('Only providers that can prove their answers (TeeML, ZKML).'),
    require_parameters: z.boolean().optional().describe('Only providers that declare every feature the request uses (tools, json_schema, vision, logprobs); unknown is not enough.'),
    max_price: z
      .object({ prompt: maxPrice.optional(), completion: maxPrice.optional() })
      .strict()
      .optional()
      .describe('Highest price, 0G per million tokens, for prompt and completion tokens.'),
  })
  .strict();

const samplingShape = {
  model: z.string().max(256).optional().describe('The model (or alias) to serve; default: the gateway\'s default model.'),
  stream: z.boolean().optional().describe('Answer as server-sent events.'),
  stream_options: z.object({ include_usage: z.boolean().optional() }).passthrough().nullable().optional(),
  max_tokens: z.number().int().positive().nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
  n: z.number().int().min(1).max(128).nullable().optional().describe('Choices to generate; passed to the provider, which may refuse more than one.'),
  provider: providerPreferencesSchema.optional().describe('Routing preferences (not forwarded).'),
  user_level: z
    .number()
    .int()
    .min(0)
    .max(10)
    .optional()
    .describe('Admission priority, 0-10, higher first, when every provider is at its concurrency cap (not forwarded; the X-Priority header wins). Default 5.'),
};

/** `POST /v1/chat/completions` bodies (unknown fields are passed through to the provider). */
export const chatCompletionRequestSchema = z
  .object({
    ...samplingShape,
    messages: z.array(chatMessageSchema).min(1, 'must contain at least one message').max(4096),
    max_completion_tokens: z.number().int().positive().nullable().optional(),
  })
  .passthrough();

/** `POST /v1/completions` bodies (legacy text completions). */
export const textCompletionRequestSchema = z
  .object({
    ...samplingShape,
    prompt: z.union([z.string(), z.array(z.string()).min(1), z.array(z.number().int()).min(1), z.array(z.array(z.number().int()).min(1)).min(1)], {
      error: 'must be a string, an array of strings, or token arrays',
    }),
  })
  .passthrough();

/** Most items in an embeddings `input` array (OpenAI's limit). */
export const MAX_EMBEDDING_INPUTS = 2048;

/** `POST /v1/embeddings` bodies (unknown fields are passed through to the provider). */
export const embeddingRequestSchema = z
  .object({
    model: z.string().min(1, 'must name an embedding model').max(256).describe('The embedding model (or alias) to serve; required.'),
    input: z.union(
      [
        z.string(),
        z.array(z.string()).min(1, 'must not be empty').max(MAX_EMBEDDING_INPUTS, `must have at most ${MAX_EMBEDDING_INPUTS} items`),
        z.array(z.number().int().min(0)).min(1, 'must not be empty').max(MAX_EMBEDDING_INPUTS, `must have at most ${MAX_EMBEDDING_INPUTS} items`),
        z
          .array(z.array(z.number().int().min(0)).min(1, 'must not contain an empty token array'))
          .min(1, 'must not be empty')
          .max(MAX_EMBEDDING_INPUTS, `must have at most ${MAX_EMBEDDING_INPUTS} items`),
      ],
      { error: `must be a string, an array of at most ${MAX_EMBEDDING_INPUTS} strings, a token array, or an array of token arrays` },
    ),
    encoding_format: z.enum(['float', 'base64']).optional().describe('How each vector is encoded; default float.'),
    dimensions: z.number().int().positive().max(65536).optional().describe('Dimensions of the vectors, for models that can shorten them.'),
    user: z.string().max(256).optional(),
    provider: providerPreferencesSchema.optional().describe('Routing preferences (not forwarded).'),
    user_level: z.number().int().min(0).max(10).optional().describe('Admission priority, 0-10 (not forwarded; the X-Priority header wins).'),
  })
  .passthrough();

/** `POST /v1/verify` bodies. */
export const verifyRequestSchema = z.object({ id: z.string().min(1).max(512).describe('A response id (or chat id) this gateway served.') }).passthrough();

/** How deep a JSON value nests (a scalar is 0). Stops counting past `limit`. */
export function jsonDepth(value: unknown, limit = MAX_JSON_DEPTH + 1): number {
  if (typeof value !== 'object' || value === null) return 0;
  if (limit <= 0) return 1;
  let deepest = 0;
  for (const child of Object.values(value as Record<string, unknown>)) {
    deepest = Math.max(deepest, jsonDepth(child, limit - 1));
    if (deepest >= limit) break;
  }
  return deepest + 1;
}

function invalid(message: string, param: string | null): GatewayError {
  return new GatewayError('invalid_request', message, { param });
}

/** Validates `body` against `schema`, throwing `invalid_request` naming the bad field (`shape` says what a body must be). */
export function validate<T>(schema: z.ZodType<T>, body: unknown, shape: string): T {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid(`The request body must be a JSON object ${shape}`, null);
  if (jsonDepth(body) > MAX_JSON_DEPTH) throw invalid(`The request body nests deeper than ${MAX_JSON_DEPTH} levels`, null);
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const param = issue?.path.map(String).join('.') || null;
    throw invalid(`Invalid ${param ?? 'request'}: ${issue?.message ?? 'invalid value'}`, param);
  }
  return parsed.data;
}

/** Validates a chat completions body, throwing `invalid_request` naming the bad field. */
export function validateChatRequest(body: unknown): Record<string, unknown> {
  return validate(chatCompletionRequestSchema, body, 'with a `messages` array') as Record<string, unknown>;
}

/** Validates a text completions body, throwing `invalid_request` naming the bad field. */
export function validateTextCompletionRequest(body: unknown): Record<string, unknown> {
  return validate(textCompletionRequestSchema, body, 'with a `prompt`') as Record<string, unknown>;
}

/**
 * Validates an embeddings body, throwing `invalid_request` naming the bad field. An `input` array
 * longer than {@link MAX_EMBEDDING_INPUTS} is named as `input` (not one of its items).
 */
export function validateEmbeddingRequest(body: unknown): Record<string, unknown> {
  const input = typeof body === 'object' && body !== null ? (body as { input?: unknown }).input : undefined;
  if (Array.isArray(input) && input.length > MAX_EMBEDDING_INPUTS) {
    throw invalid(`Invalid input: must have at most ${MAX_EMBEDDING_INPUTS} items (it has ${input.length})`, 'input');
  }
  return validate(embeddingRequestSchema, body, 'with a `model` and an `input`') as Record<string, unknown>;
}

/** Validates `POST /v1/verify` bodies: `{ id: string }`. */
export function validateVerifyRequest(body: unknown): { id: string } {
  const parsed = verifyRequestSchema.safeParse(body);
  if (!parsed.success) throw invalid('The body must be a JSON object with a non-empty string `id`', 'id');
  return { id: parsed.data.id };
}

/** `X-Session-Id`: 1-200 characters of [A-Za-z0-9._:-]. */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9._:-]{1,200}$/;
