/**
 * The one place the benchmark imports the local 0G devnet. Today it is the package's
 * `zg-gateway/devnet` entry point; when the devnet moves to its own workspace package
 * (`zg-devnet`), this is the only line to change.
 */
export { startLocalDevnet, type LocalDevnet } from 'zg-gateway/devnet';
