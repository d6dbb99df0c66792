/**
 * Talking to a simulated provider and the contracts without the SDK: session tokens signed the
 * SDK's way (no chain call), raw chat requests, typed reads of the inference contract.
 */
import { Contract, getBytes, hexlify, keccak256, randomBytes, toUtf8Bytes, type JsonRpcProvider, type Wallet } from 'ethers';
import type { DevnetProvider, LocalDevnet, SessionToken } from 'zg-devnet';

export const INFERENCE_ABI = [
  'function getService(address provider) view returns (tuple(address provider,string serviceType,string url,uint256 inputPrice,uint256 outputPrice,uint256 updatedAt,string model,string verifiability,string additionalInfo,address teeSignerAddress,bool teeSignerAcknowledged))',
  'function getAccount(address user, address provider) view returns (tuple(address user,address provider,uint256 nonce,uint256 balance,uint256 pendingRefund,tuple(uint256 index,uint256 amount,uint256 createdAt,bool processed)[] refunds,string additionalInfo,bool acknowledged,uint256 validRefundsLength,uint256 generation,uint256 revokedBitmap))',
  'function serviceExists(address provider) view returns (bool)',
];

export interface OnChainService {
  provider: string;
  serviceType: string;
  url: string;
  inputPrice: bigint;
  outputPrice: bigint;
  model: string;
  verifiability: string;
  additionalInfo: string;
  teeSignerAddress: string;
  teeSignerAcknowledged: boolean;
}

export interface OnChainAccount {
  user: string;
  provider: string;
  nonce: bigint;
  balance: bigint;
  pendingRefund: bigint;
  acknowledged: boolean;
  generation: bigint;
}

/** Typed reads of the devnet's inference contract. */
export class InferenceReader {
  private readonly contract: Contract;

  constructor(devnet: LocalDevnet, rpc: JsonRpcProvider = devnet.rpc) {
    this.contract = new Contract(devnet.contracts.inference, INFERENCE_ABI, rpc);
  }

  async service(provider: string): Promise<OnChainService> {
    return (await this.contract.getFunction('getService').staticCall(provider)) as OnChainService;
  }

  async account(user: string, provider: string): Promise<OnChainAccount> {
    return (await this.contract.getFunction('getAccount').staticCall(user, provider)) as OnChainAccount;
  }

  async exists(provider: string): Promise<boolean> {
    return (await this.contract.getFunction('serviceExists').staticCall(provider)) as boolean;
  }
}

/** Builds `Authorization` exactly as the 0G SDK does: `Bearer app-sk-` + base64(JSON(token) + '|' + signature). */
export async function authorizationFor(wallet: Wallet, provider: string, overrides: Partial<SessionToken> = {}): Promise<string> {
  const now = Date.now();
  const token: SessionToken = {
    address: wallet.address,
    provider,
    timestamp: now,
    expiresAt: now + 3_600_000,
    nonce: hexlify(randomBytes(16)).slice(2),
    generation: 0,
    tokenId: 255,
    ...overrides,
  };
  const message = JSON.stringify(token);
  const signature = await wallet.signMessage(getBytes(keccak256(toUtf8Bytes(message))));
  return `Bearer app-sk-${Buffer.from(`${message}|${signature}`).toString('base64')}`;
}

/** POSTs a chat to a provider's server (its `serverUrl`). */
export function postChat(provider: DevnetProvider, authorization: string | undefined, body: Record<string, unknown>, signal: AbortSignal = AbortSignal.timeout(10_000)): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (authorization !== undefined) headers.authorization = authorization;
  return fetch(`${provider.serverUrl}/v1/proxy/chat/completions`, { method: 'POST', headers, body: JSON.stringify(body), signal });
}

/** The `data:` payloads of an SSE text, in order. */
export function sseData(text: string): string[] {
  return text
    .split('\n\n')
    .flatMap((event) => event.split('\n').filter((line) => line.startsWith('data: ')).map((line) => line.slice('data: '.length)))
    .filter((data) => data.length > 0);
}
