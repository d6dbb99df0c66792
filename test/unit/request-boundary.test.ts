import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isJsonContentType, requestBoundary } from 'zg-gateway';

const codeOf = (error: { code: string } | undefined): string => error?.code ?? 'pass';

describe('request boundary: Host', () => {
  test('a loopback listener answers its address and loopback names only', () => {
    const check = requestBoundary({ host: '127.0.0.1', allowedHosts: [], corsOrigins: [] });
    const verdict = (host: string): string => codeOf(check('GET', '/health', { host }));
    for (const host of ['127.0.0.1:3000', '127.0.0.1', 'localhost:3000', 'LOCALHOST', 'app.localhost:3000', '[::1]:3000', '127.0.0.2']) assert.equal(verdict(host), 'pass', host);
    for (const host of ['attacker.example:3000', 'localhost.attacker.example', '10.0.0.5:3000', '0.0.0.0:3000', '']) assert.equal(verdict(host), 'host_not_allowed', host);
    assert.equal(codeOf(check('GET', '/health', {})), 'pass', 'no Host: not a browser');
  });

  test('allowedHosts adds names (a leading dot: subdomains); * turns the check off', () => {
    const check = requestBoundary({ host: '127.0.0.1', allowedHosts: ['gateway.internal', '.corp.example'], corsOrigins: [] });
    assert.equal(codeOf(check('GET', '/health', { host: 'Gateway.Internal:8080' })), 'pass');
    assert.equal(codeOf(check('GET', '/health', { host: 'ai.corp.example' })), 'pass');
    assert.equal(codeOf(check('GET', '/health', { host: 'corp.example.attacker.example' })), 'host_not_allowed');
    const any = requestBoundary({ host: '127.0.0.1', allowedHosts: ['*'], corsOrigins: [] });
    assert.equal(codeOf(any('GET', '/health', { host: 'whatever.example' })), 'pass');
  });

  test('a wildcard listener checks Host only when allowedHosts is set; a named listener answers its name', () => {
    const open = requestBoundary({ host: '0.0.0.0', allowedHosts: [], corsOrigins: [] });
    assert.equal(codeOf(open('GET', '/health', { host: 'gateway.example.com' })), 'pass');
    const listed = requestBoundary({ host: '::', allowedHosts: ['gateway.example.com'], corsOrigins: [] });
    assert.equal(codeOf(listed('GET', '/health', { host: 'gateway.example.com:3000' })), 'pass');
    assert.equal(codeOf(listed('GET', '/health', { host: 'rebind.attacker.example' })), 'host_not_allowed');
    const named = requestBoundary({ host: '10.0.0.5', allowedHosts: [], corsOrigins: [] });
    assert.equal(codeOf(named('GET', '/health', { host: '10.0.0.5:3000' })), 'pass');
    assert.equal(codeOf(named('GET', '/health', { host: 'rebind.attacker.example:3000' })), 'host_not_allowed');
    const v6 = requestBoundary({ host: '::1', allowedHosts: [], corsOrigins: [] });
    assert.equal(codeOf(v6('GET', '/health', { host: '[::1]:3000' })), 'pass');
  });
});

