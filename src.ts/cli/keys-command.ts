import { parseConfigText, readConfigFileText } from '../config/index.js';
import { BUDGET_PERIODS, createApiKey, fingerprintOfHash, type ApiKeyEntry, type ApiKeyLimitsConfig } from '../keys/index.js';
import { RedisConnection, redactRedisUrl } from '../stores/index.js';
import { RedisKeyDirectory } from '../keys/redis-key-directory.js';
import { EXIT, UsageError } from './cli-error.js';
import { KEYS_HELP } from './help-texts.js';
import { choiceFlag, integerFlag, listFlag, parseFlags, stringFlag, type ParsedFlags } from './parse-flags.js';
import { textTable } from './text-table.js';

const FLAGS = {
  redis: { type: 'string' },
  prefix: { type: 'string' },
  config: { type: 'string', short: 'c' },
  rpm: { type: 'string' },
  tpm: { type: 'string' },
  'max-concurrent': { type: 'string' },
  'max-priority': { type: 'string' },
  budget: { type: 'string' },
  'budget-period': { type: 'string' },
  models: { type: 'string', multiple: true },
  'expires-at': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Where the keys are: `--redis`/`--prefix`, else the config file's store, else env `REDIS_URL`. */
async function storeOf(flags: ParsedFlags, environment: NodeJS.ProcessEnv): Promise<{ url: string; prefix: string }> {
  let url = stringFlag(flags, 'redis');
  let prefix = stringFlag(flags, 'prefix');
  const configPath = stringFlag(flags, 'config');
  if (configPath !== undefined) {
    const store = parseConfigText(await readConfigFileText(configPath), configPath).store;
    if (store?.type === 'redis') {
      url ??= store.url;
      prefix ??= store.prefix;
    }
  }
  url ??= environment.REDIS_URL;
  if (!url) throw new UsageError('Where are the keys? Give --redis URL, env REDIS_URL, or --config FILE with store: { type: redis, url }', 'keys');
  if (!/^rediss?:\/\/\S+$/i.test(url)) throw new UsageError('--redis must be a redis:// or rediss:// URL', 'keys');
  return { url, prefix: prefix ?? 'zgw' };
}

function limitsOf(flags: ParsedFlags): ApiKeyLimitsConfig {
  const rpm = integerFlag('keys', flags, 'rpm', 1);
  const tpm = integerFlag('keys', flags, 'tpm', 1);
  const maxConcurrent = integerFlag('keys', flags, 'max-concurrent', 1);
  const maxPriority = integerFlag('keys', flags, 'max-priority', 0, 10);
  const budget = stringFlag(flags, 'budget');
  const period = choiceFlag('keys', flags, 'budget-period', BUDGET_PERIODS) ?? 'day';
  if (budget !== undefined && !/^\d+$/.test(budget)) throw new UsageError(`--budget must be a whole number of neuron, not '${budget}'`, 'keys');
  const models = listFlag(flags, 'models').flatMap((list) => list.split(',').map((model) => model.trim()).filter(Boolean));
  const expiresAt = stringFlag(flags, 'expires-at');
  return {
    ...(rpm !== undefined ? { rpm } : {}),
    ...(tpm !== undefined ? { tpm } : {}),
    ...(maxConcurrent !== undefined ? { maxConcurrent } : {}),
    ...(maxPriority !== undefined ? { maxPriority } : {}),
    ...(budget !== undefined ? { budget: { amount: budget, period } } : {}),
    ...(models.length > 0 ? { models } : {}),
    ...(expiresAt !== undefined ? { expiresAt } : {}),
  };
}

function describeLimits(entry: ApiKeyEntry): string {
  const parts = [
    entry.rpm !== undefined ? `rpm=${entry.rpm}` : '',
    entry.tpm !== undefined ? `tpm=${entry.tpm}` : '',
    entry.maxConcurrent !== undefined ? `concurrent=${entry.maxConcurrent}` : '',
    entry.maxPriority !== undefined ? `priority<=${entry.maxPriority}` : '',
    entry.budget ? `budget=${entry.budget.amount}/${entry.budget.period}` : '',
    entry.models ? `models=${entry.models.join(',')}` : '',
    entry.expiresAt ? `expires=${entry.expiresAt}` : '',
    entry.disabled ? 'disabled' : '',
  ].filter(Boolean);
  return parts.length > 0 ? parts.join(' ') : 'unlimited';
}

/** The entry as `list --json` shows it: limits, never the hash. */
function publicEntry(entry: ApiKeyEntry, createdAt: string): Record<string, unknown> {
  const { hash, budget, ...limits } = entry;
  return { ...limits, fingerprint: fingerprintOfHash(hash), ...(budget ? { budget: { amount: budget.amount.toString(), period: budget.period } } : {}), createdAt };
}

async function withDirectory<T>(store: { url: string; prefix: string }, action: (directory: RedisKeyDirectory) => Promise<T>): Promise<T> {
  const connection = new RedisConnection({ url: store.url, connectionName: 'zg-gateway-cli' });
  const directory = new RedisKeyDirectory({ connection, prefix: store.prefix });
  try {
    if (!(await connection.waitUntilReady(3000))) {
      throw new Error(`Cannot reach Redis at ${redactRedisUrl(store.url)}${connection.lastError ? ` (${connection.lastError})` : ''}`);
    }
    return await action(directory);
  } finally {
    await directory.close();
  }
}

/** `zg-gateway keys create|list|revoke`: client keys kept in Redis. */
export async function keysCommand(args: readonly string[], environment: NodeJS.ProcessEnv): Promise<number> {
  const parsed = parseFlags('keys', args, FLAGS, 2);
  const [action, id] = parsed.positionals;
  if (parsed.values.help === true || action === undefined) {
    process.stdout.write(KEYS_HELP);
    return action === undefined && parsed.values.help !== true ? EXIT.usage : EXIT.ok;
  }
  const json = parsed.values.json === true;
  if (action === 'create') {
    if (id === undefined) throw new UsageError('keys create needs an id: zg-gateway keys create alice', 'keys');
    const created = createApiKey(id, limitsOf(parsed));
    const store = await storeOf(parsed, environment);
    const stored = await withDirectory(store, (directory) => directory.create(created.entry));
    const fingerprint = fingerprintOfHash(created.entry.hash);
    if (json) process.stdout.write(JSON.stringify({ id, key: created.key, fingerprint, createdAt: stored.createdAt }) + '\n');
    else {
      process.stdout.write(created.key + '\n');
      process.stderr.write(`created key "${id}" (fingerprint ${fingerprint}, ${describeLimits(created.entry)}). This is the only time it is shown: store it now.\n`);
    }
    return EXIT.ok;
  }
  if (id !== undefined && action === 'list') throw new UsageError(`Unexpected argument '${id}'`, 'keys');
  if (action === 'list') {
    const { keys, unreadable } = await withDirectory(await storeOf(parsed, environment), (directory) => directory.list());
    if (json) process.stdout.write(JSON.stringify({ keys: keys.map(({ entry, createdAt }) => publicEntry(entry, createdAt)), unreadable }, null, 2) + '\n');
    else if (keys.length === 0) process.stdout.write('No client keys in the store.\n');
    else process.stdout.write(textTable(['ID', 'FINGERPRINT', 'LIMITS', 'CREATED'], keys.map(({ entry, createdAt }) => [entry.id, fingerprintOfHash(entry.hash), describeLimits(entry), createdAt])));
    for (const bad of unreadable) process.stderr.write(`the store's entry "${bad}" is not a valid key and is not accepted\n`);
    return EXIT.ok;
  }
  if (action === 'revoke') {
    if (id === undefined) throw new UsageError('keys revoke needs an id: zg-gateway keys revoke alice', 'keys');
    const revoked = await withDirectory(await storeOf(parsed, environment), (directory) => directory.revoke(id));
    if (json) process.stdout.write(JSON.stringify({ id, revoked }) + '\n');
    else process.stderr.write(revoked ? `revoked "${id}": running gateways refuse it within about 2 s\n` : `no key "${id}" in the store\n`);
    return revoked ? EXIT.ok : EXIT.failure;
  }
  throw new UsageError(`Unknown keys action '${action}': use create, list or revoke`, 'keys');
}
