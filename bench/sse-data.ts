/**
 * The `data:` payloads of a server-sent event stream, in order, as the bench clients read them
 * (events split on a blank line; events without data, such as comments, are skipped). The stream
 * is read as UTF-8 text.
 */
export async function* sseData(body: AsyncIterable<unknown> & { setEncoding(encoding: 'utf8'): unknown }): AsyncGenerator<string> {
  let pending = '';
  body.setEncoding('utf8');
  for await (const chunk of body) {
    pending += chunk as string;
    let boundary = pending.indexOf('\n\n');
    while (boundary !== -1) {
      const event = pending.slice(0, boundary);
      pending = pending.slice(boundary + 2);
      boundary = pending.indexOf('\n\n');
      if (event.startsWith('data:')) yield event.slice(5).trim();
    }
  }
}
