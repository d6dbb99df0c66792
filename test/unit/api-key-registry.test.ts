import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { describe, it } from 'node:test';
import { ApiKeyRegistry, GatewayError, createApiKey, fingerprintOfApiKey, hashApiKey, parseApiKeys, type AuthenticationFailure } from 'zg-gateway';

const ALICE_KEY = 'zgk-alice-0123456789abcdefghijklmnopqrstuvwxyzAB';
const BOB_KEY = 'zgk-bob-0123456789abcdefghijklmnopqrstuvwxyzABCD';
const START = Date.UTC(2025, 0, 6, 12, 0, 0);

function fakeClock(start = START): { now: () => number; advance: (ms: number) => void } {
  let time = start;
  return { now: () => time, advance: (ms) => (time += ms) };
}

function registry(now = fakeClock().now): ApiKeyRegistry {
  const entries = parseApiKeys([
    { id: 'alice', key: ALICE_KEY, rpm: 60, models: ['m1'], budget: { amount: '1000', period: 'day' } },
    { id: 'bob', hash: hashApiKey(BOB_KEY) },
    { id: 'expiring', key: 'zgk-expiring-key-0123456789abcdef', expiresAt: new Date(START + 60_000).toISOString() },
    { id: 'off', key: 'zgk-disabled-key-0123456789abcdef', disabled: true },
  ]);
  return new ApiKeyRegistry(entries, { now });
}

/** Authenticates, expects a 401 invalid_api_key, and returns it with its (unserialised) reason. */
function refused(keys: ApiKeyRegistry, header: string | undefined): { error: GatewayError; failure: AuthenticationFailure } {
  try {
    keys.authenticate(header);
  } catch (error) {
    assert.ok(GatewayError.isInstance(error), `not a GatewayError: ${String(error)}`);
    assert.equal(error.code, 'invalid_api_key');
    assert.equal(error.status, 401);
    assert.equal(error.type, 'authentication_error');
    assert.ok(!JSON.stringify(error.toJSON()).includes('reason'), 'the reason stays out of the body');
    const token = header?.trim().split(/\s+/).pop() ?? '';
    if (token.length >= 16) assert.ok(!error.message.includes(token), 'the presented key is not echoed');
    return { error, failure: error.cause as AuthenticationFailure };
  }
  assert.fail(`expected ${inspect(header)} to be refused`);
}

describe('ApiKeyRegistry.authenticate', () => {
  it('accepts a valid key and returns its id, fingerprint and limits (no hash)', () => {
    const key = registry().authenticate(`Bearer ${ALICE_KEY}`);
    assert.equal(key.id, 'alice');
    assert.equal(key.fingerprint, fingerprintOfApiKey(ALICE_KEY));
    assert.deepEqual(key.limits, { rpm: 60, models: ['m1'], budget: { amount: 1000n, period: 'day' } });
    assert.ok(!inspect(key, { depth: 5 }).includes(hashApiKey(ALICE_KEY).slice(7)));
    assert.equal(registry().authenticate(`Bearer ${BOB_KEY}`).id, 'bob', 'a key configured by hash');
  });

  it('takes the Bearer scheme in any case, with whitespace around', () => {
    const keys = registry();
    for (const header of [`bearer ${ALICE_KEY}`, `BEARER ${ALICE_KEY}`, `BeArEr ${ALICE_KEY}`, `  Bearer   ${ALICE_KEY}  `, `Bearer\t${ALICE_KEY}\n`]) {
      assert.equal(keys.authenticate(header).id, 'alice', inspect(header));
    }
  });

  it('refuses a missing header and says how to send a key', () => {
    for (const header of [undefined, '', '   ']) {
      const { error, failure } = refused(registry(), header);
      assert.match(error.message, /Authorization: Bearer <key>/);
      assert.equal(failure.reason, 'missing');
    }
  });

  it('refuses malformed headers', () => {
    for (const header of [ALICE_KEY, `Basic ${ALICE_KEY}`, 'Bearer', 'Bearer ', `Bearer ${ALICE_KEY} extra`, `Bearer: ${ALICE_KEY}`, `Bearer${ALICE_KEY}`]) {
      const { error, failure } = refused(registry(), header);
      assert.match(error.message, /Malformed/, inspect(header));
      assert.equal(failure.reason, 'malformed');
    }
  });

  it('refuses wrong keys, including ones differing only in the first or the last character', () => {
    const flip = (text: string, index: number): string => text.slice(0, index) + (text[index] === 'A' ? 'B' : 'A') + text.slice(index + 1);
    const keys = registry();
    for (const wrong of ['zgk-not-a-key-at-all-0123456789', flip(ALICE_KEY, 0), flip(ALICE_KEY, ALICE_KEY.length - 1), ALICE_KEY + 'x', ALICE_KEY.slice(0, -1)]) {
      const { error, failure } = refused(keys, `Bearer ${wrong}`);
      assert.equal(error.message, 'Invalid API key');
      assert.deepEqual(failure, { reason: 'unknown' });
    }
    refused(keys, `Bearer ${hashApiKey(ALICE_KEY)}`);
  });

  it('refuses an expired key from its expiry on, with the same message as an unknown one', () => {
    const clock = fakeClock();
    const keys = registry(clock.now);
    clock.advance(59_999);
    assert.equal(keys.authenticate('Bearer zgk-expiring-key-0123456789abcdef').id, 'expiring');
    clock.advance(1);
    const { error, failure } = refused(keys, 'Bearer zgk-expiring-key-0123456789abcdef');
    assert.equal(error.message, 'Invalid API key');
    assert.deepEqual(failure, { reason: 'expired', keyId: 'expiring' });
  });

  it('refuses a disabled key with the same message as an unknown one', () => {
    const { error, failure } = refused(registry(), 'Bearer zgk-disabled-key-0123456789abcdef');
    assert.equal(error.message, 'Invalid API key');
    assert.deepEqual(failure, { reason: 'disabled', keyId: 'off' });
  });
});

