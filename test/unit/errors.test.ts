import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ERROR_CODES, GatewayError, toGatewayError, type ErrorCode } from 'zg-gateway';

const CODES = Object.keys(ERROR_CODES) as ErrorCode[];

describe('ERROR_CODES', () => {
  it('is not empty and includes the codes the gateway relies on', () => {
    assert.ok(CODES.length > 0);
    for (const code of ['invalid_request', 'invalid_config', 'internal_error', 'no_healthy_provider', 'upstream_rate_limited', 'insufficient_funds'] as const) {
      assert.ok(CODES.includes(code), `missing ${code}`);
    }
  });

  for (const code of CODES) {
    it(`${code} has an HTTP status, a type and a description`, () => {
      const entry = ERROR_CODES[code];
      assert.ok(Number.isInteger(entry.status), `${code}: status ${entry.status} is not an integer`);
      assert.ok(entry.status >= 100 && entry.status <= 599, `${code}: status ${entry.status} out of range`);
      assert.equal(typeof entry.type, 'string');
      assert.ok(entry.type.trim().length > 0, `${code}: empty type`);
      assert.equal(typeof entry.description, 'string');
      assert.ok(entry.description.trim().length > 0, `${code}: empty description`);
    });
  }

  it('client errors are 4xx and gateway/upstream failures 5xx', () => {
    assert.equal(ERROR_CODES.invalid_request.status, 400);
    assert.equal(ERROR_CODES.unauthorized.status, 401);
    assert.equal(ERROR_CODES.upstream_rate_limited.status, 429);
    assert.equal(ERROR_CODES.no_healthy_provider.status, 503);
    assert.equal(ERROR_CODES.internal_error.status, 500);
  });
});

describe('GatewayError', () => {
  it('takes status and type from the table for every code', () => {
    for (const code of CODES) {
      const error = new GatewayError(code, `message for ${code}`);
      assert.ok(error instanceof Error);
      assert.ok(error instanceof GatewayError);
      assert.equal(error.name, 'GatewayError');
      assert.equal(error.code, code);
      assert.equal(error.status, ERROR_CODES[code].status);
      assert.equal(error.type, ERROR_CODES[code].type);
      assert.equal(error.message, `message for ${code}`);
      assert.equal(error.retryable, false);
      assert.equal(error.param, null);
    }
  });

  it('keeps the options it is given', () => {
    const cause = new Error('socket hang up');
    const error = new GatewayError('upstream_rate_limited', 'slow down', { retryable: true, param: 'model', cause, upstreamStatus: 429, retryAfterMs: 2000 });
    assert.equal(error.retryable, true);
    assert.equal(error.param, 'model');
    assert.equal(error.cause, cause);
    assert.equal(error.upstreamStatus, 429);
    assert.equal(error.retryAfterMs, 2000);
  });

  it('toJSON() is the OpenAI error body', () => {
    const error = new GatewayError('invalid_request', 'messages must be an array', { param: 'messages' });
    assert.deepEqual(error.toJSON(), { error: { message: 'messages must be an array', type: 'invalid_request_error', param: 'messages', code: 'invalid_request' } });
    assert.deepEqual(JSON.parse(JSON.stringify(error)), error.toJSON());

    const noParam = new GatewayError('no_healthy_provider', 'no provider available');
    assert.deepEqual(noParam.toJSON(), { error: { message: 'no provider available', type: ERROR_CODES.no_healthy_provider.type, param: null, code: 'no_healthy_provider' } });
  });

  it('toJSON() includes details when given, and never the cause', () => {
    const error = new GatewayError('all_providers_failed', 'every provider failed', { details: { attempts: 3 }, cause: new Error('secret-upstream-detail') });
    assert.deepEqual(error.toJSON(), { error: { message: 'every provider failed', type: ERROR_CODES.all_providers_failed.type, param: null, code: 'all_providers_failed', details: { attempts: 3 } } });
    assert.ok(!JSON.stringify(error).includes('secret-upstream-detail'));
  });

  describe('isInstance', () => {
    it('is true for a GatewayError', () => {
      assert.equal(GatewayError.isInstance(new GatewayError('internal_error', 'x')), true);
    });

    it('is true for an object marked by another copy of the library', () => {
      const foreign: Record<string | symbol, unknown> = { code: 'upstream_error', message: 'from the other build' };
      Object.defineProperty(foreign, Symbol.for('zg-gateway.GatewayError'), { value: true });
      assert.ok(!(foreign instanceof GatewayError));
      assert.equal(GatewayError.isInstance(foreign), true);
      assert.equal(GatewayError.isInstance({ [Symbol.for('zg-gateway.GatewayError')]: true }), true);
    });

    it('is false for anything else', () => {
      assert.equal(GatewayError.isInstance(new Error('plain')), false);
      assert.equal(GatewayError.isInstance({ code: 'internal_error', status: 500 }), false);
      assert.equal(GatewayError.isInstance({ [Symbol('zg-gateway.GatewayError')]: true }), false, 'an unregistered symbol is not the mark');
      assert.equal(GatewayError.isInstance({ [Symbol.for('zg-gateway.GatewayError')]: 'yes' }), false);
      assert.equal(GatewayError.isInstance(null), false);
      assert.equal(GatewayError.isInstance(undefined), false);
      assert.equal(GatewayError.isInstance('GatewayError'), false);
    });
  });
});

describe('toGatewayError', () => {
  it('turns an unknown Error into internal_error without leaking its message', () => {
    const original = new Error('x');
    const error = toGatewayError(original);
    assert.ok(error instanceof GatewayError);
    assert.equal(error.code, 'internal_error');
    assert.equal(error.status, 500);
    assert.ok(!error.message.includes('x'), `message leaks the cause: ${error.message}`);
    assert.equal(error.cause, original);

    const secret = toGatewayError(new Error('ECONNREFUSED db.internal:5432 password=hunter2'));
    assert.ok(!secret.message.includes('hunter2'));
    assert.ok(!JSON.stringify(secret.toJSON()).includes('hunter2'));
    assert.ok(!JSON.stringify(secret.toJSON()).includes('db.internal'));
  });

  it('turns non-Error throwables into internal_error', () => {
    for (const thrown of ['boom', 42, null, undefined, { weird: true }]) {
      const error = toGatewayError(thrown);
      assert.equal(error.code, 'internal_error');
      assert.ok(!error.message.includes('boom'));
    }
  });

  it('returns a GatewayError (from any copy) unchanged', () => {
    const original = new GatewayError('upstream_timeout', 'too slow', { retryable: true });
    assert.equal(toGatewayError(original), original);
    const foreign = { [Symbol.for('zg-gateway.GatewayError')]: true, code: 'upstream_error' };
    assert.equal(toGatewayError(foreign) as unknown, foreign);
  });
});

describe('docs/errors.md', () => {
  // Compiled to build/test/unit/: the package root is three levels up.
  const pagePath = join(__dirname, '..', '..', '..', 'docs', 'errors.md');

  it('documents every error code in backticks', () => {
    assert.ok(existsSync(pagePath), `docs/errors.md not found at ${pagePath}`);
    const page = readFileSync(pagePath, 'utf8');
    const missing = CODES.filter((code) => !page.includes('`' + code + '`'));
    assert.deepEqual(missing, [], `error codes not documented in docs/errors.md (run node scripts/gen-docs.mjs): ${missing.join(', ')}`);
  });
});
