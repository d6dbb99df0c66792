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
 * Guards `/admin/*` and `/nodes/*`: requires `Authorization: Bearer <token>` (compared in
 * constant time). Without a token the admin API is closed (401 naming the fix), on every address:
 * a loopback listener is reachable from every web page in the operator's browser.
 */
export function adminAuth(adminToken: string | undefined) {
  return bearerGuard([adminToken], false, { closed: 'The admin API is closed: this gateway has no adminToken', refused: 'This admin route requires a valid bearer token (the adminToken)' });
}

/**
 * Guards `/metrics`, accepting the `metricsToken` (for scrapers, which then need no admin rights)
 * or the `adminToken`; `open`: served without a token (a loopback listener whose operator
 * configured neither token).
 */
export function metricsAuth(adminToken: string | undefined, metricsToken: string | undefined, open: boolean) {
  return bearerGuard(open ? [] : [metricsToken, adminToken], open, {
    closed: '/metrics is closed: this gateway has no metricsToken or adminToken',
    refused: '/metrics requires a valid bearer token (the metricsToken or the adminToken)',
  });
}

/** Accepts a bearer token equal to any of `tokens`; with none, open when `open`, else closed. */
function bearerGuard(tokens: readonly (string | undefined)[], open: boolean, messages: { closed: string; refused: string }) {
  const expected = tokens.filter((token): token is string => Boolean(token)).map(digest);
  return (request: Request, _response: Response, next: NextFunction): void => {
    if (expected.length === 0) {
      if (open) return next();
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
