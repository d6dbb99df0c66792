import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { after, before, describe, it } from 'node:test';
import {
  GatewayError,
  createApiKey,
  fingerprintOfApiKey,
  fingerprintOfHash,
  hashApiKey,
  loadKeysFile,
  MAX_KEYS_FILE_BYTES,
  parseApiKey,
  parseApiKeys,
  serializeApiKeyEntry,
} from 'zg-gateway';

const ALICE_KEY = 'alice-secret-key-0123456789';
const BOB_KEY = 'bob-secret-key-abcdefghijkl';

/** Runs `action`, expects GatewayError('invalid_config') and returns it. */
function configError(action: () => unknown): GatewayError {
  try {
    action();
  } catch (error) {
    assert.ok(GatewayError.isInstance(error), `not a GatewayError: ${String(error)}`);
    assert.equal(error.code, 'invalid_config');
    return error;
  }
  assert.fail('expected an invalid_config error');
}

describe('parseApiKeys', () => {
  it('hashes plaintext keys at once and keeps no plaintext', () => {
    const [alice, bob] = parseApiKeys([
      { id: 'alice', key: ALICE_KEY, rpm: 60, tpm: 10_000, maxConcurrent: 4, models: ['m1', 'm2', 'm1'] },
      { id: 'bob', hash: hashApiKey(BOB_KEY).toUpperCase().replace('SHA256', 'sha256'), disabled: true },
    ]);
    assert.ok(alice && bob);
    assert.deepEqual(alice, { id: 'alice', hash: hashApiKey(ALICE_KEY), rpm: 60, tpm: 10_000, maxConcurrent: 4, models: ['m1', 'm2'], disabled: false });
    assert.match(alice.hash, /^sha256:[0-9a-f]{64}$/);
    assert.equal(bob.hash, hashApiKey(BOB_KEY), 'hashes are normalised to lowercase');
    assert.equal(bob.disabled, true);
    assert.ok(!inspect([alice, bob], { depth: 5, showHidden: true }).includes(ALICE_KEY));
    assert.ok(Object.isFrozen(alice) && Object.isFrozen(alice.models));
  });

  it('parses budget amounts to exact bigints and normalises expiry to UTC', () => {
    const [big, small] = parseApiKeys([
      { id: 'big', key: ALICE_KEY, budget: { amount: '123456789012345678901234567890', period: 'month' }, expiresAt: '2030-01-01' },
      { id: 'small', key: BOB_KEY, budget: { amount: 5000, period: 'total' }, expiresAt: '2030-06-01T12:00:00+02:00' },
    ]);
    assert.deepEqual(big?.budget, { amount: 123456789012345678901234567890n, period: 'month' });
    assert.equal(big?.expiresAt, '2030-01-01T00:00:00.000Z');
    assert.deepEqual(small?.budget, { amount: 5000n, period: 'total' });
    assert.equal(small?.expiresAt, '2030-06-01T10:00:00.000Z');
  });

  it('names the offending entry and field in param and message', () => {
    const cases: Array<[unknown, string, RegExp]> = [
      [{ id: 'bob', key: BOB_KEY, rpm: 0 }, 'apiKeys[1].rpm', /key "bob" \(entry 1\): rpm /],
      [{ id: 'bob', key: BOB_KEY, tpm: 1.5 }, 'apiKeys[1].tpm', /tpm /],
      [{ id: 'bob', key: BOB_KEY, maxConcurrent: -1 }, 'apiKeys[1].maxConcurrent', /maxConcurrent /],
      // An unknown field is not named: its name came from the file, which may not be a keys file at all.
      [{ id: 'bob', key: BOB_KEY, rmp: 10 }, 'apiKeys[1]', /key "bob" \(entry 1\): has an unknown key$/],
      [{ id: 'bob', key: BOB_KEY, hash: hashApiKey(BOB_KEY) }, 'apiKeys[1].key', /exactly one of key or hash/],
      [{ id: 'bob' }, 'apiKeys[1].key', /exactly one of key or hash/],
      [{ id: 'bob', key: 'short' }, 'apiKeys[1].key', /at least 16 characters/],
      [{ id: 'bob', key: 'has a space in it, too long' }, 'apiKeys[1].key', /without spaces/],
      [{ id: 'bob', hash: 'md5:abc' }, 'apiKeys[1].hash', /sha256/],
      [{ id: 'bob', key: BOB_KEY, budget: { amount: '1.5', period: 'day' } }, 'apiKeys[1].budget.amount', /whole number/],
      [{ id: 'bob', key: BOB_KEY, budget: { amount: 2 ** 60, period: 'day' } }, 'apiKeys[1].budget.amount', /as a string/],
      [{ id: 'bob', key: BOB_KEY, budget: { amount: '0', period: 'day' } }, 'apiKeys[1].budget.amount', /greater than 0/],
      [{ id: 'bob', key: BOB_KEY, budget: { amount: '10', period: 'year' } }, 'apiKeys[1].budget.period', /budget.period /],
      [{ id: 'bob', key: BOB_KEY, models: [] }, 'apiKeys[1].models', /at least one model/],
      [{ id: 'bob', key: BOB_KEY, models: ['ok', ''] }, 'apiKeys[1].models[1]', /models.1 /],
      [{ id: 'bob', key: BOB_KEY, expiresAt: 'next tuesday' }, 'apiKeys[1].expiresAt', /ISO 8601/],
      [{ id: 'bob', key: BOB_KEY, disabled: 'yes' }, 'apiKeys[1].disabled', /disabled /],
      [{ id: 'has space', key: BOB_KEY }, 'apiKeys[1].id', /key \(entry 1\): id /],
      [{ id: 'a:b', key: BOB_KEY }, 'apiKeys[1].id', /id must be/],
    ];
    for (const [second, param, message] of cases) {
      const error = configError(() => parseApiKeys([{ id: 'alice', key: ALICE_KEY }, second]));
      assert.equal(error.param, param, `param for ${inspect(second)}`);
      assert.match(error.message, message, `message for ${inspect(second)}`);
      assert.ok(!error.message.includes(BOB_KEY) && !error.message.includes(ALICE_KEY), 'never echoes a key');
    }
  });

  it('refuses duplicate ids and the same key listed twice, naming the other entry', () => {
    const sameId = configError(() => parseApiKeys([{ id: 'alice', key: ALICE_KEY }, { id: 'alice', key: BOB_KEY }]));
    assert.equal(sameId.param, 'apiKeys[1].id');
    assert.match(sameId.message, /already used by entry 0/);
    const sameKey = configError(() => parseApiKeys([{ id: 'alice', key: ALICE_KEY }, { id: 'bob', key: ALICE_KEY }]));
    assert.equal(sameKey.param, 'apiKeys[1].key');
    assert.match(sameKey.message, /key "bob" \(entry 1\): key is the same key as "alice"/);
    const sameAsHash = configError(() => parseApiKeys([{ id: 'alice', key: ALICE_KEY }, { id: 'bob', hash: hashApiKey(ALICE_KEY) }]));
    assert.equal(sameAsHash.param, 'apiKeys[1].hash');
    assert.ok(!sameAsHash.message.includes(hashApiKey(ALICE_KEY).slice(7, 20)), 'never echoes a hash');
  });

  it('refuses a list that is not an array, and counts further problems', () => {
    const notArray = configError(() => parseApiKeys({ keys: [] }));
    assert.equal(notArray.param, 'apiKeys');
    const many = configError(() => parseApiKeys([{ id: 'x', key: ALICE_KEY, rpm: 0, tpm: 0 }], { param: 'clientKeys' }));
    assert.equal(many.param, 'clientKeys[0].rpm');
    assert.match(many.message, /and 1 more problem\b/);
  });

  it('parseApiKey checks one entry with param apiKey', () => {
    assert.equal(parseApiKey({ id: 'one', key: ALICE_KEY }).hash, hashApiKey(ALICE_KEY));
    assert.equal(configError(() => parseApiKey({ id: 'one', key: ALICE_KEY, rpm: 'x' })).param, 'apiKey.rpm');
  });
});

