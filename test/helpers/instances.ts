/** Small HTTP helpers for tests that drive several gateway instances. */
import type { GatewayHandle } from 'zg-gateway';

export interface ChatAnswer {
  status: number;
  id: string | undefined;
  provider: string | null;
  code: string | undefined;
}

export interface VerifyAnswer {
  status: number;
  body: { isValid?: boolean; verifiable?: boolean; provider?: string; chatId?: string; error?: { code: string } };
}

/** POSTs a chat to `gateway` (with a client key and optional session id). */
export async function chatOn(gateway: GatewayHandle, key: string | undefined, content: string, sessionId?: string, model = 'm'): Promise<ChatAnswer> {
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}), ...(sessionId ? { 'x-session-id': sessionId } : {}) },
    body: JSON.stringify({ model, messages: [{ role: 'user', content }] }),
  });
  const body = (await response.json()) as { id?: string; error?: { code: string } };
  return { status: response.status, id: body.id, provider: response.headers.get('x-provider-address'), code: body.error?.code };
}

/** POSTs `/v1/verify {id}` to `gateway`. */
export async function verifyOn(gateway: GatewayHandle, key: string | undefined, id: string): Promise<VerifyAnswer> {
  const response = await fetch(`${gateway.url}/v1/verify`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify({ id }),
  });
  return { status: response.status, body: (await response.json()) as VerifyAnswer['body'] };
}
