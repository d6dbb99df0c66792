import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import * as commonJsBuild from 'zg-gateway';

/** The ESM build, loaded as a real ES module from lib.esm (this test is compiled into build/test/unit). */
async function loadEsmBuild(subpath = 'index.js'): Promise<Record<string, unknown>> {
  const file = join(__dirname, '..', '..', '..', 'lib.esm', subpath);
  return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
}

test('the ESM build exports the same public names as the CommonJS build', async () => {
  const esm = await loadEsmBuild();
  const commonJsNames = Object.keys(commonJsBuild).sort();
  assert.ok(commonJsNames.includes('runMultiProviderInferenceServer'));
  assert.deepEqual(Object.keys(esm).sort(), commonJsNames);
});

test('GatewayError.isInstance recognises errors across the two copies of the library', async () => {
  const esm = (await loadEsmBuild()) as unknown as typeof commonJsBuild;
  assert.notEqual(esm.GatewayError, commonJsBuild.GatewayError, 'two distinct classes');
  const fromEsm = new esm.GatewayError('upstream_timeout', 'slow');
  assert.equal(fromEsm instanceof commonJsBuild.GatewayError, false);
  assert.equal(commonJsBuild.GatewayError.isInstance(fromEsm), true);
  assert.equal(esm.GatewayError.isInstance(new commonJsBuild.GatewayError('invalid_json', 'x')), true);
  assert.equal(commonJsBuild.toGatewayError(fromEsm), fromEsm);
});

test('the ESM build validates options like the CommonJS build', async () => {
  const esm = (await loadEsmBuild()) as unknown as typeof commonJsBuild;
  await assert.rejects(esm.runMultiProviderInferenceServer({ providers: ['not-an-address'] }), (error: unknown) => {
    return commonJsBuild.GatewayError.isInstance(error) && error.code === 'invalid_config' && error.param === 'providers.0';
  });
});