describe('createApiKey and key hashing', () => {
  it('generates zgk- keys of 32 random bytes and keeps only their hash', () => {
    const { key, entry } = createApiKey('ci', { rpm: 10, budget: { amount: '1000000000000000000', period: 'day' } });
    assert.match(key, /^zgk-[A-Za-z0-9_-]{43}$/);
    assert.equal(Buffer.from(key.slice(4), 'base64url').length, 32);
    assert.equal(entry.hash, hashApiKey(key));
    assert.deepEqual({ ...entry, hash: 'h' }, { id: 'ci', hash: 'h', rpm: 10, budget: { amount: 10n ** 18n, period: 'day' }, disabled: false });
    assert.ok(!inspect(entry, { showHidden: true, depth: 5 }).includes(key));
    assert.notEqual(createApiKey('other').key, key);
  });

  it('validates limits like configuration', () => {
    assert.equal(configError(() => createApiKey('ci', { rpm: -1 })).param, 'apiKey.rpm');
    assert.equal(configError(() => createApiKey('bad id', {})).param, 'apiKey.id');
  });

  it('serialises an entry to JSON that parses back to the same entry', () => {
    const { entry } = createApiKey('round', { tpm: 5, models: ['a'], expiresAt: '2031-02-03', budget: { amount: '99999999999999999999', period: 'week' }, disabled: true });
    const json = JSON.stringify(serializeApiKeyEntry(entry));
    assert.deepEqual(parseApiKeys([JSON.parse(json)])[0], entry);
  });

  it('fingerprints are short, stable, and not a piece of the hash', () => {
    const hash = hashApiKey(ALICE_KEY);
    const fingerprint = fingerprintOfApiKey(ALICE_KEY);
    assert.match(fingerprint, /^[0-9a-f]{12}$/);
    assert.equal(fingerprintOfHash(hash), fingerprint);
    assert.equal(fingerprintOfHash(hash.toUpperCase().replace('SHA256', 'sha256')), fingerprint);
    assert.ok(!hash.includes(fingerprint));
    assert.notEqual(fingerprintOfApiKey(BOB_KEY), fingerprint);
  });
});

