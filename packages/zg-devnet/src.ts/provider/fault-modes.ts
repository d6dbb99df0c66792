/**
 * Faults a simulated provider can be told to show, at run time, for chat requests.
 * `down` also refuses every other route (the listener is closed).
 */
export type ProviderFault =
  | { readonly mode: 'none' }
  /** Refuses connections: the listening socket is closed until the fault is cleared. */
  | { readonly mode: 'down' }
  /** Answers chats with this HTTP status (5xx, 429 with `Retry-After`, 402, ...). */
  | { readonly mode: 'http-error'; readonly status: number; readonly retryAfterSeconds?: number }
  /** Answers 401 as if the session token were invalid. */
  | { readonly mode: 'reject-auth' }
  /** Waits this long before sending anything. */
  | { readonly mode: 'delay-first-byte'; readonly ms: number }
  /** Accepts the request and never answers. */
  | { readonly mode: 'stall' }
  /** Streams this many content chunks, then goes silent (connection kept open). */
  | { readonly mode: 'stall-after-chunks'; readonly chunks: number }
  /** Streams this many content chunks, then destroys the connection. */
  | { readonly mode: 'cut-after-chunks'; readonly chunks: number }
  /** Answers 200 with a body that is not JSON (non-stream) or an SSE event that is not JSON (stream). */
  | { readonly mode: 'malformed' }
  /** Serves normally but signs the response with a key that is not its TEE signer. */
  | { readonly mode: 'bad-signature' }
  /** Streams with this gap between chunks (non-stream: waits chunks × gap before answering). */
  | { readonly mode: 'slow-drip'; readonly intervalMs: number };

export type ProviderFaultMode = ProviderFault['mode'];

export const NO_FAULT: ProviderFault = Object.freeze({ mode: 'none' });
