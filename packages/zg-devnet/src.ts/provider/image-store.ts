/** Most answers whose images are kept for their URLs (oldest dropped first). */
const MAX_STORED_ANSWERS = 1000;

/**
 * Images answered as URLs, kept for `GET /v1/proxy/images/<chat id>/<index>` as a 0G provider
 * broker keeps them (the chat id, a random UUID, is the only key: no session token is asked).
 */
export class ImageStore {
  private readonly answers = new Map<string, readonly Buffer[]>();

  put(chatId: string, pngs: readonly Buffer[]): void {
    this.answers.set(chatId, Object.freeze([...pngs]));
    if (this.answers.size > MAX_STORED_ANSWERS) {
      const oldest = this.answers.keys().next().value;
      if (oldest !== undefined) this.answers.delete(oldest);
    }
  }

  get(chatId: string, index: number): Buffer | undefined {
    return this.answers.get(chatId)?.[index];
  }

  delete(chatId: string): void {
    this.answers.delete(chatId);
  }
}
