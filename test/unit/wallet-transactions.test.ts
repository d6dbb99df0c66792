import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeError } from 'ethers';
import { WalletTransactions, isNonceClash } from 'zg-gateway';

test('transactions from the wallet run one at a time, in the order given, a failure not blocking the next', async () => {
  const transactions = new WalletTransactions();
  const log: string[] = [];
  let release: () => void = () => undefined;
  const first = transactions.run(async () => {
    log.push('first starts');
    await new Promise<void>((resolve) => (release = resolve));
    log.push('first ends');
    throw new Error('reverted');
  });
  const second = transactions.run(async () => {
    log.push('second starts');
    return 2;
  });
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(log, ['first starts'], 'the second waits for the first');
  release();
  await assert.rejects(first, /reverted/);
  assert.equal(await second, 2);
  assert.deepEqual(log, ['first starts', 'first ends', 'second starts']);
});

test('a nonce taken by another sender is sent again (up to 3 times); any other error is not', async () => {
  const transactions = new WalletTransactions();
  let calls = 0;
  const result = await transactions.run(async () => {
    calls += 1;
    if (calls < 3) throw makeError('nonce has already been used', 'NONCE_EXPIRED');
    return 'mined';
  });
  assert.equal(result, 'mined');
  assert.equal(calls, 3);

  let always = 0;
  await assert.rejects(
    transactions.run(async () => {
      always += 1;
      throw makeError('nonce has already been used', 'NONCE_EXPIRED');
    }),
    (error: unknown) => isNonceClash(error),
  );
  assert.equal(always, 4, 'the first send and three more');

  let reverted = 0;
  await assert.rejects(
    transactions.run(async () => {
      reverted += 1;
      throw makeError('execution reverted', 'CALL_EXCEPTION');
    }),
  );
  assert.equal(reverted, 1);
  assert.equal(isNonceClash(makeError('replacement fee too low', 'REPLACEMENT_UNDERPRICED')), true);
  assert.equal(isNonceClash(new Error('nonce')), false, 'message text is never read');
});
