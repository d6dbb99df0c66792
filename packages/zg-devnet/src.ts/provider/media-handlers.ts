import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Wallet } from 'ethers';
import { FOREVER_MS, sleep } from '../internal/sleep.js';
import { audioDuration } from './audio-duration.js';
import type { ProviderFault } from './fault-modes.js';
import type { FeeLedger } from './fees-and-settlement.js';
import type { ImageStore } from './image-store.js';
import type { ModelCatalog, ServedModel } from './model-catalog.js';
import { multipartBoundary, parseMultipart, type ParsedForm } from './multipart.js';
import { decodePng, encodePng, gradientImage, invertColours } from './png.js';
import type { SimulatedProviderStats } from './provider-stats.js';
import { BodyTooLarge, byteDripWriter, errorBody, plainWriter, readBodyBytes, sendError, sendJson } from './reply-writer.js';
import { sha256Hex, type ResponseSignatures } from './response-signatures.js';
import type { ServiceType } from './service-types.js';
import { passGate } from './request-gate.js';
import type { ChainAccounts } from './session-auth.js';

/** Largest request body a media route reads (the 0G provider broker's limit: 32 MB). */
export const MAX_MEDIA_BODY_BYTES = 32 * 1024 * 1024;
/** Side of every generated or placeholder image, in pixels (whatever `size` asks: the devnet keeps images small). */
export const GENERATED_IMAGE_SIDE = 16;
/** Most images one request may ask for (`n`), as OpenAI allows. */
const MAX_IMAGES = 10;

/** What answering a media request needs from its provider. */
export interface MediaServing {
  readonly name: string;
  readonly address: string;
  readonly stats: SimulatedProviderStats;
  readonly accounts: ChainAccounts;
  readonly fees: FeeLedger;
  readonly signatures: ResponseSignatures;
  readonly images: ImageStore;
  /** Where the provider's server listens (image URLs point there). */
  readonly url: string;
  catalog(): ModelCatalog;
  teeSigner(): Wallet;
}

/** A request that cannot be served as sent (answered 400, naming the field). */
class BadRequest extends Error {}

/** The outcome of a served media request, before it is written. */
interface MediaAnswer {
  readonly chatId: string;
  readonly contentType: string;
  readonly body: Buffer;
  /** The text the TEE signs for it. */
  readonly signedText: string;
  readonly fee: bigint;
  /** The body with its payload removed (the `no-choices` fault). */
  readonly emptied: Record<string, unknown>;
}

/**
 * The image count of a request, by the SDK's extractor rule (`n` as a number or a numeric
 * string; absent: 1), and checked as OpenAI does (an integer 1–10, else 400).
 */
export function imageCount(n: unknown): number {
  if (n === undefined || n === null || n === '') return 1;
  const count = typeof n === 'string' ? Number(n.trim()) : n;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > MAX_IMAGES) {
    throw new BadRequest(`n must be an integer from 1 to ${MAX_IMAGES}, not ${JSON.stringify(n)}`);
  }
  return count;
}

/** Seconds billed for a duration, by the SDK's (and the provider broker's) rule: rounded, at least 1 for any positive duration. */
export function billableSeconds(seconds: number): number {
  return seconds > 0 ? Math.max(Math.round(seconds), 1) : 0;
}

function responseFormat(value: unknown, allowed: readonly string[], fallback: string): string {
  if (value === undefined || value === null || value === '') return fallback;
  if (typeof value !== 'string' || !allowed.includes(value)) throw new BadRequest(`response_format must be one of ${allowed.join(', ')}, not ${JSON.stringify(value)}`);
  return value;
}

function checkSize(size: unknown): void {
  if (size === undefined || size === null) return;
  if (typeof size !== 'string' || !/^(auto|\d{1,5}x\d{1,5})$/.test(size)) throw new BadRequest(`size must be "<width>x<height>" or "auto", not ${JSON.stringify(size)}`);
}

function resolveModel(catalog: ModelCatalog, requested: unknown): ServedModel {
  const model = catalog.resolve(requested);
  if (!model) throw Object.assign(new BadRequest(`The model ${JSON.stringify(requested)} does not exist or is not served by this provider`), { notFound: true });
  return model;
}

function parseJsonObject(bytes: Buffer): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(bytes.toString('utf8'));
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw new BadRequest('the body must be a JSON object');
}

function parseForm(request: IncomingMessage, body: Buffer): ParsedForm {
  const boundary = multipartBoundary(request.headers['content-type']);
  if (!boundary) throw new BadRequest('the body must be multipart/form-data with a boundary');
  try {
    return parseMultipart(body, boundary);
  } catch (error) {
    throw new BadRequest(`malformed multipart form: ${(error as Error).message}`);
  }
}

