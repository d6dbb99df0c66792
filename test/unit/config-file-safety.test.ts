import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GatewayError, locateConfigError, MAX_CONFIG_FILE_BYTES, parseConfigText, parseGatewayConfig, readConfigFile, type GatewayOptions } from 'zg-gateway';

const SECRET = 'hunter2';

function rejection(action: () => unknown): GatewayError {
  try {
    action();
  } catch (error) {
    assert.ok(GatewayError.isInstance(error), `not a GatewayError: ${String(error)}`);
    assert.equal(error.code, 'invalid_config');
    return error;
  }
  assert.fail('expected invalid_config');
}

async function asyncRejection(action: () => Promise<unknown>): Promise<GatewayError> {
  try {
    await action();
  } catch (error) {
    assert.ok(GatewayError.isInstance(error), `not a GatewayError: ${String(error)}`);
    assert.equal(error.code, 'invalid_config');
    return error;
  }
  assert.fail('expected invalid_config');
}

/** Nothing of the error, its cause included, holds the secret. */
function assertQuotesNothing(error: GatewayError, secret = SECRET): void {
  const everything = [error.message, String(error.param), String(error.stack), error.cause instanceof Error ? `${error.cause.message} ${String(error.cause.stack)}` : String(error.cause)].join(' ');
  assert.ok(!everything.includes(secret), `the error quotes the input: ${everything}`);
}

const UPSTREAM = { openAICompatibleProviders: [{ name: 'up', baseUrl: 'http://127.0.0.1:9/v1' }] };

describe('config problems are described without quoting the input', () => {
  it('names known options and indexes, never an unknown key or a value', () => {
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ [`${SECRET}_LINE`]: 1 }, '(options)', /^Invalid options: an unknown key$/],
      [{ 'root:$6$hunter2:19000:0:99999:7::': null, 'daemon:*:1': null }, '(options)', /^Invalid options: an unknown key \(and 1 more\)$/],
      [{ queue: { [SECRET]: 1 } }, 'queue', /^Invalid option queue: an unknown key$/],
      [{ strategy: SECRET }, 'strategy', /Invalid option strategy: /],
      [{ port: SECRET }, 'port', /expected number/],
      [{ openAICompatibleProviders: [{ name: 'up', baseUrl: SECRET }] }, 'openAICompatibleProviders.0.baseUrl', /must be an http or https URL/],
      [{ pools: { p: { models: [SECRET, SECRET] } } }, 'pools.p.models.1', /another pool|already/],
      [{ pools: { p: { overflow: [SECRET] } } }, 'pools.p.overflow.0', /names no pool/],
      [{ openAICompatibleProviders: [{ name: SECRET, baseUrl: 'http://127.0.0.1:9/v1' }, { name: SECRET, baseUrl: 'http://127.0.0.1:9/v1' }] }, 'providers', /openAICompatibleProviders\.1\.name names a provider listed before/],
      [{ weights: { 'has spaces hunter2': -1 } }, 'weights.*', /Invalid option weights\.\*: /],
      [{ host: `${SECRET}.example`, ...UPSTREAM }, 'host', /non-loopback address/],
    ];
    for (const [options, param, message] of cases) {
      const error = rejection(() => parseGatewayConfig({ ...UPSTREAM, ...options } as GatewayOptions, {}));
      assert.equal(error.param, param, JSON.stringify(options));
      assert.match(error.message, message, JSON.stringify(options));
      assertQuotesNothing(error, options.weights ? 'has spaces' : SECRET);
      if (!options.weights) assertQuotesNothing(error, 'root:');
    }
  });

  it('gives the line of the problem in the file, still quoting nothing', () => {
    const text = ['port: 3000', 'queue:', '  maxSize: 10', `  ${SECRET}: 1`, ''].join('\n');
    const error = rejection(() => parseGatewayConfig({ ...UPSTREAM, ...parseConfigText(text, 'gateway.yaml') } as GatewayOptions, {}));
    const located = locateConfigError(error, text, 'gateway.yaml') as GatewayError;
    assert.equal(located.message, 'Invalid option queue: an unknown key (at line 4 of gateway.yaml)');
    assert.equal(located.param, 'queue');
    assertQuotesNothing(located);
    const badValue = `openAICompatibleProviders:\n  - name: up\n    baseUrl: "${SECRET}"\n`;
    const valueError = rejection(() => parseGatewayConfig(parseConfigText(badValue) as GatewayOptions, {}));
    assert.match(String((locateConfigError(valueError, badValue, 'c.yaml') as Error).message), /baseUrl: must be an http or https URL .*\(at line 3 of c\.yaml\)/);
  });

  it('a YAML alias bomb and a syntax error are invalid_config, their text kept out of the error', () => {
    const bomb = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]', 'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]', 'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]', 'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]', 'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]'].join('\n');
    const bombError = rejection(() => parseConfigText(bomb, 'bomb.yaml'));
    assert.match(bombError.message, /alias/);
    assert.equal(bombError.param, 'config');
    const syntax = rejection(() => parseConfigText(`port: 3000\nkey: "${SECRET}\n  - [unclosed`, 'bad.yaml'));
    assert.match(syntax.message, /not valid YAML or JSON at line \d+, column \d+/);
    assertQuotesNothing(syntax);
  });
});

describe('config files are read within a size limit', () => {
  let folder: string;
  before(async () => {
    folder = await mkdtemp(join(tmpdir(), 'zg-config-size-'));
  });
  after(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it('refuses a file over 1 MiB before reading it, and one that grows past the limit while read', async () => {
    assert.equal(MAX_CONFIG_FILE_BYTES, 1024 * 1024);
    const path = join(folder, 'big.yaml');
    await writeFile(path, `defaultModel: "${'a'.repeat(MAX_CONFIG_FILE_BYTES)}"\n`);
    const big = await asyncRejection(() => readConfigFile(path));
    assert.equal(big.param, 'config');
    assert.match(big.message, /larger than 1048576 bytes/);
    // /proc files say they are empty, then have content: the read is bounded, not only the size check.
    const growing = await asyncRejection(() => readConfigFile('/proc/self/status', 64));
    assert.match(growing.message, /larger than 64 bytes/);
    assertQuotesNothing(growing, 'VmRSS');
    const device = await asyncRejection(() => readConfigFile('/dev/zero'));
    assert.match(device.message, /not a regular file/);
    const small = join(folder, 'small.yaml');
    await writeFile(small, 'port: 3000\n');
    assert.deepEqual(await readConfigFile(small), { port: 3000 });
  });
});
