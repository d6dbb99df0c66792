import type { JsonRpcProvider } from 'ethers';
import type { ServingContractAddresses } from '../chain/deploy-serving-contracts.js';
import type { ProviderFault } from '../provider/fault-modes.js';
import type { KvCacheSpec, KvCacheStats } from '../provider/kv-prefix-cache.js';
import type { SettlementRecord, SettlementReport } from '../provider/fees-and-settlement.js';
import type { ModelSpec, ServedModel } from '../provider/model-catalog.js';
import type { SimulatedProviderStats } from '../provider/provider-stats.js';
import type { ServiceType } from '../provider/service-types.js';

/**
 * How one simulated provider is set up. Every field is optional. Give either `model` (with
 * `inputPrice`/`outputPrice`) for a single-model provider, or `models` for a multi-model one.
 */
export interface ProviderSpec {
  /** Name shown in its replies. Default `provider-<n>` (n counts every provider the devnet created). */
  name?: string;
  /**
   * What it sells, registered on chain as the service's `serviceType`. Default `chatbot`. It serves
   * only its type's route (others answer 404 `service_type_mismatch`):
   * - `chatbot`: `POST /v1/proxy/chat/completions`;
   * - `text-to-image`: `POST /v1/proxy/images/generations` (JSON `prompt`, `n` 1–10, `size`,
   *   `response_format` `url` (default) | `b64_json`): `n` 16×16 PNGs derived from the prompt;
   *   billed n × inputPrice; signs `sha256(request body):sha256(png0),sha256(png1),...`;
   * - `image-editing`: `POST /v1/proxy/images/edits` (multipart `image` PNG, optional `mask`,
   *   `prompt`, `n`, `response_format`): the image with its colours inverted (where the mask is
   *   transparent, when one is sent); billed and signed as text-to-image;
   * - `speech-to-text`: `POST /v1/proxy/audio/transcriptions` (multipart `file`, `model`,
   *   `language`, `prompt`, `response_format` `json` | `text` | `verbose_json`): a text naming the
   *   audio's duration (WAV header; other audio by size at 16000 B/s), JSON answers carrying
   *   `usage: {type: 'duration', seconds}`; billed max(round(seconds), 1) × inputPrice; signs
   *   `sha256(request body):sha256(response body)`.
   * Images answered as URLs are served by the provider at `GET /v1/proxy/images/<chat id>/<index>`.
   */
  serviceType?: ServiceType;
  /** Its one model, registered on chain and answered with. Default the devnet's `model` option (chat), `zg-devnet-image`, `zg-devnet-image-edit` or `zg-devnet-whisper`. */
  model?: string;
  /** Neuron per prompt token (single-model). Default 1e9 (1 gwei); per image 1e14 (text-to-image) or 2e14 (image-editing); per billable second 1e13 (speech-to-text). */
  inputPrice?: bigint;
  /** Neuron per completion token (single-model). Default 2e9; images: equal to the default inputPrice; speech-to-text 0. */
  outputPrice?: bigint;
  /**
   * A multi-model provider: `additionalInfo` carries `MultiModel: true`, the first model is the
   * on-chain default (model and prices), `/v1/models` lists them all, each billed at its price.
   */
  models?: ModelSpec[];
  /** Answer a chat naming a model not served here with the default model instead of 404 `model_not_found`. Default false. */
  acceptAnyModel?: boolean;
  /** Whether the contract owner acknowledges its TEE signer. Default true. */
  acknowledged?: boolean;
  /** Gap between stream chunks in ms. Default 0. */
  chunkIntervalMs?: number;
  /**
   * Its simulated KV prefix cache (chat providers), over the devnet's `kvCache` option field by
   * field. Default: the devnet's; see {@link KvCacheSpec} (a 131,072-token cache that costs no time).
   */
  kvCache?: KvCacheSpec;
}

/**
 * A change of a provider's on-chain service (`addOrUpdateService` again). Unnamed fields keep
 * their value. The contract clears the signer's acknowledgement on every update: the devnet's
 * owner re-acknowledges at once, unless the signer was rotated (then `devnet.acknowledgeSigner`).
 */
export interface ServiceUpdate {
  /** New price of the default model (`models` not given), neuron per prompt token. */
  inputPrice?: bigint;
  /** New price of the default model (`models` not given), neuron per completion token. */
  outputPrice?: bigint;
  /** The URL the chain announces. The server keeps listening where it is (`serverUrl`). */
  url?: string;
  /** Becomes a single-model provider serving this model. */
  model?: string;
  /** Becomes a multi-model provider serving these models (the first is the default). */
  models?: ModelSpec[];
  /** Registers a fresh TEE signing key, which signs from now on; it is not acknowledged until `devnet.acknowledgeSigner(provider)`. */
  rotateSigner?: boolean;
}

/** How a provider leaves. */
export interface LeaveOptions {
  /** Longest wait for requests in flight after the service is removed, in ms; then they are cut. Default 10000. */
  graceMs?: number;
}

