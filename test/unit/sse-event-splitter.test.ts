import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SseEventSplitter } from 'zg-gateway';

/** Feeds `input` in pieces of `size` bytes; returns the events' raw bytes and data. */
function split(input: Buffer, size: number, limit = 1 << 20): Array<{ raw: string; data: string | undefined; type: string | undefined }> {
  const splitter = new SseEventSplitter(limit);
  const events = [];
  for (let offset = 0; offset < input.length; offset += size) events.push(...splitter.push(input.subarray(offset, offset + size)));
  const last = splitter.end();
  if (last) events.push(last);
  return events.map((event) => ({ raw: event.raw.toString('utf8'), data: event.data, type: event.type }));
}

describe('SseEventSplitter', () => {
  const text = 'data: {"c":"漢字👩‍👩‍👧"}\n\ndata: {"c":"e\u0301"}\n\n: keep-alive\n\nevent: error\ndata: {"error":"x"}\n\ndata: [DONE]\n\n';
  const bytes = Buffer.from(text);

  test('whatever the chunking, events come out whole and their bytes concatenate to the input', () => {
    const whole = split(bytes, bytes.length);
    for (const size of [1, 2, 3, 5, 7, 64]) {
      const pieces = split(bytes, size);
      assert.deepEqual(pieces, whole, `chunks of ${size}`);
      assert.equal(pieces.map((event) => event.raw).join(''), text);
    }
    assert.deepEqual(
      whole.map(({ data, type }) => [type, data]),
      [
        [undefined, '{"c":"漢字👩‍👩‍👧"}'],
        [undefined, '{"c":"e\u0301"}'],
        [undefined, undefined],
        ['error', '{"error":"x"}'],
        [undefined, '[DONE]'],
      ],
    );
  });

  test('CRLF and CR line endings, multi-line data, a field without a space, a BOM', () => {
    const input = Buffer.from('\uFEFFdata:a\r\ndata: b\r\n\r\ndata: c\r\rdata: d\n\n');
    for (const size of [1, 2, 100]) {
      const events = split(input, size);
      assert.deepEqual(events.map((event) => event.data), ['a\nb', 'c', 'd'], `chunks of ${size}`);
      assert.equal(events.map((event) => event.raw).join(''), input.toString('utf8'), 'the byte order mark is relayed too');
    }
  });

  test('an event larger than the limit throws, also when it never ends', () => {
    const splitter = new SseEventSplitter(1024);
    assert.throws(() => {
      for (let index = 0; index < 100; index++) splitter.push(Buffer.alloc(64, 'x'));
    }, /exceeded 1024 bytes/);
    assert.deepEqual(split(Buffer.from(`data: ${'y'.repeat(1000)}\n\n`), 10, 1024).length, 1, 'just under the limit is fine');
  });

  test('an unterminated last event is returned by end() only when it holds a field', () => {
    assert.deepEqual(split(Buffer.from('data: tail'), 3).map((event) => event.data), ['tail']);
    assert.deepEqual(split(Buffer.from('data: x\n\n\n'), 3).map((event) => event.data), ['x', undefined]);
  });
});