describe('request boundary: Origin and Sec-Fetch-Site', () => {
  const check = requestBoundary({ host: '127.0.0.1', allowedHosts: [], corsOrigins: ['https://app.example'] });
  const host = '127.0.0.1:3000';
  test('no Origin and no cross-site fetch metadata: clients such as curl and SDKs pass', () => {
    assert.equal(codeOf(check('POST', '/v1/chat/completions', { host })), 'pass');
    assert.equal(codeOf(check('POST', '/v1/chat/completions', { host, 'sec-fetch-site': 'same-origin' })), 'pass');
    assert.equal(codeOf(check('GET', '/admin/status', { host, 'sec-fetch-site': 'none' })), 'pass');
  });
  test('the own origin and listed origins pass; others, null, and cross-site or same-site without an Origin are refused', () => {
    assert.equal(codeOf(check('POST', '/v1/chat/completions', { host, origin: 'http://127.0.0.1:3000' })), 'pass');
    assert.equal(codeOf(check('POST', '/v1/chat/completions', { host, origin: 'https://127.0.0.1:3000' })), 'pass', 'behind a TLS proxy');
    assert.equal(codeOf(check('POST', '/v1/chat/completions', { host, origin: 'https://app.example', 'sec-fetch-site': 'cross-site' })), 'pass');
    for (const headers of [
      { origin: 'http://127.0.0.1:3001' },
      { origin: 'http://localhost:3000' },
      { origin: 'http://x127.0.0.1:3000' },
      { origin: 'null' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
    ]) {
      for (const [method, path] of [['POST', '/v1/chat/completions'], ['POST', '/nodes/add'], ['GET', '/admin/providers'], ['GET', '/metrics'], ['GET', '/health'], ['OPTIONS', '/v1/chat/completions'], ['GET', '/v1/models']]) {
        assert.equal(codeOf(check(method, path as string, { host, ...headers })), 'origin_not_allowed', `${method} ${path} ${JSON.stringify(headers)}`);
      }
    }
  });
  test('the data-free pages open from anywhere (a link to them); their data routes do not', () => {
    for (const path of ['/status', '/docs', '/docs/swagger-ui.css', '/openapi.json']) assert.equal(codeOf(check('GET', path, { host, 'sec-fetch-site': 'cross-site' })), 'pass', path);
    assert.equal(codeOf(check('POST', '/status', { host, origin: 'http://evil.example' })), 'origin_not_allowed');
    assert.equal(codeOf(check('GET', '/admin/status', { host, origin: 'http://evil.example' })), 'origin_not_allowed');
  });
  test('corsOrigins * lets any origin in', () => {
    const any = requestBoundary({ host: '127.0.0.1', allowedHosts: [], corsOrigins: ['*'] });
    assert.equal(codeOf(any('POST', '/v1/chat/completions', { host, origin: 'http://anything.example' })), 'pass');
  });
});

test('JSON content types: application/json and application/*+json with parameters; nothing a page can send without a preflight', () => {
  for (const type of ['application/json', 'Application/JSON; charset=utf-8', 'application/json;charset=UTF-8', 'application/vnd.api+json', ' application/merge-patch+json ']) assert.equal(isJsonContentType(type), true, type);
  for (const type of [undefined, '', 'text/plain', 'text/plain; charset=utf-8', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'text/json', 'application/jsonp', 'application/json-seq']) assert.equal(isJsonContentType(type), false, String(type));
});

describe('admin token', () => {
  test('configured wins; without a file, a new one in memory; with a file, created 0600 once then read back; a file others can read is refused', async () => {
    const { mkdtempSync, statSync, readFileSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { resolveAdminToken } = await import('zg-gateway');
    assert.deepEqual(await resolveAdminToken('a-configured-token-123', join(tmpdir(), 'never-used')), { token: 'a-configured-token-123', source: 'configured' });
    const memory = await resolveAdminToken(undefined, undefined);
    assert.equal(memory.source, 'memory');
    assert.ok(memory.token.length >= 32);
    assert.notEqual((await resolveAdminToken(undefined, undefined)).token, memory.token);
    const folder = mkdtempSync(join(tmpdir(), 'zg-admin-token-'));
    try {
      const file = join(folder, 'state', 'admin-token');
      const created = await resolveAdminToken(undefined, file);
      assert.equal(created.source, 'created');
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.equal(statSync(join(folder, 'state')).mode & 0o777, 0o700);
      assert.equal(readFileSync(file, 'utf8').trim(), created.token);
      const again = await resolveAdminToken(undefined, file);
      assert.deepEqual([again.source, again.token], ['file', created.token], 'the same token across restarts');
      const loose = join(folder, 'loose');
      writeFileSync(loose, 'a-token-anyone-can-read-000\n', { mode: 0o644 });
      await assert.rejects(resolveAdminToken(undefined, loose), (error: Error & { code?: string; param?: string }) => {
        assert.equal(error.code, 'invalid_config');
        assert.equal(error.param, 'adminTokenFile');
        assert.ok(!error.message.includes('a-token-anyone'), 'the token is never quoted');
        return true;
      });
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
