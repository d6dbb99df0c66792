import { setMaxListeners } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Contract, type InterfaceAbi, type Wallet } from 'ethers';
import { loadServingContractArtifacts } from '../chain/contract-artifacts.js';
import { SerialQueue } from '../internal/serial-queue.js';
import { sleep } from '../internal/sleep.js';
import { answerChat, type ChatServing } from './chat-handler.js';
import { NO_FAULT, validateFault, type ProviderFault } from './fault-modes.js';
import { FeeLedger, type SettlementReport, type SettlementRecord } from './fees-and-settlement.js';
import { routeRequest } from './http-routes.js';
import { ImageStore } from './image-store.js';
import { KvPrefixCache, type KvCacheSpec } from './kv-prefix-cache.js';
import { answerMedia, type MediaServing } from './media-handlers.js';
import type { ModelCatalog } from './model-catalog.js';
import { newStats, type SimulatedProviderStats } from './provider-stats.js';
import { readBody, sendError } from './reply-writer.js';
import { ResponseSignatures } from './response-signatures.js';
import type { ServiceType } from './service-types.js';
import { ChainAccounts } from './session-auth.js';

/** How a simulated provider is built. */
export interface SimulatedProviderOptions {
  /** Human-readable name, shown in replies (e.g. `provider-1`). */
  name: string;
  /** The models it serves (the first is its on-chain default). */
  catalog: ModelCatalog;
  /** The provider's own wallet (pays gas for settlement), connected to the chain. */
  wallet: Wallet;
  /** The TEE signing key whose address is registered on chain as `teeSignerAddress`. */
  teeSigner: Wallet;
  /** The InferenceServing contract address. */
  inferenceAddress: string;
  chainId: number;
  /** Gap between stream chunks in ms (0: as fast as possible). Default 0. */
  chunkIntervalMs?: number;
  /** Its simulated KV prefix cache. Default: {@link KvCacheSpec}'s defaults. */
  kvCache?: KvCacheSpec;
}

/**
 * A real HTTP server speaking the provider side of the 0G inference protocol: session tokens
 * checked cryptographically and against the chain, OpenAI-compatible chats (JSON and SSE) — or,
 * for a provider of another service type, image generations, image edits or transcriptions —
 * answered deterministically for any model it serves, every answer signed with the TEE key, fees
 * accounted per user and settled on chain, faults on demand. Its on-chain registration is the
 * devnet's business; this object only serves.
 */
export class SimulatedProvider implements ChatServing, MediaServing {
  readonly name: string;
  readonly address: string;
  readonly stats: SimulatedProviderStats = newStats();
  readonly accounts: ChainAccounts;
  readonly fees: FeeLedger;
  readonly signatures = new ResponseSignatures();
  readonly images = new ImageStore();
  readonly chunkIntervalMs: number;
  readonly kvCache: KvPrefixCache;

  private currentCatalog: ModelCatalog;
  private currentTeeSigner: Wallet;
  private currentFault: ProviderFault = NO_FAULT;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  /** Aborted by stop(): ends every open chat. */
  private readonly pending = new AbortController();
  private inFlight = 0;
  private readonly idleWaiters = new Set<() => void>();
  private readonly transactions = new SerialQueue();
  private port = 0;
  private listening = false;
  /** Set by drain(): requests on kept-alive connections are refused, connections close once their answer is done. */
  private draining = false;

