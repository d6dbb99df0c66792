import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatewayError, parseGatewayOptions, type GatewayConfig, type GatewayOptions } from 'zg-gateway';

const ADDRESS_A = '0x' + 'a1'.repeat(20);
const ADDRESS_B = '0x' + 'b2'.repeat(20);
const KEY_HEX = '4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318';
const KEY = '0x' + KEY_HEX;
const OTHER_KEY = '0x' + '59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';
const RPC = 'http://127.0.0.1:8545';

/** Runs `parse` expecting an invalid_config GatewayError; returns it. */
function configError(parse: () => unknown): GatewayError {
  let caught: unknown;
  try {
    parse();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught !== undefined, 'expected parseGatewayOptions to throw');
  assert.ok(caught instanceof GatewayError, `expected a GatewayError, got ${String(caught)}`);
  assert.ok(GatewayError.isInstance(caught));
  assert.equal(caught.code, 'invalid_config');
  assert.equal(caught.status, 500);
  return caught;
}

/** Every place an error could carry text to a log or a client. */
function errorText(error: GatewayError): string {
  return [error.message, String(error), error.stack ?? '', JSON.stringify(error.toJSON()), JSON.stringify(error.details ?? {}), String(error.cause ?? '')].join('\n');
}

function assertNoKey(error: GatewayError, keyHex: string): void {
  const text = errorText(error).toLowerCase();
  assert.ok(!text.includes(keyHex.toLowerCase()), `private key leaked into the error: ${error.message}`);
  // Nor a recognisable fragment of it.
  assert.ok(!text.includes(keyHex.slice(0, 16).toLowerCase()), `private key fragment leaked into the error: ${error.message}`);
}

