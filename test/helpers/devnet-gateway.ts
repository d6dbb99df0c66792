import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import pino from 'pino';
import { runMultiProviderInferenceServer, type GatewayHandle, type GatewayOptions } from 'zg-gateway';
import { gatewayOptionsForDevnet, startLocalDevnet, type DevnetProvider, type LocalDevnet, type LocalDevnetOptions } from 'zg-devnet';

/** Collects a logger's JSON lines in memory, so tests can read what was logged. */
export class LogCapture {
  readonly lines: string[] = [];
  readonly logger = pino(
    { level: 'debug', redact: { paths: [], censor: '[redacted]' } },
    new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        callback();
      },
    }),
  );

  /** Parsed lines. */
  records(): Array<Record<string, unknown>> {
    return this.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  text(): string {
    return this.lines.join('\n');
  }
}

/** Gateway options for a devnet: its providers, user key, RPC and contracts, port 0 on loopback. */
export function devnetGatewayOptions(devnet: LocalDevnet, overrides: Partial<GatewayOptions> = {}): GatewayOptions {
  return { ...gatewayOptionsForDevnet(devnet), port: 0, host: '127.0.0.1', logLevel: 'silent', ...overrides };
}

/** A devnet and a gateway in front of it; `close()` stops both. */
export interface DevnetGateway {
  devnet: LocalDevnet;
  gateway: GatewayHandle;
  close(): Promise<void>;
}

/** Starts a devnet and a gateway over all its providers. */
export async function startDevnetGateway(
  options: { devnet?: LocalDevnetOptions; gateway?: Partial<GatewayOptions> } = {},
): Promise<DevnetGateway> {
  const devnet = await startLocalDevnet(options.devnet ?? {});
  try {
    const gateway = await runMultiProviderInferenceServer(devnetGatewayOptions(devnet, options.gateway));
    return {
      devnet,
      gateway,
      close: async () => {
        await gateway.close();
        await devnet.stop();
      },
    };
  } catch (error) {
    await devnet.stop();
    throw error;
  }
}

/** Polls `condition` every 10 ms until true or `timeoutMs` passes; returns the last result. */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return condition();
}

/** The devnet provider at `address` (any letter case, as `X-Provider-Address` gives it); fails the test when there is none. */
export function devnetProviderAt(devnet: LocalDevnet, address: string | null): DevnetProvider {
  const found = devnet.providers.find((provider) => provider.address.toLowerCase() === (address ?? '').toLowerCase());
  assert.ok(found, `a devnet provider at ${address}`);
  return found;
}
