/**
 * Reading an operator's file (config, keys) without trusting its size: the file is opened once,
 * its size taken from the open descriptor (so a symlink swapped after the check cannot change what
 * is read), and at most `maxBytes + 1` bytes are ever read, so a file that grows between the
 * check and the read is refused too. A file too large or not a regular file (a FIFO, a device such
 * as `/dev/zero`) is refused before anything is parsed; what it holds is never returned.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';

/** Largest config file read, bytes (1 MiB; a large config is a few KB). */
export const MAX_CONFIG_FILE_BYTES = 1_048_576;

/** Largest keys file read, bytes (16 MiB: about 80,000 hashed entries). */
export const MAX_KEYS_FILE_BYTES = 16 * 1_048_576;

/** What {@link readBoundedTextFile} found. */
export type BoundedRead =
  | { readonly kind: 'text'; readonly text: string }
  /** Larger than the limit (`bytes`: its size, or what was read before it passed the limit). */
  | { readonly kind: 'too_large'; readonly bytes: number }
  /** A directory, FIFO, socket or device. */
  | { readonly kind: 'not_a_file' };

const CHUNK_BYTES = 64 * 1024;

/**
 * Reads `path` as UTF-8 text when it is a regular file of at most `maxBytes` bytes. System errors
 * (`ENOENT`, `EACCES`, ...) are thrown as they are.
 */
export async function readBoundedTextFile(path: string, maxBytes: number): Promise<BoundedRead> {
  // O_NONBLOCK: opening a FIFO does not wait for a writer (it is then refused as not a file).
  const handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) return { kind: 'not_a_file' };
    if (stats.size > maxBytes) return { kind: 'too_large', bytes: stats.size };
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const room = maxBytes + 1 - total;
      const buffer = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, room));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      chunks.push(bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead));
      if (total > maxBytes) return { kind: 'too_large', bytes: total };
    }
    return { kind: 'text', text: Buffer.concat(chunks, total).toString('utf8') };
  } finally {
    await handle.close();
  }
}
