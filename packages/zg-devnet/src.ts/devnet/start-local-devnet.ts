import { Contract, parseEther, type InterfaceAbi, type JsonRpcProvider } from 'ethers';
import { startAnvil, type AnvilHandle } from '../chain/anvil-process.js';
import { loadServingContractArtifacts } from '../chain/contract-artifacts.js';
import { deployServingContracts } from '../chain/deploy-serving-contracts.js';
import { createLocalRpcProvider, increaseTime, randomWallet, setBalance } from '../chain/local-rpc-provider.js';
import { startRpcCallCounter, type RpcCallCounter } from '../chain/rpc-call-counter.js';
import { DevnetError } from '../devnet-error.js';
import type { LocalDevnet, LocalDevnetOptions } from './devnet-types.js';
import { ProviderFleet } from './provider-fleet.js';
import { checkDevnetOptions } from './validate-options.js';

export type { DevnetProvider, LeaveOptions, LocalDevnet, LocalDevnetOptions, ProviderSpec, ServiceUpdate } from './devnet-types.js';

/** Native balance of the contracts' owner (acknowledgements, deployment gas). */
const OWNER_BALANCE = parseEther('1000000');

/**
 * Starts a local 0G devnet: anvil on 127.0.0.1 (a free port), the real 0G serving contracts
 * deployed from the SDK's bytecode, simulated providers registered on chain with their TEE
 * signers acknowledged by the owner, and a funded user wallet with a ledger.
 *
 * Options are checked before anything starts (`invalid_options`); whatever was started is
 * stopped again if start-up fails halfway (`start_failed`, or the more precise code).
 */
export async function startLocalDevnet(options: LocalDevnetOptions = {}): Promise<LocalDevnet> {
  const checked = checkDevnetOptions(options);
  let anvil: AnvilHandle | undefined;
  let counter: RpcCallCounter | undefined;
  let internalRpc: JsonRpcProvider | undefined;
  let publicRpc: JsonRpcProvider | undefined;
  let fleet: ProviderFleet | undefined;
  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await fleet?.stop();
      await counter?.close();
      if (publicRpc !== internalRpc) publicRpc?.destroy();
      internalRpc?.destroy();
      await anvil?.stop();
    })();
    return stopping;
  };

  try {
    anvil = await startAnvil({ chainId: checked.chainId });
    // The devnet's own chain traffic (deployment, providers' reads and settlements) goes to anvil
    // directly; only what clients send to `rpcUrl` passes the counting relay.
    internalRpc = createLocalRpcProvider(anvil.rpcUrl, anvil.chainId);
    if (checked.countRpcCalls) counter = await startRpcCallCounter(anvil.rpcUrl);
    const rpcUrl = counter?.url ?? anvil.rpcUrl;
    publicRpc = counter ? createLocalRpcProvider(rpcUrl, anvil.chainId) : internalRpc;

    const owner = randomWallet(internalRpc);
    const user = randomWallet(internalRpc);
    await setBalance(internalRpc, owner.address, OWNER_BALANCE);
    await setBalance(internalRpc, user.address, checked.userBalance);
    const contracts = await deployServingContracts(owner, { lockTimeSeconds: checked.refundLockTimeSeconds });

    const activeFleet = new ProviderFleet({
      rpc: internalRpc,
      owner,
      contracts,
      chainId: anvil.chainId,
      defaultModel: checked.defaultModel,
      settleIntervalMs: checked.settleIntervalMs,
      kvCache: checked.kvCache,
    });
    fleet = activeFleet;
    for (const spec of checked.specs) await activeFleet.add(spec);

    if (checked.userLedgerDeposit > 0n) {
      const ledgerAsUser = new Contract(contracts.ledger, loadServingContractArtifacts().ledger.abi as InterfaceAbi, user);
      await (await ledgerAsUser.getFunction('addLedger')('', { value: checked.userLedgerDeposit })).wait();
    }

    const rpcForTime = internalRpc;
    const requireCounter = (): RpcCallCounter => {
      if (!counter) throw new DevnetError('invalid_options', 'RPC calls are counted only with the countRpcCalls option');
      return counter;
    };
    return {
      rpcUrl,
      anvilRpcUrl: anvil.rpcUrl,
      chainId: anvil.chainId,
      contracts,
      ownerPrivateKey: owner.privateKey,
      userPrivateKey: user.privateKey,
      userAddress: user.address,
      get providers() {
        return activeFleet.providers;
      },
      anvilPid: anvil.pid,
      rpc: publicRpc,
      addProvider: (spec) => activeFleet.add(spec),
      acknowledgeSigner: (provider) => activeFleet.acknowledge(provider),
      advanceTime: async (seconds) => {
        if (!Number.isInteger(seconds) || seconds < 0) throw new DevnetError('invalid_options', `advanceTime takes whole seconds ≥ 0, not ${seconds}`);
        try {
          await increaseTime(rpcForTime, seconds);
        } catch (error) {
          throw new DevnetError('chain_error', 'moving the chain time failed', { cause: error });
        }
      },
      rpcCalls: () => requireCounter().calls(),
      resetRpcCalls: () => requireCounter().reset(),
      stop,
    };
  } catch (error) {
    await stop();
    throw DevnetError.isInstance(error) && error.code !== 'chain_error' ? error : new DevnetError('start_failed', 'the local devnet failed to start', { cause: error });
  }
}
