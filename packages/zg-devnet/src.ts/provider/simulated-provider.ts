import { createHash, randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Contract, Wallet, hexlify, isError, keccak256, toUtf8Bytes, type InterfaceAbi, type JsonRpcProvider } from 'ethers';
import { loadServingContractArtifacts } from '../chain/contract-artifacts.js';
import { NO_FAULT, type ProviderFault } from './fault-modes.js';
import { EPHEMERAL_TOKEN_ID, parseAndCheckSessionToken, type TokenRejection } from './session-token.js';

/** The provider's own minimum locked balance (1 0G), as the real provider broker enforces. */
const MIN_LOCKED_BALANCE = 10n ** 18n;
/** How long an on-chain account read is reused, in ms. */
const ACCOUNT_CACHE_MS = 1000;
/** Most signed responses kept for `/signature` (oldest dropped first). */
const MAX_SIGNED_RESPONSES = 50_000;

export interface SimulatedProviderOptions {
  /** Human-readable name, shown in replies (e.g. `provider-1`). */
  name: string;
  model: string;
  /** The provider's own wallet (pays gas for settlement), connected to the chain. */
  wallet: Wallet;
  /** The TEE signing key whose address is registered on chain as `teeSignerAddress`. */
  teeSigner: Wallet;
  /** The InferenceServing contract address. */
  inferenceAddress: string;
  chainId: number;
  rpc: JsonRpcProvider;
  /** Neuron per prompt token. */
  inputPrice: bigint;
  /** Neuron per completion token. */
  outputPrice: bigint;
  /** Gap between stream chunks in ms (0: as fast as possible). Default 0. */
  chunkIntervalMs?: number;
}

/** Counters a test can read. */
export interface SimulatedProviderStats {
  chatRequests: number;
  served: number;
  rejectedAuth: number;
  faulted: number;
  settlements: number;
}

/** The outcome of one settlement run. */
export interface SettlementReport {
  /** Users whose fees were submitted, with the contract's status (0 success, 1 partial, ...). */
  results: Array<{ user: string; totalFee: bigint; status: number }>;
  transactionHash: string | null;
}

interface SignedResponse {
  text: string;
  forged: boolean;
}

interface ChatReply {
  id: string;
  created: number;
  content: string;
  promptTokens: number;
  completionTokens: number;
}

/** The OpenAI `usage` object of a reply. */
function usageOf(reply: ChatReply): { prompt_tokens: number; completion_tokens: number; total_tokens: number } {
  return { prompt_tokens: reply.promptTokens, completion_tokens: reply.completionTokens, total_tokens: reply.promptTokens + reply.completionTokens };
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function countWords(text: string): number {
  const words = text.trim().split(/\s+/).filter(Boolean);
  return words.length;
}

function messageText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part) => (typeof part === 'object' && part !== null && typeof (part as { text?: unknown }).text === 'string' ? (part as { text: string }).text : ''))
      .join(' ');
  }
  return '';
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

async function readBody(request: IncomingMessage, limit = 4 * 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limit) throw new Error('body too large');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  response.end(text);
}

function sendError(response: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  sendJson(response, status, { error: { message, type: 'provider_error', code: status } }, headers);
}

/**
 * A real HTTP server speaking the provider side of the 0G inference protocol:
 * session tokens checked cryptographically and against the chain, OpenAI-compatible chat
 * completions (JSON and SSE) answered deterministically, every response signed with the TEE
 * key, fees accounted per user and settled on chain with TEE-signed EIP-712 settlements.
 */
export class SimulatedProvider {
  readonly name: string;
  readonly model: string;
  readonly address: string;
  readonly signerAddress: string;
  readonly inputPrice: bigint;
  readonly outputPrice: bigint;
  readonly stats: SimulatedProviderStats = { chatRequests: 0, served: 0, rejectedAuth: 0, faulted: 0, settlements: 0 };

