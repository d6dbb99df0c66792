/**
 * Describing a configuration problem without quoting the configuration. A config or keys file may
 * be a symlink to something else entirely (`/etc/shadow`, a file of secrets): every line of it
 * can become a key, and zod's `unrecognized_keys` message quotes the keys. So a problem is named
 * by its path where each part is an option name the schema knows, a list index, or the name of a
 * record's entry when it looks like a name (`weights.<provider>`; anything else shows as `*`); an
 * unknown key is never named (zod keeps it apart from the path); by zod's message for built-in checks (which
 * states what was expected, never the value), and by its line in the file when the file's text is
 * at hand ({@link lineOfPath}). The path as it was (file content included) is kept beside the
 * error for that line lookup only, never printed.
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import type { z } from 'zod';

type Schema = z.ZodType;
type Issue = z.core.$ZodIssue;

function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && '_zod' in value;
}

/** Every object key a schema (and every schema inside it) declares. */
export function knownOptionNames(schema: Schema): ReadonlySet<string> {
  const names = new Set<string>();
  const seen = new Set<unknown>();
  const visit = (node: Schema): void => {
    if (seen.has(node)) return;
    seen.add(node);
    const def = (node as unknown as { _zod: { def: Record<string, unknown> } })._zod.def;
    for (const [field, value] of Object.entries(def)) {
      if (field === 'shape' && typeof value === 'object' && value !== null) {
        for (const [name, child] of Object.entries(value)) {
          names.add(name);
          if (isSchema(child)) visit(child);
        }
      } else if (isSchema(value)) visit(value);
      else if (Array.isArray(value)) for (const item of value) if (isSchema(item)) visit(item);
    }
  };
  visit(schema);
  return names;
}

/** What an entry's own name (a provider id in `weights`, a pool or alias name) looks like when it is printed. */
const ENTRY_NAME = /^[A-Za-z0-9._:@/-]{1,100}$/;

/**
 * The path's parts that may be printed: indexes, known option names, and the names of a record's
 * entries (`weights.<provider>`, `pools.<name>`) when they look like names; anything else is `*`.
 * An unknown key is never in an issue's path (zod names it apart), so it is never printed.
 */
export function safePathParts(path: readonly PropertyKey[], known: ReadonlySet<string>): string[] {
  return path.map((part) => (typeof part === 'number' ? String(part) : typeof part === 'string' && (known.has(part) || ENTRY_NAME.test(part)) ? part : '*'));
}

/**
 * The issue's path as it was (for {@link lineOfPath}): for an unknown key, the key itself.
 * Contains file content: never print it.
 */
export function rawIssuePath(issue: Issue | undefined): PropertyKey[] {
  if (!issue) return [];
  return issue.code === 'unrecognized_keys' && issue.keys[0] !== undefined ? [...issue.path, issue.keys[0]] : [...issue.path];
}

/**
 * A message for the issue that does not echo the input: an unknown key is "an unknown key" (its
 * name is the file's content); zod's own messages for the other checks state what was expected; `custom` messages are the schema's own (written not to quote values).
 */
export function safeIssueMessage(issue: Issue | undefined): string {
  if (!issue) return 'is invalid';
  if (issue.code === 'unrecognized_keys') return issue.keys.length > 1 ? `an unknown key (and ${issue.keys.length - 1} more)` : 'an unknown key';
  return issue.message;
}

const rawPaths = new WeakMap<object, readonly PropertyKey[]>();

/** Keeps the raw path of the problem an error reports (see {@link rawIssuePath}). */
export function rememberRawPath<T extends object>(error: T, path: readonly PropertyKey[]): T {
  rawPaths.set(error, path);
  return error;
}

/** The raw path kept by {@link rememberRawPath}, if any. */
export function rawPathOf(error: unknown): readonly PropertyKey[] | undefined {
  return typeof error === 'object' && error !== null ? rawPaths.get(error) : undefined;
}

/**
 * The 1-based line of `path` in a YAML or JSON text: the line of the last key of the path (or of
 * the list item). Undefined when the text does not parse or does not hold the path.
 */
export function lineOfPath(text: string, path: readonly PropertyKey[]): number | undefined {
  const lineCounter = new LineCounter();
  let document;
  try {
    document = parseDocument(text, { lineCounter, uniqueKeys: false });
  } catch {
    return undefined;
  }
  if (document.errors.length > 0) return undefined;
  let node: unknown = document.contents;
  let offset: number | undefined = (node as Node | null)?.range?.[0];
  for (const part of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) => isPair(item) && (isScalar(item.key) ? String(item.key.value) === String(part) : false));
      if (!pair) return undefined;
      offset = (pair.key as Node | null)?.range?.[0];
      node = pair.value;
    } else if (isSeq(node) && typeof part === 'number') {
      node = node.items[part];
      offset = (node as Node | null)?.range?.[0];
    } else return undefined;
  }
  return offset === undefined ? undefined : lineCounter.linePos(offset).line;
}
