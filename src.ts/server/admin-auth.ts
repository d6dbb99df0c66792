import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { GatewayError } from '../errors/index.js';

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/** The token of an `Authorization: Bearer <token>` header (scheme case-insensitive), or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^\s*bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

/**
 * Guards `/admin/*`: with a token configured, requires `Authorization: Bearer <token>`
 * (compared in constant time); without one, admin is open only when the gateway listens on a
 * loopback address, and closed (401 naming the fix) otherwise.
 */
export function adminAuth(adminToken: string | undefined, loopbackOnly: boolean) {
  const expected = adminToken ? digest(adminToken) : undefined;
  return (request: Request, _response: Response, next: NextFunction): void => {
    if (!expected) {
      if (loopbackOnly) return next();
      return next(new GatewayError('unauthorized', 'The admin API is closed: this gateway listens beyond loopback and has no adminToken configured'));
    }
    const token = bearerToken(request.get('authorization'));
    if (token !== undefined && timingSafeEqual(digest(token), expected)) return next();
    next(new GatewayError('unauthorized', 'This admin route requires a valid bearer token'));
  };
}
