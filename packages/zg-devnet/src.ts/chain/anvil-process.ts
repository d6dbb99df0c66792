import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, chmodSync, constants as fsConstants } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { DevnetError } from '../devnet-error.js';
import { packageRequire } from '../internal/package-require.js';

const PLATFORM_PACKAGES: Record<string, string> = {
  'linux-x64': '@foundry-rs/anvil-linux-amd64',
  'linux-arm64': '@foundry-rs/anvil-linux-arm64',
  'darwin-x64': '@foundry-rs/anvil-darwin-amd64',
  'darwin-arm64': '@foundry-rs/anvil-darwin-arm64',
  'win32-x64': '@foundry-rs/anvil-win32-amd64',
};

/**
 * Finds the anvil binary shipped in Foundry's npm platform package for this machine
 * (`@foundry-rs/anvil-linux-amd64` here; the package `@foundry-rs/anvil` installs the right one
 * elsewhere). `ANVIL_BIN` overrides. npm may skip install scripts, so the binary is made executable here.
 */
export function findAnvilBinary(): string {
  const fromEnvironment = process.env.ANVIL_BIN;
  if (fromEnvironment) return fromEnvironment;
  const platformKey = `${process.platform}-${process.arch}`;
  const packageName = PLATFORM_PACKAGES[platformKey];
  if (!packageName) {
    throw new DevnetError('anvil_unavailable', `anvil has no npm binary for ${platformKey}; set ANVIL_BIN`);
  }
  let binary: string;
  try {
    const manifest = resolvePlatformPackage(packageName);
    binary = join(dirname(manifest), 'bin', process.platform === 'win32' ? 'anvil.exe' : 'anvil');
  } catch (error) {
    throw new DevnetError('anvil_unavailable', `${packageName} is not installed (npm install @foundry-rs/anvil, or set ANVIL_BIN)`, { cause: error });
  }
  try {
    accessSync(binary, fsConstants.X_OK);
  } catch {
    chmodSync(binary, 0o755);
  }
  return binary;
}

/** Resolves the platform package: our own (optional) dependency, else next to an installed `@foundry-rs/anvil`. */
function resolvePlatformPackage(packageName: string): string {
  try {
    return packageRequire.resolve(`${packageName}/package.json`);
  } catch (error) {
    try {
      return packageRequire.resolve(`${packageName}/package.json`, { paths: [dirname(packageRequire.resolve('@foundry-rs/anvil/package.json'))] });
    } catch {
      throw error;
    }
  }
}

/** Asks the OS for a free TCP port on 127.0.0.1. */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A running anvil. */
export interface AnvilHandle {
  readonly rpcUrl: string;
  readonly chainId: number;
  readonly pid: number;
  /** Kills the process (SIGTERM, then SIGKILL after 2 s) and waits for it to exit. Idempotent. */
  stop(): Promise<void>;
}

export interface StartAnvilOptions {
  chainId?: number;
  /** Seconds per block; 0 (default) mines on every transaction. */
  blockTime?: number;
  /** How long to wait for the RPC to answer, in ms. Default 15000. */
  readyTimeoutMs?: number;
}

async function rpcAnswers(rpcUrl: string): Promise<boolean> {
  try {
    const response = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      signal: AbortSignal.timeout(1000),
    });
    return response.ok;
  } catch {
    return false;
  }
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Starts anvil on 127.0.0.1 and a free port, and waits until its RPC answers. */
export async function startAnvil(options: StartAnvilOptions = {}): Promise<AnvilHandle> {
  const binary = findAnvilBinary();
  const chainId = options.chainId ?? 31337;
  const readyTimeoutMs = options.readyTimeoutMs ?? 15_000;
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await findFreePort();
    const args = ['--host', '127.0.0.1', '--port', String(port), '--chain-id', String(chainId), '--accounts', '0', '--silent'];
    if (options.blockTime) args.push('--block-time', String(options.blockTime));
    const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      if (stderr.length < 4096) stderr += chunk.toString('utf8');
    });
    const spawnFailure = new Promise<Error>((resolve) => child.once('error', resolve));
    const rpcUrl = `http://127.0.0.1:${port}`;
    // If this process ends without stop() (a crash, process.exit), take anvil down with it.
    const killOnExit = (): void => {
      child.kill('SIGKILL');
    };
    process.once('exit', killOnExit);
    child.once('exit', () => process.off('exit', killOnExit));
    const stop = async (): Promise<void> => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      if (!(await waitForExit(child, 2000))) {
        child.kill('SIGKILL');
        await waitForExit(child, 2000);
      }
    };
    const deadline = Date.now() + readyTimeoutMs;
    let ready = false;
    while (Date.now() < deadline) {
      const failed = await Promise.race([spawnFailure, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 25))]);
      if (failed) {
        throw new DevnetError('anvil_start_failed', `anvil could not be started (${binary})`, { cause: failed });
      }
      if (child.exitCode !== null) break;
      if (await rpcAnswers(rpcUrl)) {
        ready = true;
        break;
      }
    }
    if (ready && child.pid !== undefined) {
      return { rpcUrl, chainId, pid: child.pid, stop };
    }
    await stop();
    lastError = new Error(`anvil did not become ready on port ${port}: ${stderr.trim() || 'no output'}`);
  }
  throw new DevnetError('anvil_start_failed', 'anvil did not start', { cause: lastError });
}
