import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { GatewayError } from '../../errors/index.js';
import type { ResponseSink } from '../../dispatch/answer-relay.js';
import type { CompletionReport } from '../../dispatch/complete-request.js';
import type { Gateway } from '../../gateway/gateway.js';
import { isMediaRoute, type CompletionRoute, type MultipartUpload } from '../../providers/inference-provider.js';
import { sdkImageCount } from '../../providers/media-billing.js';
import { DEFAULT_MAX_UPLOAD_BYTES, readMultipartForm, type MultipartForm } from '../read-multipart-form.js';
import { validateImageEditForm, validateImageGenerationRequest, validateTranscriptionForm } from '../validate-media-request.js';
import { estimatePromptTokens } from '../../providers/model-pricing.js';
import { DEFAULT_PRIORITY } from '../../admission/admission-queue.js';
import { ASSUMED_COMPLETION_TOKENS } from '../../dispatch/estimate-request-cost.js';
import { clientClosedReason } from '../../dispatch/request-scope.js';
import type { ClientKeys, KeyTicket } from '../../keys/index.js';
import { authenticateClient } from '../client-auth.js';
import { takeRoutingPreferences } from '../routing-preferences.js';
import { takeAdmissionHints } from '../admission-hints.js';
import { readJsonBody } from '../read-json-body.js';
import { beginRequest } from '../request-log.js';
import { responseSink } from '../response-sink.js';
import { SESSION_ID_PATTERN, validateChatRequest, validateEmbeddingRequest, validateTextCompletionRequest } from '../validate-request.js';
import { writeError } from '../write-error.js';

/** What the completions routes need besides the gateway. */
export interface CompletionRouteOptions {
  gateway: Gateway;
  logger: Logger;
  bodyLimit: number;
  /** Client keys, limits and budgets; undefined: no key needed. */
  clientKeys: ClientKeys | undefined;
  /** Largest multipart upload a media route reads, bytes. Default {@link DEFAULT_MAX_UPLOAD_BYTES} (25 MiB). */
  maxUploadBytes?: number;
  /** Headers added to every answer (CORS). */
  extraHeaders: (request: IncomingMessage) => Record<string, string> | undefined;
}

/** How a route reads its body: validated JSON, or a multipart form whose text fields are the body. */
interface RouteBody {
  path: string;
  validate: (body: unknown) => Record<string, unknown>;
  /** A multipart route: validates the form (its fields become the body; its raw bytes are forwarded). */
  form?: (form: MultipartForm) => Record<string, unknown>;
}

const notJson = (): Record<string, unknown> => {
  throw new GatewayError('unsupported_media_type', 'This route takes a multipart/form-data body');
};

/** Each route's body validation and path. */
const ROUTES: Readonly<Record<CompletionRoute, RouteBody>> = {
  chat: { validate: validateChatRequest, path: '/v1/chat/completions' },
  completions: { validate: validateTextCompletionRequest, path: '/v1/completions' },
  embeddings: { validate: validateEmbeddingRequest, path: '/v1/embeddings' },
  'image-generations': { validate: validateImageGenerationRequest, path: '/v1/images/generations' },
  'image-edits': { validate: notJson, form: validateImageEditForm, path: '/v1/images/edits' },
  transcriptions: { validate: notJson, form: validateTranscriptionForm, path: '/v1/audio/transcriptions' },
};

/** A media answer's key charge: no tokens, its fee. */
const NO_TOKENS = Object.freeze({ prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 });

/**
 * What a request is expected to use before it is placed, for its key's reservation: media
 * requests reserve no tokens, and cost what their billing units say (images: `n` × the price per
 * image; a transcription: one second, its length being unknown until answered).
 */
function expectedUse(route: CompletionRoute, body: Record<string, unknown>): { promptTokens: number; maxTokens: number | undefined } {
  if (route === 'image-generations' || route === 'image-edits') return { promptTokens: sdkImageCount(body.n ?? undefined), maxTokens: 0 };
  if (route === 'transcriptions') return { promptTokens: 1, maxTokens: 0 };
  const maxTokens = route === 'embeddings' ? 0 : typeof body.max_tokens === 'number' ? body.max_tokens : typeof body.max_completion_tokens === 'number' ? body.max_completion_tokens : undefined;
  return { promptTokens: estimatePromptTokens(body), maxTokens };
}

