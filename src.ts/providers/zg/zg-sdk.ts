/**
 * The only module that imports the 0G serving SDK. Everything else in the project talks to
 * the SDK through what this module exports, so an SDK upgrade touches one file.
 *
 * The package asked for is `@0glabs/0g-serving-broker`; its 0.7.x line is a re-export shim over
 * `@0gfoundation/0g-compute-ts-sdk`, pinned to 0.9.0 (the maintained protocol) by npm `overrides`.
 */
import {
  CONTRACT_ADDRESSES,
  InferenceVerifier,
  createZGComputeNetworkBroker,
  getNetworkType,
  isDevMode,
  parseMultiModelInfo,
  parseTieredPricing,
  type ZGComputeNetworkBroker,
} from '@0glabs/0g-serving-broker';
import { dirname, join } from 'node:path';
import { packageRequire } from '../../internal/package-require.js';

export { createZGComputeNetworkBroker, parseMultiModelInfo, parseTieredPricing, type ZGComputeNetworkBroker };

/** The SDK's own check of a response signature: EIP-191 over `text`, recovered to `signerAddress`. */
export function verifyResponseSignature(text: string, signature: string, signerAddress: string): boolean {
  return InferenceVerifier.verifySignature(text, signature, signerAddress);
}

/** A contract's ABI and creation bytecode, as shipped inside the SDK package. */
export interface ContractArtifact {
  readonly abi: ReadonlyArray<Record<string, unknown>>;
  readonly bytecode: string;
}

/** The three 0G serving contracts' artifacts (0.9.0 bytecode). */
export interface ServingContractArtifacts {
  readonly ledger: ContractArtifact;
  readonly inference: ContractArtifact;
  readonly fineTuning: ContractArtifact;
}

/**
 * The contract addresses the SDK itself picks for a chain id when none are given
 * (mainnet, testnet or its dev deployment, hardhat; testnet for an unknown chain).
 */
export function defaultContractAddresses(chainId: bigint): { ledger: string; inference: string; fineTuning: string } {
  const networkType = getNetworkType(chainId);
  if (networkType === 'mainnet') return CONTRACT_ADDRESSES.mainnet;
  if (networkType === 'hardhat') return CONTRACT_ADDRESSES.hardhat;
  return networkType === 'testnet' && isDevMode() ? CONTRACT_ADDRESSES.testnetDev : CONTRACT_ADDRESSES.testnet;
}

let cachedArtifacts: ServingContractArtifacts | undefined;

/**
 * Loads the typechain factories the SDK ships (they carry ABI and bytecode) from the
 * installed SDK package (the gateway reads the inference contract through its ABI).
 */
export function loadServingContractArtifacts(): ServingContractArtifacts {
  if (cachedArtifacts) return cachedArtifacts;
  // Resolve the SDK from the shim's own location: it is the shim's dependency, not ours.
  const shimEntry = packageRequire.resolve('@0glabs/0g-serving-broker');
  const sdkEntry = packageRequire.resolve('@0gfoundation/0g-compute-ts-sdk', { paths: [dirname(shimEntry)] });
  const sdkCommonJsRoot = dirname(sdkEntry);
  const load = (relativePath: string, exportName: string): ContractArtifact => {
    const factoryModule = packageRequire(join(sdkCommonJsRoot, relativePath)) as Record<string, ContractArtifact>;
    const factory = factoryModule[exportName];
    if (!factory || typeof factory.bytecode !== 'string' || !Array.isArray(factory.abi)) {
      throw new Error(`The installed 0G SDK has no ${exportName} with ABI and bytecode at ${relativePath}`);
    }
    return { abi: factory.abi, bytecode: factory.bytecode };
  };
  cachedArtifacts = {
    ledger: load('ledger/contract/typechain/factories/LedgerManager__factory.js', 'LedgerManager__factory'),
    inference: load('inference/contract/typechain/factories/InferenceServing__factory.js', 'InferenceServing__factory'),
    fineTuning: load('fine-tuning/contract/typechain/factories/FineTuningServing__factory.js', 'FineTuningServing__factory'),
  };
  return cachedArtifacts;
}
