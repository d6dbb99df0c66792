import { readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { GatewayError } from '../errors/index.js';
import { emptyAccount, type BillingBooks, type ProviderAccount, type RefundNote, type SettlementNote } from './billing-book.js';

/** The layout version written in the file; a file of another version is refused. */
const VERSION = 1;

type Json = Record<string, unknown>;

const big = (value: unknown): bigint => (typeof value === 'string' && /^-?\d+$/.test(value) ? BigInt(value) : 0n);
const num = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);
const numOrNull = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);
const object = (value: unknown): Json => (typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {});

function settlementFromJson(value: unknown): SettlementNote | null {
  if (typeof value !== 'object' || value === null) return null;
  const note = value as Json;
  return { block: num(note.block), transaction: String(note.transaction ?? ''), at: num(note.at), amount: big(note.amount), status: num(note.status) };
}

function accountFromJson(provider: string, value: Json): ProviderAccount {
  const flag = value.overcharging === null || value.overcharging === undefined ? null : object(value.overcharging);
  return {
    ...emptyAccount(typeof value.provider === 'string' ? value.provider : provider),
    served: big(value.served),
    answers: num(value.answers),
    lastServedAt: numOrNull(value.lastServedAt),
    settled: big(value.settled),
    settlements: num(value.settlements),
    refused: num(value.refused),
    lastSettlement: settlementFromJson(value.lastSettlement),
    overcharging: flag ? { since: num(flag.since), settled: big(flag.settled), served: big(flag.served) } : null,
    acceptedExcess: big(value.acceptedExcess),
  };
}

function refundFromJson(provider: string, value: Json): RefundNote {
  const state = value.state === 'retrieved' || value.state === 'cancelled' ? value.state : 'requested';
  return {
    provider: typeof value.provider === 'string' ? value.provider : provider,
    reason: String(value.reason ?? ''),
    requestedAt: num(value.requestedAt),
    amount: big(value.amount),
    unlockAt: numOrNull(value.unlockAt),
    state,
    settledAt: numOrNull(value.settledAt),
    retrieved: big(value.retrieved),
    transactions: Array.isArray(value.transactions) ? value.transactions.map(String) : [],
  };
}

/** Parses a state file's text (throws on text that is not a state of this version). */
export function booksFromJson(text: string): BillingBooks {
  const document = JSON.parse(text) as unknown;
  const root = object(document);
  if (root.version !== VERSION) throw new Error(`unknown layout version ${String(root.version)} (expected ${VERSION})`);
  const books: BillingBooks = new Map();
  for (const [networkId, network] of Object.entries(object(root.networks))) {
    const wallets = new Map();
    for (const [wallet, walletValue] of Object.entries(object(object(network).wallets))) {
      const accounts = new Map(Object.entries(object(object(walletValue).accounts)).map(([key, value]) => [key.toLowerCase(), accountFromJson(key, object(value))]));
      const refunds = new Map(Object.entries(object(object(walletValue).refunds)).map(([key, value]) => [key.toLowerCase(), refundFromJson(key, object(value))]));
      wallets.set(wallet.toLowerCase(), { accounts, refunds });
    }
    books.set(networkId, { cursor: numOrNull(object(network).cursor), wallets });
  }
  return books;
}

/** The state as the file holds it: bigints as decimal strings. */
export function booksToJson(books: BillingBooks): string {
  const replacer = (_key: string, value: unknown): unknown => (typeof value === 'bigint' ? value.toString() : value instanceof Map ? Object.fromEntries(value) : value);
  return `${JSON.stringify({ version: VERSION, networks: books }, replacer, 2)}\n`;
}

/**
 * Where the billing state lives: a JSON file (read once at start, written whole to a temporary file
 * then renamed over it, so a crash leaves the old or the new state, never half of one; one write at a
 * time), or nowhere (memory only) without a path.
 */
export class BillingStateFile {
  readonly path: string | undefined;
  #writing: Promise<void> = Promise.resolve();

  constructor(path: string | undefined) {
    this.path = path;
  }

  /** The state in the file (empty when there is no file yet). Throws `invalid_config` for a file that cannot be read as a state. */
  load(): BillingBooks {
    if (!this.path) return new Map();
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
      throw new GatewayError('invalid_config', `Invalid option billing.stateFile: ${this.path} cannot be read`, { param: 'billing.stateFile', cause: error });
    }
    try {
      return booksFromJson(text);
    } catch (error) {
      // Neither the parser's message nor the version found is kept (not even as `cause`, which
      // loggers print): both quote the file, which may be a symlink to anything.
      const what = error instanceof SyntaxError ? 'not JSON' : `not a billing state of layout version ${VERSION}`;
      throw new GatewayError('invalid_config', `Invalid option billing.stateFile: ${this.path} is ${what}`, { param: 'billing.stateFile' });
    }
  }

  /** Writes `books` as they are now (after any write under way). Rejects when the file cannot be written. */
  save(books: BillingBooks): Promise<void> {
    const path = this.path;
    if (!path) return Promise.resolve();
    const text = booksToJson(books);
    const write = this.#writing.catch(() => undefined).then(async () => {
      const temporary = `${path}.${process.pid}.tmp`;
      await writeFile(temporary, text, { mode: 0o600 });
      await rename(temporary, path);
    });
    this.#writing = write;
    return write;
  }
}
