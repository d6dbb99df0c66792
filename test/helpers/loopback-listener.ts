import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A test upstream's listener on 127.0.0.1: where it listens, and a close that leaves no socket open. */
export interface LoopbackListener {
  /** Listens on a free port of 127.0.0.1; resolves to its OpenAI-style base URL (`http://127.0.0.1:<port>/v1`). */
  listen(): Promise<string>;
  /** Destroys every open connection (kept-alive or mid-answer), then closes the server. */
  close(): Promise<void>;
}

/** Tracks `server`'s connections from now on, so `close()` can end them all. */
export function loopbackListener(server: Server): LoopbackListener {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return {
    async listen() {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
