/**
 * The service types of the 0G network, as the serving contract stores them (`serviceType`) and
 * the SDK's `createExtractor` knows them.
 */
export type ServiceType = 'chatbot' | 'text-to-image' | 'image-editing' | 'speech-to-text';

/** Every service type, chat first. */
export const SERVICE_TYPES: readonly ServiceType[] = Object.freeze(['chatbot', 'text-to-image', 'image-editing', 'speech-to-text']);

/** Whether a value names a service type. */
export function isServiceType(value: unknown): value is ServiceType {
  return typeof value === 'string' && (SERVICE_TYPES as readonly string[]).includes(value);
}

/** The provider-side route (under the service URL) each type is served on. */
export const SERVICE_ROUTES: Readonly<Record<ServiceType, string>> = Object.freeze({
  chatbot: '/v1/proxy/chat/completions',
  'text-to-image': '/v1/proxy/images/generations',
  'image-editing': '/v1/proxy/images/edits',
  'speech-to-text': '/v1/proxy/audio/transcriptions',
});

/** The model a provider of this type serves when its spec names none (chat: the devnet's `model` option). */
export const DEFAULT_MODEL_OF_TYPE: Readonly<Record<Exclude<ServiceType, 'chatbot'>, string>> = Object.freeze({
  'text-to-image': 'zg-devnet-image',
  'image-editing': 'zg-devnet-image-edit',
  'speech-to-text': 'zg-devnet-whisper',
});

/**
 * Default prices of a provider of this type, neuron. Chat: per prompt / completion token.
 * Images: per image, as both input and output price (the SDK bills n × inputPrice; some provider
 * broker versions bill n × outputPrice: equal prices keep both agreeing). Speech-to-text: per
 * billable second (inputPrice), per output token (outputPrice, used only by token billing).
 */
export const DEFAULT_PRICES_OF_TYPE: Readonly<Record<ServiceType, { inputPrice: bigint; outputPrice: bigint }>> = Object.freeze({
  chatbot: { inputPrice: 1_000_000_000n, outputPrice: 2_000_000_000n },
  'text-to-image': { inputPrice: 100_000_000_000_000n, outputPrice: 100_000_000_000_000n },
  'image-editing': { inputPrice: 200_000_000_000_000n, outputPrice: 200_000_000_000_000n },
  'speech-to-text': { inputPrice: 10_000_000_000_000n, outputPrice: 0n },
});
