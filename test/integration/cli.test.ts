import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cliEnvironment, runCli, startCliServer } from '../helpers/cli-process.js';
import { startHostileUpstream, type HostileUpstream } from '../helpers/hostile-upstream.js';

const folder = mkdtempSync(join(tmpdir(), 'zg-cli-test-'));
after(() => rmSync(folder, { recursive: true, force: true }));

describe('help and mistakes on the command line', () => {
  test('every command has --help with examples, exit code 0', async () => {
    for (const args of [['--help'], ['serve', '--help'], ['devnet', '--help'], ['providers', '--help'], ['keys', '--help'], ['keys', 'create', '-h']]) {
      const result = await runCli(args);
      assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stdout, /Usage: zg-gateway/);
      assert.match(result.stdout, /Example/);
    }
  });

  test('unknown commands, unknown flags and bad values: a clear message naming them, exit code 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['launch'], /Unknown command 'launch'/],
      [['serve', '--prot', '3000'], /Unknown option '--prot'/],
      [['serve', '--port'], /--port/],
      [['serve', '--port', '99999'], /--port must be a whole number from 0 to 65535, not '99999'/],
      [['serve', '--strategy', 'fastest'], /--strategy must be one of round-robin, .*not 'fastest'/],
      [['serve', '--log-format', 'xml'], /--log-format must be one of pretty, json/],
      [['serve', '--set', 'noequals'], /--set takes path.to.option=value/],
      [['serve', '--upstream', 'nourl'], /--upstream takes NAME=URL/],
      [['serve', '--upstream', 'a=http://127.0.0.1:9/v1', '--set', 'timeouts.firstBite=10'], /Invalid option timeouts: an unknown key \(timeouts\.firstBite, given with --set\)/],
      [['serve', '--upstream', 'a=http://127.0.0.1:9/v1', '--set', 'timeouts.firstByte=-5'], /Invalid option timeouts.firstByte/],
      [['serve', '--config', join(folder, 'missing.yaml')], /config file .*missing.yaml cannot be read \(ENOENT\)/],
      [['serve'], /at least one provider is required[\s\S]*zg-gateway devnet --serve/],
      [['serve', 'extra'], /Unexpected argument 'extra'/],
      [['serve', '--set', 'key', `0x${'ab'.repeat(32)}`], /Unexpected argument '0xabab…'/],
      [['devnet', '--providers', '0'], /--providers must be a whole number from 1 to 50/],
      [['providers'], /--rpc URL is required/],
      [['providers', '--rpc', 'http://127.0.0.1:9', '--contract', '0x12'], /--contract must be a 0x-prefixed 20-byte address/],
      [['keys', 'create'], /keys create needs an id/],
      [['keys', 'rotate', 'x'], /Unknown keys action 'rotate'/],
      [['keys', 'list'], /Give --redis URL, env REDIS_URL, or --config FILE/],
      [['keys', 'create', 'alice', '--rpm', 'many', '--redis', 'redis://127.0.0.1:9'], /--rpm must be a whole number/],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(args);
      assert.equal(result.code, 2, `${args.join(' ')} exits 2: ${result.stderr}`);
      assert.match(result.stderr, message, args.join(' '));
      assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
    }
  });

  test('a config file that is not YAML is refused naming the line, without quoting it', async () => {
    const path = join(folder, 'broken.yaml');
    writeFileSync(path, 'strategy: round-robin\nkey: 0x' + 'ab'.repeat(32) + '\n  port: [\n');
    const result = await runCli(['serve', '--config', path]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /broken.yaml is not valid YAML or JSON at line \d+, column \d+/);
    assert.doesNotMatch(result.stderr, /abab/, 'the file (and its key) is not echoed');
  });
});

describe('zg-gateway serve', () => {
  let upstream: HostileUpstream;
  before(async () => {
    upstream = await startHostileUpstream('local');
  });
  after(async () => upstream.close());

  test('serves from a config file; flags override the file; SIGTERM closes cleanly; JSON logs never show the upstream key', async () => {
    const path = join(folder, 'gateway.yaml');
    writeFileSync(
      path,
      [
        '# a gateway in front of one local upstream',
        'strategy: least-connections',
        'port: 3999',
        'modelAliases: { small: m }',
        'openAICompatibleProviders:',
        `  - { name: local, baseUrl: "${upstream.baseUrl}", model: m, apiKey: upstream-secret-1234 }`,
        '',
      ].join('\n'),
    );
    const server = await startCliServer(['serve', '--config', path, '--port', '0', '--strategy', 'random', '--log-format', 'json']);
    try {
      assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.notEqual(server.url, 'http://127.0.0.1:3999', '--port wins over the file');
      assert.match(server.stderr(), /zg-gateway listening on http:\/\/127\.0\.0\.1:\d+ {2}\(strategy random, 1 provider\)/);
      const response = await fetch(`${server.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'small', messages: [{ role: 'user', content: 'hello cli' }] }),
      });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('x-provider-address'), 'local');
      const health = (await (await fetch(`${server.url}/health`)).json()) as { loadBalancer: { strategy: string } };
      assert.equal(health.loadBalancer.strategy, 'random');
    } finally {
      assert.equal(await server.stop('SIGTERM'), 0);
    }
    const lines = server.stdout().split('\n').filter(Boolean);
    for (const line of lines) assert.doesNotThrow(() => JSON.parse(line), `a JSON line: ${line}`);
    assert.ok(server.logs().some((record) => record.event === 'gateway_closed'), 'closed cleanly');
    assert.doesNotMatch(server.stdout() + server.stderr(), /upstream-secret-1234/);
  });

  test('without --config the environment configures it, as for npm start; --log-format pretty prints for people', async () => {
    const env = cliEnvironment({ PORT: '0', STRATEGY: 'least-connections' });
    const server = await startCliServer(['serve', '--upstream', `local=${upstream.baseUrl}`, '--log-format', 'pretty', '--set', 'openAICompatibleProviders.0.model=m'], env);
    try {
      const health = (await (await fetch(`${server.url}/health`)).json()) as { loadBalancer: { strategy: string; providers: Array<{ model: string }> } };
      assert.equal(health.loadBalancer.strategy, 'least-connections');
      assert.equal(health.loadBalancer.providers[0]?.model, 'm');
    } finally {
      assert.equal(await server.stop('SIGINT'), 0);
    }
    assert.match(server.stdout(), /^\d\d:\d\d:\d\d\.\d{3} INFO {2}gateway listening {2}event=gateway_listening url=http/m);
    assert.doesNotMatch(server.stdout(), /^\{/m, 'no JSON lines');
  });
});
