/**
 * `fetch` options carrying a gateway's admin token (`Authorization: Bearer <handle.adminToken>`):
 * admin routes are closed without it, on loopback too.
 */
export function asAdmin(gateway: { readonly adminToken: string }, init: RequestInit = {}): RequestInit {
  return { ...init, headers: { ...(init.headers as Record<string, string> | undefined), authorization: `Bearer ${gateway.adminToken}` } };
}
