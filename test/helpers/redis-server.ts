/**
 * A throw-away redis-server for tests: on 127.0.0.1 and a free port, nothing saved to disk, stopped
 * (and restartable on the same port) by the test. Needs the `redis-server` binary (Debian package
 * `redis-server`; `REDIS_SERVER_BIN` names another).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, connect, type AddressInfo } from 'node:net';

export interface TestRedis {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** Whether the server runs now. */
  readonly running: boolean;
  /** Stops the server (SIGTERM, SIGKILL after 3 s); resolves once it has exited. Idempotent. */
  stop(): Promise<void>;
  /** Freezes the server (SIGSTOP): connections stay open, nothing is answered. */
  pause(): void;
  /** Thaws a paused server (SIGCONT). */
  resume(): void;
  /** Starts it again on the same port (empty: nothing was saved), once it answers PING. */
  restart(): Promise<void>;
}

const BIN = process.env.REDIS_SERVER_BIN ?? 'redis-server';

/** Throws a clear error when there is no redis-server to start. */
export function requireRedisServer(): void {
  const found = BIN.includes('/') ? existsSync(BIN) : (process.env.PATH ?? '').split(':').some((dir) => dir !== '' && existsSync(`${dir}/${BIN}`));
  if (!found) {
    throw new Error(`${BIN} not found: these tests start their own Redis. Install it (Debian/Ubuntu: apt-get install -y --no-install-recommends redis-server) or set REDIS_SERVER_BIN`);
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** True when something on the port answers PING with +PONG. */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    const finish = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data) => {
      reply += data.toString('utf8');
      if (reply.includes('\r\n')) finish(reply.startsWith('+PONG'));
    });
  });
}

function launch(port: number): ChildProcess {
  const child = spawn(BIN, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.resume();
  return child;
}

async function waitForPing(child: ChildProcess, port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    if (await answersPing(port)) return true;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return false;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Starts a redis-server on a free port and waits until it answers PING. */
export async function startTestRedis(): Promise<TestRedis> {
  requireRedisServer();
  let child: ChildProcess | undefined;
  let port = 0;
  // Another process may take the free port before redis binds it: try a few.
  for (let attempt = 0; attempt < 5 && child === undefined; attempt++) {
    port = await freePort();
    const candidate = launch(port);
    const spawnError = new Promise<Error>((resolve) => candidate.once('error', resolve));
    const ready = await Promise.race([waitForPing(candidate, port, 5000), spawnError.then((error) => error)]);
    if (ready === true) child = candidate;
    else {
      candidate.kill('SIGKILL');
      await exited(candidate);
      if (ready instanceof Error) throw new Error(`Could not start ${BIN}: ${ready.message}`);
    }
  }
  if (!child) throw new Error(`${BIN} did not start on a free port`);
  let current: ChildProcess | undefined = child;
  // A test that dies (or a forced exit) must not leave a server behind.
  process.once('exit', () => current?.kill('SIGKILL'));
  const handle: TestRedis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    get running() {
      return current !== undefined;
    },
    pause() {
      current?.kill('SIGSTOP');
    },
    resume() {
      current?.kill('SIGCONT');
    },
    async stop() {
      const stopping = current;
      if (!stopping) return;
      current = undefined;
      const killer = setTimeout(() => stopping.kill('SIGKILL'), 3000);
      stopping.kill('SIGCONT');
      stopping.kill('SIGTERM');
      await exited(stopping);
      clearTimeout(killer);
    },
    async restart() {
      await handle.stop();
      const next = launch(port);
      if (!(await waitForPing(next, port, 5000))) {
        next.kill('SIGKILL');
        throw new Error(`${BIN} did not start again on port ${port}`);
      }
      current = next;
    },
  };
  return handle;
}
