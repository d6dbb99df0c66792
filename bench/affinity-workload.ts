/**
 * The multi-turn workload of the cache-aware routing benchmark, generated from a seed (the same
 * every run): conversations that each open with one of a few long shared system prompts and send
 * user turns of random length; the client appends each answer it gets before the next turn, so
 * a conversation's prompt grows by its history. The control workload has no shared prefix: every
 * conversation has its own random "system prompt" of the same length.
 *
 * Tokens are the devnet's: one per word (the words here are short), one per message.
 */

export interface Conversation {
  readonly id: number;
  readonly system: string;
  /** The user messages, in order. */
  readonly userTurns: readonly string[];
}

export interface WorkloadShape {
  conversations: number;
  turns: number;
  systemPrompts: number;
  systemTokens: number;
  userTokensMin: number;
  userTokensMax: number;
  seed: number;
}

/** mulberry32: a small seeded generator. */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

function text(random: () => number, tag: string, words: number): string {
  const out: string[] = [];
  for (let index = 0; index < words; index++) out.push(`${tag}${Math.floor(random() * 1e6).toString(36)}`);
  return out.join(' ');
}

/** The conversations, in arrival order (interleaved: consecutive ones use different system prompts). */
export function buildWorkload(shape: WorkloadShape, sharedPrefixes: boolean): Conversation[] {
  const random = seeded(shape.seed + (sharedPrefixes ? 0 : 1000));
  // A system message is one role token plus its words.
  const systems = Array.from({ length: shape.systemPrompts }, (_, index) => text(random, `s${index}x`, shape.systemTokens - 1));
  const conversations: Conversation[] = [];
  for (let id = 0; id < shape.conversations; id++) {
    const system = sharedPrefixes ? (systems[Math.floor(random() * systems.length)] as string) : text(random, `c${id}x`, shape.systemTokens - 1);
    const userTurns = Array.from({ length: shape.turns }, (_, turn) => {
      const words = shape.userTokensMin + Math.floor(random() * (shape.userTokensMax - shape.userTokensMin + 1)) - 1;
      return text(random, `u${id}t${turn}x`, Math.max(1, words));
    });
    conversations.push({ id, system, userTurns });
  }
  return conversations;
}
