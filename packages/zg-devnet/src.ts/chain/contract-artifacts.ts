/**
 * The only module of the devnet that touches the 0G SDK package: it reads the ABI and
 * creation bytecode of the real serving contracts from the typechain factories the SDK
 * ships (`@0gfoundation/0g-compute-ts-sdk` 0.9.0), without loading the SDK itself.
 */
import { dirname, join } from 'node:path';
import { DevnetError } from '../devnet-error.js';
import { packageRequire } from '../internal/package-require.js';

/** A contract's ABI and creation bytecode, as shipped inside the SDK package. */
export interface ContractArtifact {
  readonly abi: ReadonlyArray<Record<string, unknown>>;
  readonly bytecode: string;
}

/** The three 0G serving contracts' artifacts. */
export interface ServingContractArtifacts {
  readonly ledger: ContractArtifact;
  readonly inference: ContractArtifact;
  readonly fineTuning: ContractArtifact;
}

const SDK_PACKAGE = '@0gfoundation/0g-compute-ts-sdk';
let cached: ServingContractArtifacts | undefined;

/** Loads (once) the serving contracts' ABI and bytecode from the installed SDK package. */
export function loadServingContractArtifacts(): ServingContractArtifacts {
  if (cached) return cached;
  let commonJsRoot: string;
  try {
    // The package's `exports` hides its files; its CommonJS entry sits at the root of lib.commonjs.
    commonJsRoot = dirname(packageRequire.resolve(SDK_PACKAGE));
  } catch (error) {
    throw new DevnetError('start_failed', `${SDK_PACKAGE} is not installed: the devnet deploys its contracts from it`, { cause: error });
  }
  const load = (relativePath: string, exportName: string): ContractArtifact => {
    const factoryModule = packageRequire(join(commonJsRoot, relativePath)) as Record<string, ContractArtifact | undefined>;
    const factory = factoryModule[exportName];
    if (!factory || typeof factory.bytecode !== 'string' || !Array.isArray(factory.abi)) {
      throw new DevnetError('start_failed', `the installed ${SDK_PACKAGE} has no ${exportName} with ABI and bytecode at ${relativePath}`);
    }
    return { abi: factory.abi, bytecode: factory.bytecode };
  };
  cached = {
    ledger: load('ledger/contract/typechain/factories/LedgerManager__factory.js', 'LedgerManager__factory'),
    inference: load('inference/contract/typechain/factories/InferenceServing__factory.js', 'InferenceServing__factory'),
    fineTuning: load('fine-tuning/contract/typechain/factories/FineTuningServing__factory.js', 'FineTuningServing__factory'),
  };
  return cached;
}
