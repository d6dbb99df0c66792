import { readFile } from 'node:fs/promises';
import { EXIT, UsageError } from './cli-error.js';
import { USAGE_HELP } from './help-texts.js';
import { choiceFlag, integerFlag, parseFlags, stringFlag, type ParsedFlags } from './parse-flags.js';
import { textTable } from './text-table.js';

const FLAGS = {
  url: { type: 'string' },
  'token-file': { type: 'string' },
  'group-by': { type: 'string' },
  interval: { type: 'string' },
  key: { type: 'string' },
  model: { type: 'string' },
  provider: { type: 'string' },
  outcome: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  limit: { type: 'string' },
  cursor: { type: 'string' },
  json: { type: 'boolean' },
  csv: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const NEURON_PER_ZG = 10n ** 18n;

/** Neuron as 0G with up to 6 decimals (rounded down), e.g. `0.000123`; exact neuron stay in --json/--csv. */
export function zgOf(neuron: string): string {
  const value = BigInt(neuron);
  const micro = (value * 1_000_000n) / NEURON_PER_ZG;
  const whole = micro / 1_000_000n;
  const fraction = (micro % 1_000_000n).toString().padStart(6, '0').replace(/0+$/, '');
  if (micro === 0n && value > 0n) return '<0.000001';
  return fraction === '' ? whole.toString() : `${whole}.${fraction}`;
}

const ms = (value: unknown): string => (typeof value === 'number' ? value.toFixed(value < 100 ? 1 : 0) : '-');
const cell = (value: unknown): string => (value === null || value === undefined ? '-' : String(value));

/** The running gateway's admin URL and token: `--url` / env `ZG_GATEWAY_URL`; `--token-file` / env `ADMIN_TOKEN`, `ADMIN_TOKEN_FILE`. */
async function target(flags: ParsedFlags, environment: NodeJS.ProcessEnv): Promise<{ url: string; token: string }> {
  const url = (stringFlag(flags, 'url') ?? environment.ZG_GATEWAY_URL ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');
  if (!/^https?:\/\/\S+$/i.test(url)) throw new UsageError(`--url must be an http(s):// URL, not '${url}'`, 'usage');
  const file = stringFlag(flags, 'token-file') ?? environment.ADMIN_TOKEN_FILE;
  const token = file !== undefined ? (await readFile(file, 'utf8')).trim() : environment.ADMIN_TOKEN;
  if (!token) throw new UsageError('The admin token is needed: env ADMIN_TOKEN, or --token-file FILE (env ADMIN_TOKEN_FILE)', 'usage');
  return { url, token };
}

function query(flags: ParsedFlags, names: Record<string, string>): string {
  const params = new URLSearchParams();
  for (const [flag, param] of Object.entries(names)) {
    const value = stringFlag(flags, flag);
    if (value !== undefined) params.set(param, value);
  }
  return params.toString();
}

const FILTERS = { key: 'key', model: 'model', provider: 'provider', outcome: 'outcome', from: 'from', to: 'to' };

async function get(url: string, token: string): Promise<Response> {
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  if (response.status !== 200) {
    const body = (await response.json().catch(() => undefined)) as { error?: { message?: string; code?: string } } | undefined;
    throw new Error(`${response.status} from the gateway: ${body?.error?.message ?? response.statusText}${body?.error?.code ? ` (${body.error.code})` : ''}`);
  }
  return response;
}

/**
 * `zg-gateway usage [requests]`: the request log of a running gateway, as a table (or `--json`,
 * `--csv`): usage per key, model or provider per hour or day, or the requests themselves.
 */
export async function usageCommand(args: readonly string[], environment: NodeJS.ProcessEnv): Promise<number> {
  const flags = parseFlags('usage', args, FLAGS, 1);
  if (flags.values.help === true) {
    process.stdout.write(USAGE_HELP);
    return EXIT.ok;
  }
  const sub = flags.positionals[0];
  if (sub !== undefined && sub !== 'requests') throw new UsageError(`Unknown subcommand '${sub}' (usage, usage requests)`, 'usage');
  const format = flags.values.csv === true ? 'csv' : 'json';
  if (flags.values.csv === true && flags.values.json === true) throw new UsageError('Give --json or --csv, not both', 'usage');
  const { url, token } = await target(flags, environment);
  if (sub === 'requests') {
    integerFlag('usage', flags, 'limit', 1, 1000);
    const search = [query(flags, { ...FILTERS, limit: 'limit', cursor: 'cursor' }), `format=${format}`].filter(Boolean).join('&');
    const response = await get(`${url}/admin/requests?${search}`, token);
    if (format === 'csv' || flags.values.json === true) {
      process.stdout.write(await response.text());
      return EXIT.ok;
    }
    const page = (await response.json()) as { requests: Array<Record<string, unknown>>; nextCursor: string | null };
    const header = ['TIME', 'ID', 'KEY', 'MODEL', 'PROVIDER', 'OUTCOME', 'STATUS', 'TTFT MS', 'MS', 'TOKENS IN/OUT', '0G'];
    const rows = page.requests.map((row) => [
      cell(row.time), cell(row.id), cell(row.keyId), cell(row.model), cell(row.provider), `${cell(row.outcome)}${row.errorCode ? ` ${String(row.errorCode)}` : ''}`, cell(row.status), ms(row.ttftMs), ms(row.durationMs),
      `${cell(row.promptTokens)}/${cell(row.completionTokens)}`, typeof row.costNeuron === 'string' ? zgOf(row.costNeuron) : '-',
    ]);
    process.stdout.write(rows.length === 0 ? 'No request matches.\n' : textTable(header, rows));
    if (page.nextCursor) process.stdout.write(`More: --cursor ${page.nextCursor}\n`);
    return EXIT.ok;
  }
  choiceFlag('usage', flags, 'group-by', ['key', 'model', 'provider']);
  choiceFlag('usage', flags, 'interval', ['hour', 'day']);
  const search = [query(flags, { ...FILTERS, 'group-by': 'group_by', interval: 'interval' }), `format=${format}`].filter(Boolean).join('&');
  const response = await get(`${url}/admin/usage?${search}`, token);
  if (format === 'csv' || flags.values.json === true) {
    process.stdout.write(await response.text());
    return EXIT.ok;
  }
  const body = (await response.json()) as { groupBy: string; interval: string; usage: Array<Record<string, unknown>> };
  const header = [body.interval === 'hour' ? 'HOUR (UTC)' : 'DAY (UTC)', body.groupBy.toUpperCase(), 'REQUESTS', 'ERRORS', 'TOKENS IN', 'TOKENS OUT', 'SPEND 0G', 'P50 MS', 'P95 MS'];
  const rows = body.usage.map((row) => [
    body.interval === 'hour' ? String(row.bucket).slice(0, 13).replace('T', ' ') + ':00' : String(row.bucket).slice(0, 10), cell(row.group), cell(row.requests), cell(row.errors), cell(row.promptTokens), cell(row.completionTokens),
    zgOf(String(row.spendNeuron)), ms(row.p50Ms), ms(row.p95Ms),
  ]);
  process.stdout.write(rows.length === 0 ? 'No request in this range.\n' : textTable(header, rows));
  return EXIT.ok;
}
