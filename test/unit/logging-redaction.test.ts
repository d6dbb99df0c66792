import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import pino, { type Logger } from 'pino';
import { REDACTED_PATHS, createLogger } from 'zg-gateway';

const CENSOR = '[redacted]';

/** A pino logger configured like createLogger's, writing JSON lines into memory. */
function memoryLogger(): { logger: Logger; lines: () => Array<Record<string, unknown>>; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  const logger = pino({ level: 'trace', redact: { paths: REDACTED_PATHS, censor: CENSOR } }, stream);
  const text = (): string => chunks.join('');
  const lines = (): Array<Record<string, unknown>> =>
    text()
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines, text };
}

/** Builds an object with `value` at a redaction path; `*` becomes a concrete key. */
function objectAtPath(path: string, value: string): Record<string, unknown> {
  const segments = path.split('.').map((segment) => (segment === '*' ? 'outer' : segment));
  let object: Record<string, unknown> = { [segments[segments.length - 1] as string]: value };
  for (let index = segments.length - 2; index >= 0; index--) object = { [segments[index] as string]: object };
  return object;
}

function valueAtPath(object: unknown, path: string): unknown {
  let current: unknown = object;
  for (const segment of path.split('.').map((part) => (part === '*' ? 'outer' : part))) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

describe('log redaction', () => {
  it('REDACTED_PATHS covers keys, tokens and signatures', () => {
    for (const path of ['key', 'privateKey', 'apiKey', 'adminToken', 'authorization', 'signature', 'headers.authorization', 'config.key']) {
      assert.ok(REDACTED_PATHS.includes(path), `${path} is not redacted`);
    }
  });

  for (const path of REDACTED_PATHS) {
    it(`blanks ${path}`, () => {
      const secret = `secret-${path.replace(/[^a-z]/gi, '')}-0123456789abcdef`;
      const { logger, lines, text } = memoryLogger();
      logger.info({ ...objectAtPath(path, secret), provider: 'provider-a', requestId: 'req-1' }, 'a line');
      assert.ok(!text().includes(secret), `${path} leaked: ${text()}`);
      const [line] = lines();
      assert.ok(line !== undefined);
      assert.equal(valueAtPath(line, path), CENSOR);
      assert.equal(line.provider, 'provider-a');
      assert.equal(line.requestId, 'req-1');
      assert.equal(line.msg, 'a line');
    });
  }

  it('blanks the secrets of realistic log objects and keeps everything else', () => {
    const secrets = {
      key: '0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318',
      privateKey: '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
      bearer: 'Bearer app-sk-topsecret-session-token',
      nestedBearer: 'Bearer nested-secret-token-9999',
      signature: '0xsig-deadbeefdeadbeefdeadbeef',
      configKey: '0xconfig-key-aaaaaaaaaaaaaaaaaaaa',
      errKey: '0xerr-key-bbbbbbbbbbbbbbbbbbbbbbbb',
      apiKey: 'sk-upstream-api-key-cccccccccccc',
      adminToken: 'admin-token-dddddddddddddddd',
    };
    const { logger, lines, text } = memoryLogger();
    logger.info({ event: 'wallet', key: secrets.key, privateKey: secrets.privateKey, wallet: '0xWalletAddressVisible' }, 'wallet');
    logger.info({ event: 'call', authorization: secrets.bearer, headers: { authorization: secrets.bearer, 'content-type': 'application/json' } }, 'call');
    logger.info({ event: 'request', request: { method: 'POST', headers: { authorization: secrets.nestedBearer, 'x-request-id': 'req-42' } } }, 'request');
    logger.info({ event: 'verify', signature: secrets.signature, chatId: 'chat-visible-1' }, 'verify');
    logger.info({ event: 'config', config: { key: secrets.configKey, port: 3000, strategy: 'round-robin' } }, 'config');
    logger.info({ event: 'upstream', upstream: { name: 'local', apiKey: secrets.apiKey }, admin: { adminToken: secrets.adminToken } }, 'upstream');
    logger.error({ event: 'failure', err: Object.assign(new Error('provider exploded'), { key: secrets.errKey }) }, 'failure');

    const output = text();
    for (const [name, secret] of Object.entries(secrets)) assert.ok(!output.includes(secret), `${name} leaked into the log: ${output}`);
    // The one-level wildcard also catches a bare token in `authorization` under any object.
    assert.ok(!output.includes('topsecret'));
    assert.ok(!output.includes('nested-secret'));

    const [wallet, call, request, verify, config, upstream, failure] = lines();
    assert.deepEqual(
      { key: wallet?.key, privateKey: wallet?.privateKey, wallet: wallet?.wallet },
      { key: CENSOR, privateKey: CENSOR, wallet: '0xWalletAddressVisible' },
    );
    assert.equal(call?.authorization, CENSOR);
    assert.deepEqual(call?.headers, { authorization: CENSOR, 'content-type': 'application/json' });
    assert.deepEqual(request?.request, { method: 'POST', headers: { authorization: CENSOR, 'x-request-id': 'req-42' } });
    assert.equal(verify?.signature, CENSOR);
    assert.equal(verify?.chatId, 'chat-visible-1');
    assert.deepEqual(config?.config, { key: CENSOR, port: 3000, strategy: 'round-robin' });
    assert.deepEqual(upstream?.upstream, { name: 'local', apiKey: CENSOR });
    assert.deepEqual(upstream?.admin, { adminToken: CENSOR });
    const err = failure?.err as Record<string, unknown> | undefined;
    assert.equal(err?.message, 'provider exploded');
    assert.equal(err?.key, CENSOR);
  });

  it('createLogger writes JSON lines to stdout with the secrets redacted', () => {
    const secret = '0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318';
    const libraryPath = require.resolve('zg-gateway');
    const script = [
      `const { createLogger } = require(${JSON.stringify(libraryPath)});`,
      `const logger = createLogger('info');`,
      `logger.info({ event: 'probe', key: ${JSON.stringify(secret)}, headers: { authorization: 'Bearer ' + ${JSON.stringify(secret)} }, provider: 'provider-a' }, 'hello');`,
      `logger.debug({ event: 'hidden' }, 'below level');`,
    ].join('\n');
    const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(child.status, 0, child.stderr);
    assert.ok(!child.stdout.includes(secret), `secret leaked: ${child.stdout}`);
    const lines = child.stdout
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.equal(lines.length, 1, 'debug is below the info level');
    const [line] = lines;
    assert.equal(line?.name, 'zg-gateway');
    assert.equal(line?.service, 'zg-gateway');
    assert.equal(line?.msg, 'hello');
    assert.equal(line?.provider, 'provider-a');
    assert.equal(line?.key, CENSOR);
    assert.deepEqual(line?.headers, { authorization: CENSOR });
  });

  it('createLogger returns a pino logger at the requested level', () => {
    const logger = createLogger('warn');
    assert.equal(logger.level, 'warn');
    assert.equal(logger.isLevelEnabled('info'), false);
    assert.equal(logger.isLevelEnabled('error'), true);
  });
});
