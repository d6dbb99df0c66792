import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GatewayError, ProviderUrlPolicy, headerSafe, providerUrlProblem, redactUrlCredentials, unmapAddress, urlHasCredentials, withoutCredentials } from 'zg-gateway';

const refusedWith = (param: string, pattern: RegExp) => (error: unknown): boolean => GatewayError.isInstance(error) && error.code === 'invalid_request' && error.param === param && pattern.test(error.message);

describe('provider URLs: scheme, credentials, header safety', () => {
  test('only http and https', () => {
    for (const url of ['http://127.0.0.1:8000', 'https://api.example.com/v1']) assert.equal(providerUrlProblem(url), undefined, url);
    for (const url of ['file:///etc/passwd', 'javascript:alert(1)', 'data:text/plain,x', 'gopher://h/', 'redis://h:6379', 'ftp://h/', 'not a url', 'http://']) {
      assert.notEqual(providerUrlProblem(url), undefined, url);
    }
  });

  test('credentials are found, dropped and redacted in text', () => {
    assert.equal(urlHasCredentials('http://u:p@h:1/v1'), true);
    assert.equal(urlHasCredentials('http://tok@h/'), true);
    assert.equal(urlHasCredentials('http://h:1/v1'), false);
    assert.equal(withoutCredentials('http://u:p@h:1/v1'), 'http://h:1/v1');
    assert.equal(withoutCredentials('http://u:p@h:1'), 'http://h:1');
    assert.equal(withoutCredentials('http://h:1/v1/'), 'http://h:1/v1/');
    assert.equal(redactUrlCredentials('failed: GET http://u:p@h:1/v1/models'), 'failed: GET http://[redacted]@h:1/v1/models');
  });

  test('header-safe values pass as they are; others are percent-encoded', () => {
    assert.equal(headerSafe('0xAbC'), '0xAbC');
    assert.equal(headerSafe('http://10.0.0.5:8000'), 'http://10.0.0.5:8000');
    assert.equal(headerSafe('a\r\nb'), 'a%0D%0Ab');
    assert.equal(headerSafe('snow\u2603'), 'snow%E2%98%83');
  });

  test('IPv4-mapped IPv6 addresses are unmapped', () => {
    assert.equal(unmapAddress('::ffff:a9fe:a9fe'), '169.254.169.254');
    assert.equal(unmapAddress('::ffff:169.254.169.254'), '169.254.169.254');
    assert.equal(unmapAddress('fe80::1'), 'fe80::1');
  });
});

describe('ProviderUrlPolicy: checked before any connection', () => {
  const resolver = (table: Record<string, string[]>) => async (host: string): Promise<string[]> => {
    const found = table[host];
    if (!found) throw new Error('ENOTFOUND');
    return found;
  };

  test('defaults: link-local and metadata refused (by address, mapped address, or a name resolving there); loopback and private allowed', async () => {
    const policy = new ProviderUrlPolicy({ resolve: resolver({ 'evil.example': ['10.0.0.1', '169.254.169.254'], 'lan.example': ['192.168.1.10'], localhost: ['127.0.0.1', '::1'] }) });
    for (const url of ['http://169.254.169.254/', 'http://169.254.1.1/', 'http://[fe80::1]/', 'http://[::ffff:169.254.169.254]/', 'http://[fd00:ec2::254]/', 'http://100.100.100.200/', 'http://metadata.google.internal/', 'http://evil.example/']) {
      await assert.rejects(policy.check(url), refusedWith('url', /denied address/), url);
    }
    for (const url of ['http://127.0.0.1:8000', 'http://[::1]:8000', 'http://10.1.2.3:8000', 'http://192.168.0.2/', 'http://lan.example:8000', 'http://localhost:11434']) await policy.check(url);
    await assert.rejects(policy.check('http://nowhere.example/'), refusedWith('url', /could not be resolved/));
    await assert.rejects(policy.check('gopher://127.0.0.1/'), refusedWith('url', /scheme/));
  });

  test('allowLinkLocal lets them through; deny adds ranges (IPv4 and IPv6) and single addresses', async () => {
    const open = new ProviderUrlPolicy({ allowLinkLocal: true, resolve: resolver({}) });
    await open.check('http://169.254.169.254/');
    await open.check('http://[fe80::1]/');
    const strict = new ProviderUrlPolicy({ deny: ['10.0.0.0/8', 'fd00::/8', '192.168.1.7'], resolve: resolver({ 'inside.example': ['10.9.9.9'] }) });
    for (const url of ['http://10.200.0.1/', 'http://[fd12::1]/', 'http://192.168.1.7/', 'http://inside.example/']) await assert.rejects(strict.check(url), refusedWith('url', /denied/), url);
    await strict.check('http://192.168.1.8/');
    assert.throws(() => new ProviderUrlPolicy({ deny: ['10.0.0.0/33'] }), (error: unknown) => GatewayError.isInstance(error) && error.code === 'invalid_config');
  });
});
