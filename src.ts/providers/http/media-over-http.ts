import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { BilledUnits, ChatCallOptions, MediaRoute, ProviderJsonResult, UpstreamCall } from '../inference-provider.js';
import { billedImages, billedSpeech } from '../media-billing.js';
import { describeErrorValue } from '../openai-wire.js';
import { withModel } from './multipart-model.js';
import { uploadedWavSeconds } from './upload-audio.js';
import { exchangeAnswer } from './exchange-answer.js';
import { headerValue, unusableAnswer } from './upstream-errors.js';
import type { UpstreamHttpClient } from './upstream-http-client.js';

/** Everything needed to send one media call over HTTP (as for chat: see `sendChatOverHttp`). */
export interface MediaOverHttpInput {
  client: UpstreamHttpClient;
  providerId: string;
  /** Base URL up to and including `/v1` (0G: `<service url>/v1/proxy`). */
  baseUrl: string;
  headers: Record<string, string>;
  call: UpstreamCall;
  options: ChatCallOptions;
}

/** The path under the base URL of each media route. */
const MEDIA_SUFFIXES: Readonly<Record<MediaRoute, string>> = Object.freeze({
  'image-generations': 'images/generations',
  'image-edits': 'images/edits',
  transcriptions: 'audio/transcriptions',
});

/** What the gateway names an answer by when the provider gives no `ZG-Res-Key` (images and transcriptions have no id). */
const ID_PREFIXES: Readonly<Record<MediaRoute, string>> = Object.freeze({ 'image-generations': 'img-', 'image-edits': 'img-', transcriptions: 'stt-' });

function parseObject(bytes: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Why a 200 answer to a media route is not usable, or undefined when it is one: images need a
 * JSON object with a non-empty `data` array; a transcription a JSON object with a `text` string,
 * or any non-JSON body (`text`, `srt`, `vtt`). Neither may carry an `error` member.
 */
function unusableMedia(route: MediaRoute, json: Record<string, unknown> | undefined, isJson: boolean): string | undefined {
  if (!isJson && route === 'transcriptions') return undefined;
  if (!json) return 'the body is not a JSON object';
  if (json.error !== undefined && json.error !== null) return `it carries an error: ${describeErrorValue(json.error)}`;
  if (route === 'transcriptions') return typeof json.text === 'string' ? undefined : 'it has no text';
  if (!Array.isArray(json.data)) return 'it has no data';
  return json.data.length === 0 ? 'its data is empty' : undefined;
}

/**
 * The answer's billing by the SDK's rule for the route's service type (images: the request's `n`;
 * speech: the answer's usage). A transcription answered without usage (`text`, `srt`, `vtt`) is
 * billed, marked estimated, by the uploaded WAV's duration as `{"type":"duration","seconds":N}`:
 * what the provider bills for it; other audio cannot be measured and is not billed.
 */
function billingOf(call: UpstreamCall, json: Record<string, unknown> | undefined): BilledUnits | undefined {
  if (call.route !== 'transcriptions') return billedImages(call.body as Record<string, unknown>);
  const billed = billedSpeech(json?.usage);
  if (billed || !call.upload) return billed;
  const seconds = uploadedWavSeconds(call.upload);
  const measured = seconds === undefined ? undefined : billedSpeech({ type: 'duration', seconds });
  return measured ? { ...measured, estimated: true } : undefined;
}

/**
 * Sends a media call (images generations as JSON; images edits and transcriptions as the client's
 * multipart form, byte for byte, its `model` part rewritten only when the provider knows the model
 * by another id) and reads the whole answer, bounded by `maxResponseBytes`. The answer's bytes are
 * kept as sent; the chat id is the `ZG-Res-Key` header when present (0G), else a gateway-made id.
 */
export async function sendMediaOverHttp(input: MediaOverHttpInput, route: MediaRoute): Promise<ProviderJsonResult> {
  const { client, providerId, call, options } = input;
  const { signal } = options;
  const maxBytes = options.limits?.maxResponseBytes ?? 32 * 1024 * 1024;
  const url = `${input.baseUrl}/${MEDIA_SUFFIXES[route]}`;
  let headers: Record<string, string>;
  let body: string | Readable;
  if (call.upload) {
    const model = typeof call.body.model === 'string' ? call.body.model : undefined;
    const upload = await withModel(call.upload, model);
    headers = { ...input.headers, 'content-type': upload.contentType, 'content-length': String(upload.size), accept: 'application/json' };
    // A fresh stream over the kept chunks for each attempt: failover sends the same bytes again.
    body = Readable.from(upload.chunks, { objectMode: false });
  } else {
    headers = { ...input.headers, 'content-type': 'application/json', accept: 'application/json' };
    body = JSON.stringify(call.body);
  }
  const response = await exchangeAnswer(client, url, { headers, body, signal }, providerId, maxBytes);
  const contentType = headerValue(response.headers, 'content-type') ?? 'application/json';
  const isJson = /\bjson\b/i.test(contentType);
  const json = isJson ? parseObject(response.bytes) : undefined;
  const why = unusableMedia(route, json, isJson);
  if (why) throw unusableAnswer(providerId, why);
  const billed = billingOf(call, json);
  const chatId = headerValue(response.headers, 'zg-res-key') ?? `${ID_PREFIXES[route]}${randomUUID()}`;
  return {
    kind: 'json',
    chatId,
    bytes: response.bytes,
    facts: { responseId: undefined, model: undefined, usage: undefined, ...(billed ? { billed } : {}) },
    ...(isJson ? {} : { contentType }),
  };
}
