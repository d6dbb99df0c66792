/**
 * Summarises a V8 `.cpuprofile` (as written by `node --cpu-prof`, e.g. for the gateway child with
 * `BENCH_CPU_PROF=dir npm run bench`): self time by function and by package, heaviest first.
 *
 * Usage: node build/bench/cpu-profile-summary.js <file.cpuprofile> [rows=25]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
}

/** `node_modules/<pkg>` (scoped too), the project's own code, Node internals, or V8 itself. */
function packageOf(url: string): string {
  if (!url) return '(v8 / native)';
  if (url.startsWith('node:')) return 'node:internal';
  // The last node_modules segment names the package that owns the code.
  const owners = [...url.matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)/g)];
  const owner = owners[owners.length - 1]?.[1];
  if (owner) return owner;
  if (url.includes('/build/bench/')) return '(bench harness)';
  if (url.includes('/lib.commonjs/') || url.includes('/lib.esm/')) return 'zg-gateway';
  return url.replace(/^file:\/\//, '');
}

function shortUrl(url: string): string {
  const index = url.lastIndexOf('node_modules/');
  if (index >= 0) return url.slice(index + 'node_modules/'.length);
  const lib = url.search(/lib\.(commonjs|esm)\//);
  return lib >= 0 ? url.slice(lib) : url.replace(/^file:\/\//, '');
}

function main(): void {
  const [file, rowsArgument] = process.argv.slice(2);
  if (!file) {
    console.error('usage: cpu-profile-summary <file.cpuprofile> [rows]');
    process.exit(2);
  }
  const rows = Number(rowsArgument ?? 25);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const totalSamples = profile.samples?.length ?? profile.nodes.reduce((sum, node) => sum + (node.hitCount ?? 0), 0);
  const msPerSample = totalSamples > 0 ? (profile.endTime - profile.startTime) / 1000 / totalSamples : 0;
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let idle = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)' || functionName === '(program)' || functionName === '(garbage collector)') {
      if (functionName === '(idle)') idle += hits;
      const key = functionName;
      byFunction.set(key, (byFunction.get(key) ?? 0) + hits);
      if (functionName !== '(idle)') byPackage.set(functionName, (byPackage.get(functionName) ?? 0) + hits);
      continue;
    }
    const key = `${functionName || '(anonymous)'}  ${shortUrl(url)}:${lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + hits);
    const owner = packageOf(url);
    byPackage.set(owner, (byPackage.get(owner) ?? 0) + hits);
  }
  const busy = totalSamples - idle;
  const line = (hits: number, label: string): string =>
    `${((hits * msPerSample) / 1000).toFixed(2).padStart(8)} s ${((hits / Math.max(1, busy)) * 100).toFixed(1).padStart(6)} %  ${label}`;
  console.log(`${file}: ${((busy * msPerSample) / 1000).toFixed(1)} s busy of ${((totalSamples * msPerSample) / 1000).toFixed(1)} s (shares are of busy time)`);
  console.log('\nself time by package');
  for (const [name, hits] of [...byPackage].sort(([, a], [, b]) => b - a).slice(0, rows)) console.log(line(hits, name));
  console.log('\nself time by function');
  for (const [name, hits] of [...byFunction].filter(([name]) => name !== '(idle)').sort(([, a], [, b]) => b - a).slice(0, rows)) console.log(line(hits, name));
}

main();
