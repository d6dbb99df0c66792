import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { DevnetError, startLocalDevnet, type LocalDevnetOptions } from 'zg-devnet';
import { processAlive, waitFor } from './helpers/sdk-user.js';

/** Pids of live child processes of this test process (Linux /proc). */
function childPids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === process.pid && fields[0] !== 'Z') pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

test('a devnet whose start-up fails halfway stops what it had started and says why', { skip: process.platform !== 'linux' }, async () => {
  const before = childPids();
  // anvil runs, the contracts and the provider are deployed, then the user's ledger deposit exceeds its balance.
  await assert.rejects(startLocalDevnet({ providers: 1, userBalance: '10', userLedgerDeposit: '100' }), (error: unknown) => {
    assert.ok(DevnetError.isInstance(error), `expected a DevnetError, got ${String(error)}`);
    assert.equal(error.code, 'start_failed');
    assert.ok(error.cause, 'the chain error is kept as the cause');
    return true;
  });
  assert.ok(await waitFor(() => childPids().filter((pid) => !before.includes(pid)).length === 0, 3000), 'no child process left behind');
});

test('invalid options are refused before anything starts', { skip: process.platform !== 'linux' }, async () => {
  const before = childPids();
  const invalid: LocalDevnetOptions[] = [
    { providers: 0 },
    { providers: [] },
    { userBalance: 'a lot' },
    { userLedgerDeposit: '-1' },
    { providers: [{ inputPrice: -1n }] },
    { providers: [{ models: [] }] },
    { providers: [{ model: 'a', models: [{ id: 'b', inputPrice: 1n, outputPrice: 1n }] }] },
    { providers: [{ models: [{ id: 'same', inputPrice: 1n, outputPrice: 1n }, { id: 'same', inputPrice: 2n, outputPrice: 2n }] }] },
    { settleIntervalMs: -5 },
  ];
  for (const options of invalid) {
    await assert.rejects(startLocalDevnet(options), (error: unknown) => DevnetError.isInstance(error) && error.code === 'invalid_options', JSON.stringify(options, (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value)));
  }
  assert.deepEqual(childPids().filter((pid) => !before.includes(pid)), [], 'nothing was started');
});

test('the devnet stops every process and server it started', async () => {
  const devnet = await startLocalDevnet({ providers: 1 });
  const pid = devnet.anvilPid;
  assert.equal(processAlive(pid), true);
  const url = devnet.providers[0]?.url;
  await devnet.stop();
  assert.equal(processAlive(pid), false);
  await assert.rejects(fetch(`${url}/v1/quote`));
  await devnet.stop();
});
