import { createHash, randomBytes } from 'node:crypto';
import { Wallet, hexlify } from 'ethers';

/** Most signed responses kept for `/signature` (oldest dropped first). */
const MAX_SIGNED_RESPONSES = 50_000;

/** The body of `GET /v1/proxy/signature/:chatID`, as the SDK reads it. */
export interface SignatureBody {
  text: string;
  signature: string;
  signing_address: string;
  signing_algo: 'ecdsa';
}

interface SignedResponse {
  text: string;
  /** The key that signs it: the TEE key at the time it was served, or a forging key. */
  signer: Wallet;
  /** The address the provider claims signed it (its registered TEE signer at the time). */
  claimedAddress: string;
}

export function sha256Hex(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * The TEE attestations of served responses: a text binding chat id, provider, model, request and
 * response (their hashes), signed on request with the key that was the TEE signer when it was
 * served (so a rotated signer does not re-sign old answers), or with a stranger's key when forged.
 */
export class ResponseSignatures {
  private readonly responses = new Map<string, SignedResponse>();
  private readonly forgingKey = new Wallet(hexlify(randomBytes(32)));

  /** Remembers a served response for `/signature`. */
  record(input: { chatId: string; provider: string; model: string; requestText: string; responseText: string; teeSigner: Wallet; forged: boolean }): void {
    const text = JSON.stringify({
      chatId: input.chatId,
      provider: input.provider,
      model: input.model,
      requestSha256: sha256Hex(input.requestText),
      responseSha256: sha256Hex(input.responseText),
    });
    this.recordText(input.chatId, text, input.teeSigner, input.forged);
  }

  /**
   * Remembers a served answer whose signed text is given, as real providers sign other service
   * types: `sha256(request):sha256(response)` (speech-to-text) or
   * `sha256(request):sha256(image0),sha256(image1),...` (images).
   */
  recordText(chatId: string, text: string, teeSigner: Wallet, forged: boolean): void {
    this.responses.set(chatId, { text, signer: forged ? this.forgingKey : teeSigner, claimedAddress: teeSigner.address });
    if (this.responses.size > MAX_SIGNED_RESPONSES) {
      const oldest = this.responses.keys().next().value;
      if (oldest !== undefined) this.responses.delete(oldest);
    }
  }

  /** The signature body for a chat, or null when this provider did not serve it (or forgot it). */
  async sign(chatId: string): Promise<SignatureBody | null> {
    const signed = this.responses.get(chatId);
    if (!signed) return null;
    const signature = await signed.signer.signMessage(signed.text);
    return { text: signed.text, signature, signing_address: signed.claimedAddress, signing_algo: 'ecdsa' };
  }
}
