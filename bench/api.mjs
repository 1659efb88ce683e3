// The in-process API for the benchmark, bundled from the sources (so the benchmark sees exactly what the server and
// the CLI run) into out/bench/api.js. bench.mjs builds it; the cold-process children (cold.mjs) require the same file.
import { build } from 'esbuild';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

export function apiPath(root) {
  return join(root, 'out', 'bench', 'api.js');
}

export async function buildApi(root) {
  const simIndex = join(root, 'server/src/features/simulate/index.ts');
  const entry = [
    "export { initParser, parseC } from '../../server/src/analysis/parser';",
    "export { analyzeText } from '../../server/src/analysis/document';",
    "export { DocumentStore, offsetIn } from '../../server/src/analysis/store';",
    "export { fullAnalysis, newCaches } from '../../server/src/analysis/incremental';",
    "export { computeDiagnostics } from '../../server/src/features/diagnostics';",
    "export { hoverAt } from '../../server/src/features/hover';",
    existsSync(simIndex) ? "export * as simulate from '../../server/src/features/simulate/index';" : 'export const simulate = undefined;',
  ].join('\n');
  const dir = join(root, 'out', 'bench');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'entry.ts'), entry);
  const shim = "const __kvmLensImportMetaUrl = require('url').pathToFileURL(__filename).href;";
  await build({
    entryPoints: [join(dir, 'entry.ts')], outfile: apiPath(root), bundle: true, platform: 'node', target: 'node20', format: 'cjs',
    define: { 'import.meta.url': '__kvmLensImportMetaUrl' }, banner: { js: shim }, logLevel: 'error',
  });
}

export function loadApi(root) {
  return createRequire(import.meta.url)(apiPath(root));
}