describe('loadKeysFile', () => {
  let folder: string;
  before(async () => {
    folder = await mkdtemp(join(tmpdir(), 'zg-keys-'));
  });
  after(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  async function file(name: string, content: string): Promise<string> {
    const path = join(folder, name);
    await writeFile(path, content);
    return path;
  }

  async function loadError(path: string): Promise<GatewayError> {
    try {
      await loadKeysFile(path);
    } catch (error) {
      assert.ok(GatewayError.isInstance(error));
      assert.equal(error.code, 'invalid_config');
      return error;
    }
    assert.fail('expected loadKeysFile to reject');
  }

  it('reads { "keys": [...] } and a bare array', async () => {
    const keys = [{ id: 'alice', key: ALICE_KEY, rpm: 5 }, { id: 'bob', hash: hashApiKey(BOB_KEY) }];
    const fromObject = await loadKeysFile(await file('object.json', JSON.stringify({ keys })));
    const fromArray = await loadKeysFile(await file('array.json', JSON.stringify(keys)));
    assert.deepEqual(fromObject, fromArray);
    assert.deepEqual(fromObject.map((entry) => [entry.id, entry.hash]), [['alice', hashApiKey(ALICE_KEY)], ['bob', hashApiKey(BOB_KEY)]]);
  });

  it('names the file, the entry and the field of an invalid entry', async () => {
    const path = await file('bad-entry.json', JSON.stringify({ keys: [{ id: 'alice', key: ALICE_KEY }, { id: 'bob', key: BOB_KEY, tpm: 0 }] }));
    const error = await loadError(path);
    assert.equal(error.param, 'keys[1].tpm');
    assert.ok(error.message.includes(path));
    assert.match(error.message, /key "bob" \(entry 1\): tpm /);
  });

  it('refuses unreadable files, invalid JSON and other shapes without quoting the file', async () => {
    const missing = await loadError(join(folder, 'missing.json'));
    assert.equal(missing.param, 'keysFile');
    assert.match(missing.message, /ENOENT/);
    const broken = await loadError(await file('broken.json', `{ "keys": [ { "id": "a", "key": "${ALICE_KEY}" `));
    assert.equal(broken.param, 'keysFile');
    assert.match(broken.message, /not valid JSON/);
    assert.ok(!broken.message.includes(ALICE_KEY));
    assert.equal((await loadError(await file('shape.json', '{ "entries": [] }'))).param, 'keys');
    assert.equal((await loadError(await file('number.json', '42'))).param, 'keys');
    const extra = await loadError(await file('extra.json', '{ "keys": [],\n  "version": 2 }'));
    assert.equal(extra.param, 'keysFile');
    assert.match(extra.message, /has an unknown field at line 2/);
    assert.ok(!extra.message.includes('version'), 'the unknown field is not named');
  });

  it('never quotes a file that is not a keys file: unknown fields by line, parse errors without their cause', async () => {
    const secrets = await file('secrets.json', JSON.stringify({ keys: [{ id: 'alice', key: ALICE_KEY, 'hunter2-field': 'hunter2-value' }] }, null, 2));
    const unknown = await loadError(secrets);
    assert.equal(unknown.param, 'keys[0]');
    assert.match(unknown.message, /key "alice" \(entry 0\): has an unknown key \(at line 6\)/);
    assert.ok(!unknown.message.includes('hunter2'), unknown.message);
    const yaml = await loadError(await file('secrets.yaml', 'SECRET_LINE_1: hunter2\nroot:$6$abc$hash:1:2:3:::\n'));
    assert.match(yaml.message, /not valid JSON/);
    assert.equal(yaml.cause, undefined, 'the parser error (which quotes the text) is not kept');
    assert.ok(!JSON.stringify(yaml).includes('hunter2') && !String(yaml.stack).includes('hunter2'));
  });

  it('refuses a keys file over the size limit, or growing past it while read, before reading it whole', async () => {
    assert.equal(MAX_KEYS_FILE_BYTES, 16 * 1024 * 1024);
    const big = await file('big.json', JSON.stringify([{ id: 'alice', key: ALICE_KEY }]) + ' '.repeat(5000));
    const tooLarge = await loadError2(() => loadKeysFile(big, 4096));
    assert.equal(tooLarge.param, 'keysFile');
    assert.match(tooLarge.message, /larger than 4096 bytes/);
    // /proc files say they are empty and then have content: the read itself is bounded too.
    const growing = await loadError2(() => loadKeysFile('/proc/self/status', 64));
    assert.match(growing.message, /larger than 64 bytes/);
    const device = await loadError2(() => loadKeysFile('/dev/zero'));
    assert.match(device.message, /not a regular file/);
  });

  async function loadError2(action: () => Promise<unknown>): Promise<GatewayError> {
    try {
      await action();
    } catch (error) {
      assert.ok(GatewayError.isInstance(error));
      assert.equal(error.code, 'invalid_config');
      return error;
    }
    assert.fail('expected a rejection');
  }
});
