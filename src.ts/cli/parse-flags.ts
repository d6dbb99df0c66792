import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './cli-error.js';

/** The flags a command accepts, as `node:util` `parseArgs` takes them. */
export type FlagSpec = NonNullable<ParseArgsConfig['options']>;

/** What a command line held: its flags and its positional arguments. */
export interface ParsedFlags {
  readonly values: Readonly<Record<string, string | boolean | Array<string | boolean> | undefined>>;
  readonly positionals: readonly string[];
}

/**
 * Parses `args` strictly: an unknown flag, a flag without its value, or a positional argument the
 * command does not take is a {@link UsageError} (exit code 2) naming it.
 */
export function parseFlags(command: string, args: readonly string[], options: FlagSpec, maxPositionals = 0): ParsedFlags {
  let parsed: ParsedFlags;
  try {
    parsed = parseArgs({ args: [...args], options, strict: true, allowPositionals: true });
  } catch (error) {
    const message = error instanceof Error ? error.message.replace(/\. To specify a positional argument.*$/s, '') : String(error);
    throw new UsageError(message, command);
  }
  if (parsed.positionals.length > maxPositionals) {
    const extra = parsed.positionals[maxPositionals] ?? '';
    // A stray long argument may be a secret typed after the wrong flag: show only its start.
    throw new UsageError(`Unexpected argument '${extra.length > 24 ? `${extra.slice(0, 6)}…` : extra}'`, command);
  }
  return parsed;
}

/** A string flag's value, or undefined. */
export function stringFlag(flags: ParsedFlags, name: string): string | undefined {
  const value = flags.values[name];
  return typeof value === 'string' ? value : undefined;
}

/** A repeatable string flag's values (empty when absent). */
export function listFlag(flags: ParsedFlags, name: string): string[] {
  const value = flags.values[name];
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : typeof value === 'string' ? [value] : [];
}

/** A whole-number flag within [min, max], or undefined when absent; anything else is a {@link UsageError}. */
export function integerFlag(command: string, flags: ParsedFlags, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const text = stringFlag(flags, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, not '${text}'`, command);
  }
  return value;
}

/** A flag that must be one of `choices`, or undefined when absent. */
export function choiceFlag<T extends string>(command: string, flags: ParsedFlags, name: string, choices: readonly T[]): T | undefined {
  const text = stringFlag(flags, name);
  if (text === undefined) return undefined;
  if (!(choices as readonly string[]).includes(text)) throw new UsageError(`--${name} must be one of ${choices.join(', ')}, not '${text}'`, command);
  return text as T;
}
