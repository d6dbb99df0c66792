/**
 * A small parser of the Prometheus text exposition format (version 0.0.4), the format vLLM,
 * SGLang and most servers expose on `/metrics`: `# HELP` / `# TYPE` comments, samples
 * `name{label="value",...} value [timestamp]`, values in Go float syntax (`NaN`, `+Inf`, `-Inf`,
 * exponents), label values with `\\`, `\"` and `\n` escapes. Lines it cannot read are skipped
 * and counted, never thrown: a half-broken endpoint still yields what it can.
 *
 * Written here rather than taken from npm: the gateway needs only samples by name, the format
 * is small and stable, and the npm parsers are unmaintained or bring a whole client library.
 */

/** One sample line. */
export interface PrometheusSample {
  /** Metric name, with any `_bucket`/`_sum`/`_count`/`_total` suffix as written. */
  readonly name: string;
  /** Labels; a null-prototype object. */
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  /** The optional timestamp, ms since the epoch. */
  readonly timestampMs: number | undefined;
}

/** What a text exposition holds. */
export interface PrometheusText {
  readonly samples: PrometheusSample[];
  /** `# TYPE` declarations: metric family name → `counter`, `gauge`, `histogram`, `summary`, `untyped`. */
  readonly types: ReadonlyMap<string, string>;
  /** Lines that were neither blank, comments nor readable samples. */
  readonly skipped: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const FLOAT = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;
const TYPE_LINE = /^#\s*TYPE\s+(\S+)\s+(\S+)/;

/** A Go-syntax float as Prometheus writes it, or undefined when it is not one. */
export function parsePrometheusValue(token: string): number | undefined {
  switch (token) {
    case 'NaN':
      return NaN;
    case '+Inf':
    case 'Inf':
      return Infinity;
    case '-Inf':
      return -Infinity;
    default:
      return FLOAT.test(token) ? Number(token) : undefined;
  }
}

/**
 * Parses a text exposition. With `only`, samples of other names are skipped without reading their
 * labels (cheap on a large `/metrics` full of histograms) and not counted as skipped.
 */
export function parsePrometheusText(text: string, only?: ReadonlySet<string>): PrometheusText {
  const samples: PrometheusSample[] = [];
  const types = new Map<string, string>();
  let skipped = 0;
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      const declared = TYPE_LINE.exec(line);
      if (declared?.[1] !== undefined && declared[2] !== undefined) types.set(declared[1], declared[2]);
      continue;
    }
    const name = NAME.exec(line)?.[0];
    if (name === undefined) {
      skipped += 1;
      continue;
    }
    if (only && !only.has(name)) continue;
    const sample = parseSample(line, name);
    if (sample) samples.push(sample);
    else skipped += 1;
  }
  return { samples, types, skipped };
}

/** The sum of the values of the samples named `name` (every label set), or undefined when there is none. */
export function sumOfSamples(samples: readonly PrometheusSample[], name: string): number | undefined {
  let sum: number | undefined;
  for (const sample of samples) if (sample.name === name) sum = (sum ?? 0) + sample.value;
  return sum;
}

function parseSample(line: string, name: string): PrometheusSample | undefined {
  let position = name.length;
  const labels = Object.create(null) as Record<string, string>;
  const brace = skipSpaces(line, position);
  if (line[brace] === '{') {
    const end = parseLabels(line, brace + 1, labels);
    if (end === undefined) return undefined;
    position = end;
  }
  const rest = line.slice(position);
  if (rest !== '' && !/^\s/.test(rest)) return undefined;
  const fields = rest.trim().split(/\s+/);
  if (fields.length < 1 || fields.length > 2 || fields[0] === '') return undefined;
  const value = parsePrometheusValue(fields[0] ?? '');
  if (value === undefined) return undefined;
  let timestampMs: number | undefined;
  if (fields[1] !== undefined) {
    if (!/^-?\d+$/.test(fields[1])) return undefined;
    timestampMs = Number(fields[1]);
  }
  return { name, labels, value, timestampMs };
}

/** Reads `name="value",...}` from `start` into `labels`; the position after `}`, or undefined when malformed. */
function parseLabels(line: string, start: number, labels: Record<string, string>): number | undefined {
  let position = start;
  for (;;) {
    position = skipSpaces(line, position);
    if (line[position] === '}') return position + 1;
    const labelName = LABEL_NAME.exec(line.slice(position))?.[0];
    if (labelName === undefined) return undefined;
    position = skipSpaces(line, position + labelName.length);
    if (line[position] !== '=') return undefined;
    position = skipSpaces(line, position + 1);
    if (line[position] !== '"') return undefined;
    let value = '';
    for (position += 1; ; position += 1) {
      const character = line[position];
      if (character === undefined) return undefined;
      if (character === '"') break;
      if (character === '\\') {
        position += 1;
        const escaped = line[position];
        if (escaped === undefined) return undefined;
        value += escaped === 'n' ? '\n' : escaped;
      } else value += character;
    }
    labels[labelName] = value;
    position = skipSpaces(line, position + 1);
    if (line[position] === ',') position += 1;
    else if (line[position] !== '}') return undefined;
  }
}

function skipSpaces(line: string, position: number): number {
  let at = position;
  while (line[at] === ' ' || line[at] === '\t') at += 1;
  return at;
}
