import { z } from 'zod';
import { GatewayError } from '../errors/index.js';
import type { MultipartForm } from './read-multipart-form.js';
import { providerPreferencesSchema, validate } from './validate-request.js';

/** Most images one request may ask for (`n`), as OpenAI allows. */
export const MAX_IMAGES = 10;

const modelField = z.string().min(1, 'must name a model').max(256);
const imageCount = z.number().int().min(1).max(MAX_IMAGES).nullable().optional().describe(`Images to make, 1-${MAX_IMAGES} (default 1); the fee is n × the model's price per image.`);

/** `POST /v1/images/generations` bodies (OpenAI's shape; unknown fields are passed through). */
export const imageGenerationRequestSchema = z
  .object({
    model: modelField.describe('A text-to-image model (or alias) listed by GET /v1/models; required.'),
    prompt: z.string().min(1, 'must not be empty').max(32_000),
    n: imageCount,
    size: z.string().max(32).nullable().optional(),
    response_format: z.enum(['url', 'b64_json']).nullable().optional(),
    quality: z.string().max(32).nullable().optional(),
    style: z.string().max(32).nullable().optional(),
    user: z.string().max(256).optional(),
    provider: providerPreferencesSchema.optional().describe('Routing preferences (not forwarded).'),
  })
  .passthrough();

/** Validates an images generations body, throwing `invalid_request` naming the bad field. */
export function validateImageGenerationRequest(body: unknown): Record<string, unknown> {
  return validate(imageGenerationRequestSchema, body, 'with a `model` and a `prompt`') as Record<string, unknown>;
}

function invalid(message: string, param: string): GatewayError {
  return new GatewayError('invalid_request', message, { param });
}

function requireFile(form: MultipartForm, names: readonly string[]): void {
  const file = form.files.find((part) => names.includes(part.name));
  if (!file) throw invalid(`Invalid ${names[0]}: the form must carry a file part named \`${names[0]}\``, names[0] as string);
  if (file.size === 0) throw invalid(`Invalid ${file.name}: the file is empty`, file.name);
}

function requireField(form: MultipartForm, name: string): string {
  const value = form.fields[name];
  if (value === undefined || value.trim() === '') throw invalid(`Invalid ${name}: the form must carry a non-empty \`${name}\` field`, name);
  return value;
}

function checkChoice(form: MultipartForm, name: string, allowed: readonly string[]): void {
  const value = form.fields[name];
  if (value !== undefined && value !== '' && !allowed.includes(value)) throw invalid(`Invalid ${name}: must be one of ${allowed.join(', ')}`, name);
}

/**
 * Validates an images edits form (`image` or `image[]` file, optional `mask` file, `prompt`,
 * `model`, optional `n` 1-10, `size`, `response_format`); its text fields are the request body.
 */
export function validateImageEditForm(form: MultipartForm): Record<string, unknown> {
  requireFile(form, ['image', 'image[]']);
  requireField(form, 'prompt');
  requireField(form, 'model');
  const n = form.fields.n;
  if (n !== undefined && n !== '' && !(/^\d{1,2}$/.test(n.trim()) && Number(n) >= 1 && Number(n) <= MAX_IMAGES)) throw invalid(`Invalid n: must be an integer from 1 to ${MAX_IMAGES}`, 'n');
  checkChoice(form, 'response_format', ['url', 'b64_json']);
  return { ...form.fields };
}

/**
 * Validates a transcriptions form (`file`, `model`, optional `language`, `prompt`,
 * `response_format`, `temperature`); its text fields are the request body.
 */
export function validateTranscriptionForm(form: MultipartForm): Record<string, unknown> {
  requireFile(form, ['file']);
  requireField(form, 'model');
  checkChoice(form, 'response_format', ['json', 'text', 'srt', 'verbose_json', 'vtt']);
  return { ...form.fields };
}
