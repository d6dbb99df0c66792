import type { TokenUsage } from '../providers/inference-provider.js';

/**
 * The SessionStore port: an asynchronous key-value store with per-entry expiry, so a
 * session map can live in memory or in an external store behind the same interface.
 * Expired entries behave as absent everywhere.
 */
export interface SessionStore<V> {
  /** Which implementation this is, e.g. 'lru' (shown in /health and /admin). */
  readonly kind: string;
  /** The value under `key`, or undefined when there is none or it expired. */
  get(key: string): Promise<V | undefined>;
  /** Stores `value` under `key`, replacing any previous value; it expires after `ttlMs` (default: the store's TTL). */
  set(key: string, value: V, ttlMs?: number): Promise<void>;
  /** Removes `key`. True when an unexpired value was there. */
  delete(key: string): Promise<boolean>;
  /** How many unexpired entries the store holds. */
  size(): Promise<number>;
  /** Releases the store's resources. */
  close(): Promise<void>;
}

/** What the gateway remembers about a response it served, keyed by the response id (and the chat id). */
export interface ResponseRecord {
  /** The provider that served it (session affinity and verification go back to it). */
  providerId: string;
  /** The id the provider signed (what `InferenceProvider.verify` takes). */
  chatId: string;
  /** Token usage as reported, when it was. */
  usage: TokenUsage | undefined;
  /** When it was served, in epoch milliseconds. */
  createdAt: number;
  /** The model group that answered (what the client asked for, after aliases and fallbacks). */
  model: string;
  /** The model id the provider was sent. */
  upstreamModel: string;
  /** What it cost, neuron, as a decimal string (usage × the provider's price when served); undefined without usage. */
  costNeuron: string | undefined;
  /**
   * The price it was billed at, neuron per prompt and completion token (decimal strings, tiered pricing
   * applied); absent without usage or when the provider states no price (and in records written before it existed).
   */
  price?: { input: string; output: string } | undefined;
  /**
   * The id of the client key that made the request; absent without keys (and in records written before
   * it existed). `POST /v1/verify` by another key answers as if the id were unknown.
   */
  keyId?: string | undefined;
  /**
   * For a Responses API answer (stored under its `resp_…` id): the Response object, and the conversation
   * up to and including it as chat messages (what `previous_response_id` sends back), and `session`, the
   * session the conversation's provider is pinned under. Absent in every other record.
   */
  conversation?: StoredConversation | undefined;
}

/** What a `resp_…` record keeps of a Responses conversation (plain JSON, bounded by the Responses route). */
export interface StoredConversation {
  response: Record<string, unknown>;
  history: Array<Record<string, unknown>>;
  session: string;
  /** Its size as JSON, bytes (what an in-memory store counts against its byte bound). */
  bytes?: number;
}

/** About what a response record without a conversation takes in memory, bytes. */
export const RESPONSE_RECORD_BASE_BYTES = 1024;

/** What an in-memory store counts for one response record, bytes: a base, plus its conversation. */
export function responseRecordBytes(record: ResponseRecord): number {
  return RESPONSE_RECORD_BASE_BYTES + (record.conversation?.bytes ?? 0);
}
