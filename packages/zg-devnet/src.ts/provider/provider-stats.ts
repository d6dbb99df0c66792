/** Counters of one simulated provider, for tests to read. */
export interface SimulatedProviderStats {
  /** Chat requests received (whatever became of them). */
  chatRequests: number;
  /** Image generation, image edit and transcription requests received (whatever became of them). */
  mediaRequests: number;
  /** Chats (and media requests) answered in full, signed and billed. */
  served: number;
  /** Requests refused with 401 (bad session token, or the `reject-auth` fault). */
  rejectedAuth: number;
  /** Chats refused with 404 because they named a model the provider does not serve. */
  unknownModel: number;
  /** Times a fault changed an answer. */
  faulted: number;
  /** Settlement transactions sent. */
  settlements: number;
}

/** Fresh counters. */
export function newStats(): SimulatedProviderStats {
  return { chatRequests: 0, mediaRequests: 0, served: 0, rejectedAuth: 0, unknownModel: 0, faulted: 0, settlements: 0 };
}
