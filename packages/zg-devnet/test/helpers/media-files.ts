/**
 * Media made and checked by the tests themselves, independently of the devnet's own code: WAV
 * files, small PNGs, and a PNG reader that checks the signature, IHDR and every chunk's CRC.
 */
import { deflateSync, inflateSync } from 'node:zlib';

/** A mono 16-bit PCM WAV of `seconds` at `sampleRate` (a 440 Hz tone). */
export function makeWav(seconds: number, sampleRate = 8000): Buffer {
  const samples = Math.round(seconds * sampleRate);
  const data = Buffer.alloc(samples * 2);
  for (let index = 0; index < samples; index++) data.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * index) / sampleRate)), index * 2);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * 2, 28); // byte rate
  header.writeUInt16LE(2, 32); // block align
  header.writeUInt16LE(16, 34); // bits per sample
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

/** CRC-32 (bitwise, no table: deliberately not the devnet's implementation). */
export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typed = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typed));
  return Buffer.concat([length, typed, crc]);
}

/** An RGB PNG (colour type 2) of the given pixels (`[r, g, b]` per pixel, rows in order), with the Sub filter on every row. */
export function makeRgbPng(width: number, height: number, pixel: (x: number, y: number) => [number, number, number]): Buffer {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    raw[row] = 1; // Sub: each byte minus the byte of the pixel to its left
    for (let x = 0; x < width; x++) {
      const current = pixel(x, y);
      const left = x > 0 ? pixel(x - 1, y) : [0, 0, 0];
      for (let channel = 0; channel < 3; channel++) raw[row + 1 + x * 3 + channel] = ((current[channel] as number) - (left[channel] as number)) & 0xff;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  return Buffer.concat([PNG_SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/** A greyscale+alpha PNG (colour type 4) whose alpha is `alpha(x, y)`: an edit mask. */
export function makeMaskPng(width: number, height: number, alpha: (x: number, y: number) => number): Buffer {
  const raw = Buffer.alloc((width * 2 + 1) * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) raw[y * (width * 2 + 1) + 1 + x * 2 + 1] = alpha(x, y);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 4;
  return Buffer.concat([PNG_SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/** What {@link readPng} found. */
export interface PngFacts {
  width: number;
  height: number;
  bitDepth: number;
  colourType: number;
  chunkTypes: string[];
  /** The filtered scanlines, inflated (one filter byte per row). */
  scanlines: Buffer;
}

/** Reads a PNG, asserting the signature and every chunk's CRC by throwing on a mismatch. */
export function readPng(bytes: Buffer): PngFacts {
  if (!bytes.subarray(0, 8).equals(PNG_SIGNATURE)) throw new Error('not a PNG signature');
  let offset = 8;
  const chunkTypes: string[] = [];
  const idat: Buffer[] = [];
  let ihdr: Buffer | undefined;
  while (offset < bytes.length) {
    const length = bytes.readUInt32BE(offset);
    const type = bytes.toString('ascii', offset + 4, offset + 8);
    const data = bytes.subarray(offset + 8, offset + 8 + length);
    const crc = bytes.readUInt32BE(offset + 8 + length);
    if (crc !== crc32(bytes.subarray(offset + 4, offset + 8 + length))) throw new Error(`bad CRC in ${type}`);
    chunkTypes.push(type);
    if (type === 'IHDR') ihdr = Buffer.from(data);
    if (type === 'IDAT') idat.push(Buffer.from(data));
    offset += 12 + length;
  }
  if (!ihdr) throw new Error('no IHDR');
  return { width: ihdr.readUInt32BE(0), height: ihdr.readUInt32BE(4), bitDepth: ihdr[8] as number, colourType: ihdr[9] as number, chunkTypes, scanlines: inflateSync(Buffer.concat(idat)) };
}

/** The RGBA pixels of an 8-bit RGBA PNG whose rows all use filter 0 (what the devnet writes). */
export function rgbaPixelsOfUnfiltered(facts: PngFacts): Buffer {
  if (facts.colourType !== 6 || facts.bitDepth !== 8) throw new Error('not 8-bit RGBA');
  const stride = facts.width * 4;
  const pixels = Buffer.alloc(stride * facts.height);
  for (let y = 0; y < facts.height; y++) {
    if (facts.scanlines[y * (stride + 1)] !== 0) throw new Error(`row ${y} is filtered`);
    facts.scanlines.copy(pixels, y * stride, y * (stride + 1) + 1, (y + 1) * (stride + 1));
  }
  return pixels;
}
