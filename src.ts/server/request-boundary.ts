import type { IncomingHttpHeaders } from 'node:http';
import { isLoopbackHost } from '../config/index.js';
import { GatewayError } from '../errors/index.js';

/** What the browser boundary knows of the gateway. */
export interface RequestBoundaryOptions {
  /** The listen address (`127.0.0.1`, `::1`, `localhost`, `0.0.0.0`, `::`, a name or an IP). */
  host: string;
  /** Extra host names the gateway answers (`allowedHosts`): exact, `.suffix` for subdomains, `*` for any. */
  allowedHosts: readonly string[];
  /** Browser origins allowed (`corsOrigins`); `*` allows any. */
  corsOrigins: readonly string[];
}

/** Checks one request's headers; undefined when it may pass, else the error to answer with. */
export type RequestBoundary = (method: string | undefined, path: string, headers: IncomingHttpHeaders) => GatewayError | undefined;

/** Pages that hold no data and are served to any origin (a link from elsewhere may open them). */
const PUBLIC_PAGES = new Set(['/status', '/docs', '/openapi.json']);

/** The host name of a `Host` header: port removed, IPv6 brackets kept (`[::1]`). */
function hostName(header: string): string {
  if (header.charCodeAt(0) === 91 /* [ */) {
    const end = header.indexOf(']');
    return end < 0 ? header : header.slice(0, end + 1);
  }
  const colon = header.indexOf(':');
  return colon < 0 ? header : header.slice(0, colon);
}

/** At most this many allowed Host headers are remembered (bounded: a client chooses the header). */
const MAX_REMEMBERED_HOSTS = 64;

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]']);

/**
 * The boundary every request crosses before any route (the raw completions path and the express
 * app alike), so a web page in the operator's browser cannot drive the gateway:
 *
 * - **Host** (DNS rebinding): the `Host` header must name the gateway: its listen address, on a
 *   loopback listener `localhost`/`*.localhost`/`127.*`/`::1`, or an `allowedHosts` entry; else 403
 *   `host_not_allowed`. On a wildcard listener the check runs only when `allowedHosts` is set (the
 *   gateway's names are unknown there, and client keys and the admin token guard it). A request
 *   without `Host` (not a browser) passes.
 * - **Origin**: a request whose `Origin` is neither the gateway's own (`http(s)://<Host>`) nor in
 *   `corsOrigins`, or that says `Sec-Fetch-Site: cross-site`/`same-site` without an `Origin`, is
 *   refused 403 `origin_not_allowed` on every route but the data-free pages (`/status`, `/docs*`,
 *   `/openapi.json`). Preflights are refused the same way, so they never get CORS headers.
 *
 * Per request it costs a Set lookup and a few string compares (the Host's name is parsed once per
 * distinct header value).
 */
export function requestBoundary(options: RequestBoundaryOptions): RequestBoundary {
  const listen = options.host.toLowerCase();
  const anyHost = options.allowedHosts.includes('*');
  const checkHost = !anyHost && (!WILDCARD_HOSTS.has(listen) || options.allowedHosts.length > 0);
  const loopback = isLoopbackHost(listen);
  const exact = new Set<string>();
  const suffixes: string[] = [];
  if (!WILDCARD_HOSTS.has(listen)) exact.add(listen.includes(':') && !listen.startsWith('[') ? `[${listen}]` : listen);
  for (const entry of options.allowedHosts) {
    const name = entry.toLowerCase();
    if (name.startsWith('.')) suffixes.push(name);
    else exact.add(name.includes(':') && !name.startsWith('[') ? `[${name}]` : name);
  }
  const anyOrigin = options.corsOrigins.includes('*');
  const origins = new Set(options.corsOrigins);

  const hostAllowed = (name: string): boolean => {
    if (exact.has(name)) return true;
    const lower = name.toLowerCase();
    if (exact.has(lower)) return true;
    if (loopback && (lower === 'localhost' || lower.endsWith('.localhost') || lower === '[::1]' || isLoopbackHost(lower))) return true;
    for (const suffix of suffixes) if (lower.endsWith(suffix)) return true;
    return false;
  };

  // Host headers already found allowed (a handful in practice), so the usual request costs one lookup.
  const allowedHeaders = new Set<string>();
  return (method, path, headers) => {
    const host = headers.host;
    if (checkHost && host !== undefined && !allowedHeaders.has(host)) {
      if (!hostAllowed(hostName(host))) return new GatewayError('host_not_allowed', 'The Host header does not name this gateway; add the name to allowedHosts to serve it');
      if (allowedHeaders.size < MAX_REMEMBERED_HOSTS) allowedHeaders.add(host);
    }
    const origin = headers.origin;
    const site = headers['sec-fetch-site'];
    if (origin === undefined && (site === undefined || site === 'same-origin' || site === 'none')) return undefined;
    if ((method === 'GET' || method === 'HEAD') && (PUBLIC_PAGES.has(path) || path.startsWith('/docs/'))) return undefined;
    if (origin !== undefined) {
      if (anyOrigin || origins.has(origin)) return undefined;
      // The gateway's own origin: a page it served (the status page) calling its API.
      if (host !== undefined && origin.endsWith(host) && (origin.length === host.length + 7 ? origin.startsWith('http://') : origin.length === host.length + 8 && origin.startsWith('https://'))) return undefined;
    }
    return new GatewayError('origin_not_allowed', 'Requests from another origin are refused; add the origin to corsOrigins to allow it');
  };
}

/**
 * True for a JSON media type: `application/json` or `application/<x>+json`, parameters (charset)
 * allowed. Anything else, `text/plain` and forms included, is what a web page can send without a
 * CORS preflight, so JSON routes refuse it.
 */
export function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  if (header === 'application/json') return true;
  const semicolon = header.indexOf(';');
  const type = (semicolon < 0 ? header : header.slice(0, semicolon)).trim().toLowerCase();
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json') && !type.includes(' '));
}
