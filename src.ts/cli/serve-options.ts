import { STRATEGY_NAMES } from '../strategies/index.js';
import { optionsFromEnvironment, type GatewayOptions } from '../config/index.js';
import { UsageError } from './cli-error.js';
import { choiceFlag, integerFlag, listFlag, stringFlag, type FlagSpec, type ParsedFlags } from './parse-flags.js';
import { applySetOption } from './set-option.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The flags `serve` (and `devnet --serve`) take. */
export const SERVE_FLAG_SPEC: FlagSpec = {
  config: { type: 'string', short: 'c' },
  port: { type: 'string' },
  host: { type: 'string' },
  strategy: { type: 'string' },
  'log-level': { type: 'string' },
  'log-format': { type: 'string' },
  provider: { type: 'string', multiple: true },
  upstream: { type: 'string', multiple: true },
  rpc: { type: 'string' },
  redis: { type: 'string' },
  'keys-file': { type: 'string' },
  'allow-unauthenticated': { type: 'boolean' },
  set: { type: 'string', multiple: true },
  'ready-file': { type: 'string' },
  'no-watch': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

/** What the serve flags say, checked. */
export interface ServeFlags {
  readonly configPath: string | undefined;
  readonly logFormat: 'pretty' | 'json' | undefined;
  readonly readyFile: string | undefined;
  readonly watch: boolean;
  /** The options the flags set (`--set` included), applied over the file and the environment. */
  readonly overrides: (options: Record<string, unknown>) => void;
}

function upstreamOf(command: string, text: string): { name: string; baseUrl: string } {
  const equals = text.indexOf('=');
  const name = text.slice(0, equals);
  const baseUrl = text.slice(equals + 1);
  if (equals <= 0 || !/^https?:\/\/\S+$/i.test(baseUrl)) throw new UsageError(`--upstream takes NAME=URL (like local=http://127.0.0.1:8000/v1), not '${text}'`, command);
  return { name, baseUrl };
}

/** Reads and checks the serve flags (a bad value is a UsageError). */
export function readServeFlags(command: string, flags: ParsedFlags): ServeFlags {
  const port = integerFlag(command, flags, 'port', 0, 65_535);
  const strategy = choiceFlag(command, flags, 'strategy', [...STRATEGY_NAMES, 'cache-aware']);
  const logLevel = choiceFlag(command, flags, 'log-level', LOG_LEVELS);
  const logFormat = choiceFlag(command, flags, 'log-format', ['pretty', 'json'] as const);
  const providers = listFlag(flags, 'provider');
  const upstreams = listFlag(flags, 'upstream').map((text) => upstreamOf(command, text));
  const host = stringFlag(flags, 'host');
  const rpc = stringFlag(flags, 'rpc');
  const redis = stringFlag(flags, 'redis');
  const keysFile = stringFlag(flags, 'keys-file');
  const sets = listFlag(flags, 'set');
  // Checked now, so a malformed --set is reported before anything starts.
  for (const assignment of sets) applySetOption({}, assignment, command);
  return {
    configPath: stringFlag(flags, 'config'),
    logFormat,
    readyFile: stringFlag(flags, 'ready-file'),
    watch: flags.values['no-watch'] !== true,
    overrides: (options) => {
      if (port !== undefined) options.port = port;
      if (host !== undefined) options.host = host;
      if (strategy !== undefined) options.strategy = strategy;
      if (logLevel !== undefined) options.logLevel = logLevel;
      if (providers.length > 0) options.providers = providers;
      if (upstreams.length > 0) options.openAICompatibleProviders = upstreams;
      if (rpc !== undefined) options.rpc = rpc;
      if (redis !== undefined) options.store = { type: 'redis', url: redis };
      if (keysFile !== undefined) options.keysFile = keysFile;
      if (flags.values['allow-unauthenticated'] === true) options.allowUnauthenticated = true;
      for (const assignment of sets) applySetOption(options, assignment, command);
    },
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `over` merged into `base`: objects key by key, anything else (lists included) replaced. */
export function mergeOptions(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue;
    const existing = merged[key];
    merged[key] = isPlainObject(existing) && isPlainObject(value) ? mergeOptions(existing, value) : value;
  }
  return merged;
}

/**
 * The whole configuration: the file's options, then the environment's (`optionsFromEnvironment`),
 * then `fixed` (e.g. the devnet's chain and key), then the flags and `--set`s.
 */
export function buildServeOptions(
  fileOptions: Partial<GatewayOptions>,
  flags: ServeFlags,
  environment: NodeJS.ProcessEnv,
  fixed: Partial<GatewayOptions> = {},
): GatewayOptions {
  let fromEnvironment: Partial<GatewayOptions>;
  try {
    fromEnvironment = optionsFromEnvironment(environment);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  let options = mergeOptions(fileOptions as Record<string, unknown>, fromEnvironment as Record<string, unknown>);
  options = mergeOptions(options, fixed as Record<string, unknown>);
  const overrides: Record<string, unknown> = structuredClone(options);
  flags.overrides(overrides);
  return overrides as GatewayOptions;
}
