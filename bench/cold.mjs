#!/usr/bin/env node
// One cold measurement in a fresh process (bench.mjs runs it as a child): `node bench/cold.mjs ROOT MODE [LIST.json]`.
//   parse     one wasm tree-sitter parse pass over the files of LIST (absolute paths)
//   analysis  one pass as `kvm-lens check` does it: parse + facts + every rule, cross-file context = all of LIST
//   native    one parse pass with the native tree-sitter binding found in $KVM_LENS_NATIVE_TS (a folder whose
//             node_modules holds tree-sitter and tree-sitter-c; never installed by kvm-lens)
//   sweep     features/simulate sweepBenchmark(10): the first call (its simulation alone, and with the analysis of its
//             generated document), then 5 more
// Prints one JSON line: { passMs, processMs (process start → end of the pass), ... }.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { loadApi } from './api.mjs';

const [root, mode, list] = process.argv.slice(2);
const files = list ? JSON.parse(readFileSync(list, 'utf8')).map((abs) => ({ abs, text: readFileSync(abs, 'utf8') })) : [];
const out = { mode };

if (mode === 'native') {
  const req = createRequire(join(process.env.KVM_LENS_NATIVE_TS ?? '/nonexistent', 'package.json'));
  const Parser = req('tree-sitter');
  const parser = new Parser();
  parser.setLanguage(req('tree-sitter-c'));
  const reps = Number(process.env.KVM_LENS_NATIVE_REPS ?? 1);
  const runs = [];
  for (let k = 0; k < reps; k++) {
    const t0 = performance.now();
    // The native binding reads JS strings through a callback in chunks; pass a large buffer size so it copies once.
    for (const f of files) parser.parse(f.text, undefined, { bufferSize: f.text.length + 1 });
    runs.push(performance.now() - t0);
  }
  out.passMs = runs[0];
  out.runs = runs;
} else {
  const api = loadApi(root);
  await api.initParser();
  if (mode === 'parse') {
    const t0 = performance.now();
    for (const f of files) api.parseC(f.text, undefined, []).delete(); // bare tree-sitter, no parse mask
    out.passMs = performance.now() - t0;
  } else if (mode === 'analysis') {
    const ctx = { files: files.map((f) => ({ path: f.abs, text: f.text })) };
    const t0 = performance.now();
    let findings = 0;
    for (const f of files) {
      const doc = api.analyzeText(f.text, `file://${f.abs}`);
      findings += api.computeDiagnostics(doc, {}, undefined, ctx).length;
      doc.tree.delete();
    }
    out.passMs = performance.now() - t0;
    out.findings = findings;
  } else if (mode === 'sweep') {
    const fn = api.simulate?.sweepBenchmark;
    if (typeof fn !== 'function') { out.passMs = null; out.note = 'features/simulate exports no sweepBenchmark()'; } else {
      let t0 = performance.now();
      const first = fn(10);
      // passMs: the sweep itself, simulateC on the analysed document (the server has analysed a document before it is
      // asked to simulate it); withAnalysisMs: the whole first call, analysing the generated document included.
      out.withAnalysisMs = performance.now() - t0;
      out.passMs = first.ms;
      out.configurations = first.configurations;
      out.lines = first.lines;
      out.warm = [];
      for (let i = 0; i < 5; i++) { t0 = performance.now(); fn(10); out.warm.push(performance.now() - t0); }
    }
  } else {
    process.stderr.write(`cold.mjs: unknown mode ${mode}\n`);
    process.exit(2);
  }
}
out.processMs = performance.now();
out.rssMB = process.memoryUsage().rss / 1048576;
process.stdout.write(`${JSON.stringify(out)}\n`);
