import type { ModelOffer } from '../providers/inference-provider.js';
import type { ChainServiceListing } from '../providers/zg/list-chain-services.js';
import { EXIT, UsageError } from './cli-error.js';
import { PROVIDERS_HELP } from './help-texts.js';
import { integerFlag, parseFlags, stringFlag } from './parse-flags.js';
import { textTable } from './text-table.js';

const NEURON_PER_ZG = 10n ** 18n;

/** Neuron per token as 0G per million tokens, exact, e.g. `0.000001`. */
export function perMillionInZg(neuronPerToken: bigint): string {
  const perMillion = neuronPerToken * 1_000_000n;
  const whole = perMillion / NEURON_PER_ZG;
  const fraction = (perMillion % NEURON_PER_ZG).toString().padStart(18, '0').replace(/0+$/, '');
  return fraction === '' ? whole.toString() : `${whole}.${fraction}`;
}

function rowsOf(service: ChainServiceListing): string[][] {
  return service.models.map((offer: ModelOffer) => [
    service.provider,
    offer.id,
    offer.inputPrice.toString(),
    offer.outputPrice.toString(),
    `${perMillionInZg(offer.inputPrice)} / ${perMillionInZg(offer.outputPrice)}`,
    service.verifiability,
    service.teeSignerAddress,
    service.teeSignerAcknowledged ? 'yes' : 'no',
    service.url,
  ]);
}

function json(services: readonly ChainServiceListing[]): string {
  const document = services.map((service) => ({
    ...service,
    models: service.models.map((offer) => ({
      id: offer.id,
      inputPrice: offer.inputPrice.toString(),
      outputPrice: offer.outputPrice.toString(),
      inputPerMillionZg: perMillionInZg(offer.inputPrice),
      outputPerMillionZg: perMillionInZg(offer.outputPrice),
      ...(offer.contextLength !== undefined ? { contextLength: offer.contextLength } : {}),
    })),
  }));
  return JSON.stringify({ services: document }, null, 2) + '\n';
}

/** `zg-gateway providers --rpc URL`: the chain's inference services, read-only (no key). */
export async function providersCommand(args: readonly string[], environment: NodeJS.ProcessEnv): Promise<number> {
  const parsed = parseFlags('providers', args, {
    rpc: { type: 'string' },
    contract: { type: 'string' },
    'chain-id': { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (parsed.values.help === true) {
    process.stdout.write(PROVIDERS_HELP);
    return EXIT.ok;
  }
  const rpcUrl = stringFlag(parsed, 'rpc') ?? environment.RPC_ENDPOINT;
  if (!rpcUrl) throw new UsageError('--rpc URL is required (or env RPC_ENDPOINT)', 'providers');
  if (!/^(https?|wss?):\/\/\S+$/i.test(rpcUrl)) throw new UsageError(`--rpc must be an http(s):// or ws(s):// URL, not '${rpcUrl}'`, 'providers');
  const contract = stringFlag(parsed, 'contract');
  if (contract !== undefined && !/^0x[0-9a-fA-F]{40}$/.test(contract)) throw new UsageError(`--contract must be a 0x-prefixed 20-byte address, not '${contract}'`, 'providers');
  const chainId = integerFlag('providers', parsed, 'chain-id', 1);
  const { listChainServices } = await import('../providers/zg/list-chain-services.js');
  const services = await listChainServices({ rpcUrl, ...(contract ? { inferenceContract: contract } : {}), ...(chainId !== undefined ? { chainId } : {}) });
  if (parsed.values.json === true) {
    process.stdout.write(json(services));
    return EXIT.ok;
  }
  if (services.length === 0) {
    process.stdout.write('No inference service is registered on this chain.\n');
    return EXIT.ok;
  }
  const header = ['PROVIDER', 'MODEL', 'INPUT', 'OUTPUT', '0G PER 1M IN / OUT', 'VERIFIABILITY', 'TEE SIGNER', 'ACK', 'URL'];
  process.stdout.write(textTable(header, services.flatMap(rowsOf)));
  process.stdout.write('INPUT and OUTPUT: neuron per token (1 0G = 10^18 neuron). ACK: the TEE signer is acknowledged (the gateway serves only those).\n');
  for (const service of services) if (service.catalogError) process.stderr.write(`${service.provider}: its model catalog could not be read (${service.catalogError}); its on-chain model is listed\n`);
  return EXIT.ok;
}
