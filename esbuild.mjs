// Bundles the extension client, the language server, the CLI and the test files.
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, statSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { writeRulesHtml } from './scripts/rules-html.mjs';

const require = createRequire(import.meta.url);
const watch = process.argv.includes('--watch');
// web-tree-sitter uses import.meta.url to find its wasm; in a CJS bundle that must be provided.
const IMPORT_META = "const __kvmLensImportMetaUrl = require('url').pathToFileURL(__filename).href;";
const common = {
  bundle: true, platform: 'node', target: 'node20', format: 'cjs', sourcemap: true, logLevel: 'warning',
  define: { 'import.meta.url': '__kvmLensImportMetaUrl' }, banner: { js: IMPORT_META },
};

mkdirSync('dist', { recursive: true });
// docs/rules.md as HTML with one anchor per rule: the SARIF helpUri target (see scripts/rules-html.mjs).
writeRulesHtml();
// The tree-sitter runtime and the C grammar ship as wasm inside npm packages; copy them next to the bundles
// so the packaged extension works without node_modules. At run time the server prefers the installed package.
copyFileSync(require.resolve('web-tree-sitter/tree-sitter.wasm'), 'dist/tree-sitter.wasm');
copyFileSync(join(require.resolve('tree-sitter-c/package.json'), '..', 'tree-sitter-c.wasm'), 'dist/tree-sitter-c.wasm');

const builds = [
  { ...common, entryPoints: ['client/src/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'] },
  { ...common, entryPoints: ['server/src/server.ts'], outfile: 'dist/server.js', banner: { js: `#!/usr/bin/env node\n${IMPORT_META}` } },
  { ...common, entryPoints: ['server/src/cli/main.ts'], outfile: 'dist/cli.js', banner: { js: `#!/usr/bin/env node\n${IMPORT_META}` } },
  { ...common, entryPoints: ['server/src/index.ts'], outfile: 'dist/lib.js' },
];

function testEntries(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...testEntries(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}
const tests = ['test/unit', 'test/protocol', 'test/cli'].flatMap((d) => { try { return testEntries(d); } catch { return []; } });
if (tests.length) builds.push({ ...common, entryPoints: tests, outdir: 'out', outbase: '.', external: ['vscode'] });

if (watch) {
  for (const b of builds) (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
  for (const f of ['dist/server.js', 'dist/cli.js']) chmodSync(f, 0o755);
}
