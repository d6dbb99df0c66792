import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { cliEnvironment, runCli, startCliServer } from '../helpers/cli-process.js';

interface DevnetFacts {
  rpc: string;
  chainId: number;
  contracts: { inference: string; ledger: string };
  providers: Array<{ name: string; address: string; model: string }>;
}

interface ListedService {
  provider: string;
  url: string;
  verifiability: string;
  teeSignerAddress: string;
  teeSignerAcknowledged: boolean;
  models: Array<{ id: string; inputPrice: string; outputPrice: string; inputPerMillionZg: string; outputPerMillionZg: string }>;
}

/** A private key or a transaction hash: 32 bytes of hex. None may appear at the info level. */
const THIRTY_TWO_BYTES = /0x[0-9a-fA-F]{64}\b/;

test('devnet --serve runs the devnet and the gateway in front of it; providers lists the chain read-only; Ctrl-C stops both', async () => {
  const server = await startCliServer(['devnet', '--serve', '--providers', '2', '--port', '0', '--log-format', 'json'], cliEnvironment(), 120_000);
  let listed: ListedService[] = [];
  let table = '';
  const devnet = server.ready.devnet as DevnetFacts;
  try {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(devnet.providers.length, 2);
    const model = devnet.providers[0]?.model;
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello devnet' }] }),
    });
    assert.equal(response.status, 200);
    assert.ok(devnet.providers.some((provider) => provider.address === response.headers.get('x-provider-address')));

    const asJson = await runCli(['providers', '--rpc', devnet.rpc, '--contract', devnet.contracts.inference, '--json'], cliEnvironment(), 60_000);
    assert.equal(asJson.code, 0, asJson.stderr);
    listed = (JSON.parse(asJson.stdout) as { services: ListedService[] }).services;
    const asTable = await runCli(['providers', '--contract', devnet.contracts.inference], cliEnvironment({ RPC_ENDPOINT: devnet.rpc }), 60_000);
    assert.equal(asTable.code, 0, asTable.stderr);
    table = asTable.stdout;
  } finally {
    assert.equal(await server.stop('SIGINT', 60_000), 0);
  }
  assert.deepEqual(listed.map((service) => service.provider.toLowerCase()).sort(), devnet.providers.map((provider) => provider.address.toLowerCase()).sort());
  for (const service of listed) {
    assert.equal(service.verifiability, 'TeeML');
    assert.equal(service.teeSignerAcknowledged, true);
    assert.match(service.teeSignerAddress, /^0x[0-9a-fA-F]{40}$/);
    assert.match(service.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const offer = service.models[0];
    assert.ok(offer);
    assert.equal(offer.id, devnet.providers[0]?.model);
    assert.match(offer.inputPrice, /^\d+$/);
    // neuron per token x 10^6 tokens / 10^18 neuron per 0G
    assert.equal(Number(offer.inputPerMillionZg), Number(offer.inputPrice) / 1e12);
  }
  assert.match(table, /^PROVIDER +MODEL +INPUT +OUTPUT +0G PER 1M IN \/ OUT +VERIFIABILITY +TEE SIGNER +ACK +URL\n/);
  assert.match(table, /TeeML +0x[0-9a-fA-F]{40} +yes +http:\/\/127\.0\.0\.1/);
  assert.doesNotMatch(server.stdout() + server.stderr(), THIRTY_TWO_BYTES, 'the devnet key is never printed');
  assert.ok(server.logs().some((record) => record.event === 'gateway_closed'));
});

test('without the devnet package, loading it says how to get it', async () => {
  const { loadDevnet, DevnetMissingError } = (await import(pathToFileURL(join(__dirname, '..', '..', '..', 'lib.commonjs', 'cli', 'load-devnet.js')).href)) as typeof import('../../lib.commonjs/cli/load-devnet.js');
  await assert.rejects(loadDevnet('zg-devnet-not-installed'), (error: unknown) => error instanceof DevnetMissingError && /development dependency/.test(error.message));
});
