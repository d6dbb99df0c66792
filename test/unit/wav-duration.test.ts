import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AUDIO_HEAD_BYTES, uploadedWavSeconds, wavSeconds } from 'zg-gateway';
import { makeForm, makeWav } from '../helpers/media-files.js';

/** A WAV header whose `data` chunk declares `dataSize` bytes, with `extra` chunks between `fmt ` and `data`. */
function header(byteRate: number, dataSize: number, extra: Buffer = Buffer.alloc(0)): Buffer {
  const fmt = Buffer.alloc(24);
  fmt.write('fmt ', 0, 'latin1');
  fmt.writeUInt32LE(16, 4);
  fmt.writeUInt16LE(1, 8);
  fmt.writeUInt16LE(1, 10);
  fmt.writeUInt32LE(byteRate / 2, 12);
  fmt.writeUInt32LE(byteRate, 16);
  const data = Buffer.alloc(8);
  data.write('data', 0, 'latin1');
  data.writeUInt32LE(dataSize, 4);
  const riff = Buffer.from('RIFF\0\0\0\0WAVE', 'latin1');
  return Buffer.concat([riff, fmt, extra, data]);
}

function upload(parts: Parameters<typeof makeForm>[0], chunkSize = 7) {
  const form = makeForm(parts);
  const chunks: Buffer[] = [];
  for (let at = 0; at < form.body.length; at += chunkSize) chunks.push(form.body.subarray(at, at + chunkSize));
  const files = parts.flatMap((part) => ('data' in part ? [{ name: part.name, size: part.data.length }] : []));
  return { contentType: form.contentType, chunks, size: form.body.length, model: undefined, files };
}

describe('wavSeconds: a WAV\'s duration from its header (data bytes ÷ byte rate), bounded, never throwing', () => {
  it('reads real WAVs the test makes', () => {
    const wav = makeWav(2.5);
    assert.equal(wavSeconds(wav, wav.length), 2.5);
    assert.equal(wavSeconds(wav.subarray(0, 44), wav.length), 2.5, 'the header alone is enough when the file length is known');
    assert.equal(wavSeconds(makeWav(0.3, 16_000), makeWav(0.3, 16_000).length), 0.3);
  });

  it('skips chunks before data (LIST), and counts only what the file holds when data claims more', () => {
    const list = Buffer.concat([Buffer.from('LIST', 'latin1'), Buffer.from([5, 0, 0, 0]), Buffer.from('abcde\0', 'latin1')]);
    const head = header(16_000, 32_000, list);
    assert.equal(wavSeconds(head, head.length + 32_000), 2);
    assert.equal(wavSeconds(head, head.length + 8_000), 0.5, 'a data size past the file counts the bytes there');
    assert.equal(wavSeconds(header(16_000, 0xffffffff), 44 + 16_000), 1, 'a streamed WAV\'s 0xFFFFFFFF size');
  });

  it('is undefined for non-WAV, truncated headers, hostile sizes and a zero byte rate', () => {
    assert.equal(wavSeconds(Buffer.from('ID3\x04\0\0\0\0\0\0 mp3 bytes here', 'latin1'), 20), undefined, 'MP3');
    assert.equal(wavSeconds(Buffer.from('OggS\0\0\0\0\0\0\0\0', 'latin1'), 12), undefined, 'Ogg');
    assert.equal(wavSeconds(Buffer.alloc(0), 0), undefined, 'empty');
    assert.equal(wavSeconds(makeWav(1).subarray(0, 30), 30), undefined, 'cut inside fmt');
    assert.equal(wavSeconds(makeWav(1).subarray(0, 40), 16_044), undefined, 'data chunk header not in the head');
    const hugeChunk = Buffer.concat([Buffer.from('RIFF\0\0\0\0WAVE', 'latin1'), Buffer.from('JUNK', 'latin1'), Buffer.from([0xff, 0xff, 0xff, 0xff])]);
    assert.equal(wavSeconds(hugeChunk, 2 ** 40), undefined, 'a chunk size past everything');
    assert.equal(wavSeconds(header(0, 1000), 1044), undefined, 'byte rate 0');
    const noFmt = Buffer.concat([Buffer.from('RIFF\0\0\0\0WAVE', 'latin1'), Buffer.from('data', 'latin1'), Buffer.from([16, 0, 0, 0]), Buffer.alloc(16)]);
    assert.equal(wavSeconds(noFmt, noFmt.length), undefined, 'data before any fmt');
    assert.equal(wavSeconds(makeWav(1), Number.NaN), undefined, 'an unusable file length');
    const manyChunks = Buffer.concat([Buffer.from('RIFF\0\0\0\0WAVE', 'latin1'), ...Array.from({ length: 10_000 }, () => Buffer.from('JUNK\0\0\0\0', 'latin1'))]);
    assert.equal(wavSeconds(manyChunks, manyChunks.length), undefined, 'endless empty chunks: the walk stops');
    for (let cut = 0; cut <= 44; cut++) assert.doesNotThrow(() => wavSeconds(makeWav(1).subarray(0, cut), 16_044));
  });
});

describe('uploadedWavSeconds: the `file` part of a kept multipart upload, found in its first bytes', () => {
  const wav = makeWav(2.5);
  it('finds the file part among fields, across chunk borders, wherever it is in the form', () => {
    assert.equal(uploadedWavSeconds(upload([{ name: 'model', value: 'm' }, { name: 'response_format', value: 'text' }, { name: 'file', filename: 'a.wav', contentType: 'audio/wav', data: wav }])), 2.5);
    assert.equal(uploadedWavSeconds(upload([{ name: 'file', filename: 'file', contentType: 'audio/wav', data: wav }, { name: 'model', value: 'm' }], 1)), 2.5);
    assert.equal(uploadedWavSeconds(upload([{ name: 'model', value: 'filename="file"' }, { name: 'file', filename: 'a.wav', contentType: 'audio/wav', data: makeWav(0.3) }], 4096)), 0.3);
  });

  it('is undefined for non-WAV audio, a form with no file part, or a file past the searched head', () => {
    assert.equal(uploadedWavSeconds(upload([{ name: 'file', filename: 'a.mp3', contentType: 'audio/mpeg', data: Buffer.from([0xff, 0xfb, 0x90, 0x64, 1, 2, 3]) }])), undefined);
    assert.equal(uploadedWavSeconds(upload([{ name: 'audio', filename: 'a.wav', contentType: 'audio/wav', data: wav }])), undefined);
    assert.equal(uploadedWavSeconds({ ...upload([{ name: 'file', filename: 'a.wav', contentType: 'audio/wav', data: wav }]), files: undefined }), undefined, 'a form the gateway did not read');
    const late = upload([{ name: 'prompt', value: 'x'.repeat(AUDIO_HEAD_BYTES) }, { name: 'file', filename: 'a.wav', contentType: 'audio/wav', data: wav }], 65_536);
    assert.equal(uploadedWavSeconds(late), undefined);
  });
});
