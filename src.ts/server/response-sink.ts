import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { ResponseSink } from '../dispatch/answer-relay.js';

/** Adapts a Node `ServerResponse` to the core's {@link ResponseSink}; `extraHeaders` are added to the head. */
export function responseSink(response: ServerResponse, extraHeaders?: Readonly<Record<string, string>>): ResponseSink {
  return {
    get closed(): boolean {
      return response.destroyed || response.writableEnded;
    },
    head(status, headers) {
      response.writeHead(status, extraHeaders ? { ...extraHeaders, ...headers } : headers);
      // Streams: get the headers out now, before the first event.
      if (headers['content-type']?.startsWith('text/event-stream')) response.flushHeaders();
    },
    write(chunk) {
      return response.write(chunk);
    },
    async drain(signal) {
      await once(response, 'drain', { signal });
    },
    destroy() {
      response.destroy();
    },
    end(chunk) {
      if (chunk === undefined) response.end();
      else response.end(chunk);
    },
  };
}
