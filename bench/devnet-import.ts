/** The one place the benchmark imports the local 0G devnet (the `zg-devnet` workspace package). */
export { startLocalDevnet, type LocalDevnet } from 'zg-devnet';
