#!/usr/bin/env node
// Mutation soak over a real kernel tree, in-process (issue 17). Bundles test/robustness/treeSoak.ts with esbuild,
// then mutates every .c/.h under --tree N times in all (truncations, byte flips, deletions, line deletions,
// unbalanced braces/#if, asm fragments) and runs every surface on each variant. Prints escaped exceptions, internal
// errors, variants over 2 s and peak RSS; exit 1 if anything escaped or errored internally.
//
//   node scripts/tree-soak.mjs --tree /path/to/linux/arch/x86/kvm [--tree DIR ...] [--mutations 10000]
//        [--seed 1] [--simulate-every 10] [--slow-ms 2000] [--json]
import * as esbuild from 'esbuild';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const all = (n) => args.flatMap((a, i) => (a === `--${n}` && args[i + 1] !== undefined ? [args[i + 1]] : []));
const opt = (n, d) => all(n).at(-1) ?? d;
const roots = all('tree').map((p) => resolve(p));
if (!roots.length) { process.stderr.write('tree-soak: give --tree DIR (e.g. a kernel checkout\'s arch/x86/kvm)\n'); process.exit(2); }
const json = args.includes('--json');

const out = join(ROOT, 'out', 'soak', 'treeSoak.cjs');
mkdirSync(dirname(out), { recursive: true });
await esbuild.build({
  entryPoints: [join(ROOT, 'test', 'robustness', 'treeSoak.ts')], outfile: out, bundle: true, platform: 'node', target: 'node20',
  format: 'cjs', logLevel: 'warning', define: { 'import.meta.url': '__u' }, banner: { js: "const __u = require('url').pathToFileURL(__filename).href;" },
});
const { treeSoak } = await import(pathToFileURL(out).href);
const rep = await treeSoak({
  roots, mutations: Number(opt('mutations', 10000)), seed: Number(opt('seed', 1)), simulateEvery: Number(opt('simulate-every', 10)),
  slowMs: Number(opt('slow-ms', 2000)), log: json ? undefined : (s) => process.stdout.write(`${s}\n`),
});
if (json) process.stdout.write(`${JSON.stringify(rep)}\n`);
else {
  const p = (s) => process.stdout.write(`${s}\n`);
  p(`\n${rep.files} files, ${rep.lines} lines; ${rep.mutations} mutations in ${rep.seconds.toFixed(0)} s (${Object.entries(rep.byKind).map(([k, n]) => `${k} ${n}`).join(', ')})`);
  p(`escaped exceptions: ${rep.escaped.length}`); rep.escaped.slice(0, 20).forEach((e) => p(`  ${e}`));
  p(`internal errors: ${rep.internal.length} rules, ${rep.simInternal.length} simulation`); [...rep.internal, ...rep.simInternal].slice(0, 20).forEach((e) => p(`  ${e}`));
  p(`variants over 2 s: ${rep.slow.length}`); rep.slow.slice(0, 20).forEach((s) => p(`  ${s.name}: ${s.ms} ms`));
  p(`RSS: start ${rep.startRssMB.toFixed(0)} MB, peak ${rep.peakRssMB.toFixed(0)} MB`);
}
process.exit(rep.escaped.length || rep.internal.length || rep.simInternal.length ? 1 : 0);
