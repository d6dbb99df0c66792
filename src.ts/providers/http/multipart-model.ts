import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { Busboy } from '@fastify/busboy';
import type { MultipartUpload } from '../inference-provider.js';

function quoted(value: string): string {
  return `"${value.replace(/[\r\n]/g, ' ').replace(/(["\\])/g, '\\$1')}"`;
}

/**
 * The form to send a provider that knows the model as `model`: the client's form untouched when its
 * `model` field already says so (the common case: byte for byte, no copy), else the same parts in
 * the same order under a new boundary with the `model` field replaced. File contents are not copied:
 * the parser hands out slices of the kept chunks.
 */
export async function withModel(upload: MultipartUpload, model: string | undefined): Promise<MultipartUpload> {
  if (model === undefined || model === upload.model) return upload;
  const boundary = `zg-gateway-${randomBytes(12).toString('hex')}`;
  const chunks: Buffer[] = [];
  const head = (name: string, extra: string): Buffer => Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name=${quoted(name)}${extra}\r\n\r\n`);
  let replaced = false;
  await new Promise<void>((resolve, reject) => {
    const parser = Busboy({ headers: { 'content-type': upload.contentType }, limits: { fieldSize: upload.size } });
    parser.on('field', (name, value) => {
      const text = name === 'model' ? model : value;
      if (name === 'model') {
        if (replaced) return;
        replaced = true;
      }
      chunks.push(head(name, ''), Buffer.from(text), Buffer.from('\r\n'));
    });
    parser.on('file', (name, stream, filename, _encoding, mimeType) => {
      chunks.push(head(name, `; filename=${quoted(filename)}\r\nContent-Type: ${mimeType.replace(/[\r\n]/g, '')}`));
      stream.on('data', (data: Buffer) => chunks.push(data));
      stream.on('end', () => chunks.push(Buffer.from('\r\n')));
    });
    parser.on('error', reject);
    parser.on('finish', resolve);
    Readable.from(upload.chunks, { objectMode: false }).on('error', reject).pipe(parser);
  });
  if (!replaced) chunks.unshift(head('model', ''), Buffer.from(model), Buffer.from('\r\n'));
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  let size = 0;
  for (const chunk of chunks) size += chunk.length;
  return { contentType: `multipart/form-data; boundary=${boundary}`, chunks, size, model };
}
