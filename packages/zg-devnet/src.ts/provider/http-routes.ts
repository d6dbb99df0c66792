import type { IncomingMessage, ServerResponse } from 'node:http';
import { FOREVER_MS, sleep } from '../internal/sleep.js';
import type { ProviderFault } from './fault-modes.js';
import type { FeeLedger } from './fees-and-settlement.js';
import type { ImageStore } from './image-store.js';
import type { ModelCatalog } from './model-catalog.js';
import { sendError, sendJson } from './reply-writer.js';
import type { ResponseSignatures } from './response-signatures.js';
import { SERVICE_ROUTES, SERVICE_TYPES, type ServiceType } from './service-types.js';
import { authenticate, type ChainAccounts } from './session-auth.js';

/** What the routes other than chat need from their provider. */
export interface RouteServing {
  readonly address: string;
  readonly accounts: ChainAccounts;
  readonly fees: FeeLedger;
  readonly signatures: ResponseSignatures;
  readonly stats: { rejectedAuth: number; faulted: number };
  catalog(): ModelCatalog;
  fault(): ProviderFault;
  signerAddress(): string;
  readonly images: ImageStore;
  /** Answers a chat (the chat route). */
  chat(request: IncomingMessage, response: ServerResponse, signal: AbortSignal): Promise<void>;
  /** Answers an image generation, image edit or transcription (the route of its service type). */
  media(type: Exclude<ServiceType, 'chatbot'>, request: IncomingMessage, response: ServerResponse, signal: AbortSignal): Promise<void>;
}

/** The service type a POST route serves, or undefined. */
function typeOfRoute(path: string): ServiceType | undefined {
  return SERVICE_TYPES.find((type) => SERVICE_ROUTES[type] === path);
}

/**
 * Routes one request under the service URL, as a 0G provider exposes it:
 * - `POST /v1/proxy/chat/completions` — chats (JSON or SSE), on a `chatbot` provider;
 * - `POST /v1/proxy/images/generations` (JSON), `POST /v1/proxy/images/edits` (multipart),
 *   `POST /v1/proxy/audio/transcriptions` (multipart) — on a provider of that service type
 *   (another type's route is a 404 `service_type_mismatch`);
 * - `GET /v1/proxy/images/:chatID/:index` — an image answered as a URL (no token: the chat id is the key);
 * - `GET /v1/proxy/signature/:chatID` — the TEE signature of a served answer;
 * - `GET /v1/user/:address/unsettledfee` — the caller's unsettled fees (session token required);
 * - `GET /v1/quote` — a stand-in TEE quote naming the signer;
 * - `GET /v1/models`, `GET /v1/proxy/models` — the model catalog;
 * - `GET /healthz`; anything else 404.
 */
export async function routeRequest(serving: RouteServing, request: IncomingMessage, response: ServerResponse, signal: AbortSignal): Promise<void> {
  const path = new URL(request.url ?? '/', 'http://localhost').pathname;
  const method = request.method ?? 'GET';
  const routeType = method === 'POST' ? typeOfRoute(path) : undefined;
  if (routeType !== undefined) {
    // A provider serves only the route of its own service type, as a 0G provider broker does.
    const served = serving.catalog().serviceType;
    if (routeType !== served) return sendError(response, 404, `this provider serves ${served} (${SERVICE_ROUTES[served]}), not ${routeType}`, { code: 'service_type_mismatch' });
    if (routeType === 'chatbot') return serving.chat(request, response, signal);
    return serving.media(routeType, request, response, signal);
  }
  if (method !== 'GET') return sendError(response, 404, `no route ${method} ${path}`);

  const imageMatch = /^\/v1\/proxy\/images\/([^/]+)\/(\d{1,3})$/.exec(path);
  if (imageMatch?.[1] && imageMatch[2]) {
    const png = serving.images.get(decodeURIComponent(imageMatch[1]), Number(imageMatch[2]));
    if (!png) return sendError(response, 404, 'no such image');
    response.writeHead(200, { 'content-type': 'image/png', 'content-length': png.length, 'cache-control': 'private, max-age=3600' });
    response.end(png);
    return;
  }

  const signatureMatch = /^\/v1\/proxy\/signature\/([^/]+)$/.exec(path);
  if (signatureMatch?.[1]) {
    if (serving.fault().mode === 'verify-stall') {
      serving.stats.faulted += 1;
      await sleep(FOREVER_MS, signal);
      response.destroy();
      return;
    }
    const chatId = decodeURIComponent(signatureMatch[1]);
    const signed = await serving.signatures.sign(chatId);
    if (!signed) return sendError(response, 404, `no signature for chat ${chatId}`);
    return sendJson(response, 200, signed);
  }

  const feeMatch = /^\/v1\/user\/([^/]+)\/unsettledfee$/.exec(path);
  if (feeMatch?.[1]) {
    const authentication = await authenticate(request.headers.authorization, serving.address, serving.accounts);
    if (!authentication.ok) {
      serving.stats.rejectedAuth += 1;
      return sendError(response, 401, `invalid session token: ${authentication.reason}`);
    }
    if (authentication.user !== feeMatch[1].toLowerCase()) return sendError(response, 403, 'token does not belong to this user');
    return sendJson(response, 200, { unsettledFee: serving.fees.unsettledFee(authentication.user).toString() });
  }

  if (path === '/v1/quote') {
    const signer = serving.signerAddress();
    return sendJson(response, 200, { quote: `simulated-tee-quote:${signer}`, signing_address: signer });
  }
  if (path === '/v1/models' || path === '/v1/proxy/models') return sendJson(response, 200, serving.catalog().listBody(serving.address));
  if (path === '/healthz') return sendJson(response, 200, { status: 'ok' });
  sendError(response, 404, `no route ${method} ${path}`);
}
