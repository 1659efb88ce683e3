#!/usr/bin/env node
// kvm-lens benchmark (prints numbers; not a test). `npm run bench [-- --json] [-- --corpus DIR]`.
//
// Measures what users meet, and prints each figure with its method:
// - throughput on the whole arch/x86 and on arch/x86/kvm: the wasm tree-sitter parse alone and the full analysis as
//   `kvm-lens check` runs it (parse + facts + every rule, cross-file rule context = every file checked), each cold (a
//   fresh process, first pass) and warm (in process, median of --reps after a warm-up pass); the `kvm-lens check`
//   process itself (wall clock); optionally a native tree-sitter parse ($KVM_LENS_NATIVE_TS, see bench/README.md);
// - through the real server started on the kernel tree with the default settings: indexing, RSS at start / after
//   --edits single-character edits / after a GC, hover latency, didChange → publishDiagnostics per edit, and bursts
//   of --burst-keys keystrokes --burst-gap ms apart → diagnostics of the last keystroke;
// - the 2^10-configuration simulation sweep, cold (first call in a fresh process) and warm.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { percentile } from './lsp-client.mjs';
import { buildApi, loadApi } from './api.mjs';
import { lineCount, loadCorpora, pickTarget } from './corpus.mjs';
import { serverRun, posAt } from './server-run.mjs';
import { rng } from './synth.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : dflt;
};
const JSON_OUT = args.includes('--json');
const HOVERS = Number(opt('hovers', 10000));
const EDITS = Number(opt('edits', 10000));
const BURSTS = Number(opt('bursts', 40));
const BURST_KEYS = Number(opt('burst-keys', 6));
const BURST_GAP = Number(opt('burst-gap', 30));
const IDLE_MS = Number(opt('idle', 12)) * 1000;
const REPS = Number(opt('reps', 3));
const SERVER = join(ROOT, 'dist', 'server.js');
const CLI = join(ROOT, 'dist', 'cli.js');
const NATIVE = process.env.KVM_LENS_NATIVE_TS || '';
/** --parts throughput,server,sweep (default: all) — to iterate on one part; the README figures use all. */
const PARTS = new Set(opt('parts', 'throughput,server,sweep').split(','));
const log = (s) => { if (!JSON_OUT) process.stdout.write(`${s}\n`); };
const progress = (s) => { process.stderr.write(`\r\x1b[K${s}`); };
const fmt = (n, d = 1) => (typeof n === 'number' && Number.isFinite(n) ? n.toFixed(d) : 'n/a');
const median = (a) => { const s = a.filter((x) => typeof x === 'number').sort((x, y) => x - y); return s.length ? s[Math.floor(s.length / 2)] : null; };
const min = (a) => { const s = a.filter((x) => typeof x === 'number'); return s.length ? Math.min(...s) : null; };

/** A fresh `node bench/cold.mjs` process; its JSON line, or { error }. */
function child(mode, list, env = {}) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bench', 'cold.mjs'), ROOT, mode, ...(list ? [list] : [])], {
    encoding: 'utf8', maxBuffer: 1 << 24, env: { ...process.env, ...env },
  });
  try { return JSON.parse(r.stdout.trim().split('\n').pop()); } catch { return { error: (r.stderr || r.stdout || `exit ${r.status}`).trim().split('\n').slice(-3).join(' | ') }; }
}

/** `kvm-lens check DIR` as a process, wall clock (it exits 1 when it finds something; that is fine). */
function checkProcess(dir) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [CLI, 'check', dir, '--format', 'json'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const ms = performance.now() - t0;
  let findings = null;
  try { findings = JSON.parse(r.stdout).length; } catch { /* reported as n/a */ }
  return { ms, status: r.status, findings };
}

function parsePass(api, files) {
  let total = 0;
  for (const f of files) {
    const t0 = performance.now();
    api.parseC(f.text, undefined, []).delete(); // bare tree-sitter: no parse mask (analysis/parseMask.ts is analysis work)
    total += performance.now() - t0;
  }
  return total;
}

/** As `kvm-lens check` does it: analyzeText + every rule with the cross-file context of all files checked. */
function analysisPass(api, files, ctx, perFile) {
  let total = 0;
  for (const f of files) {
    const t0 = performance.now();
    const doc = api.analyzeText(f.text, `file://${f.abs}`);
    api.computeDiagnostics(doc, {}, undefined, ctx);
    doc.tree.delete();
    const ms = performance.now() - t0;
    total += ms;
    if (perFile) perFile.set(f.path, Math.min(perFile.get(f.path) ?? Infinity, ms));
  }
  return total;
}

