import type { IncomingHttpHeaders } from 'node:http';
import { GatewayError } from '../errors/index.js';

/** A request's admission queue priority and pool, as the client asked. */
export interface AdmissionHints {
  /** 0-10, higher first; undefined: the configured default. */
  priority: number | undefined;
  /** The pool named by `X-Pool`; undefined: the model's pool, else any provider. */
  pool: string | undefined;
}

const PRIORITY_PATTERN = /^(?:[0-9]|10)$/;
const POOL_PATTERN = /^[A-Za-z0-9_.-]{1,100}$/;

/**
 * Reads `X-Priority` (wins) or the body's `user_level` (an integer 0-10, validated with the body),
 * and `X-Pool`; takes `user_level` out of the body (it is the gateway's, not the provider's).
 * Throws `invalid_request` (400) naming the bad header.
 */
export function takeAdmissionHints(body: Record<string, unknown>, headers: IncomingHttpHeaders): AdmissionHints {
  const level = body.user_level;
  delete body.user_level;
  const header = headers['x-priority'];
  let priority = typeof level === 'number' ? level : undefined;
  if (header !== undefined) {
    if (typeof header !== 'string' || !PRIORITY_PATTERN.test(header.trim())) {
      throw new GatewayError('invalid_request', 'X-Priority must be an integer from 0 to 10 (higher is served first)', { param: 'X-Priority' });
    }
    priority = Number(header.trim());
  }
  const poolHeader = headers['x-pool'];
  if (poolHeader !== undefined && (typeof poolHeader !== 'string' || !POOL_PATTERN.test(poolHeader))) {
    throw new GatewayError('invalid_request', 'X-Pool must be 1-100 characters of [A-Za-z0-9_.-] naming a configured pool', { param: 'X-Pool' });
  }
  return { priority, pool: poolHeader };
}
