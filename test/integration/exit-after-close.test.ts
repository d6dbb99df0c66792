import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';

/**
 * `close()` leaves nothing that holds the process open: after a gateway that sent chain
 * transactions (the SDK races each receipt against a 5-minute timer it never clears) and its
 * devnet are closed, the process ends by itself, without `process.exit`.
 */
test('after gateway.close() and devnet.stop() the process ends by itself', async (t) => {
  const child = spawn(process.execPath, [join(__dirname, '..', 'helpers', 'serve-then-close.js')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  let closedAt = 0;
  child.stdout.on('data', () => {
    if (closedAt === 0 && stdout.includes('closed')) closedAt = Date.now();
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const [code, signal] = (await new Promise((resolve) => child.once('exit', (...args) => resolve(args)))) as [number | null, NodeJS.Signals | null];
  clearTimeout(killer);
  assert.equal(signal, null, `the process had to be killed: still alive 60 s after start (stdout ${stdout}, stderr ${stderr.slice(-500)})`);
  assert.equal(code, 0, stderr.slice(-2000));
  assert.match(stdout, /closed/);
  t.diagnostic(`exited ${Date.now() - closedAt} ms after everything was closed`);
});