function throughput(api, label, set) {
  const { files } = set;
  const list = join(ROOT, 'out', 'bench', `files-${label}.json`);
  writeFileSync(list, JSON.stringify(files.map((f) => f.abs)));
  const lines = files.reduce((n, f) => n + lineCount(f.text), 0);
  const out = { label, dir: set.dir, files: files.length, lines };
  progress(`bench: ${label}: cold processes`);
  out.coldParse = child('parse', list);
  out.coldAnalysis = child('analysis', list);
  out.check = checkProcess(set.dir);
  if (NATIVE) out.native = child('native', list, { KVM_LENS_NATIVE_TS: NATIVE, KVM_LENS_NATIVE_REPS: String(REPS + 1) });
  const ctx = { files: files.map((f) => ({ path: f.abs, text: f.text })) };
  progress(`bench: ${label}: warm-up`);
  analysisPass(api, files, ctx);
  const parse = [];
  const analysis = [];
  const perFile = new Map();
  for (let i = 0; i < REPS; i++) {
    progress(`bench: ${label}: round ${i + 1}/${REPS}`);
    parse.push(parsePass(api, files));
    analysis.push(analysisPass(api, files, ctx, perFile));
  }
  progress('');
  out.parse = { median: median(parse), min: min(parse) };
  out.analysis = { median: median(analysis), min: min(analysis) };
  out.ratio = out.analysis.median / out.parse.median;
  out.ratioCold = out.coldAnalysis.passMs / out.coldParse.passMs;
  if (out.native?.runs) {
    const warm = out.native.runs.slice(1);
    out.nativeParse = { cold: out.native.runs[0], median: median(warm), min: min(warm) };
    out.ratioNative = out.analysis.median / out.nativeParse.median;
  }
  const [slowPath, slowMs] = [...perFile.entries()].sort((a, b) => b[1] - a[1])[0] ?? ['-', 0];
  out.slowest = { path: slowPath, ms: slowMs, lines: lineCount(files.find((f) => f.path === slowPath)?.text ?? '') };
  return out;
}

function printThroughput(t) {
  log(`${t.label.padEnd(6)} ${t.dir}: ${t.files} files, ${t.lines} lines`);
  log(`  parse     warm ${fmt(t.parse.median, 0)} ms (min ${fmt(t.parse.min, 0)})   cold ${fmt(t.coldParse.passMs, 0)} ms   (wasm tree-sitter, all files; warm = median of ${REPS} in process after a warm-up; cold = first pass in a fresh process)`);
  log(`  analysis  warm ${fmt(t.analysis.median, 0)} ms (min ${fmt(t.analysis.min, 0)})   cold ${fmt(t.coldAnalysis.passMs, 0)} ms   (as kvm-lens check: parse + facts + every rule, cross-file context = all ${t.files} files)`);
  log(`  ratio     warm ${fmt(t.ratio, 2)}×   cold ${fmt(t.ratioCold, 2)}×   (full analysis / wasm parse)`);
  if (t.nativeParse) log(`  native    warm ${fmt(t.nativeParse.median, 0)} ms (min ${fmt(t.nativeParse.min, 0)})   cold ${fmt(t.nativeParse.cold, 0)} ms   analysis/native ${fmt(t.ratioNative, 2)}×   (native tree-sitter + tree-sitter-c from ${NATIVE})`);
  else if (t.native?.error) log(`  native    n/a (${t.native.error})`);
  log(`  check     ${fmt(t.check.ms, 0)} ms   (\`kvm-lens check ${t.dir}\` as a process, wall clock: node start, read, analyse, print; ${t.check.findings ?? '?'} findings)`);
  log(`  slowest   ${t.slowest.path} ${fmt(t.slowest.ms)} ms (${t.slowest.lines} lines)`);
}

