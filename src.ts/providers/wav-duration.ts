/**
 * The duration of a RIFF/WAVE file from its header alone, as the 0G devnet's providers (and
 * whisper-style brokers) measure it: the `data` chunk's size ÷ the `fmt ` chunk's byte rate, a
 * `data` size beyond the file (as streamed WAVs write) counting only what the file holds.
 */

/** The most chunk headers walked before the `data` chunk (a hostile file cannot make the walk long). */
const MAX_CHUNKS = 64;

/**
 * Seconds of audio in a WAV file whose first bytes are `head` and whose whole length is
 * `fileLength` bytes, or undefined when it cannot be told from `head`: not RIFF/WAVE, no usable
 * `fmt ` chunk (byte rate 0) before `data`, or the `data` chunk header not within `head`. Never
 * throws; reads only within `head`.
 */
export function wavSeconds(head: Buffer, fileLength: number): number | undefined {
  if (!Number.isSafeInteger(fileLength) || fileLength < 12) return undefined;
  const end = Math.min(head.length, fileLength);
  if (end < 12 || head.toString('latin1', 0, 4) !== 'RIFF' || head.toString('latin1', 8, 12) !== 'WAVE') return undefined;
  let offset = 12;
  let byteRate = 0;
  for (let walked = 0; walked < MAX_CHUNKS && offset + 8 <= end; walked++) {
    const id = head.toString('latin1', offset, offset + 4);
    const size = head.readUInt32LE(offset + 4);
    const start = offset + 8;
    if (id === 'fmt ' && size >= 16 && start + 16 <= end) byteRate = head.readUInt32LE(start + 8);
    if (id === 'data') {
      if (byteRate <= 0) return undefined;
      const available = Math.min(size, fileLength - start);
      return available / byteRate;
    }
    offset = start + size + (size % 2);
  }
  return undefined;
}
