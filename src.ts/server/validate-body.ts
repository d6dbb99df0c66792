import type { z } from 'zod';
import { GatewayError } from '../errors/index.js';

/** Parses a JSON body with `schema`, throwing `invalid_request` (400) naming the first bad field. */
export function validateBody<T>(schema: z.ZodType<T>, body: unknown): T {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new GatewayError('invalid_request', 'The request body must be a JSON object', { param: null });
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = issue?.code === 'unrecognized_keys' && issue.keys[0] !== undefined ? [...issue.path, issue.keys[0]] : (issue?.path ?? []);
  const param = path.map(String).join('.') || null;
  throw new GatewayError('invalid_request', `Invalid ${param ?? 'body'}: ${issue?.message ?? 'invalid value'}`, { param });
}
