import { deflateSync, inflateSync } from 'node:zlib';

/** The 8 bytes every PNG starts with. */
export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Largest side of a PNG the devnet decodes (an image editor's input), in pixels. */
const MAX_DECODED_SIDE = 4096;

/** An image as 8-bit RGBA pixels, row after row. */
export interface RgbaImage {
  readonly width: number;
  readonly height: number;
  /** width × height × 4 bytes. */
  readonly pixels: Buffer;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** The CRC-32 PNG chunks carry (ISO 3309, as zlib computes it). */
export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = (CRC_TABLE[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** Encodes RGBA pixels as a PNG (colour type 6, 8 bits, filter 0 on every row, zlib-deflated). */
export function encodePng(image: RgbaImage): Buffer {
  const { width, height, pixels } = image;
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  ihdr[10] = 0; // deflate
  ihdr[11] = 0; // adaptive filtering
  ihdr[12] = 0; // not interlaced
  const stride = width * 4;
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) pixels.copy(raw, y * (stride + 1) + 1, y * stride, (y + 1) * stride);
  return Buffer.concat([PNG_SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/** A deterministic gradient of `width` × `height` pixels whose colours come from `seed` (32+ bytes, e.g. a SHA-256). */
export function gradientImage(seed: Buffer, width: number, height: number): RgbaImage {
  const pixels = Buffer.alloc(width * height * 4);
  const [r0 = 0, g0 = 0, b0 = 0, r1 = 255, g1 = 255, b1 = 255] = seed;
  const mix = (from: number, to: number, t: number): number => Math.round(from + (to - from) * t);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const t = (x + y) / Math.max(1, width + height - 2);
      const offset = (y * width + x) * 4;
      pixels[offset] = mix(r0, r1, t);
      pixels[offset + 1] = mix(g0, g1, t);
      pixels[offset + 2] = mix(b0, b1, t);
      pixels[offset + 3] = 255;
    }
  }
  return { width, height, pixels };
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 4: 2, 6: 4 };

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

/**
 * Decodes a PNG of 8-bit greyscale, grey+alpha, RGB or RGBA, not interlaced (what image editors
 * are sent), into RGBA. Checks the signature and every chunk's CRC. Returns null for anything
 * else (another depth, a palette, interlacing, a broken file, sides above 4096).
 */
export function decodePng(bytes: Buffer): RgbaImage | null {
  if (bytes.length < PNG_SIGNATURE.length || !bytes.subarray(0, 8).equals(PNG_SIGNATURE)) return null;
  let offset = 8;
  let header: { width: number; height: number; colourType: number } | null = null;
  const data: Buffer[] = [];
  let ended = false;
  while (offset + 12 <= bytes.length) {
    const length = bytes.readUInt32BE(offset);
    const type = bytes.toString('ascii', offset + 4, offset + 8);
    if (offset + 12 + length > bytes.length) return null;
    const body = bytes.subarray(offset + 8, offset + 8 + length);
    if (crc32(bytes.subarray(offset + 4, offset + 8 + length)) !== bytes.readUInt32BE(offset + 8 + length)) return null;
    offset += 12 + length;
    if (type === 'IHDR') {
      if (length !== 13) return null;
      const width = body.readUInt32BE(0);
      const height = body.readUInt32BE(4);
      const [depth, colourType, compression, filter, interlace] = [body[8], body[9], body[10], body[11], body[12]];
      if (depth !== 8 || colourType === undefined || CHANNELS[colourType] === undefined || compression !== 0 || filter !== 0 || interlace !== 0) return null;
      if (width < 1 || height < 1 || width > MAX_DECODED_SIDE || height > MAX_DECODED_SIDE) return null;
      header = { width, height, colourType };
    } else if (type === 'IDAT') data.push(body);
    else if (type === 'IEND') {
      ended = true;
      break;
    }
  }
  if (!header || !ended || data.length === 0) return null;
  const { width, height, colourType } = header;
  const channels = CHANNELS[colourType] as number;
  const stride = width * channels;
  let raw: Buffer;
  try {
    raw = inflateSync(Buffer.concat(data), { maxOutputLength: (stride + 1) * height + 1 });
  } catch {
    return null;
  }
  if (raw.length !== (stride + 1) * height) return null;
  const rows = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filterType = raw[y * (stride + 1)];
    for (let x = 0; x < stride; x++) {
      const value = raw[y * (stride + 1) + 1 + x] as number;
      const left = x >= channels ? (rows[y * stride + x - channels] as number) : 0;
      const up = y > 0 ? (rows[(y - 1) * stride + x] as number) : 0;
      const upLeft = y > 0 && x >= channels ? (rows[(y - 1) * stride + x - channels] as number) : 0;
      let predicted: number;
      switch (filterType) {
        case 0:
          predicted = 0;
          break;
        case 1:
          predicted = left;
          break;
        case 2:
          predicted = up;
          break;
        case 3:
          predicted = (left + up) >> 1;
          break;
        case 4:
          predicted = paeth(left, up, upLeft);
          break;
        default:
          return null;
      }
      rows[y * stride + x] = (value + predicted) & 0xff;
    }
  }
  const pixels = Buffer.alloc(width * height * 4);
  for (let index = 0; index < width * height; index++) {
    const source = index * channels;
    const target = index * 4;
    const grey = channels <= 2;
    pixels[target] = rows[source] as number;
    pixels[target + 1] = rows[grey ? source : source + 1] as number;
    pixels[target + 2] = rows[grey ? source : source + 2] as number;
    pixels[target + 3] = channels === 2 ? (rows[source + 1] as number) : channels === 4 ? (rows[source + 3] as number) : 255;
  }
  return { width, height, pixels };
}

/**
 * The devnet's "edit": colours inverted (alpha kept). With a mask of the same size, only the
 * pixels where the mask is fully transparent are edited, as OpenAI's edit masks mean.
 */
export function invertColours(image: RgbaImage, mask: RgbaImage | null): RgbaImage {
  const pixels = Buffer.from(image.pixels);
  const useMask = mask !== null && mask.width === image.width && mask.height === image.height;
  for (let index = 0; index < image.width * image.height; index++) {
    if (useMask && mask.pixels[index * 4 + 3] !== 0) continue;
    for (let channel = 0; channel < 3; channel++) pixels[index * 4 + channel] = 255 - (pixels[index * 4 + channel] as number);
  }
  return { width: image.width, height: image.height, pixels };
}
