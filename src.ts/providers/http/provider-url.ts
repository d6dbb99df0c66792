import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { GatewayError } from '../../errors/index.js';

/**
 * What a provider URL may be, wherever it enters (the node API, the config file, the chain): an
 * `http:` or `https:` URL. Anything else (`file:`, `javascript:`, `data:`, `gopher:`, `redis:`...)
 * is refused before anything connects to it. Credentials in a URL are never kept: the node API
 * refuses them (use `apiKey`), and a configured URL has them stripped (the HTTP client never sent
 * them anyway) so that no status page, log line, metric label or header can show them.
 */

/** The schemes a provider may be reached by. */
export const PROVIDER_URL_SCHEMES: readonly string[] = ['http:', 'https:'];

/** Why `raw` is not a usable provider URL (bad syntax or scheme), or undefined when it is. */
export function providerUrlProblem(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'is not a valid URL';
  }
  if (!PROVIDER_URL_SCHEMES.includes(url.protocol)) return `uses the scheme \`${url.protocol.replace(/:$/, '').slice(0, 20)}\`; only http and https are accepted`;
  if (url.hostname === '') return 'has no host';
  return undefined;
}

/** True when the URL carries a user name or password (`http://user:pw@host`). */
export function urlHasCredentials(raw: string): boolean {
  try {
    const url = new URL(raw);
    return url.username !== '' || url.password !== '';
  } catch {
    return /^[a-z][a-z0-9+.-]*:\/\/[^/?#\s]*@/i.test(raw);
  }
}

/** The URL without its user name and password (unchanged when it has none, or is not a URL). */
export function withoutCredentials(raw: string): string {
  if (!urlHasCredentials(raw)) return raw;
  try {
    const url = new URL(raw);
    url.username = '';
    url.password = '';
    const text = url.toString();
    // `URL` adds a slash to a bare origin; keep the caller's form.
    return raw.endsWith('/') || url.pathname !== '/' ? text : text.replace(/\/$/, '');
  } catch {
    return redactUrlCredentials(raw);
  }
}

/** Replaces the credentials of every URL in a text (an error message, a log value) with `[redacted]`. */
export function redactUrlCredentials(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^/?#\s@]*@/gi, '$1[redacted]@');
}

/** Characters a header value may carry as they are: visible ASCII and space (no CR, LF or other control). */
const HEADER_SAFE = /^[\x20-\x7e]*$/;

/** True when `value` can be sent as an HTTP header value as it is. */
export function isHeaderSafe(value: string): boolean {
  return HEADER_SAFE.test(value);
}

/** `value` as a header value: unchanged when safe, else percent-encoded (UTF-8), so a header can never fail or split. */
export function headerSafe(value: string): string {
  return isHeaderSafe(value) ? value : encodeURIComponent(value);
}

/**
 * Cloud metadata services (AWS, GCP, Azure, OCI, OpenStack: 169.254.169.254; AWS ECS task
 * metadata 169.254.170.2; AWS IPv6 fd00:ec2::254; Alibaba 100.100.100.200), refused with the
 * link-local ranges unless `allowLinkLocal`.
 */
export const METADATA_ADDRESSES: readonly string[] = ['169.254.169.254', '169.254.170.2', 'fd00:ec2::254', '100.100.100.200'];

/** Host names of metadata services, refused like their addresses. */
export const METADATA_HOSTNAMES: readonly string[] = ['metadata.google.internal', 'metadata.goog', 'metadata'];

/** Link-local ranges (where metadata services live): 169.254.0.0/16 and fe80::/10. */
export const LINK_LOCAL_RANGES: readonly string[] = ['169.254.0.0/16', 'fe80::/10'];

/** Options of {@link ProviderUrlPolicy}. */
export interface ProviderUrlPolicyOptions {
  /** Accept link-local addresses and cloud metadata services. Default false (refused). */
  allowLinkLocal?: boolean | undefined;
  /** More addresses or CIDR ranges to refuse (`10.0.0.0/8`, `fd00::/8`, `192.168.1.7`). Default none. */
  deny?: readonly string[] | undefined;
  /** Resolves a host name to its addresses (default: the system resolver, every address). */
  resolve?: ((hostname: string) => Promise<string[]>) | undefined;
}

/** Parses `10.0.0.0/8`, `fd00::/8` or a single address into a BlockList rule; throws on anything else. */
function addRule(list: BlockList, rule: string): void {
  const [address = '', prefixText] = rule.trim().split('/');
  const family = isIP(address);
  if (family === 0) throw new GatewayError('invalid_config', `\`${rule.slice(0, 60)}\` is not an IP address or CIDR range`, { param: 'providerUrls.deny' });
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (prefixText === undefined) return list.addAddress(address, type);
  const prefix = Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128)) {
    throw new GatewayError('invalid_config', `\`${rule.slice(0, 60)}\` has an invalid prefix length`, { param: 'providerUrls.deny' });
  }
  list.addSubnet(address, prefix, type);
}

