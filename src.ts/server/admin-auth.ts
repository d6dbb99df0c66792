import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { GatewayError } from '../errors/index.js';

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/** Requires `Authorization: Bearer <adminToken>` when a token is configured (constant-time compare). */
export function adminAuth(adminToken: string | undefined) {
  const expected = adminToken ? digest(adminToken) : undefined;
  return (request: Request, _response: Response, next: NextFunction): void => {
    if (!expected) return next();
    const header = request.get('authorization') ?? '';
    const match = /^Bearer (.+)$/.exec(header);
    if (match?.[1] && timingSafeEqual(digest(match[1]), expected)) return next();
    next(new GatewayError('unauthorized', 'This admin route requires a valid bearer token'));
  };
}