/** A simulated provider as the devnet reports it. Getters reflect service updates. */
export interface DevnetProvider {
  readonly name: string;
  /** On-chain provider address. */
  readonly address: string;
  /** Service URL registered on chain. */
  readonly url: string;
  /** Where its server listens (equal to `url` unless an update announced another URL). */
  readonly serverUrl: string;
  /** The service type registered on chain. */
  readonly serviceType: ServiceType;
  /** The on-chain default model. */
  readonly model: string;
  /** Every model it serves, the default first. */
  readonly models: readonly ServedModel[];
  /** Whether it registered as a multi-model provider. */
  readonly multiModel: boolean;
  /** The TEE signer address registered on chain. */
  readonly signerAddress: string;
  /** Price of the default model, neuron per prompt token. */
  readonly inputPrice: bigint;
  /** Price of the default model, neuron per completion token. */
  readonly outputPrice: bigint;
  readonly stats: Readonly<SimulatedProviderStats>;
  /** Its KV prefix cache's counters (prompt and cached tokens looked up, tokens held, evictions). */
  readonly kvCache: KvCacheStats;
  /** Empties its KV prefix cache (as a restart does; the `down` fault does it too). */
  clearKvCache(): void;
  /** The fault currently shown. */
  readonly fault: ProviderFault;
  /** Every settlement it submitted (user, amount, transaction, block), oldest first. */
  readonly settlements: readonly SettlementRecord[];
  /** True once `leave()` removed its service. */
  readonly left: boolean;
  /** Shows a fault (`{ mode: 'none' }` clears it); throws `invalid_options` for bad parameters. */
  setFault(fault: ProviderFault): Promise<void>;
  /** Settles unsettled fees on chain now. */
  settle(): Promise<SettlementReport>;
  /** Unsettled fees of `user`, in neuron. */
  unsettledFee(user: string): bigint;
  /** Re-registers the service with these changes (see {@link ServiceUpdate}). */
  updateService(update: ServiceUpdate): Promise<void>;
  /** Removes the service on chain (`removeService`), then stops its server once requests in flight finish (meanwhile a request on a kept-alive connection gets 503 and the connection closes). */
  leave(options?: LeaveOptions): Promise<void>;
}

/** Options of `startLocalDevnet`. Every field is optional. */
export interface LocalDevnetOptions {
  /** How many simulated providers (1–50), or one spec each. Default 3 (chat providers). */
  providers?: number | ProviderSpec[];
  /**
   * One more provider of each service type listed, started after those of `providers` (at most
   * 50 in all), e.g. `['text-to-image', 'image-editing', 'speech-to-text']`. Default none.
   */
  services?: ServiceType[];
  /** Default model name for providers without one (interchangeable providers). Default `zg-devnet-chat`. */
  model?: string;
  /** Native balance given to the user wallet, in 0G (decimal string). Default `'10000'`. */
  userBalance?: string;
  /** Ledger created for the user with this deposit, in 0G; `'0'` creates none. Default `'100'`. */
  userLedgerDeposit?: string;
  /** Chain id. Default 31337. */
  chainId?: number;
  /** Settle each provider's fees on chain every this many ms; 0 disables. Default 0 (call `settle()`). */
  settleIntervalMs?: number;
  /** The inference contract's refund lock time in seconds (pass it with `advanceTime`). Default 3600. */
  refundLockTimeSeconds?: number;
  /** Put a JSON-RPC relay counting calls by method in front of anvil: `rpcUrl` points at it. Default false. */
  countRpcCalls?: boolean;
  /**
   * The simulated KV prefix cache of every chat provider (a spec's own `kvCache` fields win).
   * Default: 131,072 tokens in blocks of 16, no time cost (answers start at once, as before); set
   * `perUncachedTokenMs` (e.g. 0.2) and `baseTtftMs` to make a cold prompt slow.
   */
  kvCache?: KvCacheSpec;
}

/** A running local 0G devnet. */
export interface LocalDevnet {
  /** The JSON-RPC URL clients use (the counting relay when `countRpcCalls` is on, else anvil). */
  readonly rpcUrl: string;
  /** anvil's own JSON-RPC URL (never counted). */
  readonly anvilRpcUrl: string;
  readonly chainId: number;
  readonly contracts: ServingContractAddresses;
  /** Deployer and owner of the contracts. A throw-away key of this devnet only. */
  readonly ownerPrivateKey: string;
  /** A funded user wallet (native balance and a ledger). A throw-away key of this devnet only. */
  readonly userPrivateKey: string;
  readonly userAddress: string;
  /** The providers registered now: additions appear, departed ones are gone. */
  readonly providers: readonly DevnetProvider[];
  /** The anvil process id. */
  readonly anvilPid: number;
  /** An ethers provider for `rpcUrl` (fast polling, no cache). */
  readonly rpc: JsonRpcProvider;
  /** Starts, stakes and registers one more provider (acknowledged unless `acknowledged: false`). */
  addProvider(spec?: ProviderSpec): Promise<DevnetProvider>;
  /** The contract owner acknowledges the provider's current TEE signer. */
  acknowledgeSigner(provider: DevnetProvider | string): Promise<void>;
  /** Moves chain time forward (`evm_increaseTime` + `evm_mine`), e.g. past the refund lock time. */
  advanceTime(seconds: number): Promise<void>;
  /** JSON-RPC calls received through `rpcUrl` since start (or the last reset), by method; needs `countRpcCalls`. */
  rpcCalls(): Record<string, number>;
  /** Sets the RPC call counts back to zero; needs `countRpcCalls`. */
  resetRpcCalls(): void;
  /** Stops every provider server, the relay and anvil. Idempotent. */
  stop(): Promise<void>;
}