/** True when `rule` is an IP address or CIDR range {@link ProviderUrlPolicy} accepts. */
export function isAddressRule(rule: string): boolean {
  try {
    addRule(new BlockList(), rule);
    return true;
  } catch {
    return false;
  }
}

/** An IPv4-mapped IPv6 address (`::ffff:a9fe:a9fe`, `::ffff:169.254.169.254`) as its IPv4 address; other addresses unchanged. */
export function unmapAddress(address: string): string {
  const mapped = /^::ffff:(.+)$/i.exec(address);
  if (!mapped) return address;
  const rest = mapped[1] as string;
  if (isIP(rest) === 4) return rest;
  const hex = /^([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(rest);
  if (!hex) return address;
  const high = parseInt(hex[1] as string, 16);
  const low = parseInt(hex[2] as string, 16);
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}

/**
 * The deny list of the node API (and of providers' self-published chain URLs): checked before
 * anything connects. Refuses link-local and cloud metadata addresses by default (no local
 * inference server lives there, and a metadata service hands out cloud credentials), and the
 * operator's extra ranges. Loopback and private addresses stay allowed: local and LAN servers
 * (vLLM, Ollama, lmdeploy on the same host or network) are the common case of the node API.
 * A host name is resolved and every address it has is checked.
 */
export class ProviderUrlPolicy {
  readonly #denied = new BlockList();
  readonly #deniedHosts: ReadonlySet<string>;
  readonly #resolve: (hostname: string) => Promise<string[]>;

  constructor(options: ProviderUrlPolicyOptions = {}) {
    const hosts = new Set<string>();
    if (!options.allowLinkLocal) {
      for (const rule of [...LINK_LOCAL_RANGES, ...METADATA_ADDRESSES]) addRule(this.#denied, rule);
      for (const host of METADATA_HOSTNAMES) hosts.add(host);
    }
    for (const rule of options.deny ?? []) addRule(this.#denied, rule);
    this.#deniedHosts = hosts;
    this.#resolve = options.resolve ?? (async (hostname) => (await lookup(hostname, { all: true, verbatim: true })).map((entry) => entry.address));
  }

  /** True when the address (IPv4, IPv6, or IPv4-mapped IPv6) is refused. */
  deniesAddress(address: string): boolean {
    const plain = unmapAddress(address.replace(/^\[|\]$/g, ''));
    const family = isIP(plain);
    if (family === 0) return false;
    return this.#denied.check(plain, family === 4 ? 'ipv4' : 'ipv6');
  }

  /**
   * Checks a provider URL before any connection: scheme, then its host (resolved when a name)
   * against the deny list. Throws 400 `invalid_request` naming `param` when refused.
   */
  async check(raw: string, param = 'url'): Promise<void> {
    const problem = providerUrlProblem(raw);
    if (problem) throw new GatewayError('invalid_request', `The URL ${problem}`, { param });
    const host = new URL(raw).hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
    const refuse = (): GatewayError =>
      new GatewayError('invalid_request', 'The URL points to a denied address (link-local, a cloud metadata service, or a range in `providerUrls.deny`)', { param });
    if (this.#deniedHosts.has(host)) throw refuse();
    if (isIP(host) !== 0) {
      if (this.deniesAddress(host)) throw refuse();
      return;
    }
    let addresses: string[];
    try {
      addresses = await this.#resolve(host);
    } catch {
      throw new GatewayError('invalid_request', 'The URL\'s host name could not be resolved', { param });
    }
    if (addresses.some((address) => this.deniesAddress(address))) throw refuse();
  }
}