  private readonly options: SimulatedProviderOptions;
  private readonly inference: Contract;
  private readonly forgingKey = new Wallet(hexlify(randomBytes(32)));
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly signedResponses = new Map<string, SignedResponse>();
  private readonly unsettled = new Map<string, { fee: bigint; chatIds: string[] }>();
  private readonly accountCache = new Map<string, { at: number; account: AccountView | null }>();
  private readonly pending = new AbortController();
  private currentFault: ProviderFault = NO_FAULT;
  private port = 0;
  private listening = false;
  private settling: Promise<SettlementReport> | null = null;

  constructor(options: SimulatedProviderOptions) {
    this.options = options;
    this.name = options.name;
    this.model = options.model;
    this.address = options.wallet.address;
    this.signerAddress = options.teeSigner.address;
    this.inputPrice = options.inputPrice;
    this.outputPrice = options.outputPrice;
    const artifacts = loadServingContractArtifacts();
    this.inference = new Contract(options.inferenceAddress, artifacts.inference.abi as InterfaceAbi, options.wallet);
    this.server = createServer((request, response) => {
      this.route(request, response).catch((error: unknown) => {
        if (!response.headersSent) sendError(response, 500, error instanceof Error ? error.message : 'internal error');
        else response.destroy();
      });
    });
    // Every open chat listens for stop(); many at once is normal.
    setMaxListeners(0, this.pending.signal);
    this.server.keepAliveTimeout = 5000;
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  /** The service URL registered on chain (`http://127.0.0.1:<port>`). */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The fault currently shown. */
  get fault(): ProviderFault {
    return this.currentFault;
  }

  /** Starts listening on 127.0.0.1 (a free port the first time, the same port after `down`). */
  async listen(): Promise<void> {
    if (this.listening) return;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const address = this.server.address();
    if (typeof address === 'object' && address) this.port = address.port;
    this.listening = true;
  }

  private async closeListener(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  /** Shows a fault from now on (`{mode:'none'}` clears it). `down` closes the listener; leaving it reopens it. */
  async setFault(fault: ProviderFault): Promise<void> {
    const previous = this.currentFault;
    this.currentFault = fault;
    if (fault.mode === 'down') await this.closeListener();
    else if (previous.mode === 'down') await this.listen();
  }

  /** Fees served but not yet settled on chain for this user, in neuron. */
  unsettledFee(user: string): bigint {
    return this.unsettled.get(user.toLowerCase())?.fee ?? 0n;
  }

  /** Stops the server, ends every open connection and pending stream. */
  async stop(): Promise<void> {
    this.pending.abort();
    await this.closeListener();
    await this.settling?.catch(() => undefined);
  }

  /**
   * Settles every user's unsettled fees on chain: an EIP-712 `TEESettlement` signed by the TEE
   * key, submitted by the provider's wallet to `settleFeesWithTEE`.
   */
  settle(): Promise<SettlementReport> {
    if (!this.settling) {
      this.settling = this.settleNow().finally(() => {
        this.settling = null;
      });
    }
    return this.settling;
  }

  private async settleNow(): Promise<SettlementReport> {
    const entries = [...this.unsettled.entries()].filter(([, value]) => value.fee > 0n);
    if (entries.length === 0) return { results: [], transactionHash: null };
    const domain = { name: '0G Inference Serving', version: '1', chainId: this.options.chainId, verifyingContract: this.options.inferenceAddress };
    const types = {
      TEESettlement: [
        { name: 'requestsHash', type: 'bytes32' },
        { name: 'nonce', type: 'uint256' },
        { name: 'provider', type: 'address' },
        { name: 'user', type: 'address' },
        { name: 'totalFee', type: 'uint256' },
      ],
    };
    const settlements = [];
    for (const [user, value] of entries) {
      const account = await this.readAccount(user, true);
      const nonce = (account?.nonce ?? 0n) + 1n;
      const requestsHash = keccak256(toUtf8Bytes(value.chatIds.join(',')));
      const message = { requestsHash, nonce, provider: this.address, user, totalFee: value.fee };
      const signature = await this.options.teeSigner.signTypedData(domain, types, message);
      settlements.push({ user, provider: this.address, totalFee: value.fee, requestsHash, nonce, signature });
    }
    const settle = this.inference.getFunction('settleFeesWithTEE');
    const statuses = (await settle.staticCall(settlements)) as bigint[];
    const transaction = await settle(settlements);
    await transaction.wait();
    this.stats.settlements += 1;
    const results = settlements.map((settlement, index) => {
      const status = Number(statuses[index] ?? 255);
      if (status === 0 || status === 1) {
        const entry = this.unsettled.get(settlement.user);
        if (entry) {
          entry.fee -= settlement.totalFee;
          entry.chatIds = [];
        }
      }
      return { user: settlement.user, totalFee: settlement.totalFee, status };
    });
    return { results, transactionHash: transaction.hash as string };
  }

  private async readAccount(user: string, fresh = false): Promise<AccountView | null> {
    const key = user.toLowerCase();
    const cached = this.accountCache.get(key);
    if (!fresh && cached && Date.now() - cached.at < ACCOUNT_CACHE_MS) return cached.account;
    let account: AccountView | null;
    try {
      const raw = (await this.inference.getFunction('getAccount').staticCall(user, this.address)) as RawAccount;
      account = {
        nonce: raw.nonce,
        balance: raw.balance,
        pendingRefund: raw.pendingRefund,
        acknowledged: raw.acknowledged,
        generation: raw.generation,
        revokedBitmap: raw.revokedBitmap,
      };
    } catch (error) {
      // The contract reverts AccountNotExists for an unknown user: a fact, not a failure.
      if (isError(error, 'CALL_EXCEPTION')) account = null;
      else throw error;
    }
    this.accountCache.set(key, { at: Date.now(), account });
    return account;
  }

  /** Checks the Authorization header; answers 401/402 itself and returns null when refused. */
  private async authenticate(request: IncomingMessage, response: ServerResponse): Promise<string | null> {
    const parsed = parseAndCheckSessionToken(request.headers.authorization);
    const refuse = (reason: TokenRejection): null => {
      this.stats.rejectedAuth += 1;
      sendError(response, 401, `invalid session token: ${reason}`);
      return null;
    };
    if (!parsed.ok) return refuse(parsed.reason);
    const { token } = parsed;
    if (token.provider.toLowerCase() !== this.address.toLowerCase()) return refuse('wrong-provider');
    if (token.expiresAt !== 0 && token.expiresAt < Date.now()) return refuse('expired');
    const account = await this.readAccount(token.address);
    if (!account) return refuse('no-account');
    if (!account.acknowledged) return refuse('not-acknowledged');
    if (BigInt(token.generation) !== account.generation) return refuse('stale-generation');
    if (token.tokenId !== EPHEMERAL_TOKEN_ID && (account.revokedBitmap & (1n << BigInt(token.tokenId))) !== 0n) return refuse('revoked');
    return token.address.toLowerCase();
  }

  private async route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const path = url.pathname;
    if (request.method === 'POST' && path === '/v1/proxy/chat/completions') return this.handleChat(request, response);
    const signatureMatch = /^\/v1\/proxy\/signature\/([^/]+)$/.exec(path);
    if (request.method === 'GET' && signatureMatch?.[1]) return this.handleSignature(decodeURIComponent(signatureMatch[1]), response);
    const feeMatch = /^\/v1\/user\/([^/]+)\/unsettledfee$/.exec(path);
    if (request.method === 'GET' && feeMatch?.[1]) {
      const user = await this.authenticate(request, response);
      if (!user) return;
      if (user !== feeMatch[1].toLowerCase()) return sendError(response, 403, 'token does not belong to this user');
      return sendJson(response, 200, { unsettledFee: this.unsettledFee(user).toString() });
    }
    if (request.method === 'GET' && path === '/v1/quote') {
      return sendJson(response, 200, { quote: `simulated-tee-quote:${this.signerAddress}`, signing_address: this.signerAddress });
    }
    if (request.method === 'GET' && (path === '/v1/proxy/models' || path === '/v1/models')) {
      return sendJson(response, 200, { object: 'list', data: [{ id: this.model, object: 'model', owned_by: this.address }] });
    }
    if (request.method === 'GET' && path === '/healthz') return sendJson(response, 200, { status: 'ok' });
    sendError(response, 404, `no route ${request.method} ${path}`);
  }

  private buildReply(body: Record<string, unknown>): ChatReply {
    const messages = Array.isArray(body.messages) ? (body.messages as Array<{ role?: unknown; content?: unknown }>) : [];
    const lastUser = [...messages].reverse().find((message) => message.role === 'user');
    const said = messageText(lastUser?.content).trim();
    const content = `[${this.name}] ${this.model} heard: ${said || '(nothing)'}`;
    const promptTokens = messages.reduce((total, message) => total + countWords(messageText(message.content)) + 1, 0);
    return {
      id: `chatcmpl-${randomBytes(12).toString('hex')}`,
      created: Math.floor(Date.now() / 1000),
      content,
      promptTokens,
      completionTokens: countWords(content),
    };
  }

  private recordServed(user: string, reply: ChatReply, requestText: string, forged: boolean): void {
    const text = JSON.stringify({
      chatId: reply.id,
      provider: this.address,
      model: this.model,
      requestSha256: sha256Hex(requestText),
      responseSha256: sha256Hex(reply.content),
    });
    this.signedResponses.set(reply.id, { text, forged });
    if (this.signedResponses.size > MAX_SIGNED_RESPONSES) {
      const oldest = this.signedResponses.keys().next().value;
      if (oldest !== undefined) this.signedResponses.delete(oldest);
    }
    const fee = BigInt(reply.promptTokens) * this.inputPrice + BigInt(reply.completionTokens) * this.outputPrice;
    const entry = this.unsettled.get(user) ?? { fee: 0n, chatIds: [] };
    entry.fee += fee;
    entry.chatIds.push(reply.id);
    this.unsettled.set(user, entry);
    this.stats.served += 1;
  }

  private async handleChat(request: IncomingMessage, response: ServerResponse): Promise<void> {
    this.stats.chatRequests += 1;
    const requestText = await readBody(request);
    const fault = this.currentFault;
    const abort = new AbortController();
    const onGone = (): void => abort.abort();
    response.once('close', onGone);
    this.pending.signal.addEventListener('abort', onGone, { once: true });
    try {
      await this.answerChat(request, response, requestText, fault, abort.signal);
    } finally {
      this.pending.signal.removeEventListener('abort', onGone);
    }
  }

  private async answerChat(request: IncomingMessage, response: ServerResponse, requestText: string, fault: ProviderFault, signal: AbortSignal): Promise<void> {

    if (fault.mode === 'stall') {
      this.stats.faulted += 1;
      await sleep(24 * 3600 * 1000, signal);
      response.destroy();
      return;
    }
    if (fault.mode === 'delay-first-byte') await sleep(fault.ms, signal);
    if (signal.aborted) return;

    const user = await this.authenticate(request, response);
    if (!user) return;
    if (fault.mode === 'reject-auth') {
      this.stats.faulted += 1;
      this.stats.rejectedAuth += 1;
      return sendError(response, 401, 'invalid session token: rejected by fault injection');
    }
    if (fault.mode === 'http-error') {
      this.stats.faulted += 1;
      const headers: Record<string, string> = fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {};
      return sendError(response, fault.status, `simulated HTTP ${fault.status}`, headers);
    }

    let body: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(requestText);
      if (typeof parsed !== 'object' || parsed === null || !Array.isArray((parsed as { messages?: unknown }).messages)) {
        return sendError(response, 400, 'messages must be an array');
      }
      body = parsed as Record<string, unknown>;
    } catch {
      return sendError(response, 400, 'request body is not JSON');
    }

    // A cached read may predate a top-up: refuse only on a fresh one.
    const lockedBalance = (account: AccountView | null): bigint => (account ? account.balance - account.pendingRefund : 0n);
    const required = this.unsettledFee(user) + MIN_LOCKED_BALANCE;
    if (lockedBalance(await this.readAccount(user)) < required && lockedBalance(await this.readAccount(user, true)) < required) {
      return sendError(response, 402, 'insufficient balance in the user sub-account for this provider');
    }

    const reply = this.buildReply(body);
    const forged = fault.mode === 'bad-signature';
    if (body.stream === true) {
      const includeUsage = (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
      await this.streamReply(response, reply, includeUsage, fault, signal, () => this.recordServed(user, reply, requestText, forged));
      return;
    }
    if (fault.mode === 'slow-drip') await sleep(fault.intervalMs * 3, signal);
    if (signal.aborted) return;
    if (fault.mode === 'malformed') {
      this.stats.faulted += 1;
      response.writeHead(200, { 'content-type': 'application/json', 'zg-res-key': reply.id });
      response.end('{"id": "' + reply.id + '", "choices": [ {"message": ');
      return;
    }
    this.recordServed(user, reply, requestText, forged);
    sendJson(
      response,
      200,
      {
        id: reply.id,
        object: 'chat.completion',
        created: reply.created,
        model: this.model,
        system_fingerprint: `zg-devnet:${this.address}`,
        choices: [{ index: 0, message: { role: 'assistant', content: reply.content }, finish_reason: 'stop' }],
        usage: usageOf(reply),
      },
      { 'zg-res-key': reply.id },
    );
  }

  private async streamReply(
    response: ServerResponse,
    reply: ChatReply,
    includeUsage: boolean,
    fault: ProviderFault,
    signal: AbortSignal,
    onComplete: () => void,
  ): Promise<void> {
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'zg-res-key': reply.id });
    const chunk = (delta: Record<string, unknown>, finishReason: string | null): string =>
      `data: ${JSON.stringify({
        id: reply.id,
        object: 'chat.completion.chunk',
        created: reply.created,
        model: this.model,
        system_fingerprint: `zg-devnet:${this.address}`,
        choices: [{ index: 0, delta, finish_reason: finishReason }],
      })}\n\n`;
    const words = reply.content.split(' ');
    const gap = fault.mode === 'slow-drip' ? fault.intervalMs : (this.options.chunkIntervalMs ?? 0);
    response.write(chunk({ role: 'assistant', content: '' }, null));
    for (let index = 0; index < words.length; index++) {
      if (signal.aborted) return;
      if (fault.mode === 'stall-after-chunks' && index === fault.chunks) {
        this.stats.faulted += 1;
        await sleep(24 * 3600 * 1000, signal);
        response.destroy();
        return;
      }
      if (fault.mode === 'cut-after-chunks' && index === fault.chunks) {
        this.stats.faulted += 1;
        // Let what was written reach the client first: this is a cut in the middle of a stream.
        await sleep(20, signal);
        response.destroy();
        return;
      }
      if (fault.mode === 'malformed' && index === 1) {
        this.stats.faulted += 1;
        response.write('data: {"id": "broken", "choices": [\n\n');
        response.end();
        return;
      }
      if (gap > 0) await sleep(gap, signal);
      response.write(chunk({ content: index === 0 ? words[index] : ` ${words[index]}` }, null));
    }
    response.write(chunk({}, 'stop'));
    if (includeUsage) {
      response.write(
        `data: ${JSON.stringify({
          id: reply.id,
          object: 'chat.completion.chunk',
          created: reply.created,
          model: this.model,
          choices: [],
          usage: usageOf(reply),
        })}\n\n`,
      );
    }
    onComplete();
    response.end('data: [DONE]\n\n');
  }

  private async handleSignature(chatId: string, response: ServerResponse): Promise<void> {
    const signed = this.signedResponses.get(chatId);
    if (!signed) return sendError(response, 404, `no signature for chat ${chatId}`);
    const key = signed.forged ? this.forgingKey : this.options.teeSigner;
    const signature = await key.signMessage(signed.text);
    sendJson(response, 200, { text: signed.text, signature, signing_address: this.signerAddress, signing_algo: 'ecdsa' });
  }
}

interface RawAccount {
  nonce: bigint;
  balance: bigint;
  pendingRefund: bigint;
  acknowledged: boolean;
  generation: bigint;
  revokedBitmap: bigint;
}

type AccountView = RawAccount;