function measureHoverApi(api, target, n) {
  const store = new api.DocumentStore();
  const uri = `file://${target.abs}`;
  store.open(uri, 'c', 1, target.text);
  const doc = store.analysis(uri);
  const starts = doc.lines.starts;
  const r = rng(1234);
  const times = [];
  for (let i = 0; i < n; i++) {
    let off;
    if (i % 2 === 0 && doc.refs.length) { const ref = doc.refs[Math.floor(r() * doc.refs.length)]; off = ref.start + Math.floor(r() * (ref.end - ref.start)); } else off = Math.floor(r() * doc.text.length);
    const pos = posAt(starts, off);
    const t0 = performance.now();
    const h = api.hoverAt(doc, api.offsetIn(starts, doc.text.length, pos));
    if (h) { doc.lines.positionAt(h.start); doc.lines.positionAt(h.end); }
    times.push(performance.now() - t0);
  }
  store.close(uri);
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99) };
}

/** In-process breakdown of an edit: DocumentStore.change (incremental parse + re-analysis) vs all rules. */
function measureEditApi(api, target, positions) {
  const store = new api.DocumentStore();
  const uri = `file://${target.abs}`;
  store.open(uri, 'c', 1, target.text);
  api.computeDiagnostics(store.analysis(uri), {});
  const er = rng(7);
  const change = [];
  const rules = [];
  let version = 1;
  for (let i = 0; i < positions; i++) {
    const doc = store.analysis(uri);
    const st = doc.lines.starts;
    const line = 1 + Math.floor(er() * (st.length - 2));
    const lineLen = (st[line + 1] ?? doc.text.length + 1) - 1 - st[line];
    const ch = Math.floor(er() * (lineLen + 1));
    for (const kind of ['insert', 'delete']) {
      const range = kind === 'insert' ? { start: { line, character: ch }, end: { line, character: ch } } : { start: { line, character: ch }, end: { line, character: ch + 1 } };
      let t = performance.now();
      store.change(uri, ++version, [{ range, text: kind === 'insert' ? 'x' : '' }]);
      change.push(performance.now() - t);
      t = performance.now();
      api.computeDiagnostics(store.analysis(uri), {});
      rules.push(performance.now() - t);
    }
  }
  store.close(uri);
  change.sort((a, b) => a - b);
  rules.sort((a, b) => a - b);
  return { changeP50: percentile(change, 50), changeP95: percentile(change, 95), rulesP50: percentile(rules, 50), rulesP95: percentile(rules, 95) };
}

function sweep() {
  const runs = [0, 1, 2, 3, 4].map(() => child('sweep'));
  const ok = runs.filter((r) => typeof r.passMs === 'number');
  if (!ok.length) return { cold: null, warm: null, note: runs[0]?.note ?? runs[0]?.error ?? 'failed' };
  return {
    cold: median(ok.map((r) => r.passMs)), coldMin: min(ok.map((r) => r.passMs)), warm: median(ok.flatMap((r) => r.warm)),
    coldWithAnalysis: median(ok.map((r) => r.withAnalysisMs)),
    note: `${ok[0].configurations} configurations, ${ok[0].lines}-line region`,
  };
}

