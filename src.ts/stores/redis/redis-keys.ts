import { GatewayError } from '../../errors/index.js';

/** The layout version in every key: a change of layout gets a new one, so old and new never mix. */
export const KEY_FORMAT_VERSION = 'v1';
/** The default first part of every key. */
export const DEFAULT_PREFIX = 'zgw';

const PREFIX_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
const NAMESPACE_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** A valid key prefix, or GatewayError('invalid_config'). */
export function checkPrefix(prefix: string): string {
  if (typeof prefix !== 'string' || !PREFIX_PATTERN.test(prefix)) {
    throw new GatewayError('invalid_config', 'A Redis key prefix must be 1-64 characters of A-Z a-z 0-9 _ . -', { param: 'store.prefix' });
  }
  return prefix;
}

/** A valid namespace, or GatewayError('invalid_config'). */
export function checkNamespace(namespace: string): string {
  if (typeof namespace !== 'string' || !NAMESPACE_PATTERN.test(namespace)) {
    throw new GatewayError('invalid_config', 'A Redis store namespace must be 1-64 characters of A-Z a-z 0-9 _ -', { param: 'namespace' });
  }
  return namespace;
}
