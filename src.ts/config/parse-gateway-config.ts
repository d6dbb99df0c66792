import { GatewayError } from '../errors/index.js';
import { knownOptionNames, rawIssuePath, rememberRawPath, safeIssueMessage, safePathParts } from '../internal/describe-schema-issue.js';
import { gatewayConfigSchema, type GatewayConfig, type GatewayOptions } from './gateway-config-schema.js';
import { readEnvironment } from './read-environment.js';

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value as Record<string, unknown>)) deepFreeze(child);
  }
  return value;
}

/** The discover options in the gateway's terms (prices as bigint neuron). */
export interface DiscoverSelection {
  models?: readonly string[];
  verifiability?: readonly string[];
  maxInputPrice?: bigint;
  maxOutputPrice?: bigint;
  include?: readonly string[];
  exclude?: readonly string[];
}

/** The address of a `providers` entry (a string, or `{ address, name }`). */
export function providerAddress(entry: string | { address: string }): string {
  return typeof entry === 'string' ? entry : entry.address;
}

/** The name a `providers` entry gives `address` (case-insensitive), if any. */
export function configuredProviderName(providers: GatewayConfig['providers'] | undefined, address: string): string | undefined {
  if (!Array.isArray(providers)) return undefined;
  const lower = address.toLowerCase();
  for (const entry of providers) if (typeof entry !== 'string' && entry.address.toLowerCase() === lower) return entry.name;
  return undefined;
}

/** The configured 0G providers: explicit addresses, and discovery options when the catalog is read from the chain. */
export function providerSelection(config: Pick<GatewayConfig, 'providers'>): { addresses: readonly string[]; discover: DiscoverSelection | undefined } {
  const providers = config.providers;
  if (Array.isArray(providers)) return { addresses: providers.map(providerAddress), discover: undefined };
  if (providers === 'auto') return { addresses: [], discover: {} };
  const { maxInputPrice, maxOutputPrice, ...rest } = providers.discover;
  return {
    addresses: [],
    discover: { ...rest, ...(maxInputPrice !== undefined ? { maxInputPrice: BigInt(maxInputPrice) } : {}), ...(maxOutputPrice !== undefined ? { maxOutputPrice: BigInt(maxOutputPrice) } : {}) },
  };
}

/** Aliases as the planner takes them: `{ alias: model }`, and the hidden ones apart. */
export function aliasTable(config: Pick<GatewayConfig, 'modelAliases'>): { aliases: Record<string, string>; hidden: Set<string> } {
  const aliases: Record<string, string> = {};
  const hidden = new Set<string>();
  for (const [alias, target] of Object.entries(config.modelAliases)) {
    if (typeof target === 'string') aliases[alias] = target;
    else {
      aliases[alias] = target.model;
      if (target.hidden) hidden.add(alias);
    }
  }
  return { aliases, hidden };
}

/** True for an address only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
}

function invalid(field: string, message: string, rawPath?: readonly PropertyKey[]): GatewayError {
  const error = new GatewayError('invalid_config', field === '(options)' ? `Invalid options: ${message}` : `Invalid option ${field}: ${message}`, { param: field });
  return rawPath ? rememberRawPath(error, rawPath) : error;
}

let optionNames: ReadonlySet<string> | undefined;

/**
 * Validates options (env fills `key`, `rpc`, from `REDIS_URL` `store`, and from `OTEL_EXPORTER_OTLP_ENDPOINT` `tracing`), throwing `invalid_config` naming the bad field.
 * The private key never appears in the error. The result is deeply frozen.
 */
export function parseGatewayConfig(options: GatewayOptions, environment: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const fromEnvironment = readEnvironment(environment);
  const input: Record<string, unknown> = { ...(options as Record<string, unknown>) };
  if (input.key === undefined && fromEnvironment.key) input.key = fromEnvironment.key;
  if (input.rpc === undefined && fromEnvironment.rpc) input.rpc = fromEnvironment.rpc;
  if (input.store === undefined && fromEnvironment.redisUrl) input.store = { type: 'redis', url: fromEnvironment.redisUrl };
  if (input.tracing === undefined && fromEnvironment.otlpEndpoint) {
    input.tracing = { endpoint: fromEnvironment.otlpEndpoint, ...(fromEnvironment.otelServiceName ? { serviceName: fromEnvironment.otelServiceName } : {}) };
  }
  const parsed = gatewayConfigSchema.safeParse(input);
  if (!parsed.success) {
    // The options may be a file that is not a config at all (a symlink to a file of secrets): the
    // message names known options and indexes only, never a key or value that came from the input.
    const issue = parsed.error.issues[0];
    optionNames ??= knownOptionNames(gatewayConfigSchema);
    const field = safePathParts(issue?.path ?? [], optionNames).join('.') || '(options)';
    throw invalid(field, safeIssueMessage(issue), rawIssuePath(issue));
  }
  const config = parsed.data;
  const selection = providerSelection(config);
  if (selection.addresses.length > 0 || selection.discover) {
    if (!config.key) throw invalid('key', 'a wallet private key is required (option key or env ZG_PRIVATE_KEY)');
    if (!config.rpc) throw invalid('rpc', 'an RPC URL is required (option rpc or env RPC_ENDPOINT)');
  }
  const ids = [...selection.addresses.map((provider) => provider.toLowerCase()), ...config.openAICompatibleProviders.map((provider) => provider.name.toLowerCase())];
  const second = ids.findIndex((id, index) => ids.indexOf(id) !== index);
  if (second >= 0) {
    const addresses = selection.addresses.length;
    throw second >= addresses
      ? invalid('providers', `openAICompatibleProviders.${second - addresses}.name names a provider listed before (names and addresses must be unique)`, ['openAICompatibleProviders', second - addresses, 'name'])
      : invalid('providers', `providers.${second} is listed twice`, ['providers', second]);
  }
  for (const [index, upstream] of config.openAICompatibleProviders.entries()) {
    if (upstream.model !== undefined && upstream.models !== undefined) throw invalid(`openAICompatibleProviders.${index}.model`, 'give either model or models, not both');
  }
  if (config.storeKeys === true && config.store.type !== 'redis') throw invalid('storeKeys', "client keys kept in the store need store: { type: 'redis' }");
  const hasKeys = (config.apiKeys?.length ?? 0) > 0 || config.keysFile !== undefined || config.storeKeys === true;
  if (!isLoopbackHost(config.host) && !config.allowUnauthenticated && !hasKeys) {
    throw invalid(
      'host',
      `the gateway would serve a non-loopback address without client keys, so anyone who reaches the port could spend the wallet's funds; ` +
        'configure apiKeys, or set allowUnauthenticated: true if something in front of the gateway authenticates clients, or listen on 127.0.0.1',
    );
  }
  return deepFreeze(config);
}

/** The same as {@link parseGatewayConfig} (the name of earlier versions). */
export const parseGatewayOptions = parseGatewayConfig;
