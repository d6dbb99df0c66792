// The import-graph check run by `npm test`: no cycle between files, and no cycle between
// folders (a folder may not import a folder that imports it back, directly or through others).
// Type-only imports count: they still tie the folders' designs together.
// For the gateway's own source, the folders also have a declared order (LAYERS below): a folder may
// import only folders of a lower layer, so a wrong-way import fails even before it closes a cycle.
// Usage: node scripts/check-imports.mjs [root=src.ts] [more roots...]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const roots = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['src.ts', 'packages/zg-devnet/src.ts'];

/**
 * The gateway's folders from the bottom up. A folder imports only folders of lower layers; files
 * at the root of src.ts (the composition: createGateway, the stores, the handle, the server entry)
 * sit above every folder and are held only by the no-cycle rule. A new folder must be placed here.
 */
const LAYERS = [
  ['errors', 'internal', 'logging'], // foundations: typed errors, small utilities, the logger
  ['providers', 'admission'], // the provider protocol (OpenAI-compatible, 0G), the admission queue
  ['health', 'stores'], // breakers and load polling; session/response/counter stores and Redis
  ['keys', 'observability'], // client keys; diagnostics channels and provider statistics
  ['strategies', 'affinity'], // balancing strategies; prefix affinity
  ['config', 'fleet'], // configuration schema; the fleet: registry, entries, catalog, membership
  ['routing', 'request-log'], // model groups and route planning; the request log database
  ['dispatch'], // attempts, retries, relays, completion of a request
  ['gateway'], // the core that ties routing, dispatch and stores together
  ['billing', 'reload', 'telemetry'], // 0G billing; live reload; Prometheus metrics and traces
  ['server', 'cli'], // HTTP surface; command line
];
const LAYER_ROOT = 'src.ts';

function sourceFiles(folder) {
  const files = [];
  for (const name of readdirSync(folder)) {
    const path = join(folder, name);
    if (statSync(path).isDirectory()) files.push(...sourceFiles(path));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) files.push(path);
  }
  return files;
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s+)?['"](\.[^'"]+)['"]/g;

/** Relative imports of one file, resolved to source files. */
function importsOf(file) {
  const text = readFileSync(file, 'utf8');
  const targets = [];
  for (const match of text.matchAll(IMPORT)) {
    const specifier = match[1];
    const target = resolve(dirname(file), specifier.replace(/\.js$/, '.ts'));
    targets.push(target);
  }
  return targets;
}

/** The cycles of a directed graph (Tarjan's strongly connected components with more than one node, or a self-loop). */
function cycles(graph) {
  let index = 0;
  const indices = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const found = [];
  const visit = (node) => {
    indices.set(node, index);
    low.set(node, index);
    index += 1;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!indices.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node), low.get(next)));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node), indices.get(next)));
    }
    if (low.get(node) === indices.get(node)) {
      const component = [];
      let member;
      do {
        member = stack.pop();
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || (graph.get(node) ?? new Set()).has(node)) found.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!indices.has(node)) visit(node);
  return found;
}

let failed = false;
for (const root of roots) {
  const base = resolve(projectRoot, root);
  const files = sourceFiles(base);
  const fileGraph = new Map();
  const folderGraph = new Map();
  // Each top-level folder is one node; a file at the root is a node of its own.
  const folderOf = (file) => relative(base, dirname(file)).split(sep)[0] || `./${relative(base, file)}`;
  for (const file of files) {
    const edges = new Set(importsOf(file).filter((target) => target.startsWith(base)));
    fileGraph.set(file, edges);
    const from = folderOf(file);
    if (!folderGraph.has(from)) folderGraph.set(from, new Set());
    for (const target of edges) {
      const to = folderOf(target);
      if (to !== from) folderGraph.get(from).add(to);
    }
  }
  if (basename(base) === LAYER_ROOT && basename(dirname(base)) !== 'zg-devnet') {
    const layerOf = new Map(LAYERS.flatMap((folders, layer) => folders.map((folder) => [folder, layer])));
    for (const [from, targets] of folderGraph) {
      if (from.startsWith('./')) continue;
      if (!layerOf.has(from)) {
        failed = true;
        console.error(`${root}: folder ${from} has no layer: place it in LAYERS in scripts/check-imports.mjs`);
        continue;
      }
      for (const to of targets) {
        if (to.startsWith('./')) {
          if (!['reload', 'cli'].includes(from)) {
            failed = true;
            console.error(`${root}: ${from} imports the composition file ${to.slice(2)}: only reload and cli may`);
          }
          continue;
        }
        if (layerOf.has(to) && layerOf.get(to) < layerOf.get(from)) continue;
        failed = true;
        console.error(`${root}: wrong-way import: ${from} (layer ${layerOf.get(from)}) imports ${to} (layer ${layerOf.get(to) ?? 'none'})`);
      }
    }
  }
  const fileCycles = cycles(fileGraph);
  const folderCycles = cycles(folderGraph);
  for (const cycle of fileCycles) {
    failed = true;
    console.error(`${root}: import cycle between files: ${cycle.map((file) => relative(base, file)).join(' <-> ')}`);
  }
  for (const cycle of folderCycles) {
    failed = true;
    console.error(`${root}: import cycle between folders: ${cycle.join(' <-> ')}`);
  }
  console.log(`${root}: ${files.length} files, ${[...fileGraph.values()].reduce((sum, edges) => sum + edges.size, 0)} imports, ${fileCycles.length} file cycles, ${folderCycles.length} folder cycles`);
}
process.exitCode = failed ? 1 : 0;