  constructor(options: SimulatedProviderOptions) {
    this.name = options.name;
    this.address = options.wallet.address;
    this.chunkIntervalMs = options.chunkIntervalMs ?? 0;
    this.kvCache = new KvPrefixCache(options.kvCache);
    this.currentCatalog = options.catalog;
    this.currentTeeSigner = options.teeSigner;
    const inference = new Contract(options.inferenceAddress, loadServingContractArtifacts().inference.abi as InterfaceAbi, options.wallet);
    this.accounts = new ChainAccounts(inference, this.address);
    this.fees = new FeeLedger({
      wallet: options.wallet,
      inference,
      inferenceAddress: options.inferenceAddress,
      chainId: options.chainId,
      accounts: this.accounts,
      currentTeeSigner: () => this.currentTeeSigner,
      sendInOrder: (send) => this.sendInOrder(send),
      onSent: () => {
        this.stats.settlements += 1;
      },
    });
    this.server = createServer((request, response) => this.serve(request, response));
    // Every open chat listens for stop(); many at once is normal.
    setMaxListeners(0, this.pending.signal);
    this.server.keepAliveTimeout = 5000;
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  /** Where the server listens (`http://127.0.0.1:<port>`). */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The models served now. */
  catalog(): ModelCatalog {
    return this.currentCatalog;
  }

  /** The TEE key signing answers and settlements now. */
  teeSigner(): Wallet {
    return this.currentTeeSigner;
  }

  signerAddress(): string {
    return this.currentTeeSigner.address;
  }

  /** The fault shown now. */
  fault(): ProviderFault {
    return this.currentFault;
  }

  /** Serves these models from now on (after the devnet registered them on chain). */
  setCatalog(catalog: ModelCatalog): void {
    this.currentCatalog = catalog;
  }

  /** Signs with this TEE key from now on (after the devnet registered it on chain). */
  setTeeSigner(signer: Wallet): void {
    this.currentTeeSigner = signer;
  }

  /** Settlement history, oldest first. */
  get settlements(): readonly SettlementRecord[] {
    return this.fees.history;
  }

  /** Runs provider-wallet transactions one at a time (settlements, service updates, removal). */
  sendInOrder<T>(send: () => Promise<T>): Promise<T> {
    return this.transactions.run(send);
  }

  private serve(request: IncomingMessage, response: ServerResponse): void {
    // Leaving: a request that came on a kept-alive connection is refused before any work (a client
    // retries it elsewhere) and the connection closed, rather than served until the grace runs out.
    if (this.draining) return sendError(response, 503, 'this provider is leaving: its service was removed', { headers: { connection: 'close' } });
    const socket = request.socket;
    this.inFlight += 1;
    response.once('close', () => {
      if (this.draining) socket.end();
      this.inFlight -= 1;
      if (this.inFlight === 0) for (const wake of [...this.idleWaiters]) wake();
    });
    // Ends when the client goes away or the provider stops.
    const abort = new AbortController();
    const onGone = (): void => abort.abort();
    response.once('close', onGone);
    this.pending.signal.addEventListener('abort', onGone, { once: true });
    routeRequest(this, request, response, abort.signal)
      .catch((error: unknown) => {
        if (!response.headersSent) sendError(response, 500, error instanceof Error ? error.message : 'internal error');
        else response.destroy();
      })
      .finally(() => this.pending.signal.removeEventListener('abort', onGone));
  }

  /** The chat route: reads the body, then answers under the fault of the moment. */
  async chat(request: IncomingMessage, response: ServerResponse, signal: AbortSignal): Promise<void> {
    this.stats.chatRequests += 1;
    const requestText = await readBody(request);
    await answerChat(this, request, response, requestText, this.currentFault, signal);
  }

  /** A media route (images, transcriptions): answered under the fault of the moment. */
  media(type: Exclude<ServiceType, 'chatbot'>, request: IncomingMessage, response: ServerResponse, signal: AbortSignal): Promise<void> {
    return answerMedia(this, type, request, response, this.currentFault, signal);
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

  /** Stops accepting connections; `destroyOpen` also cuts the open ones. */
  private async closeListener(destroyOpen: boolean): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    if (destroyOpen) for (const socket of this.sockets) socket.destroy();
    else this.server.closeIdleConnections();
    await closed;
  }

  /** Shows a fault from now on (`{mode:'none'}` clears it). `down` closes the listener; leaving it reopens it. */
  async setFault(fault: ProviderFault): Promise<void> {
    const checked = validateFault(fault);
    const previous = this.currentFault;
    this.currentFault = checked;
    // A provider that goes down loses its KV cache, as a restarted server does.
    if (checked.mode === 'down') {
      this.kvCache.clear();
      await this.closeListener(true);
    } else if (previous.mode === 'down') await this.listen();
  }

  /** Fees served but not yet settled on chain for this user, in neuron. */
  unsettledFee(user: string): bigint {
    return this.fees.unsettledFee(user);
  }

  /** Settles every user's unsettled fees on chain now (under `overcharge`, that many times too much). */
  settle(): Promise<SettlementReport> {
    const fault = this.currentFault;
    return this.fees.settle(fault.mode === 'overcharge' ? fault.factor : 1);
  }

  /**
   * Stops taking connections, lets the requests in flight finish (at most `graceMs`), then stops.
   * Keep-alive connections are closed once idle; a request arriving on one meanwhile gets 503.
   */
  async drain(graceMs: number): Promise<void> {
    this.draining = true;
    const listenerClosed = this.closeListener(false);
    if (this.inFlight > 0) {
      let wake = (): void => undefined;
      const idle = new Promise<void>((resolve) => {
        wake = resolve;
        this.idleWaiters.add(resolve);
      });
      await Promise.race([idle, sleep(graceMs, this.pending.signal)]);
      this.idleWaiters.delete(wake);
    }
    await this.stop();
    await listenerClosed;
  }

  /** Stops the server, ends every open connection and pending stream. Idempotent. */
  async stop(): Promise<void> {
    this.pending.abort();
    if (this.listening) await this.closeListener(true);
    else for (const socket of this.sockets) socket.destroy();
    await this.fees.idle();
  }
}
