/**
 * Control characters that clients and providers choose never reach the logs raw: a terminal that
 * shows the logs (the CLI's pretty printer, or `tail -f` of the JSON) would obey ESC and C1 (CSI
 * \u009b) sequences. A real gateway in front of a hostile upstream logs through the same pipeline
 * as the CLI (pino JSON lines, each also fed to the pretty printer); requests carry ESC, BEL, DEL
 * and C1 characters in the model name, X-Request-Id, X-Session-Id, the URL path, and an upstream's
 * error message and model list.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runMultiProviderInferenceServer, type GatewayHandle } from 'zg-gateway';
import { startHostileUpstream, type HostileUpstream } from '../helpers/hostile-upstream.js';

/** The CLI's printer is not exported by the package: loaded from the build by path. */
const { prettyLogLine } = require(join(__dirname, '..', '..', '..', 'lib.commonjs', 'cli', 'pretty-log-stream.js')) as typeof import('../../lib.commonjs/cli/pretty-log-stream.js');

/** Every C0 control but newline (the line separator), DEL, and every C1 control. */
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;
const EVIL = 'gpt\u001b[31m\u009b2J\u0007\u007f\u0085\u008dX';

/** Sends one HTTP/1.1 request whose head is written as latin1 (so C1 bytes in headers reach the server as they are; Node reads them back as latin1) and whose body is UTF-8. */
async function rawRequest(url: string, head: string, body = ''): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(Buffer.concat([Buffer.from(`${head}\r\nHost: ${hostname}:${port}\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`, 'latin1'), Buffer.from(body)]));
    });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
  });
}

describe('control characters in logs', () => {
  let upstream: HostileUpstream;
  let gateway: GatewayHandle;
  const jsonLines: string[] = [];
  const pretty: string[] = [];

  before(async () => {
    upstream = await startHostileUpstream('evil');
    const destination = {
      // What the CLI does: pino's JSON line, and the same line laid out for a person.
      write(chunk: string): void {
        for (const line of chunk.split('\n')) {
          if (line === '') continue;
          jsonLines.push(line);
          pretty.push(prettyLogLine(line, false));
        }
      },
    };
    gateway = await runMultiProviderInferenceServer(
      { openAICompatibleProviders: [{ name: 'evil', baseUrl: upstream.baseUrl }], port: 0, healthCheckInterval: 3_600_000, logLevel: 'debug' },
      { logDestination: destination },
    );
  });

  after(async () => {
    await gateway?.close();
    await upstream?.close();
  });

  test('nothing raw in the JSON or the pretty output, and the values are still recognisable', async () => {
    const chat = (headers: Record<string, string>, body: unknown): Promise<Response> =>
      fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    // The model name the client chose, served by an upstream that takes any model.
    const served = await chat({}, { model: EVIL, messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(served.status, 200, await served.text());
    // An upstream error whose message carries escapes.
    upstream.mode = { kind: 'status', status: 400, body: JSON.stringify({ error: { message: `bad \u001b]0;owned\u0007 request \u009b6n`, type: 'invalid_request_error' } }) };
    const refused = await chat({}, { model: EVIL, messages: [{ role: 'user', content: 'hi' }] });
    await refused.text();
    upstream.mode = { kind: 'normal' };
    // Headers with C1 bytes (Node's parser takes bytes 0x80-0xff in header values, not ESC, and none in the path).
    const body = JSON.stringify({ model: `m\u009b31m\u001b[2J`, stream: true, messages: [{ role: 'user', content: 'hi' }] });
    const streamed = await rawRequest(gateway.url, `POST /v1/chat/completions HTTP/1.1\r\nContent-Type: application/json\r\nX-Request-Id: id\u009b2J\u0085x\r\nUser-Agent: ua\u009b2J`, body);
    assert.match(streamed, /^HTTP\/1\.1 200/);
    // Session ids are checked against a safe pattern (400): the refusal is logged, the id is not.
    assert.match(await rawRequest(gateway.url, `POST /v1/chat/completions HTTP/1.1\r\nContent-Type: application/json\r\nX-Session-Id: s\u009b2J\u0090x`, body), /^HTTP\/1\.1 400/);
    await rawRequest(gateway.url, `GET /v1/models HTTP/1.1\r\nUser-Agent: ua\u009b2J\r\nX-Request-Id: \u009b6n`);
    await gateway.close();

    const all = [...jsonLines, ...pretty.map((line) => line.replace(/\n$/, ''))];
    const raw = all.filter((line) => RAW_CONTROL.test(line));
    console.log(`log lines: ${jsonLines.length} JSON, ${pretty.length} pretty; lines with a raw C0/C1 control character: ${raw.length}`);
    assert.deepEqual(
      raw.map((line) => JSON.stringify(line)),
      [],
      'no raw control character in any log line',
    );
    for (const line of jsonLines) JSON.parse(line);
    const modelLine = jsonLines.map((line) => JSON.parse(line) as { event?: string; model?: string }).find((record) => record.event === 'request' && record.model === EVIL);
    assert.ok(modelLine, 'the JSON log still holds the model name exactly (escaped in the text, the same once parsed)');
    assert.ok(
      jsonLines.some((line) => (JSON.parse(line) as { model?: string }).model === 'm\u009b31m\u001b[2J'),
      'the streamed request (C1 bytes in its headers) is logged with its model, escaped',
    );
    assert.ok(jsonLines.some((line) => line.includes('gpt\\u001b[31m\\u009b2J\\u0007\\u007f\\u0085\\u008dX')), 'the JSON text shows the escapes');
    assert.ok(pretty.some((line) => line.includes('gpt\\u001b[31m\\u009b2J\\u0007\\u007f\\u0085\\u008dX')), 'the pretty line shows the escapes');
  });

  test('the pretty printer escapes what it is given, lines that are not JSON too', () => {
    const record = { level: 30, time: 0, msg: 'hello\u001b[2Jworld\nnext', model: 'a\u009bb', err: { message: 'upstream said \u001b[5n', stack: 'Error: x\n    at \u009b1m' }, event: 'e\u0007' };
    const line = prettyLogLine(JSON.stringify({ ...record, level: 50 }), true);
    const body = line.replace(/\u001b\[\d+m/g, '').replace(/\n$/, '');
    // The colours the printer adds are the only escapes; the stack keeps its own line breaks.
    for (const part of body.split('\n')) assert.doesNotMatch(part, RAW_CONTROL, JSON.stringify(part));
    assert.match(line, /hello\\u001b\[2Jworld\\nnext/);
    assert.match(line, /a\\u009bb/);
    const passedThrough = prettyLogLine('not json \u001b[2J \u009b\n', false);
    assert.doesNotMatch(passedThrough.replace(/\n$/, ''), RAW_CONTROL);
  });
});
