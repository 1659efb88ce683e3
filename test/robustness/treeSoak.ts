// In-process soak over a real kernel tree (issue 17): every .c/.h under the given directories, mutated N times in
// all (round-robin over the files, so each file is hit N / files times), each variant run through every surface
// (analysis, rules, hovers, inlay hints, code lenses, simulation, incremental edits — harness.ts). Reports escaped
// exceptions, internal errors (rules or simulator), variants slower than 2 s and the peak RSS. Not part of `npm test`:
// run `node scripts/tree-soak.mjs --tree /path/to/linux/arch/x86/kvm [--mutations 10000]`.
import { describe, exercise } from './harness';
import { asmInserts, byteFlips, deletions, lineDeletions, truncations, unbalanced, type Variant } from './mutate';
import { initParser } from '../../server/src/analysis/parser';
import { readSourceFile, walkTree } from '../../server/src/workspace/fsaccess';

export interface SoakOptions { roots: string[]; mutations: number; seed: number; simulateEvery: number; slowMs: number; log?: (s: string) => void }

export interface SoakReport {
  files: number; lines: number; mutations: number; seconds: number;
  escaped: string[]; internal: string[]; simInternal: string[];
  slow: Array<{ name: string; ms: number }>; peakRssMB: number; startRssMB: number; byKind: Record<string, number>;
}

const KINDS = ['truncation', 'byte-flip', 'deletion', 'line-deletion', 'unbalanced', 'asm'] as const;

function mutate(src: Variant, kind: typeof KINDS[number], seed: number): Variant {
  switch (kind) {
    case 'truncation': { const all = truncations(src, 40); return all[seed % all.length]; }
    case 'byte-flip': return byteFlips(src, 1, seed)[0];
    case 'deletion': return deletions(src, 1, seed)[0];
    case 'line-deletion': return lineDeletions(src, 1, seed)[0];
    case 'unbalanced': return unbalanced(src, 1, seed)[0];
    case 'asm': return asmInserts(src, 1, seed)[0];
  }
}

export async function treeSoak(o: SoakOptions): Promise<SoakReport> {
  await initParser();
  const sources: Variant[] = [];
  for (const root of o.roots) {
    walkTree(root, {
      file: ({ path, name }) => {
        if (!/\.[ch]$/.test(name)) return;
        const r = readSourceFile(path);
        if (r.ok) sources.push({ name: path.slice(root.length + 1) || name, text: r.text });
      },
    });
  }
  if (!sources.length) throw new Error(`no .c or .h files under ${o.roots.join(', ')}`);
  const rep: SoakReport = {
    files: sources.length, lines: sources.reduce((n, s) => n + s.text.split('\n').length, 0), mutations: 0, seconds: 0,
    escaped: [], internal: [], simInternal: [], slow: [], peakRssMB: 0, startRssMB: process.memoryUsage().rss / 1048576, byKind: {},
  };
  const t0 = performance.now();
  for (let i = 0; i < o.mutations; i++) {
    const src = sources[i % sources.length];
    const kind = KINDS[Math.floor(i / sources.length) % KINDS.length];
    const v = mutate(src, kind, o.seed + i);
    const out = exercise(v.name, v.text, { simulate: i % o.simulateEvery === 0, edits: 2, hovers: 5 });
    rep.mutations++;
    rep.byKind[kind] = (rep.byKind[kind] ?? 0) + 1;
    rep.escaped.push(...out.escaped.map((e) => `${v.name}: ${e}`));
    rep.internal.push(...out.internal.map((e) => `${v.name}: ${e}`));
    rep.simInternal.push(...out.simInternal.map((e) => `${v.name}: ${e}`));
    if (out.ms > o.slowMs) rep.slow.push({ name: v.name, ms: Math.round(out.ms) });
    const rss = process.memoryUsage().rss / 1048576;
    if (rss > rep.peakRssMB) rep.peakRssMB = rss;
    if (o.log && (i + 1) % 250 === 0) {
      o.log(`${i + 1}/${o.mutations} mutations, ${((performance.now() - t0) / 1000).toFixed(0)} s, rss ${rss.toFixed(0)} MB, escaped ${rep.escaped.length}, internal ${rep.internal.length + rep.simInternal.length}, slow ${rep.slow.length}`);
    }
  }
  rep.seconds = (performance.now() - t0) / 1000;
  return rep;
}

export { describe };
