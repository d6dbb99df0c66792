import type { MultipartUpload } from '../inference-provider.js';
import { wavSeconds } from '../wav-duration.js';

/** How much of the start of an upload is searched for the file part and its WAV header, bytes. */
export const AUDIO_HEAD_BYTES = 1024 * 1024;

/** The boundary of a `multipart/form-data` Content-Type (quoted or not), or undefined. */
function boundaryOf(contentType: string): string | undefined {
  const match = /;\s*boundary=(?:"([^"]{1,200})"|([^\s;]{1,200}))/i.exec(contentType);
  return match?.[1] ?? match?.[2];
}

/** The first `limit` bytes of the kept chunks (a copy of that many bytes at most). */
function headOf(chunks: readonly Buffer[], limit: number): Buffer {
  const parts: Buffer[] = [];
  let taken = 0;
  for (const chunk of chunks) {
    if (taken >= limit) break;
    const part = chunk.subarray(0, limit - taken);
    parts.push(part);
    taken += part.length;
  }
  return Buffer.concat(parts, taken);
}

/**
 * Seconds of audio in a transcription upload's `file` part when it is a WAV whose header lies in
 * the first {@link AUDIO_HEAD_BYTES} of the form (see {@link wavSeconds}), rounded to the
 * millisecond as providers write `usage.seconds`; undefined otherwise (another format, no `file`
 * part, a form the gateway did not read). Reads only that head of the kept chunks; never throws.
 */
export function uploadedWavSeconds(upload: MultipartUpload): number | undefined {
  const file = upload.files?.find((part) => part.name === 'file');
  const boundary = boundaryOf(upload.contentType);
  if (!file || boundary === undefined) return undefined;
  const head = headOf(upload.chunks, AUDIO_HEAD_BYTES);
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  let at = head.indexOf(delimiter);
  while (at >= 0) {
    const headersStart = at + delimiter.length;
    const headersEnd = head.indexOf('\r\n\r\n', headersStart, 'latin1');
    if (headersEnd < 0) return undefined;
    const headers = head.toString('latin1', headersStart, headersEnd);
    const next = head.indexOf(delimiter, headersEnd + 4);
    // A file part (it has a filename) named `file`, as the form's reader counted it.
    if (/content-disposition:[^\r\n]*;\s*name="?file"?\s*(?:;|\r|$)/i.test(headers) && /;\s*filename\*?=/i.test(headers)) {
      const seconds = wavSeconds(head.subarray(headersEnd + 4), file.size);
      return seconds === undefined ? undefined : Math.round(seconds * 1000) / 1000;
    }
    at = next;
  }
  return undefined;
}