describe('parseGatewayOptions', () => {
  it('applies the documented defaults', () => {
    const config = parseGatewayOptions({ providers: [ADDRESS_A], key: KEY, rpc: RPC }, {});
    assert.equal(config.port, 3000);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.allowUnauthenticated, false);
    assert.deepEqual({ ...config.limits }, {
      maxResponseBytes: 32 * 1024 * 1024,
      maxSseEventBytes: 1024 * 1024,
      maxPreambleBytes: 256 * 1024,
      maxPreambleEvents: 1000,
      requestTimeout: 60_000,
      headersTimeout: 10_000,
      maxUploadBytes: 25 * 1024 * 1024,
    });
    assert.equal(config.upstream.connectionsPerOrigin, 4096);
    assert.equal(config.strategy, 'round-robin');
    assert.equal(config.healthCheckInterval, 30_000);
    assert.equal(config.maxRetries, 3);
    assert.equal(config.sessionTimeout, 1_800_000);
    assert.deepEqual({ ...config.timeouts }, { connect: 5000, firstByte: 30_000, chunkGap: 30_000, clientStall: 60_000, total: 600_000, verify: 10_000 });
    assert.deepEqual(config.providers, [ADDRESS_A]);
    assert.deepEqual([...config.openAICompatibleProviders], []);
    assert.equal(config.key, KEY);
    assert.equal(config.rpc, RPC);
  });

  it('applies the documented strategy defaults and takes per-provider capacity, rpm and tpm', () => {
    const config = parseGatewayOptions(
      {
        strategy: 'least-load',
        strategyOptions: { metricsInterval: 500 },
        openAICompatibleProviders: [{ name: 'u', baseUrl: 'http://127.0.0.1:1/v1', capacity: 8, rpm: 60, tpm: 10_000 }],
      },
      {},
    );
    assert.equal(config.strategy, 'least-load');
    assert.deepEqual(
      { ...config.strategyOptions },
      {
        explore: 0.05,
        staleAfterMs: 60_000,
        loadThreshold: 0.5,
        metricsInterval: 500,
        metricsTimeout: 1000,
        metricsPath: '/metrics',
        runningMetric: 'vllm:num_requests_running',
        waitingMetric: 'vllm:num_requests_waiting',
      },
    );
    const [upstream] = config.openAICompatibleProviders;
    assert.deepEqual([upstream?.capacity, upstream?.rpm, upstream?.tpm], [8, 60, 10_000]);
    const base = { openAICompatibleProviders: [{ name: 'u', baseUrl: 'http://127.0.0.1:1/v1' }] };
    assert.equal(configError(() => parseGatewayOptions({ ...base, strategyOptions: { explore: 1.5 } }, {})).param, 'strategyOptions.explore');
    assert.equal(configError(() => parseGatewayOptions({ ...base, strategyOptions: { metricsPath: 'metrics' } }, {})).param, 'strategyOptions.metricsPath');
    // An unknown key is not named (it may be a line of a file that is not a config at all): its object is.
    assert.equal(configError(() => parseGatewayOptions({ ...base, strategyOptions: { explor: 0.1 } } as GatewayOptions, {})).param, 'strategyOptions');
    assert.equal(configError(() => parseGatewayOptions({ openAICompatibleProviders: [{ name: 'u', baseUrl: 'http://127.0.0.1:1/v1', rpm: 0 }] }, {})).param, 'openAICompatibleProviders.0.rpm');
  });

  it('fills partial timeouts with defaults', () => {
    const config = parseGatewayOptions({ providers: [ADDRESS_A], key: KEY, rpc: RPC, timeouts: { connect: 1234 } }, {});
    assert.deepEqual({ ...config.timeouts }, { connect: 1234, firstByte: 30_000, chunkGap: 30_000, clientStall: 60_000, total: 600_000, verify: 10_000 });
  });

  it('returns a deeply frozen config', () => {
    const config = parseGatewayOptions({ providers: [ADDRESS_A], key: KEY, rpc: RPC, weights: { [ADDRESS_A]: 2 } }, {});
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.timeouts));
    assert.ok(Object.isFrozen(config.providers));
    assert.ok(Object.isFrozen(config.weights));
    assert.ok(Object.isFrozen(config.openAICompatibleProviders));
    assert.throws(() => {
      (config as unknown as { port: number }).port = 1;
    }, TypeError);
    assert.throws(() => {
      (config.timeouts as unknown as { total: number }).total = 1;
    }, TypeError);
    assert.throws(() => {
      (config.providers as unknown as string[]).push(ADDRESS_B);
    }, TypeError);
    assert.equal(config.port, 3000);
    assert.equal(config.timeouts.total, 600_000);
  });

  it('freezes nested OpenAI-compatible provider entries', () => {
    const config = parseGatewayOptions({ openAICompatibleProviders: [{ name: 'local', baseUrl: 'http://127.0.0.1:9000/v1' }] }, {});
    const first = config.openAICompatibleProviders[0];
    assert.ok(first !== undefined);
    assert.ok(Object.isFrozen(first));
  });

  it('does not mutate the caller options object', () => {
    const options: GatewayOptions = { providers: [ADDRESS_A] };
    parseGatewayOptions(options, { ZG_PRIVATE_KEY: KEY, RPC_ENDPOINT: RPC });
    assert.deepEqual(options, { providers: [ADDRESS_A] });
    assert.ok(!Object.isFrozen(options));
  });

  it('reads key and rpc from ZG_PRIVATE_KEY and RPC_ENDPOINT', () => {
    const config = parseGatewayOptions({ providers: [ADDRESS_A] }, { ZG_PRIVATE_KEY: KEY, RPC_ENDPOINT: RPC });
    assert.equal(config.key, KEY);
    assert.equal(config.rpc, RPC);
  });

  it('options win over the environment', () => {
    const config = parseGatewayOptions({ providers: [ADDRESS_A], key: OTHER_KEY, rpc: 'http://rpc.example:8545' }, { ZG_PRIVATE_KEY: KEY, RPC_ENDPOINT: RPC });
    assert.equal(config.key, OTHER_KEY);
    assert.equal(config.rpc, 'http://rpc.example:8545');
  });

  it('uses the given environment, not process.env', () => {
    const saved = { key: process.env.ZG_PRIVATE_KEY, rpc: process.env.RPC_ENDPOINT };
    process.env.ZG_PRIVATE_KEY = KEY;
    process.env.RPC_ENDPOINT = RPC;
    try {
      const error = configError(() => parseGatewayOptions({ providers: [ADDRESS_A] }, {}));
      assert.equal(error.param, 'key');
    } finally {
      if (saved.key === undefined) delete process.env.ZG_PRIVATE_KEY;
      else process.env.ZG_PRIVATE_KEY = saved.key;
      if (saved.rpc === undefined) delete process.env.RPC_ENDPOINT;
      else process.env.RPC_ENDPOINT = saved.rpc;
    }
  });

  it('treats empty environment variables as unset', () => {
    const error = configError(() => parseGatewayOptions({ providers: [ADDRESS_A] }, { ZG_PRIVATE_KEY: '', RPC_ENDPOINT: RPC }));
    assert.equal(error.param, 'key');
  });

  it('does not require key or rpc when only OpenAI-compatible providers are configured', () => {
    const config: GatewayConfig = parseGatewayOptions({ openAICompatibleProviders: [{ name: 'local', baseUrl: 'http://127.0.0.1:9000/v1' }] }, {});
    assert.equal(config.key, undefined);
    assert.equal(config.rpc, undefined);
    assert.equal(config.openAICompatibleProviders.length, 1);
  });

  describe('errors name the offending field in param', () => {
    const base: GatewayOptions = { providers: [ADDRESS_A], key: KEY, rpc: RPC };

    it('a bad provider address', () => {
      assert.equal(configError(() => parseGatewayOptions({ ...base, providers: ['0x1234'] }, {})).param, 'providers.0');
      assert.equal(configError(() => parseGatewayOptions({ ...base, providers: [ADDRESS_A, 'not-an-address'] }, {})).param, 'providers.1');
    });

    it('an unknown strategy', () => {
      const error = configError(() => parseGatewayOptions({ ...base, strategy: 'fastest-first' }, {}));
      assert.equal(error.param, 'strategy');
      assert.match(error.message, /strategy/);
    });

    it('a negative port', () => {
      assert.equal(configError(() => parseGatewayOptions({ ...base, port: -1 }, {})).param, 'port');
      assert.equal(configError(() => parseGatewayOptions({ ...base, port: 70_000 }, {})).param, 'port');
    });

    it('a bad nested timeout', () => {
      assert.equal(configError(() => parseGatewayOptions({ ...base, timeouts: { total: 0 } }, {})).param, 'timeouts.total');
    });

    it('an unknown option (strict schema)', () => {
      const options = { ...base, providerz: [ADDRESS_B] } as unknown as GatewayOptions;
      const error = configError(() => parseGatewayOptions(options, {}));
      assert.match(error.message, /an unknown key/);
      assert.doesNotMatch(error.message, /providerz/);
      assert.equal(error.param, '(options)');
    });

    it('a missing key when 0G providers are given', () => {
      const error = configError(() => parseGatewayOptions({ providers: [ADDRESS_A], rpc: RPC }, {}));
      assert.equal(error.param, 'key');
    });

    it('a missing rpc', () => {
      const error = configError(() => parseGatewayOptions({ providers: [ADDRESS_A], key: KEY }, {}));
      assert.equal(error.param, 'rpc');
      assertNoKey(error, KEY_HEX);
    });

    it('a duplicate provider (case-insensitive)', () => {
      const error = configError(() => parseGatewayOptions({ ...base, providers: [ADDRESS_A, ADDRESS_A.toUpperCase().replace('0X', '0x')] }, {}));
      assert.equal(error.param, 'providers');
      const mixed = configError(() =>
        parseGatewayOptions({ openAICompatibleProviders: [{ name: 'Local', baseUrl: 'http://127.0.0.1:9000/v1' }, { name: 'local', baseUrl: 'http://127.0.0.1:9001/v1' }] }, {}),
      );
      assert.equal(mixed.param, 'providers');
    });

    it('no providers at all is left to the start (injected providers may come as dependencies)', () => {
      assert.deepEqual(parseGatewayOptions({}, {}).providers, []);
    });

    it('a non-loopback host without client keys or allowUnauthenticated: refused, saying why', () => {
      const error = configError(() => parseGatewayOptions({ providers: [ADDRESS_A], key: KEY, rpc: RPC, host: '0.0.0.0' }, {}));
      assert.equal(error.param, 'host');
      assert.match(error.message, /without client keys/);
      assert.match(error.message, /allowUnauthenticated/);
      for (const host of ['127.0.0.1', 'localhost', '::1', '127.0.0.2']) assert.equal(parseGatewayOptions({ providers: [ADDRESS_A], key: KEY, rpc: RPC, host }, {}).host, host);
      assert.equal(parseGatewayOptions({ providers: [ADDRESS_A], key: KEY, rpc: RPC, host: '0.0.0.0', allowUnauthenticated: true }, {}).host, '0.0.0.0');
    });

    it('model and models together on one upstream', () => {
      const error = configError(() => parseGatewayOptions({ openAICompatibleProviders: [{ name: 'u', baseUrl: 'http://127.0.0.1:1/v1', model: 'a', models: ['b'] }] }, {}));
      assert.equal(error.param, 'openAICompatibleProviders.0.model');
    });
  });

  describe('the private key never appears in an error', () => {
    const badKeyHex = 'zz' + KEY_HEX.slice(2);

    it('an invalid key given as an option', () => {
      const error = configError(() => parseGatewayOptions({ providers: [ADDRESS_A], key: badKeyHex, rpc: RPC }, {}));
      assert.equal(error.param, 'key');
      assertNoKey(error, badKeyHex);
      assertNoKey(error, KEY_HEX.slice(2));
    });

    it('an invalid key from ZG_PRIVATE_KEY', () => {
      const error = configError(() => parseGatewayOptions({ providers: [ADDRESS_A], rpc: RPC }, { ZG_PRIVATE_KEY: '0x' + badKeyHex }));
      assert.equal(error.param, 'key');
      assertNoKey(error, badKeyHex);
    });

    it('a key of the wrong length', () => {
      const short = KEY_HEX.slice(0, 60);
      const error = configError(() => parseGatewayOptions({ providers: [ADDRESS_A], key: short, rpc: RPC }, {}));
      assert.equal(error.param, 'key');
      assertNoKey(error, short);
    });

    it('a valid key with another field invalid', () => {
      const cases: Array<{ options: GatewayOptions; env: NodeJS.ProcessEnv }> = [
        { options: { providers: [ADDRESS_A], key: KEY, rpc: RPC, port: -5 }, env: {} },
        { options: { providers: [ADDRESS_A], key: KEY, rpc: 'not a url' }, env: {} },
        { options: { providers: [ADDRESS_A, ADDRESS_A], key: KEY, rpc: RPC }, env: {} },
        { options: { providers: ['0xnope'] }, env: { ZG_PRIVATE_KEY: KEY, RPC_ENDPOINT: RPC } },
        { options: { providers: [ADDRESS_A], key: KEY, rpc: RPC, strategy: 'nope' }, env: {} },
        { options: { providers: [ADDRESS_A], key: KEY, rpc: RPC, unknownThing: KEY } as unknown as GatewayOptions, env: {} },
        { options: { providers: [ADDRESS_A], key: KEY }, env: {} },
      ];
      for (const { options, env } of cases) {
        const error = configError(() => parseGatewayOptions(options, env));
        assertNoKey(error, KEY_HEX);
      }
    });
  });
});

