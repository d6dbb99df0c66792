/**
 * Runs the `zg-gateway` command (the built lib.commonjs/cli/main.js) as a child process, as a user
 * would: one-shot commands to completion, servers until their ready file appears.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CLI = join(__dirname, '..', '..', '..', 'lib.commonjs', 'cli', 'main.js');

/** A clean environment: none of the variables the gateway reads, unless given. */
export function cliEnvironment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...extra };
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `zg-gateway ...args` to its end (killed after `timeoutMs`). */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = cliEnvironment(), timeoutMs = 30_000): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface CliServer {
  readonly child: ChildProcess;
  /** What the command wrote to its ready file. */
  readonly ready: Record<string, unknown>;
  /** The gateway's URL (from the ready file), when it runs one. */
  readonly url: string;
  stdout(): string;
  stderr(): string;
  /** The JSON log lines on stdout so far. */
  logs(): Array<Record<string, unknown>>;
  /** Sends `signal` and resolves with the exit code (SIGKILL after `timeoutMs`). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
}

/** Starts a long-running `zg-gateway` command with `--ready-file` and waits for that file. */
export async function startCliServer(args: readonly string[], env: NodeJS.ProcessEnv = cliEnvironment(), timeoutMs = 30_000): Promise<CliServer> {
  const folder = mkdtempSync(join(tmpdir(), 'zg-cli-'));
  const readyFile = join(folder, 'ready.json');
  const child = spawn(process.execPath, [CLI, ...args, '--ready-file', readyFile], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let ready: Record<string, unknown> | undefined;
  const deadline = Date.now() + timeoutMs;
  while (!ready && Date.now() < deadline && child.exitCode === null) {
    try {
      ready = JSON.parse(readFileSync(readyFile, 'utf8')) as Record<string, unknown>;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  if (!ready) {
    child.kill('SIGKILL');
    rmSync(folder, { recursive: true, force: true });
    throw new Error(`zg-gateway ${args.join(' ')} did not become ready (exit ${String(child.exitCode)}):\n${stderr}\n${stdout.slice(-4000)}`);
  }
  return {
    child,
    ready,
    url: typeof ready.url === 'string' ? ready.url : '',
    stdout: () => stdout,
    stderr: () => stderr,
    logs: () =>
      stdout
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    stop: async (signal = 'SIGTERM', stopTimeoutMs = 20_000) => {
      if (child.exitCode === null) child.kill(signal);
      const killer = setTimeout(() => child.kill('SIGKILL'), stopTimeoutMs);
      const code = await exited;
      clearTimeout(killer);
      rmSync(folder, { recursive: true, force: true });
      return code;
    },
  };
}

/** Polls `condition` every 50 ms; true when it held within `timeoutMs`. */
export async function eventually(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return condition();
}
