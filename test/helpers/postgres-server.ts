/**
 * A throw-away PostgreSQL server for tests: `initdb` into a temporary directory, `postgres` on
 * 127.0.0.1 and a free port (trust authentication, fsync off), stopped (and restartable on the same
 * port, its data kept) by the test, its directory removed at stop. Needs Debian's `postgresql`
 * (binaries in /usr/lib/postgresql/<version>/bin; `POSTGRES_BIN_DIR` names another). initdb and
 * postgres refuse to run as root: as root they run as the `postgres` user (`runuser`), in a
 * directory owned by it.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface TestPostgres {
  readonly port: number;
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  readonly url: string;
  readonly running: boolean;
  /** A new empty database on this server; resolves with its URL. */
  createDatabase(name: string): Promise<string>;
  /** Stops the server (fast shutdown; SIGKILL after 5 s). Idempotent. */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same data. */
  restart(): Promise<void>;
  /** Stops it and removes its directory. */
  close(): Promise<void>;
}

/** The bin directory of the newest installed PostgreSQL, or undefined. */
export function postgresBinDir(): string | undefined {
  if (process.env.POSTGRES_BIN_DIR) return existsSync(join(process.env.POSTGRES_BIN_DIR, 'postgres')) ? process.env.POSTGRES_BIN_DIR : undefined;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((name) => existsSync(join(root, name, 'bin', 'postgres'))).sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin');
}

/** Throws a clear error when there is no PostgreSQL to start. */
export function requirePostgres(): string {
  const dir = postgresBinDir();
  if (!dir) throw new Error('PostgreSQL not found: these tests start their own server. Install it (Debian/Ubuntu: apt-get install -y --no-install-recommends postgresql) or set POSTGRES_BIN_DIR');
  return dir;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** The command line for `bin/name args`, as the postgres user when we are root. */
function command(binDir: string, name: string, args: string[]): [string, string[]] {
  return asRoot ? ['runuser', ['-u', 'postgres', '--', join(binDir, name), ...args]] : [join(binDir, name), args];
}

async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Sends the postmaster `signal`, waits until it is gone (SIGKILL after `timeoutMs`). */
async function stopPostmaster(pid: number, timeoutMs: number): Promise<void> {
  if (!alive(pid)) return;
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + timeoutMs;
  while (alive(pid)) {
    if (Date.now() > deadline) process.kill(pid, 'SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Starts PostgreSQL on a free port and waits until it answers. */
export async function startTestPostgres(): Promise<TestPostgres> {
  const binDir = requirePostgres();
  const dir = mkdtempSync(join(tmpdir(), 'zg-pg-'));
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  const [initdb, initArgs] = command(binDir, 'initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C']);
  execFileSync(initdb, initArgs, { stdio: 'ignore' });
  const port = await freePort();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let current: ChildProcess | undefined;
  // The postmaster itself (runuser, the child, may not pass signals on).
  let postmaster: number | undefined;
  const launch = async (): Promise<void> => {
    const [bin, args] = command(binDir, 'postgres', ['-D', data, '-p', String(port), '-h', '127.0.0.1', '-k', dir, '-F', '-c', 'max_connections=50', '-c', 'shared_buffers=16MB']);
    const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.resume();
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) break;
      if (await answers(url)) {
        current = child;
        postmaster = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    child.kill('SIGKILL');
    throw new Error(`postgres did not start on port ${port}`);
  };
  await launch();
  // A test that dies must not leave a server behind.
  process.once('exit', () => {
    if (current && postmaster !== undefined && alive(postmaster)) process.kill(postmaster, 'SIGKILL');
  });
  const stop = async (): Promise<void> => {
    const stopping = current;
    if (!stopping) return;
    current = undefined;
    // SIGINT: fast shutdown (clients are disconnected at once).
    if (postmaster !== undefined) await stopPostmaster(postmaster, 5000);
    stopping.kill('SIGKILL');
    await exited(stopping);
  };
  return {
    port,
    url,
    get running() {
      return current !== undefined;
    },
    async createDatabase(name: string) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${name.replace(/"/g, '')}"`);
      } finally {
        await client.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    stop,
    restart: async () => {
      await stop();
      await launch();
    },
    close: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
