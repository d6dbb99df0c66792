import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { test } from 'node:test';

const EXAMPLE = join(__dirname, '..', '..', '..', 'lib.commonjs', 'example', 'multi-provider-example.js');

test('the example starts the devnet (chat, image, image-editing and speech-to-text providers) and the gateway, serves a chat, its printed image and transcription curl lines work, and writes nothing but JSON lines to stdout (SDK output included)', async () => {
  const child = spawn(process.execPath, [EXAMPLE], { env: { ...process.env, PORT: '0', LOG_LEVEL: 'debug', ZG_PRIVATE_KEY: '', ZG_PROVIDERS: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let adminToken: string | undefined;
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const deadline = Date.now() + 60_000;
    let url: string | undefined;
    while (!url && Date.now() < deadline) {
      url = /listening on (http:\/\/\S+)/.exec(stderr)?.[1];
      if (!url) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(url, `the example did not come up: ${stderr}`);
    const model = /model (\S+)/.exec(stderr)?.[1];
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello from the example test' }] }),
    });
    assert.equal(response.status, 200);
    assert.match(((await response.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]?.message.content ?? '', /heard: hello from the example test/);
    // The printed image and transcription curl lines work as printed (run by a shell, as a user would).
    const printed = stderr.replace(/\\\n\s*/g, ' ');
    for (const route of ['/v1/images/generations', '/v1/audio/transcriptions']) {
      const line = printed.split('\n').find((candidate) => candidate.includes(`${url}${route}`))?.trim();
      assert.ok(line !== undefined && line.startsWith('curl '), `the example prints a curl line for ${route}`);
      const { stdout: answer } = await promisify(execFile)('sh', ['-c', line]);
      assert.match(answer, /^HTTP\/1\.1 200/, `${line}\n${answer}`);
      assert.match(answer, /x-request-cost: \d+/i, 'the answer says what it cost');
      assert.match(answer, route.includes('images') ? /"b64_json":"iVBORw0KGgo/ : /"text":"\[provider-\d+\] zg-devnet-whisper heard 1\.000 seconds of WAV\."/);
    }
    // The printed admin curl lines work as printed: the token the gateway generated, no configuration.
    adminToken = /export ADMIN_TOKEN=(\S+)/.exec(stderr)?.[1];
    assert.ok(adminToken, 'the example prints the admin token once');
    assert.equal((await fetch(`${url}/admin/providers`, { headers: { authorization: `Bearer ${adminToken}` } })).status, 200);
    assert.equal((await fetch(`${url}/admin/providers`)).status, 401, 'admin routes are closed without the token, even on loopback');
  } finally {
    child.kill('SIGINT');
  }
  assert.equal(await exited, 0);
  assert.ok(adminToken && !stdout.includes(adminToken), 'the token is never in the JSON logs');
  const lines = stdout.split('\n').filter(Boolean);
  assert.ok(lines.length > 0);
  for (const line of lines) assert.doesNotThrow(() => JSON.parse(line), `not a JSON line on stdout: ${line}`);
  const records = lines.map((line) => JSON.parse(line) as { event?: string });
  assert.ok(records.some((record) => record.event === 'request'), 'one line per request');
  assert.ok(records.some((record) => record.event === 'sdk_log'), 'the SDK\'s console output went to the logger (debug level)');
});
