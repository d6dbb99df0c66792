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
  return bearerGuard([adminToken], loopbackOnly, { closed: 'The admin API is closed: this gateway listens beyond loopback and has no adminToken configured', refused: 'This admin route requires a valid bearer token' });
}

/**
 * Guards `/metrics` like `/admin/*`, accepting the `metricsToken` (for scrapers, which then need
 * no admin rights) or the `adminToken`.
 */
export function metricsAuth(adminToken: string | undefined, metricsToken: string | undefined, loopbackOnly: boolean) {
  return bearerGuard([metricsToken, adminToken], loopbackOnly, {
    closed: '/metrics is closed: this gateway listens beyond loopback and has no metricsToken or adminToken configured',
    refused: '/metrics requires a valid bearer token (the metricsToken or the adminToken)',
  });
}

/** Accepts a bearer token equal to any of `tokens`; with none configured, open on loopback only. */
function bearerGuard(tokens: readonly (string | undefined)[], loopbackOnly: boolean, messages: { closed: string; refused: string }) {
  const expected = tokens.filter((token): token is string => Boolean(token)).map(digest);
  return (request: Request, _response: Response, next: NextFunction): void => {
    if (expected.length === 0) {
      if (loopbackOnly) return next();
      return next(new GatewayError('unauthorized', messages.closed));
    }
    const token = bearerToken(request.get('authorization'));
    if (token !== undefined) {
      const given = digest(token);
      // Every candidate is compared, so the time taken does not tell which one matched.
      let matched = false;
      for (const candidate of expected) matched = timingSafeEqual(given, candidate) || matched;
      if (matched) return next();
    }
    next(new GatewayError('unauthorized', messages.refused));
  };
}
