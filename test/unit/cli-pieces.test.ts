import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';

/** The CLI's modules are not exported by the package: load them from the build by path. */
const cli = (name: string): unknown => require(join(__dirname, '..', '..', '..', 'lib.commonjs', 'cli', `${name}.js`)) as unknown;
const { applySetOption } = cli('set-option') as typeof import('../../lib.commonjs/cli/set-option.js');
const { mergeOptions } = cli('serve-options') as typeof import('../../lib.commonjs/cli/serve-options.js');
const { prettyLogLine } = cli('pretty-log-stream') as typeof import('../../lib.commonjs/cli/pretty-log-stream.js');
const { perMillionInZg } = cli('providers-command') as typeof import('../../lib.commonjs/cli/providers-command.js');
const { UsageError } = cli('cli-error') as typeof import('../../lib.commonjs/cli/cli-error.js');
const { adminTokenNotice } = cli('run-gateway') as typeof import('../../lib.commonjs/cli/run-gateway.js');

describe('--set path=value', () => {
  test('objects, list indexes and 0G addresses as keys; JSON values, else strings; the input is not changed', () => {
    const file = { openAICompatibleProviders: [{ name: 'a', baseUrl: 'http://x/v1' }], timeouts: { connect: 1 } };
    const options: Record<string, unknown> = structuredClone(file);
    applySetOption(options, 'timeouts.firstByte=5000', 'serve');
    applySetOption(options, 'openAICompatibleProviders.0.weight=3', 'serve');
    applySetOption(options, 'weights.0xf07240Efa67755B5311bc75784a061eDB47165Dd=2', 'serve');
    applySetOption(options, 'modelAliases={"gpt-4o":"qwen"}', 'serve');
    applySetOption(options, 'defaultModel=qwen-2.5-7b', 'serve');
    applySetOption(options, 'adminToken="1234567890123456"', 'serve');
    assert.deepEqual(options, {
      openAICompatibleProviders: [{ name: 'a', baseUrl: 'http://x/v1', weight: 3 }],
      timeouts: { connect: 1, firstByte: 5000 },
      weights: { '0xf07240Efa67755B5311bc75784a061eDB47165Dd': 2 },
      modelAliases: { 'gpt-4o': 'qwen' },
      defaultModel: 'qwen-2.5-7b',
      adminToken: '1234567890123456',
    });
    assert.deepEqual(file.openAICompatibleProviders[0], { name: 'a', baseUrl: 'http://x/v1' });
  });

  test('malformed assignments are usage errors', () => {
    for (const bad of ['port', '=3', 'a..b=1', 'a.b c=1', '__proto__.x=1x']) {
      assert.throws(() => applySetOption({}, bad, 'serve'), (error: unknown) => error instanceof UsageError, bad);
    }
    assert.throws(() => applySetOption({ timeouts: {} }, 'timeouts.0=1', 'serve'), /'timeouts' is not a list/);
  });
});

test('options merge: objects key by key, lists and values replaced', () => {
  const merged = mergeOptions(
    { store: { type: 'redis', url: 'redis://a', prefix: 'p' }, providers: ['0x1'], timeouts: { connect: 1, total: 2 } },
    { store: { type: 'redis', url: 'redis://b' }, providers: ['0x2'], timeouts: { total: 3 }, port: undefined },
  );
  assert.deepEqual(merged, { store: { type: 'redis', url: 'redis://b', prefix: 'p' }, providers: ['0x2'], timeouts: { connect: 1, total: 3 } });
});

test('pretty log lines: time, level, message, then the fields; an error with its message; other text passed through', () => {
  const line = JSON.stringify({ level: 40, time: Date.UTC(2025, 0, 2, 3, 4, 5, 678), pid: 1, hostname: 'h', service: 'zg-gateway', name: 'zg-gateway', msg: 'provider open', event: 'provider_health', provider: 'a', reason: 'two words', n: 3, list: ['x'] });
  assert.equal(prettyLogLine(line, false), '03:04:05.678 WARN  provider open  event=provider_health provider=a reason="two words" n=3 list=["x"]\n');
  assert.match(prettyLogLine(line, true), /\u001b\[33mWARN \u001b\[0m/);
  const failure = JSON.stringify({ level: 50, time: 0, msg: 'failed', err: { message: 'boom', stack: 'Error: boom\n    at here' } });
  assert.equal(prettyLogLine(failure, false), '00:00:00.000 ERROR failed  err=boom\n    at here\n');
  assert.equal(prettyLogLine('sending tx', false), 'sending tx\n');
});

test('prices per million tokens in 0G are exact', () => {
  assert.equal(perMillionInZg(0n), '0');
  assert.equal(perMillionInZg(1n), '0.000000000001');
  assert.equal(perMillionInZg(1_000_000_000_000n), '1');
  assert.equal(perMillionInZg(1_500_000_000_000n), '1.5');
  assert.equal(perMillionInZg(123_456_789n * 10n ** 18n), '123456789000000');
});

test('the serve banner shows a generated admin token on a terminal only; a configured one never; a token file by its path', () => {
  const token = 'generated-token-0123456789abcdef';
  assert.equal(adminTokenNotice({ adminToken: 'configured-token-0123456789' }, 'configured-token-0123456789', true), '');
  assert.match(adminTokenNotice({}, token, true), new RegExp(`export ADMIN_TOKEN=${token}`));
  const service = adminTokenNotice({}, token, false);
  assert.ok(!service.includes(token), 'not shown when stderr is not a terminal (it ends up in logs)');
  assert.match(service, /ADMIN_TOKEN or adminTokenFile/);
  const filed = adminTokenNotice({ adminTokenFile: '/var/lib/zg/admin-token' }, token, true);
  assert.ok(!filed.includes(token));
  assert.match(filed, /\/var\/lib\/zg\/admin-token/);
});
