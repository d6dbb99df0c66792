import { Contract, ContractFactory, type InterfaceAbi, type Wallet } from 'ethers';
import { loadServingContractArtifacts } from './contract-artifacts.js';

/** Addresses of the deployed 0G serving contracts (the initialised clones). */
export interface ServingContractAddresses {
  readonly ledger: string;
  readonly inference: string;
  readonly fineTuning: string;
}

export interface DeployServingContractsOptions {
  /** Refund lock time in seconds (contract minimum 3600). Default 3600. */
  lockTimeSeconds?: number;
  /** Fine-tuning penalty percentage. Default 30. */
  penaltyPercentage?: number;
}

/** EIP-1167 minimal proxy creation code delegating every call to `implementation`. */
export function minimalProxyCreationCode(implementation: string): string {
  const target = implementation.toLowerCase().replace(/^0x/, '');
  return `0x3d602d80600a3d3981f3363d3d373d3d3d363d73${target}5af43d82803e903d91602b57fd5bf3`;
}

async function deployImplementation(owner: Wallet, abi: InterfaceAbi, bytecode: string): Promise<string> {
  const contract = await new ContractFactory(abi, bytecode, owner).deploy();
  await contract.waitForDeployment();
  return contract.getAddress();
}

async function deployClone(owner: Wallet, implementation: string): Promise<string> {
  const transaction = await owner.sendTransaction({ data: minimalProxyCreationCode(implementation) });
  const receipt = await transaction.wait();
  if (!receipt?.contractAddress) throw new Error('clone deployment produced no contract address');
  return receipt.contractAddress;
}

/**
 * Deploys the real 0G serving contracts from the bytecode shipped in the SDK package:
 * each implementation (they lock themselves in their constructor), an EIP-1167 clone of each,
 * `initialize` on the clones, and the ledger's service registry entries the SDK resolves.
 */
export async function deployServingContracts(
  owner: Wallet,
  options: DeployServingContractsOptions = {},
): Promise<ServingContractAddresses> {
  const artifacts = loadServingContractArtifacts();
  const lockTime = options.lockTimeSeconds ?? 3600;
  const penalty = options.penaltyPercentage ?? 30;
  const ownerAddress = await owner.getAddress();

  const ledgerImplementation = await deployImplementation(owner, artifacts.ledger.abi as InterfaceAbi, artifacts.ledger.bytecode);
  const inferenceImplementation = await deployImplementation(owner, artifacts.inference.abi as InterfaceAbi, artifacts.inference.bytecode);
  const fineTuningImplementation = await deployImplementation(owner, artifacts.fineTuning.abi as InterfaceAbi, artifacts.fineTuning.bytecode);

  const ledgerAddress = await deployClone(owner, ledgerImplementation);
  const inferenceAddress = await deployClone(owner, inferenceImplementation);
  const fineTuningAddress = await deployClone(owner, fineTuningImplementation);

  const ledger = new Contract(ledgerAddress, artifacts.ledger.abi as InterfaceAbi, owner);
  const inference = new Contract(inferenceAddress, artifacts.inference.abi as InterfaceAbi, owner);
  const fineTuning = new Contract(fineTuningAddress, artifacts.fineTuning.abi as InterfaceAbi, owner);

  const send = async (pending: Promise<{ wait(): Promise<unknown> }>): Promise<void> => {
    await (await pending).wait();
  };
  await send(ledger.getFunction('initialize')(ownerAddress));
  await send(inference.getFunction('initialize')(lockTime, ledgerAddress, ownerAddress));
  await send(fineTuning.getFunction('initialize')(lockTime, ledgerAddress, ownerAddress, penalty));
  await send(ledger.getFunction('registerService')('inference', 'v1.0', inferenceAddress, 'Inference serving (local devnet)'));
  await send(ledger.getFunction('registerService')('fine-tuning', 'v1.0', fineTuningAddress, 'Fine-tuning serving (local devnet)'));

  return { ledger: ledgerAddress, inference: inferenceAddress, fineTuning: fineTuningAddress };
}
