import { isDeepStrictEqual } from 'node:util';
import type { GatewayConfig } from '../config/index.js';

/**
 * Options a running gateway applies without a restart. Every other option is read once at start:
 * a change to it is reported (and logged) as needing a restart, and not applied.
 *
 * `providers` applies live only while it stays a list of addresses (switching to or from
 * discovery, or changing the discover options, needs a restart).
 */
export const LIVE_OPTIONS: ReadonlySet<string> = new Set([
  'providers',
  'openAICompatibleProviders',
  'weights',
  'strategy',
  'strategyOptions',
  'defaultModel',
  'modelAliases',
  'fallbacks',
  'contextWindowFallbacks',
  'requireVerifiable',
  'apiKeys',
  'keysFile',
  'logLevel',
  'shutdownGracePeriod',
  'queue',
  'pools',
]);

/** The top-level options whose values differ between two configs, in schema order. */
export function changedOptions(current: GatewayConfig, next: GatewayConfig): string[] {
  const names = new Set([...Object.keys(current), ...Object.keys(next)]);
  return [...names].filter((name) => !isDeepStrictEqual((current as Record<string, unknown>)[name], (next as Record<string, unknown>)[name]));
}

/** Splits changed options into those applied live and those that need a restart. */
export function classifyChanges(current: GatewayConfig, next: GatewayConfig): { live: string[]; restart: string[] } {
  const live: string[] = [];
  const restart: string[] = [];
  for (const name of changedOptions(current, next)) {
    const isLive = LIVE_OPTIONS.has(name) && (name !== 'providers' || (Array.isArray(current.providers) && Array.isArray(next.providers)));
    (isLive ? live : restart).push(name);
  }
  return { live, restart };
}
