/**
 * Control characters in log lines. Clients and providers choose many strings the gateway logs
 * (model names, paths, upstream model lists and error texts); a terminal showing the logs obeys
 * ESC sequences (C0 `\u001b[...`) and C1 controls (`\u009b` is CSI on its own), so a client could
 * clear an operator's screen, retitle the window or hide lines. JSON.stringify (and pino) escape
 * C0 in JSON strings but leave DEL and C1 raw. These functions escape every C0 control, DEL and
 * C1 control as `\u00XX` (`\n`, `\r`, `\t` for those three): JSON's own escapes, so a JSON line
 * stays valid and parses back to the same value. Both test first and copy only when there is
 * something to escape.
 */

/** C0 controls, DEL, C1 controls. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const CONTROL_GLOBAL = /[\u0000-\u001f\u007f-\u009f]/g;
/** The same but newline (every serialised line ends with one): the one test a clean line costs. */
const CONTROL_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

const SHORT: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeOne(character: string): string {
  return SHORT[character] ?? `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** `text` with every C0 control (newline and tab included: `\n`, `\t`), DEL and C1 control written as `\u00XX`. */
export function escapeControlCharacters(text: string): string {
  return CONTROL.test(text) ? text.replace(CONTROL_GLOBAL, escapeOne) : text;
}

/**
 * One serialised JSON log line (pino's, ending with its newline) with no raw control character:
 * what the serialiser left raw (DEL, C1) is escaped; the final newline stays.
 */
export function escapeJsonLogLine(line: string): string {
  if (!CONTROL_BUT_NEWLINE.test(line)) return line;
  const ending = line.endsWith('\n') ? '\n' : '';
  return escapeControlCharacters(ending ? line.slice(0, -1) : line) + ending;
}