/**
 * Another API served as chat (the Responses API): per request, it turns its body into a chat body,
 * wraps the HTTP sink in one that translates the chat answer, and finishes once the core is done.
 * Everything else (keys, limits, reservations, the core) is the chat route's.
 */
export interface ChatTranslation {
  /** The chat body for `raw` (validated here as a chat body afterwards), and a session to pin to when the client named none. */
  prepare(raw: unknown, keyId: string | undefined): Promise<{ body: Record<string, unknown>; sessionId: string | undefined }>;
  /** The sink the core writes the chat answer into. */
  sink(target: ResponseSink): ResponseSink;
  /** After the core: write what the translating sink held back (and store it). Throws while nothing was written. */
  finish(report: CompletionReport): Promise<void>;
}

/** `X-Affinity: off` (any case) opts the request out of prefix affinity; any other value (or none) leaves it on. */
function affinityWanted(header: string | string[] | undefined): boolean {
  return typeof header !== 'string' || header.trim().toLowerCase() !== 'off';
}

/**
 * `POST /v1/chat/completions`, `POST /v1/completions` and `POST /v1/embeddings`: read and validate
 * the body, then hand it to the core, which places it (on a provider offering the model as the
 * route's service type) and relays the answer byte for byte. Runs on Node's HTTP objects directly
 * (no framework on the hot path). With `translated` (another API served over chat, on its own
 * path), the body and the answer go through its translation.
 */
