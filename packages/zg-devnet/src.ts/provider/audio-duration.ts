/** Bytes per second assumed for audio that is not WAV (128 kbit/s, a common MP3/Opus rate). */
export const ASSUMED_BYTES_PER_SECOND = 16_000;

/** How long a piece of audio lasts, and how that was found. */
export interface AudioDuration {
  readonly seconds: number;
  /** `wav`: from the RIFF header (data bytes ÷ byte rate); `bytes`: size ÷ {@link ASSUMED_BYTES_PER_SECOND}. */
  readonly source: 'wav' | 'bytes';
}

/**
 * The duration of an uploaded audio file: a RIFF/WAVE file's `data` chunk size divided by the
 * `fmt ` chunk's byte rate (a `data` size beyond the file, as streamed WAVs write, counts what is
 * there); anything else by its size at {@link ASSUMED_BYTES_PER_SECOND}.
 */
export function audioDuration(bytes: Buffer): AudioDuration {
  const bySize: AudioDuration = { seconds: bytes.length / ASSUMED_BYTES_PER_SECOND, source: 'bytes' };
  if (bytes.length < 12 || bytes.toString('ascii', 0, 4) !== 'RIFF' || bytes.toString('ascii', 8, 12) !== 'WAVE') return bySize;
  let offset = 12;
  let byteRate = 0;
  while (offset + 8 <= bytes.length) {
    const id = bytes.toString('ascii', offset, offset + 4);
    const size = bytes.readUInt32LE(offset + 4);
    const start = offset + 8;
    if (id === 'fmt ' && size >= 16 && start + 16 <= bytes.length) byteRate = bytes.readUInt32LE(start + 8);
    if (id === 'data') {
      if (byteRate <= 0) return bySize;
      const available = Math.min(size, bytes.length - start);
      return { seconds: available / byteRate, source: 'wav' };
    }
    offset = start + size + (size % 2);
  }
  return bySize;
}
