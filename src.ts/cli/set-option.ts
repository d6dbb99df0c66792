import { UsageError } from './cli-error.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** `true`, `3`, `["a"]`, `{"x":1}`, `"quoted"` are read as JSON; anything else is a string. */
function valueOf(text: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch {
    return text;
  }
}

const SEGMENT = /^(?:[A-Za-z_][A-Za-z0-9_-]*|\d+|0x[0-9a-fA-F]{40})$/;
/** Names that would reach an object's prototype rather than an option. */
const FORBIDDEN = new Set(['__proto__', 'prototype', 'constructor']);

/**
 * Applies one `--set path.to.option=value` to `target` (changed in place): dots separate object
 * keys, a number is an array index (`openAICompatibleProviders.0.weight=3`). The value is JSON when
 * it parses as JSON, else a string. The option itself is validated later, with the rest of the
 * configuration. Throws a UsageError for a malformed assignment.
 */
export function applySetOption(target: Record<string, unknown>, assignment: string, command: string): void {
  const equals = assignment.indexOf('=');
  if (equals <= 0) throw new UsageError(`--set takes path.to.option=value, not '${assignment}'`, command);
  const segments = assignment.slice(0, equals).split('.');
  if (segments.some((segment) => !SEGMENT.test(segment) || FORBIDDEN.has(segment))) throw new UsageError(`--set: '${assignment.slice(0, equals)}' is not an option path (like timeouts.firstByte)`, command);
  let node: Record<string, unknown> | unknown[] = target;
  for (const [index, segment] of segments.entries()) {
    const last = index === segments.length - 1;
    const key: string | number = /^\d+$/.test(segment) ? Number(segment) : segment;
    if (typeof key === 'number' && !Array.isArray(node)) throw new UsageError(`--set: '${segments.slice(0, index).join('.')}' is not a list`, command);
    const container = node as Record<string | number, unknown>;
    if (last) {
      container[key] = valueOf(assignment.slice(equals + 1));
      return;
    }
    const nextIsIndex = /^\d+$/.test(segments[index + 1] ?? '');
    const existing = container[key];
    if (typeof existing !== 'object' || existing === null) container[key] = nextIsIndex ? [] : {};
    else container[key] = Array.isArray(existing) ? [...existing] : { ...existing };
    node = container[key] as Record<string, unknown> | unknown[];
  }
}
