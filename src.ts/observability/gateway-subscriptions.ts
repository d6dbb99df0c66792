import { subscribe, unsubscribe, type Channel } from 'node:diagnostics_channel';

/**
 * One gateway's subscriptions to the diagnostics channels: a handler sees only the events of its
 * gateway (`gatewayId`), and `close()` unsubscribes every one. With `onError`, a handler that
 * throws is reported there instead of throwing into the publisher.
 */
export class GatewaySubscriptions {
  readonly #gatewayId: string;
  readonly #onError: ((error: unknown) => void) | undefined;
  readonly #subscriptions: Array<[string | symbol, (message: unknown) => void]> = [];

  constructor(gatewayId: string, onError?: (error: unknown) => void) {
    this.#gatewayId = gatewayId;
    this.#onError = onError;
  }

  on<T extends { gatewayId: string }>(channel: Channel, handle: (event: T) => void): void {
    const gatewayId = this.#gatewayId;
    const onError = this.#onError;
    const handler = (message: unknown): void => {
      const event = message as T;
      if (event.gatewayId !== gatewayId) return;
      if (!onError) return handle(event);
      try {
        handle(event);
      } catch (error) {
        onError(error);
      }
    };
    subscribe(channel.name, handler);
    this.#subscriptions.push([channel.name, handler]);
  }

  /** Unsubscribes every handler. Idempotent. */
  close(): void {
    for (const [name, handler] of this.#subscriptions) unsubscribe(name, handler);
    this.#subscriptions.length = 0;
  }
}
