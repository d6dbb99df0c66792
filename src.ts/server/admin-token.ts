import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { GatewayError } from '../errors/index.js';

/** The admin token a gateway runs with, and where it came from. */
export interface ResolvedAdminToken {
  readonly token: string;
  /** `configured` (option/env), `file` (read from `adminTokenFile`), `created` (new, written to `adminTokenFile`), `memory` (new, nowhere else). */
  readonly source: 'configured' | 'file' | 'created' | 'memory';
  /** The token file, when one is used. */
  readonly file?: string | undefined;
}

const MIN_LENGTH = 16;

/** A new random admin token: 32 bytes, base64url (43 characters). */
export function generateAdminToken(): string {
  return randomBytes(32).toString('base64url');
}

function invalid(message: string, cause?: unknown): GatewayError {
  return new GatewayError('invalid_config', `Invalid option adminTokenFile: ${message}`, { param: 'adminTokenFile', cause });
}

/**
 * The admin token: the configured one; else the one kept in `file` (which must be readable by its
 * owner only, like an SSH key); else a new random one, written to `file` with mode 0600 when a file
 * is given (created exclusively, its directory with mode 0700), or kept in memory only. Admin
 * routes are never open without a token. Rejects `invalid_config` naming `adminTokenFile`; the
 * token never appears in an error.
 */
export async function resolveAdminToken(configured: string | undefined, file: string | undefined): Promise<ResolvedAdminToken> {
  if (configured !== undefined) return { token: configured, source: 'configured' };
  if (file === undefined) return { token: generateAdminToken(), source: 'memory' };
  let text: string | undefined;
  try {
    const info = await stat(file);
    if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
      throw invalid(`${file} is readable by other users (mode ${(info.mode & 0o777).toString(8)}); chmod 600 it`);
    }
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (GatewayError.isInstance(error)) throw error;
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw invalid(`${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`, error);
  }
  if (text !== undefined) {
    const token = text.trim();
    if (token.length < MIN_LENGTH || /\s/.test(token)) throw invalid(`${file} must hold one token of at least ${MIN_LENGTH} characters`);
    return { token, source: 'file', file };
  }
  const token = generateAdminToken();
  try {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    const handle = await open(file, 'wx', 0o600);
    try {
      await handle.writeFile(`${token}\n`);
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw invalid(`${file} cannot be created (${(error as NodeJS.ErrnoException).code ?? 'error'})`, error);
  }
  return { token, source: 'created', file };
}
