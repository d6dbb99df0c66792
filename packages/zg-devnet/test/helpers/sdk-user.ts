/**
 * The devnet's user, driven through the unmodified 0G SDK (`@0gfoundation/0g-compute-ts-sdk`),
 * as a real client would: broker, sub-account, signed request headers, `processResponse`.
 */
import { createZGComputeNetworkBroker, type ZGComputeNetworkBroker } from '@0gfoundation/0g-compute-ts-sdk';
import { JsonRpcProvider, Network, Wallet, parseEther } from 'ethers';
import { startLocalDevnet, type LocalDevnet, type LocalDevnetOptions } from 'zg-devnet';

export const GAS_PRICE = 1_000_000_000;

/** A broker for a devnet wallet; `close()` releases its RPC connection. */
export interface SdkUser {
  readonly broker: ZGComputeNetworkBroker;
  readonly wallet: Wallet;
  close(): void;
}

/** An ethers provider tuned for anvil (static network, no batching or cache, fast polling). */
export function localRpc(devnet: LocalDevnet): JsonRpcProvider {
  const network = Network.from(devnet.chainId);
  return new JsonRpcProvider(devnet.rpcUrl, network, { staticNetwork: network, batchMaxCount: 1, cacheTimeout: -1, pollingInterval: 20 });
}

/** Connects the SDK as the devnet's user (or another funded key). */
export async function connectSdkUser(devnet: LocalDevnet, privateKey = devnet.userPrivateKey): Promise<SdkUser> {
  const rpc = localRpc(devnet);
  const wallet = new Wallet(privateKey, rpc);
  const broker = await createZGComputeNetworkBroker(wallet, devnet.contracts.ledger, devnet.contracts.inference, devnet.contracts.fineTuning, GAS_PRICE);
  return { broker, wallet, close: () => rpc.destroy() };
}

/** Creates the user's sub-account with `provider`, acknowledges its signer and funds it (default 10 0G in all). */
export async function openAccount(user: SdkUser, provider: string, amount = parseEther('9')): Promise<void> {
  await user.broker.inference.acknowledgeProviderSigner(provider, GAS_PRICE);
  if (amount > 0n) await user.broker.ledger.transferFund(provider, 'inference', amount, GAS_PRICE);
}

/** What a chat sent through the SDK's endpoint and headers came back with. */
export interface SdkChatAnswer {
  status: number;
  chatId: string;
  text: string;
  /** The parsed JSON body (an empty object when the body is not JSON). */
  body: Record<string, unknown>;
}

/** Sends one chat the way the SDK documents it: service metadata, signed headers, `<endpoint>/chat/completions`. */
export async function sdkChat(user: SdkUser, provider: string, body: Record<string, unknown>): Promise<SdkChatAnswer> {
  const { endpoint } = await user.broker.inference.getServiceMetadata(provider);
  const headers = (await user.broker.inference.getRequestHeaders(provider)) as unknown as Record<string, string>;
  const response = await fetch(`${endpoint}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // a stream or a broken body: the caller reads `text`
  }
  const chatId = response.headers.get('zg-res-key') ?? (typeof parsed.id === 'string' ? parsed.id : '');
  return { status: response.status, chatId, text, body: parsed };
}

/** The assistant text of a JSON chat completion ('' when absent). */
export function messageContent(body: Record<string, unknown>): string {
  const choices = body.choices as Array<{ message?: { content?: unknown } }> | undefined;
  const content = choices?.[0]?.message?.content;
  return typeof content === 'string' ? content : '';
}

/** True while a process with this pid exists. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls `condition` every 10 ms until true or `timeoutMs` passes; returns the last result. */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return condition();
}

/** A devnet whose user has an open, funded sub-account with every provider (opened through the SDK). */
export async function startDevnetWithAccounts(options: LocalDevnetOptions): Promise<{ devnet: LocalDevnet; user: SdkUser; close(): Promise<void> }> {
  const devnet = await startLocalDevnet(options);
  let user: SdkUser | undefined;
  try {
    user = await connectSdkUser(devnet);
    for (const provider of devnet.providers) await openAccount(user, provider.address);
  } catch (error) {
    user?.close();
    await devnet.stop();
    throw error;
  }
  const opened = user;
  return {
    devnet,
    user: opened,
    close: async () => {
      opened.close();
      await devnet.stop();
    },
  };
}