/** The `data` of an images answer: each PNG as base64 or as a URL on this provider, stored for `GET /v1/proxy/images/<chat id>/<index>`. */
function imageData(serving: MediaServing, chatId: string, pngs: Buffer[], format: string, revisedPrompt?: string): Array<Record<string, string>> {
  if (format === 'url') serving.images.put(chatId, pngs);
  return pngs.map((png, index) => ({
    ...(format === 'url' ? { url: `${serving.url}/v1/proxy/images/${chatId}/${index}` } : { b64_json: png.toString('base64') }),
    ...(revisedPrompt !== undefined ? { revised_prompt: revisedPrompt } : {}),
  }));
}

function jsonAnswer(chatId: string, body: Record<string, unknown>, signedText: string, fee: bigint, emptied: Record<string, unknown>): MediaAnswer {
  return { chatId, contentType: 'application/json', body: Buffer.from(JSON.stringify(body)), signedText, fee, emptied };
}

/** `sha256(request):sha256(image0),sha256(image1),...` — what a 0G provider broker signs for images. */
function imagesSignedText(requestBody: Buffer, pngs: Buffer[]): string {
  return `${sha256Hex(requestBody)}:${pngs.map((png) => sha256Hex(png)).join(',')}`;
}

function generateImages(serving: MediaServing, requestBody: Buffer): MediaAnswer {
  const body = parseJsonObject(requestBody);
  if (typeof body.prompt !== 'string' || body.prompt.trim() === '') throw new BadRequest('prompt must be a non-empty string');
  const model = resolveModel(serving.catalog(), body.model);
  const n = imageCount(body.n);
  const format = responseFormat(body.response_format, ['url', 'b64_json'], 'url');
  checkSize(body.size);
  const prompt = body.prompt;
  const pngs = Array.from({ length: n }, (_, index) =>
    encodePng(gradientImage(createHash('sha256').update(`${model.id}\n${index}\n${prompt}`).digest(), GENERATED_IMAGE_SIDE, GENERATED_IMAGE_SIDE)),
  );
  const chatId = randomUUID();
  const created = Math.floor(Date.now() / 1000);
  const revised = `[${serving.name}] ${model.id}: ${prompt}`;
  return jsonAnswer(chatId, { created, data: imageData(serving, chatId, pngs, format, revised) }, imagesSignedText(requestBody, pngs), BigInt(n) * model.inputPrice, { created });
}

function editImages(serving: MediaServing, request: IncomingMessage, requestBody: Buffer): MediaAnswer {
  const form = parseForm(request, requestBody);
  const imagePart = form.files.get('image') ?? form.files.get('image[]');
  if (!imagePart) throw new BadRequest('image: a file part named image is required');
  const prompt = form.fields.get('prompt');
  if (prompt === undefined || prompt.trim() === '') throw new BadRequest('prompt must be a non-empty field');
  const model = resolveModel(serving.catalog(), form.fields.get('model'));
  const n = imageCount(form.fields.get('n'));
  const format = responseFormat(form.fields.get('response_format'), ['url', 'b64_json'], 'url');
  checkSize(form.fields.get('size'));
  const image = decodePng(imagePart.data);
  if (!image) throw new BadRequest('image must be a PNG (8-bit grey, grey+alpha, RGB or RGBA, not interlaced, at most 4096 px a side)');
  const maskPart = form.files.get('mask');
  const mask = maskPart ? decodePng(maskPart.data) : null;
  if (maskPart && (!mask || mask.width !== image.width || mask.height !== image.height)) throw new BadRequest('mask must be a PNG of the same size as image');
  const edited = encodePng(invertColours(image, mask));
  const pngs = Array.from({ length: n }, () => edited);
  const chatId = randomUUID();
  const created = Math.floor(Date.now() / 1000);
  return jsonAnswer(chatId, { created, data: imageData(serving, chatId, pngs, format) }, imagesSignedText(requestBody, pngs), BigInt(n) * model.inputPrice, { created });
}

function transcribe(serving: MediaServing, request: IncomingMessage, requestBody: Buffer): MediaAnswer {
  const form = parseForm(request, requestBody);
  const file = form.files.get('file');
  if (!file) throw new BadRequest('file: a file part named file is required');
  if (file.data.length === 0) throw new BadRequest('file: the audio file is empty');
  const model = resolveModel(serving.catalog(), form.fields.get('model'));
  const format = responseFormat(form.fields.get('response_format'), ['json', 'text', 'verbose_json'], 'json');
  const language = form.fields.get('language');
  const duration = audioDuration(file.data);
  const seconds = Math.round(duration.seconds * 1000) / 1000;
  const text = `[${serving.name}] ${model.id} heard ${seconds.toFixed(3)} seconds of ${duration.source === 'wav' ? 'WAV' : 'audio'}${language ? ` in ${language}` : ''}.`;
  const usage = { type: 'duration', seconds };
  const chatId = randomUUID();
  const fee = BigInt(billableSeconds(seconds)) * model.inputPrice;
  let contentType = 'application/json';
  let body: Buffer;
  if (format === 'text') {
    contentType = 'text/plain; charset=utf-8';
    body = Buffer.from(`${text}\n`);
  } else if (format === 'verbose_json') {
    const segment = { id: 0, seek: 0, start: 0, end: seconds, text, tokens: [], temperature: 0, avg_logprob: 0, compression_ratio: 1, no_speech_prob: 0 };
    body = Buffer.from(JSON.stringify({ task: 'transcribe', language: language ?? 'english', duration: seconds, text, segments: [segment], usage }));
  } else {
    body = Buffer.from(JSON.stringify({ text, usage }));
  }
  return { chatId, contentType, body, signedText: `${sha256Hex(requestBody)}:${sha256Hex(body)}`, fee, emptied: { usage } };
}