export function completionRoute(route: CompletionRoute, options: CompletionRouteOptions, translated?: { path: string; translation: () => ChatTranslation }) {
  const { validate: validateBody, path: routePath, form: validateForm } = ROUTES[route];
  const path = translated?.path ?? routePath;
  const media = isMediaRoute(route);
  const maxUploadBytes = options.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES;
  return async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const translation = translated?.translation();
    const facts = beginRequest(request, response, options.logger, path, options.gateway.id);
    facts.timing = {};
    // The log line waits for the end of this handler: a stream the client left is charged after its close.
    let settle = (): void => undefined;
    facts.settled = new Promise<void>((resolve) => (settle = resolve));
    const extraHeaders = options.extraHeaders(request);
    if (extraHeaders) for (const [name, value] of Object.entries(extraHeaders)) response.setHeader(name, value);
    let ticket: KeyTicket | undefined;
    try {
      if (options.gateway.shuttingDown) throw new GatewayError('shutting_down', 'The gateway is shutting down', { retryAfterMs: 1000 });
      const key = authenticateClient(options.clientKeys, request.headers.authorization);
      if (key) facts.keyId = key.id;
      let body: Record<string, unknown>;
      let upload: MultipartUpload | undefined;
      let prepared: { body: Record<string, unknown>; sessionId: string | undefined } | undefined;
      if (validateForm) {
        let form: MultipartForm;
        try {
          form = await readMultipartForm(request, maxUploadBytes);
        } catch (error) {
          // The rest of the upload is never read: the connection closes after the answer.
          response.setHeader('connection', 'close');
          throw error;
        }
        body = validateForm(form);
        upload = form.upload;
      } else {
        const raw = await readJsonBody(request, options.bodyLimit);
        prepared = translation ? await translation.prepare(raw, key?.id) : undefined;
        body = validateBody(prepared ? prepared.body : raw);
      }
      const preferences = takeRoutingPreferences(body);
      const hints = takeAdmissionHints(body, request.headers);
      facts.priority = hints.priority;
      facts.stream = body.stream === true;
      if (typeof body.model === 'string') facts.requestedModel = body.model;
      const sessionHeader = request.headers['x-session-id'] ?? prepared?.sessionId;
      if (sessionHeader !== undefined && (typeof sessionHeader !== 'string' || !SESSION_ID_PATTERN.test(sessionHeader))) {
        throw new GatewayError('invalid_request', 'X-Session-Id must be 1-200 characters of [A-Za-z0-9._:-]', { param: 'X-Session-Id' });
      }
      let mayUseModel: ((model: string) => boolean) | undefined;
      if (key && options.clientKeys) {
        const { promptTokens, maxTokens } = expectedUse(route, body);
        const model = typeof body.model === 'string' && body.model !== '' ? body.model : options.gateway.planner.defaultModelName();
        if (key.limits.models) mayUseModel = options.gateway.planner.reachableBy(key.limits.models);
        // Reserved at admission, settled at commit: the tokens and the most expensive candidate's price.
        ticket = await options.clientKeys.admit(key, {
          model,
          estimatedTokens: media ? 0 : promptTokens + (maxTokens ?? ASSUMED_COMPLETION_TOKENS),
          estimatedCostNeuron: options.gateway.estimateCost(model, promptTokens, maxTokens, mayUseModel, route),
        });
        const cap = capPriority(hints.priority, key.limits.maxPriority, options.gateway);
        if (cap !== undefined) {
          facts.priorityRequested = hints.priority;
          hints.priority = cap;
          facts.priority = cap;
          response.setHeader('x-priority-capped', String(cap));
        }
      }
      const client = new AbortController();
      response.once('close', () => {
        if (!response.writableFinished) client.abort(clientClosedReason());
      });
      const report = await options.gateway.complete(
        { route, body, upload, requestId: facts.requestId, sessionId: sessionHeader, clientSignal: client, timing: facts.timing, filter: preferences.filter, sort: preferences.sort, priority: hints.priority, pool: hints.pool, mayUseModel, keyId: key?.id, affinity: affinityWanted(request.headers['x-affinity']) },
        translation ? translation.sink(responseSink(response)) : responseSink(response),
      );
      // A translation that fails here (nothing written yet) is answered as an error after the key is charged: the provider was paid.
      const finishError: unknown = translation ? await translation.finish(report).then(() => undefined, (error: unknown) => error) : undefined;
      facts.provider = report.provider;
      facts.model = report.model;
      facts.attempts = report.attempts;
      facts.retryDelaysMs = report.retryDelaysMs;
      facts.outcome = report.outcome;
      facts.errorCode = report.errorCode;
      facts.costNeuron = report.costNeuron?.toString();
      facts.ttfbMs = report.ttfbMs;
      facts.routeReason = report.routeReason;
      facts.fallbackFor = report.fallbackFor;
      facts.pool = report.pool;
      facts.overflowFrom = report.overflowFrom;
      // Settles the key's reservations: the answer's usage, or what a stream that ended early produced.
      const charged = report.usage ? { usage: report.usage, costNeuron: report.costNeuron } : report.billed ? { usage: NO_TOKENS, costNeuron: report.costNeuron } : report.unfinished;
      // A transcription without usage billed by the WAV's measured duration.
      if (report.billed?.estimated) facts.usageEstimated = true;
      if (report.unfinished) {
        facts.usageEstimated = report.unfinished.estimated;
        facts.chargedNeuron = report.unfinished.costNeuron?.toString();
      }
      if (charged) {
        facts.promptTokens = charged.usage.prompt_tokens;
        facts.completionTokens = charged.usage.completion_tokens;
      }
      if (ticket && charged) {
        await ticket.commit({ promptTokens: charged.usage.prompt_tokens, completionTokens: charged.usage.completion_tokens }, charged.costNeuron ?? 0n).catch((error: unknown) => {
          options.logger.error({ event: 'key_commit_failed', requestId: facts.requestId, keyId: ticket?.key.id, err: error }, 'could not record the key\'s spend');
        });
      }
      if (finishError !== undefined) throw finishError;
    } catch (error) {
      const written = writeError(response, error, options.logger);
      if (written.code === 'client_closed_request') facts.outcome = 'client_closed';
      const details = written.details as { attempts?: Array<{ delayMs?: unknown }> } | undefined;
      if (Array.isArray(details?.attempts)) {
        facts.attempts = details.attempts.length;
        if (details.attempts.some((attempt) => typeof attempt.delayMs === 'number')) facts.retryDelaysMs = details.attempts.map((attempt) => (typeof attempt.delayMs === 'number' ? attempt.delayMs : 0));
      }
    } finally {
      // Gives back what a request that was not committed reserved (never rejects).
      await ticket?.release();
      settle();
    }
  };
}

/**
 * The priority a key's request gets when it asked for more than the key may have (its `maxPriority`,
 * default the queue's `defaultPriority`); undefined when it asked for no more. Clamped, not refused:
 * the request is served, only not ahead of its rank (the answer says so in `X-Priority-Capped`).
 */
function capPriority(requested: number | undefined, maxPriority: number | undefined, gateway: Gateway): number | undefined {
  if (requested === undefined) return undefined;
  const cap = maxPriority ?? gateway.admission.settings.defaultPriority ?? DEFAULT_PRIORITY;
  return requested > cap ? cap : undefined;
}
