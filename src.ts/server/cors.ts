/**
 * CORS headers for a request from `origin`, or undefined when CORS is off (no origins
 * configured) or the origin is not allowed. `*` in the list allows any origin.
 */
export function corsHeaders(allowed: readonly string[], origin: string | undefined): Record<string, string> | undefined {
  if (allowed.length === 0 || origin === undefined) return undefined;
  if (allowed.includes('*')) return { 'access-control-allow-origin': '*', 'access-control-expose-headers': EXPOSED };
  if (!allowed.includes(origin)) return undefined;
  return { 'access-control-allow-origin': origin, vary: 'Origin', 'access-control-expose-headers': EXPOSED };
}

const EXPOSED = 'x-request-id, x-provider-address, x-request-cost, x-model-fallback, x-route-reason, x-session-repinned, x-session-previous-provider, x-pool';