describe('ApiKeyRegistry changes', () => {
  it('revoke() removes a key at once', () => {
    const keys = registry();
    assert.equal(keys.revoke('alice'), true);
    assert.equal(keys.revoke('alice'), false);
    assert.equal(refused(keys, `Bearer ${ALICE_KEY}`).error.message, 'Invalid API key');
    assert.equal(keys.get('alice'), undefined);
    assert.equal(keys.authenticate(`Bearer ${BOB_KEY}`).id, 'bob');
    assert.equal(keys.size, 3);
  });

  it('add() registers a new key and refuses a taken id or a key already registered', () => {
    const keys = registry();
    const created = createApiKey('carol', { tpm: 100 });
    keys.add(created.entry);
    assert.equal(keys.authenticate(`Bearer ${created.key}`).id, 'carol');
    assert.throws(() => keys.add(createApiKey('carol').entry), { code: 'invalid_config', param: 'id' });
    assert.throws(() => keys.add({ ...created.entry, id: 'dave' }), { code: 'invalid_config', param: 'hash' });
    assert.throws(() => keys.add({ ...created.entry, id: 'erin', hash: 'sha256:zz' }), { code: 'invalid_config', param: 'apiKey.hash' });
    assert.equal(keys.size, 5);
  });

  it('replaceAll() swaps every key at once for a reload, and leaves them unchanged when invalid', () => {
    const keys = registry();
    const carol = createApiKey('carol');
    keys.replaceAll([...parseApiKeys([{ id: 'alice', key: 'zgk-alice-rotated-key-0123456789', rpm: 5 }]), carol.entry]);
    refused(keys, `Bearer ${ALICE_KEY}`);
    refused(keys, `Bearer ${BOB_KEY}`);
    const alice = keys.authenticate('Bearer zgk-alice-rotated-key-0123456789');
    assert.deepEqual([alice.id, alice.limits], ['alice', { rpm: 5 }]);
    assert.equal(keys.authenticate(`Bearer ${carol.key}`).id, 'carol');

    assert.throws(() => keys.replaceAll([carol.entry, { ...carol.entry, hash: hashApiKey('zgk-some-other-key-0123456789') }]), {
      code: 'invalid_config',
      param: 'apiKeys[1].id',
    });
    assert.equal(keys.authenticate(`Bearer ${carol.key}`).id, 'carol', 'a refused reload changes nothing');
    assert.deepEqual(keys.list().map((key) => key.id), ['alice', 'carol']);
  });

  it('list() shows ids, fingerprints, limits and state, never a key or a hash', () => {
    const clock = fakeClock();
    const keys = registry(clock.now);
    clock.advance(60_000);
    const list = keys.list();
    assert.deepEqual(
      list.map((key) => [key.id, key.disabled, key.expired, key.expiresAt]),
      [
        ['alice', false, false, null],
        ['bob', false, false, null],
        ['expiring', false, true, new Date(START + 60_000).toISOString()],
        ['off', true, false, null],
      ],
    );
    assert.equal(list[1]?.fingerprint, fingerprintOfApiKey(BOB_KEY));
    const text = inspect(list, { depth: 10, showHidden: true });
    for (const secret of [ALICE_KEY, BOB_KEY, hashApiKey(ALICE_KEY).slice(7), hashApiKey(BOB_KEY).slice(7)]) assert.ok(!text.includes(secret));
  });
});