describe('the store option', () => {
  const upstream = { openAICompatibleProviders: [{ name: 'local', baseUrl: 'http://127.0.0.1:9000/v1' }] };

  it('defaults to memory; REDIS_URL makes it Redis with the default prefix, an explicit option wins', () => {
    assert.deepEqual(parseGatewayOptions(upstream, {}).store, { type: 'memory' });
    assert.deepEqual(parseGatewayOptions(upstream, { REDIS_URL: 'redis://:s3cret@10.0.0.5:6380/2' }).store, {
      type: 'redis',
      url: 'redis://:s3cret@10.0.0.5:6380/2',
      prefix: 'zgw',
      commandTimeout: 1000,
      catchUpLimit: 10_000,
    });
    assert.deepEqual(parseGatewayOptions({ ...upstream, store: { type: 'memory' } }, { REDIS_URL: 'redis://h' }).store, { type: 'memory' });
    assert.equal(parseGatewayOptions({ ...upstream, store: { type: 'redis', url: 'rediss://h:6379', prefix: 'team-a' } }, {}).store.type, 'redis');
  });

  it('refuses a bad URL, prefix or type, naming the field, without echoing the URL', () => {
    const secret = 'http://user:hunter2-password@h:6379';
    const error = configError(() => parseGatewayOptions({ ...upstream, store: { type: 'redis', url: secret } }, {}));
    assert.equal(error.param, 'store.url');
    assert.ok(!errorText(error).includes('hunter2'), 'the password is not in the error');
    assert.equal(configError(() => parseGatewayOptions({ ...upstream, store: { type: 'redis', url: 'redis://h', prefix: 'a b' } }, {})).param, 'store.prefix');
    assert.match(configError(() => parseGatewayOptions({ ...upstream, store: { type: 'postgres' } as never }, {})).param ?? '', /^store/);
  });
});
