import { rename, writeFile } from 'node:fs/promises';
import { locateConfigError, parseConfigText, readConfigFileText, type GatewayOptions } from '../config/index.js';
import { GatewayError } from '../errors/index.js';
import { rawPathOf } from '../internal/describe-schema-issue.js';
import type { GatewayHandle } from '../gateway-handle.js';
import { watchConfigFile, type ConfigFileWatcher } from '../reload/index.js';
import { runMultiProviderInferenceServer } from '../run-multi-provider-inference-server.js';
import { prettyLogStream } from './pretty-log-stream.js';
import { buildServeOptions, type ServeFlags } from './serve-options.js';

/** What `serve` and `devnet --serve` start the gateway with. */
export interface RunGatewayOptions {
  readonly flags: ServeFlags;
  readonly environment: NodeJS.ProcessEnv;
  /** Options that win over the file and the environment (the devnet's chain and key). */
  readonly fixed?: Partial<GatewayOptions>;
  /** More fields for the ready file. */
  readonly readyFacts?: Record<string, unknown>;
}

/** A running gateway of the CLI. */
export interface RunningGateway {
  readonly handle: GatewayHandle;
  /** Stops watching the file and closes the gateway (in-flight requests finish first). */
  close(): Promise<void>;
}

/** Writes `facts` as JSON to `path` in one step (a reader never sees half a file). */
export async function writeReadyFile(path: string, facts: Record<string, unknown>): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, JSON.stringify({ ...facts, pid: process.pid }, null, 2) + '\n');
  await rename(temporary, path);
}

/**
 * An `invalid_config` with where its option came from: a problem in the file gets its line (never its
 * text: the file may not be a config at all); an unknown key that is not in the file was typed in a
 * `--set` flag by the operator, so it is named.
 */
function describeOrigin(error: unknown, fileOptions: Partial<GatewayOptions>, text: string | undefined, path: string | undefined): unknown {
  if (text !== undefined && path !== undefined) {
    const located = locateConfigError(error, text, path);
    if (located !== error) return located;
  }
  const rawPath = rawPathOf(error);
  if (!GatewayError.isInstance(error) || error.code !== 'invalid_config' || !rawPath || !/an unknown key/.test(error.message)) return error;
  // Named only when the file does not hold it (it then came from a flag).
  let inFile: unknown = fileOptions;
  for (const part of rawPath) inFile = typeof inFile === 'object' && inFile !== null && Object.hasOwn(inFile, part) ? (inFile as Record<PropertyKey, unknown>)[part] : undefined;
  if (inFile !== undefined) return error;
  return new GatewayError('invalid_config', `${error.message} (${rawPath.map(String).join('.')}, given with --set)`, { param: error.param, cause: error });
}

/**
 * What the banner says of a generated admin token: on a terminal, the token itself, once (as
 * `npm start` does); otherwise (a service, a container: stderr ends up in logs) only how to get one.
 * Nothing when the operator configured the token.
 */
export function adminTokenNotice(options: GatewayOptions, token: string, terminal: boolean): string {
  if (options.adminToken !== undefined) return '';
  if (options.adminTokenFile !== undefined) return `admin token: in ${options.adminTokenFile} (export ADMIN_TOKEN=$(cat ${options.adminTokenFile}))\n`;
  if (terminal) return `admin token (generated for this run; set ADMIN_TOKEN or adminTokenFile to keep one):\n  export ADMIN_TOKEN=${token}\n`;
  return 'admin token: generated for this run and not shown (stderr is not a terminal); set ADMIN_TOKEN or adminTokenFile to use the admin API\n';
}

/**
 * Starts the gateway from the config file, the environment and the flags; logs human-readable on a
 * terminal (JSON otherwise); watches the file and applies its valid changes; writes the ready file.
 * Rejects like `runMultiProviderInferenceServer` (GatewayError `invalid_config`, `listen_failed`, ...).
 */
export async function runGateway(options: RunGatewayOptions): Promise<RunningGateway> {
  const { flags, environment, fixed } = options;
  const path = flags.configPath;
  // Bounded: a file over 1 MiB (MAX_CONFIG_FILE_BYTES) is refused before it is read whole.
  const text = path !== undefined ? await readConfigFileText(path) : undefined;
  const fileOptions = text !== undefined && path !== undefined ? parseConfigText(text, path) : {};
  const gatewayOptions = buildServeOptions(fileOptions, flags, environment, fixed);
  const pretty = (flags.logFormat ?? (process.stdout.isTTY ? 'pretty' : 'json')) === 'pretty';
  let handle: GatewayHandle;
  try {
    handle = await runMultiProviderInferenceServer(gatewayOptions, pretty ? { logDestination: prettyLogStream(process.stdout, process.stdout.isTTY === true) } : {});
  } catch (error) {
    throw describeOrigin(error, fileOptions, text, path);
  }
  const logger = handle.gateway.logger;
  let watcher: ConfigFileWatcher | undefined;
  if (path !== undefined && flags.watch) {
    watcher = watchConfigFile({
      path,
      initialText: text,
      logger,
      apply: (next) => handle.reconfigure(next),
      toOptions: (next) => buildServeOptions(next, flags, environment, fixed),
    });
  }
  const fleet = handle.providers.list();
  process.stderr.write(
    `zg-gateway listening on ${handle.url}  (strategy ${handle.gateway.strategy.name}, ${fleet.length} provider${fleet.length === 1 ? '' : 's'}` +
      `${handle.failedProviders.length > 0 ? `, ${handle.failedProviders.length} failed` : ''})\n` +
      (watcher ? `watching ${path} for changes\n` : '') +
      adminTokenNotice(gatewayOptions, handle.adminToken, process.stderr.isTTY === true),
  );
  if (flags.readyFile) await writeReadyFile(flags.readyFile, { url: handle.url, ...options.readyFacts });
  return {
    handle,
    close: async () => {
      watcher?.close();
      await handle.close();
    },
  };
}