function build(serving: MediaServing, type: Exclude<ServiceType, 'chatbot'>, request: IncomingMessage, requestBody: Buffer): MediaAnswer {
  switch (type) {
    case 'text-to-image':
      return generateImages(serving, requestBody);
    case 'image-editing':
      return editImages(serving, request, requestBody);
    case 'speech-to-text':
      return transcribe(serving, request, requestBody);
  }
}

/**
 * Answers a media route (`images/generations`, `images/edits`, `audio/transcriptions`) under
 * `fault` as a 0G provider does: the session token, the body (at most 32 MB), the model, the
 * user's balance, then the answer with the chat id in `ZG-Res-Key`, signed (`/v1/proxy/signature`)
 * and billed by the SDK's rule for the type. Faults that apply to a single JSON answer apply here
 * (stream-only ones do not).
 */
export async function answerMedia(serving: MediaServing, type: Exclude<ServiceType, 'chatbot'>, request: IncomingMessage, response: ServerResponse, fault: ProviderFault, signal: AbortSignal): Promise<void> {
  const countFault = (): void => {
    serving.stats.faulted += 1;
  };
  serving.stats.mediaRequests += 1;
  if (fault.mode === 'stall') {
    countFault();
    await sleep(FOREVER_MS, signal);
    response.destroy();
    return;
  }
  let requestBody: Buffer;
  try {
    requestBody = await readBodyBytes(request, MAX_MEDIA_BODY_BYTES);
  } catch (error) {
    if (error instanceof BodyTooLarge) return sendError(response, 413, `the request body exceeds ${error.limit} bytes`, { headers: { connection: 'close' } });
    throw error;
  }
  if (fault.mode === 'delay-first-byte') await sleep(fault.ms, signal);
  if (signal.aborted) return;

  const user = await passGate(serving, request, response, fault, countFault);
  if (user === undefined) return;

  let answer: MediaAnswer;
  try {
    answer = build(serving, type, request, requestBody);
  } catch (error) {
    if (!(error instanceof BadRequest)) throw error;
    if ((error as BadRequest & { notFound?: boolean }).notFound) {
      serving.stats.unknownModel += 1;
      return sendError(response, 404, error.message, { type: 'invalid_request_error', code: 'model_not_found' });
    }
    return sendError(response, 400, error.message, { type: 'invalid_request_error', code: 'invalid_request' });
  }
  if (!(await serving.fees.canServe(user))) {
    serving.images.delete(answer.chatId);
    return sendError(response, 402, 'insufficient balance in the user sub-account for this provider');
  }

  const resKey = { 'zg-res-key': answer.chatId };
  switch (fault.mode) {
    case 'malformed':
      countFault();
      response.writeHead(200, { 'content-type': answer.contentType, ...resKey });
      response.end(answer.body.subarray(0, Math.max(1, Math.floor(answer.body.length / 2))));
      return;
    case 'oversized-body': {
      countFault();
      response.writeHead(200, { 'content-type': 'application/json', ...resKey });
      const writer = plainWriter(response, signal);
      const filler = Buffer.alloc(Math.min(fault.bytes, 65_536), 'x');
      await writer.write('{"data":[{"b64_json":"');
      for (let remaining = fault.bytes; remaining > 0 && !signal.aborted; remaining -= filler.length) await writer.write(remaining >= filler.length ? filler : filler.subarray(0, remaining));
      if (!signal.aborted) response.end('"}]}');
      return;
    }
    case 'error-body':
      countFault();
      return sendJson(response, 200, errorBody('simulated provider error inside a 200 answer', 'server_error', 'simulated_provider_error'), resKey);
    case 'no-choices':
      countFault();
      return sendJson(response, 200, answer.emptied, resKey);
    default:
      break;
  }
  if (fault.mode === 'bad-signature' || fault.mode === 'byte-drip' || fault.mode === 'slow-drip') countFault();
  if (fault.mode === 'slow-drip') await sleep(fault.intervalMs * 3, signal);
  if (signal.aborted) return;
  serving.signatures.recordText(answer.chatId, answer.signedText, serving.teeSigner(), fault.mode === 'bad-signature');
  serving.fees.record(user, answer.chatId, answer.fee);
  serving.stats.served += 1;
  const writer = fault.mode === 'byte-drip' ? byteDripWriter(response, signal) : plainWriter(response, signal);
  response.writeHead(200, { 'content-type': answer.contentType, 'content-length': answer.body.length, ...resKey });
  await writer.write(answer.body);
  response.end();
}
