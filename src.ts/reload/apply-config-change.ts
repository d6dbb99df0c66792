import type { GatewayConfig } from '../config/index.js';
import { routingOptions } from '../create-gateway.js';
import { GatewayError } from '../errors/index.js';
import type { Gateway } from '../gateway/gateway.js';
import { loadKeysFile, type ApiKeyEntry } from '../keys/index.js';
import type { ClientKeySet } from './client-key-set.js';
import { applyFleetChanges, type FleetChangeReport, type FleetChangeTarget } from './fleet-changes.js';
import { classifyChanges } from './live-options.js';
import type { StrategySlot } from './strategy-slot.js';

/** What a configuration change did. */
export interface ReloadReport {
  /** Top-level options whose values changed. */
  readonly changed: string[];
  /** Of those, the ones applied now. */
  readonly applied: string[];
  /** Of those, the ones not applied: they are read only at start (port, host, store, key, ...). */
  readonly needsRestart: string[];
  /** What happened to the fleet. */
  readonly providers: FleetChangeReport;
}

/** The running gateway's parts a change is applied to. */
export interface ReloadTarget extends FleetChangeTarget {
  readonly gateway: Gateway;
  /** Undefined when the strategy was given as a dependency (then `strategy` changes need a restart). */
  readonly strategies: StrategySlot | undefined;
  /** Undefined when the gateway started without client keys (then keys need a restart). */
  readonly keys: ClientKeySet | undefined;
  /** Changes the log level; absent when the logger was given by the caller (its level is the caller's, as at start). */
  readonly setLogLevel?: (level: string) => void;
  /** Models known from the chain's catalog (for the route planner). */
  readonly catalogModels: () => ReadonlyMap<string, number>;
}

const ROUTING = new Set(['defaultModel', 'modelAliases', 'fallbacks', 'contextWindowFallbacks', 'requireVerifiable', 'pools']);
const FLEET = new Set(['providers', 'openAICompatibleProviders', 'weights']);

/**
 * Applies a validated config to a running gateway, from `current`: what can change live changes
 * (fleet, weights and membership options, strategy, routing, client keys, log level, shutdown
 * grace), what cannot is listed in `needsRestart` and left as it was. Everything that can fail is
 * checked before anything changes (the keys file is read first); a rejection changes nothing.
 * Requests in flight are never failed: removed providers drain, a new strategy takes the next
 * requests.
 */
export async function applyConfigChange(target: ReloadTarget, current: GatewayConfig, next: GatewayConfig): Promise<ReloadReport> {
  const { live, restart } = classifyChanges(current, next);
  const has = (name: string): boolean => live.includes(name);
  const moveToRestart = (name: string): void => {
    if (!has(name)) return;
    live.splice(live.indexOf(name), 1);
    restart.push(name);
  };
  // Checks first: nothing has changed yet if these throw.
  const fileKeys: readonly ApiKeyEntry[] = next.keysFile ? await loadKeysFile(next.keysFile) : [];
  const configuredKeys = [...(next.apiKeys ?? []), ...fileKeys];
  const repeated = configuredKeys.find((entry, index) => configuredKeys.findIndex((other) => other.id === entry.id || other.hash === entry.hash) !== index);
  if (repeated) throw new GatewayError('invalid_config', `Invalid option apiKeys: key "${repeated.id}" is given twice (in apiKeys and keysFile)`, { param: 'apiKeys' });
  if (!target.keys && configuredKeys.length > 0) {
    moveToRestart('apiKeys');
    moveToRestart('keysFile');
  }
  if (!target.strategies) {
    moveToRestart('strategy');
    moveToRestart('strategyOptions');
  }
  const strategyChanged = has('strategy') || has('strategyOptions');
  if (strategyChanged) target.strategies?.apply(next);

  if (has('logLevel')) target.setLogLevel?.(next.logLevel);
  if (live.some((name) => ROUTING.has(name))) target.gateway.planner.configure(routingOptions(next, target.catalogModels));
  // Waiters keep their place and deadline; a larger queue or new overflow may let one through now.
  if (has('queue')) target.gateway.admission.configure(next.queue);
  if (has('queue') || has('pools')) target.gateway.admission.notify();
  // The keys file is read again on every change: its content may have changed under the same name.
  if (target.keys && (has('apiKeys') || has('keysFile') || next.keysFile !== undefined)) target.keys.setConfigured(configuredKeys);

  const providers = live.some((name) => FLEET.has(name))
    ? await applyFleetChanges(target, current, next)
    : { added: [], removed: [], replaced: [], reconfigured: [], failed: [] };
  return { changed: [...live, ...restart], applied: live, needsRestart: restart, providers };
}
