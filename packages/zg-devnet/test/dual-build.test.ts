import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import * as commonJsBuild from 'zg-devnet';

/** The ESM build, loaded as a real ES module (this test is compiled into build/test). */
async function loadEsmBuild(): Promise<typeof commonJsBuild> {
  const file = join(__dirname, '..', '..', 'lib.esm', 'index.js');
  return (await import(pathToFileURL(file).href)) as typeof commonJsBuild;
}

test('the ESM build exports the same names as the CommonJS build', async () => {
  const esm = await loadEsmBuild();
  const names = Object.keys(commonJsBuild).sort();
  for (const name of ['startLocalDevnet', 'gatewayOptionsForDevnet', 'DevnetError', 'findAnvilBinary']) assert.ok(names.includes(name), name);
  assert.deepEqual(Object.keys(esm).sort(), names);
});

test('DevnetError keeps code, message and cause, and is recognised across the two copies', async () => {
  const esm = await loadEsmBuild();
  const cause = new Error('underlying');
  const error = new esm.DevnetError('chain_error', 'a transaction failed', { cause });
  assert.equal(error instanceof commonJsBuild.DevnetError, false, 'two distinct classes');
  assert.equal(commonJsBuild.DevnetError.isInstance(error), true);
  assert.equal(esm.DevnetError.isInstance(new commonJsBuild.DevnetError('stopped', 'x')), true);
  assert.equal(commonJsBuild.DevnetError.isInstance(new Error('plain')), false);
  assert.equal(error.code, 'chain_error');
  assert.equal(error.message, 'a transaction failed');
  assert.equal(error.cause, cause);
  assert.equal(error.name, 'DevnetError');
});

test('the ESM build finds anvil and the contract bytecode: it starts a devnet', async () => {
  const esm = await loadEsmBuild();
  assert.equal(esm.findAnvilBinary(), commonJsBuild.findAnvilBinary());
  const devnet = await esm.startLocalDevnet({ providers: 1 });
  try {
    assert.notEqual(await devnet.rpc.getCode(devnet.contracts.inference), '0x');
    assert.equal(devnet.providers.length, 1);
  } finally {
    await devnet.stop();
  }
});
