import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * A Lua script run atomically by Redis: by its SHA-1 (`EVALSHA`), and with its text (`EVAL`, which
 * also caches it) when this server does not know it yet (first use, or after a restart).
 * @internal
 */
export class RedisScript {
  readonly #source: string;
  readonly #sha1: string;

  constructor(source: string) {
    this.#source = source;
    this.#sha1 = createHash('sha1').update(source).digest('hex');
  }

  /** Sends the script to the server's cache (`SCRIPT LOAD`), ahead of any command issued after this call. */
  load(client: Redis): Promise<unknown> {
    return client.script('LOAD', this.#source);
  }

  async run(client: Redis, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
    try {
      return await client.evalsha(this.#sha1, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return client.eval(this.#source, keys.length, ...keys, ...args);
    }
  }
}

/** The server's clock in ms, inside a script (scripts replicate their effects, so TIME is allowed). */
const SERVER_NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/**
 * Session store `set`: the value with its TTL (`PX`), and its expiry in the namespace's index (a
 * sorted set scored by expiry time), after dropping entries of the index that have expired.
 * KEYS: value key, index key. ARGV: value, TTL ms ('0': never expires), member name.
 */
export const SESSION_SET = new RedisScript(`${SERVER_NOW}
if ARGV[2] == '0' then
  redis.call('SET', KEYS[1], ARGV[1])
  redis.call('ZADD', KEYS[2], 'inf', ARGV[3])
else
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[3])
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
return 1
`);

/** Session store `delete`. KEYS: value key, index key. ARGV: member name. Returns how many values were deleted. */
export const SESSION_DELETE = new RedisScript(`
local deleted = redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return deleted
`);

/** Session store `size`: drops expired members of the index, then counts it. KEYS: index key. */
export const SESSION_SIZE = new RedisScript(`${SERVER_NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZCARD', KEYS[1])
`);

/**
 * Exact addition of signed decimal integers of any length (Lua numbers are doubles, and Redis'
 * INCRBY stops at 64 bits), on limbs of 7 digits, least significant first.
 */
const DECIMAL_ADD = `
local BASE = 10000000
local function parse(s)
  local negative = string.sub(s, 1, 1) == '-'
  if negative then s = string.sub(s, 2) end
  local limbs = {}
  local i = #s
  while i >= 1 do
    local j = math.max(i - 6, 1)
    limbs[#limbs + 1] = tonumber(string.sub(s, j, i))
    i = j - 1
  end
  while #limbs > 1 and limbs[#limbs] == 0 do limbs[#limbs] = nil end
  if #limbs == 0 then limbs[1] = 0 end
  if #limbs == 1 and limbs[1] == 0 then negative = false end
  return negative, limbs
end
local function compare(a, b)
  if #a ~= #b then return (#a < #b) and -1 or 1 end
  for k = #a, 1, -1 do
    if a[k] ~= b[k] then return (a[k] < b[k]) and -1 or 1 end
  end
  return 0
end
local function plus(a, b)
  local sum, carry = {}, 0
  for k = 1, math.max(#a, #b) do
    local digit = (a[k] or 0) + (b[k] or 0) + carry
    if digit >= BASE then sum[k] = digit - BASE; carry = 1 else sum[k] = digit; carry = 0 end
  end
  if carry > 0 then sum[#sum + 1] = carry end
  return sum
end
local function minus(a, b)
  local difference, borrow = {}, 0
  for k = 1, #a do
    local digit = a[k] - (b[k] or 0) - borrow
    if digit < 0 then difference[k] = digit + BASE; borrow = 1 else difference[k] = digit; borrow = 0 end
  end
  while #difference > 1 and difference[#difference] == 0 do difference[#difference] = nil end
  return difference
end
local function show(negative, limbs)
  local parts = { string.format('%d', limbs[#limbs]) }
  for k = #limbs - 1, 1, -1 do parts[#parts + 1] = string.format('%07d', limbs[k]) end
  local text = table.concat(parts)
  if negative and text ~= '0' then text = '-' .. text end
  return text
end
local function add(x, y)
  local xNegative, xLimbs = parse(x)
  local yNegative, yLimbs = parse(y)
  if xNegative == yNegative then return show(xNegative, plus(xLimbs, yLimbs)) end
  local order = compare(xLimbs, yLimbs)
  if order == 0 then return '0' end
  if order > 0 then return show(xNegative, minus(xLimbs, yLimbs)) end
  return show(yNegative, minus(yLimbs, xLimbs))
end
local function addTo(key, delta, ttl)
  local value = add(redis.call('GET', key) or '0', delta)
  if value == '0' then redis.call('DEL', key)
  elseif ttl == '0' then redis.call('SET', key, value)
  else redis.call('SET', key, value, 'PX', ttl) end
  return value
end
`;

/** Counter `increment`. KEYS: the window's key. ARGV: delta (decimal), TTL ms ('0': kept). Returns the new total. */
export const COUNTER_ADD = new RedisScript(`${DECIMAL_ADD}
return addTo(KEYS[1], ARGV[1], ARGV[2])
`);

/**
 * Counter `snapshot` with an amount: adds to the current window, reads the previous one.
 * KEYS: current window, previous window (absent for a total). ARGV: delta, TTL ms. Returns [current, previous].
 */
export const COUNTER_ADD_AND_READ = new RedisScript(`${DECIMAL_ADD}
local current = addTo(KEYS[1], ARGV[1], ARGV[2])
local previous = '0'
if KEYS[2] then previous = redis.call('GET', KEYS[2]) or '0' end
return { current, previous }
`);

/** Every script of the Redis stores: loaded on each (re)connection, before any command of the stores. */
export const ALL_SCRIPTS: readonly RedisScript[] = [SESSION_SET, SESSION_DELETE, SESSION_SIZE, COUNTER_ADD, COUNTER_ADD_AND_READ];