async function main() {
  if (!existsSync(SERVER) || !existsSync(CLI)) {
    process.stderr.write('bench: dist/server.js or dist/cli.js is missing — run `node esbuild.mjs` (npm run bench does)\n');
    process.exit(2);
  }
  mkdirSync(join(ROOT, 'out', 'bench'), { recursive: true });
  await buildApi(ROOT);
  const api = loadApi(ROOT);
  await api.initParser();
  let corpora;
  try { corpora = loadCorpora(process.env.KVM_LENS_BENCH_CORPUS || opt('corpus', '')); } catch (e) { process.stderr.write(`bench: ${e.message}\n`); process.exit(2); }
  const cpu = cpus();
  const machine = { node: process.version, os: `${process.platform} ${process.arch}`, cpus: cpu.length, cpu: cpu[0]?.model ?? null, memGB: Math.round(totalmem() / 2 ** 30), load: loadavg().map((x) => Number(x.toFixed(2))), date: new Date().toISOString() };
  log(`kvm-lens bench — ${machine.date}, node ${machine.node}, ${machine.os}, ${machine.cpus} CPU (${machine.cpu ?? '?'}), ${machine.memGB} GB, load ${machine.load.join(' ')}`);

  const none = { parse: {}, analysis: {}, coldParse: {}, coldAnalysis: {}, check: {}, slowest: {} };
  const whole = PARTS.has('throughput') ? throughput(api, 'whole', corpora.whole) : { ...none, label: 'whole' };
  if (PARTS.has('throughput')) printThroughput(whole);
  const kvm = corpora.kvm && PARTS.has('throughput') ? throughput(api, 'kvm', corpora.kvm) : undefined;
  if (kvm) printThroughput(kvm);

  const target = pickTarget(corpora.whole.files);
  progress('bench: in-process hovers and edits');
  const hoverApi = measureHoverApi(api, target, HOVERS);
  const editApi = measureEditApi(api, target, 200);
  progress('');
  const srv = PARTS.has('server') ? await serverRun({
    server: SERVER, root: corpora.serverRoot, include: corpora.serverInclude, target, hovers: HOVERS, edits: EDITS,
    bursts: BURSTS, burstKeys: BURST_KEYS, burstGapMs: BURST_GAP, idleMs: IDLE_MS, progress,
  }) : { hover: {}, edit: {}, burst: {}, rssTrailMB: [] };
  const sw = PARTS.has('sweep') ? sweep() : { cold: null, warm: null, note: 'skipped' };
  const tl = lineCount(target.text);
  log(`server     root ${corpora.serverRoot}, index ${corpora.serverInclude ? corpora.serverInclude.join(' ') : 'default globs'}: ${srv.indexedFiles} files in ${fmt(srv.indexMs, 0)} ms (worker thread); target ${target.path} (${tl} lines) first diagnostics ${fmt(srv.openMs, 0)} ms`);
  log(`hover      p50 ${fmt(srv.hover.p50, 3)} ms  p99 ${fmt(srv.hover.p99, 3)} ms   (through the server, request → response, ${HOVERS} hovers; in process p99 ${fmt(hoverApi.p99, 3)} ms)`);
  log(`edit       p50 ${fmt(srv.edit.p50, 2)} ms  p95 ${fmt(srv.edit.p95, 2)} ms  max ${fmt(srv.edit.max, 0)} ms   (didChange → publishDiagnostics, ${srv.edit.n} one-character edits, each awaited; in process: change p95 ${fmt(editApi.changeP95, 2)} ms, rules p95 ${fmt(editApi.rulesP95, 2)} ms)`);
  log(`burst      p50 ${fmt(srv.burst.p50, 1)} ms  p95 ${fmt(srv.burst.p95, 1)} ms  max ${fmt(srv.burst.max, 0)} ms   (${srv.burst.n} bursts of ${srv.burst.keys} keys ${srv.burst.gapMs} ms apart, each key followed by a code-action request that the next key cancels; last key → its diagnostics; ${srv.burst.stalePublishes} stale publishes)`);
  log(`rss        start ${fmt(srv.rssStartMB, 0)} MB   after ${srv.edit.n} edits ${fmt(srv.rssAfterEditsMB, 0)} MB (busy)   ${fmt((srv.idleMs ?? 0) / 1000, 0)} s idle after them ${fmt(srv.rssIdleMB, 0)} MB   after GC ${fmt(srv.rssAfterGcMB, 0)} MB   peak ${fmt(srv.rssPeakMB, 0)} MB   (server RSS; start = indexed + target open; idle: V8's memory reducer has run)`);
  log(`retained   start ${fmt(srv.retainedStartMB, 1)} MB   end ${fmt(srv.retainedEndMB, 1)} MB   (${fmt((srv.retainedEndMB / srv.retainedStartMB - 1) * 100, 1)} %; heap used + external after a forced GC)   rss every 1000 edits: ${srv.rssTrailMB.join(' ')}`);
  log(`sweep      cold ${fmt(sw.cold, 0)} ms (min ${fmt(sw.coldMin, 0)}; ${fmt(sw.coldWithAnalysis, 0)} ms with the analysis of the document)   warm ${fmt(sw.warm, 0)} ms   (features/simulate sweepBenchmark(10), ${sw.note}; cold = simulateC in the first call in a fresh process, median of 5 processes; warm = median of the next 5 calls)`);

  const rssGrowth = (srv.rssIdleMB ?? srv.rssAfterEditsMB) / srv.rssStartMB - 1;
  const retainedGrowth = srv.retainedEndMB / srv.retainedStartMB - 1;
  const checks = [
    ['ratio', whole.ratio <= 1.2, `whole arch/x86 warm ratio ${fmt(whole.ratio, 2)} ≤ 1.2`],
    ['edit', srv.edit.p95 <= 10, `edit p95 ${fmt(srv.edit.p95, 1)} ≤ 10 ms`],
    ['burst', srv.burst.p95 <= 30, `burst p95 ${fmt(srv.burst.p95, 1)} ≤ 30 ms`],
    ['hover', srv.hover.p99 <= 3, `hover p99 ${fmt(srv.hover.p99, 2)} ≤ 3 ms`],
    ['rss', srv.rssStartMB <= 150, `rss indexed ${fmt(srv.rssStartMB, 0)} ≤ 150 MB`],
    ['sweep', typeof sw.cold === 'number' && sw.cold <= 100 && sw.warm <= 100, `sweep cold ${fmt(sw.cold, 0)} / warm ${fmt(sw.warm, 0)} ≤ 100 ms`],
    ['memory', Math.abs(rssGrowth) <= 0.1 && Math.abs(retainedGrowth) <= 0.1, `rss ${srv.rssIdleMB !== undefined ? 'idle ' : ''}after edits ${fmt(rssGrowth * 100, 0)} %, retained ${fmt(retainedGrowth * 100, 1)} % of start (±10 %)`],
  ];
  log(`targets    ${checks.map(([, ok, what]) => `${what} ${ok ? 'ok' : 'MISSED'}`).join('; ')}`);

  if (JSON_OUT) {
    const r = (n, d = 3) => (typeof n === 'number' && Number.isFinite(n) ? Number(n.toFixed(d)) : null);
    const tp = (t) => t && ({
      dir: t.dir, files: t.files, lines: t.lines, parseMs: r(t.parse.median, 1), parseMinMs: r(t.parse.min, 1), analysisMs: r(t.analysis.median, 1), analysisMinMs: r(t.analysis.min, 1),
      ratio: r(t.ratio), coldParseMs: r(t.coldParse.passMs, 1), coldAnalysisMs: r(t.coldAnalysis.passMs, 1), ratioCold: r(t.ratioCold), checkProcessMs: r(t.check.ms, 0),
      nativeParseMs: r(t.nativeParse?.median, 1), ratioNative: r(t.ratioNative), slowestFile: t.slowest.path, slowestMs: r(t.slowest.ms, 1),
    });
    process.stdout.write(`${JSON.stringify({
      corpus: corpora.name, synthetic: corpora.synthetic,
      ratio: r(whole.ratio), ratioCold: r(whole.ratioCold), ratioNative: r(whole.ratioNative), parseMs: r(whole.parse.median, 1), analysisMs: r(whole.analysis.median, 1),
      checkProcessMs: r(whole.check.ms, 0), whole: tp(whole), kvm: tp(kvm) ?? null,
      hoverP50Ms: r(srv.hover.p50), hoverP99Ms: r(srv.hover.p99), hoverApiP99Ms: r(hoverApi.p99),
      editP50Ms: r(srv.edit.p50), editP95Ms: r(srv.edit.p95), editMaxMs: r(srv.edit.max, 1), edits: srv.edit.n,
      editChangeP95Ms: r(editApi.changeP95), editRulesP95Ms: r(editApi.rulesP95),
      burstP50Ms: r(srv.burst.p50, 1), burstP95Ms: r(srv.burst.p95, 1), burstMaxMs: r(srv.burst.max, 1), bursts: srv.burst.n, burstKeys: srv.burst.keys, burstGapMs: srv.burst.gapMs, burstStalePublishes: srv.burst.stalePublishes,
      rssMB: r(srv.rssStartMB, 1), rssAfterEditsMB: r(srv.rssAfterEditsMB, 1), rssIdleMB: r(srv.rssIdleMB, 1), rssAfterGcMB: r(srv.rssAfterGcMB, 1), rssPeakMB: r(srv.rssPeakMB, 1), rssTrailMB: srv.rssTrailMB,
      retainedStartMB: r(srv.retainedStartMB, 1), retainedEndMB: r(srv.retainedEndMB, 1),
      indexMs: r(srv.indexMs, 0), indexedFiles: srv.indexedFiles, openMs: r(srv.openMs, 0), hoverFile: target.path,
      sweepMs: r(sw.cold, 1), sweepWithAnalysisMs: r(sw.coldWithAnalysis, 1), sweepWarmMs: r(sw.warm, 1), sweepNote: sw.note,
      targets: Object.fromEntries(checks.map(([k, ok]) => [k, ok])), machine,
    })}\n`);
  }
}

main().catch((e) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
