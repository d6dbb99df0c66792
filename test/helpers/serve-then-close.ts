/**
 * Child process for the exit-after-close test: starts a devnet and a gateway discovering it
 * (`providers: 'auto'`, so funding transactions are sent), serves a few chats, closes both and
 * then does nothing: the process must end by itself. Prints `closed` once everything is closed.
 */
import { runMultiProviderInferenceServer } from 'zg-gateway';
import { gatewayOptionsForDevnet, startLocalDevnet } from 'zg-devnet';

async function main(): Promise<void> {
  const devnet = await startLocalDevnet({ providers: 2 });
  try {
    const { providers: _static, ...options } = gatewayOptionsForDevnet(devnet);
    void _static;
    const gateway = await runMultiProviderInferenceServer({ ...options, providers: 'auto', host: '127.0.0.1', port: 0, logLevel: 'silent', catalogRefreshInterval: 3_600_000 });
    try {
      for (let index = 0; index < 4; index++) {
        const response = await fetch(`${gateway.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: devnet.providers[0]?.model, stream: index % 2 === 1, messages: [{ role: 'user', content: `hi ${index}` }] }),
        });
        if (response.status !== 200) throw new Error(`chat answered ${response.status}`);
        await response.text();
      }
    } finally {
      await gateway.close();
    }
  } finally {
    await devnet.stop();
  }
  process.stdout.write('closed\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
