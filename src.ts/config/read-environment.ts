/**
 * Every environment variable the gateway reads, in one place. The library reads only
 * `ZG_PRIVATE_KEY`, `RPC_ENDPOINT`, `REDIS_URL`, `OTEL_EXPORTER_OTLP_ENDPOINT` and `OTEL_SERVICE_NAME`
 * (as fallbacks for `key`, `rpc`, `store: { type: 'redis', url }` and `tracing: { endpoint, serviceName }`); the example and the CLI
 * also build options from the rest with {@link optionsFromEnvironment}.
 */
import type { GatewayOptions } from './gateway-config-schema.js';

/** The secrets and endpoints the library falls back to. */
export function readEnvironment(environment: NodeJS.ProcessEnv = process.env): { key?: string; rpc?: string; redisUrl?: string; otlpEndpoint?: string; otelServiceName?: string } {
  return {
    ...(environment.ZG_PRIVATE_KEY ? { key: environment.ZG_PRIVATE_KEY } : {}),
    ...(environment.RPC_ENDPOINT ? { rpc: environment.RPC_ENDPOINT } : {}),
    ...(environment.REDIS_URL ? { redisUrl: environment.REDIS_URL } : {}),
    ...(environment.OTEL_EXPORTER_OTLP_ENDPOINT ? { otlpEndpoint: environment.OTEL_EXPORTER_OTLP_ENDPOINT } : {}),
    ...(environment.OTEL_SERVICE_NAME ? { otelServiceName: environment.OTEL_SERVICE_NAME } : {}),
  };
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

function integer(name: string, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed)) throw new Error(`${name} must be an integer`);
  return parsed;
}

/**
 * Options from the environment: `ZG_PROVIDERS` (comma-separated addresses), `ZG_PRIVATE_KEY`,
 * `RPC_ENDPOINT`, `REDIS_URL`, `PORT`, `HOST`, `STRATEGY`, `LOG_LEVEL`, `ADMIN_TOKEN`,
 * `ADMIN_TOKEN_FILE`, `METRICS_TOKEN`, `ALLOW_UNAUTHENTICATED` (`true`). Only variables that are set appear. Throws for a malformed number.
 */
export function optionsFromEnvironment(environment: NodeJS.ProcessEnv = process.env): Partial<GatewayOptions> {
  const providers = list(environment.ZG_PROVIDERS);
  const port = integer('PORT', environment.PORT);
  const { redisUrl, otlpEndpoint, otelServiceName, ...fallbacks } = readEnvironment(environment);
  return {
    ...fallbacks,
    ...(otlpEndpoint ? { tracing: { endpoint: otlpEndpoint, ...(otelServiceName ? { serviceName: otelServiceName } : {}) } } : {}),
    ...(redisUrl ? { store: { type: 'redis', url: redisUrl } } : {}),
    ...(providers.length > 0 ? { providers } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(environment.HOST ? { host: environment.HOST } : {}),
    ...(environment.STRATEGY ? { strategy: environment.STRATEGY } : {}),
    ...(environment.LOG_LEVEL ? { logLevel: environment.LOG_LEVEL as GatewayOptions['logLevel'] } : {}),
    ...(environment.ADMIN_TOKEN ? { adminToken: environment.ADMIN_TOKEN } : {}),
    ...(environment.ADMIN_TOKEN_FILE ? { adminTokenFile: environment.ADMIN_TOKEN_FILE } : {}),
    ...(environment.METRICS_TOKEN ? { metricsToken: environment.METRICS_TOKEN } : {}),
    ...(environment.ALLOW_UNAUTHENTICATED === 'true' ? { allowUnauthenticated: true } : {}),
  };
}
