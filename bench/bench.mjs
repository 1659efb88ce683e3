#!/usr/bin/env node
// kvm-lens benchmark (prints numbers; not a test). `npm run bench [-- --json]`.
//
// Corpus: $KVM_LENS_BENCH_CORPUS — a kernel tree's arch/x86 (its kvm/ and include/asm/ are used), a kernel root
// (arch/x86/kvm + arch/x86/include/asm) or any folder (every .c/.h) — else a synthetic KVM-style corpus generated
// by bench/synth.mjs (≥ 100k lines, four nested.c-sized files) and written to a temporary folder.
//
// Reports: raw tree-sitter parse time of all files; full analysis time (parse + facts + all rules, as
// `kvm-lens check` and the server do it); their ratio; the slowest file; hover latency p50/p99 over 10 000 hovers on
// a ~7 000-line file (in process and through the server); didChange→publishDiagnostics p50/p95 for
// single-character edits at 200 positions through the real server process; indexing time and RSS of the server
// after indexing the corpus; the time of a 2^10-configuration simulation sweep (features/simulate
// sweepBenchmark(10); "n/a" if it is missing). Options: --json, --corpus DIR, --hovers N, --edits N, --reps N.
import { build } from 'esbuild';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Lsp, percentile } from './lsp-client.mjs';
import { synthCorpus } from './synth.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : dflt;
};
const JSON_OUT = args.includes('--json');
const HOVERS = Number(opt('hovers', 10000));
const EDIT_POSITIONS = Number(opt('edits', 200));
const REPS = Number(opt('reps', 3));
const SERVER = join(ROOT, 'dist', 'server.js');
const log = (s) => { if (!JSON_OUT) process.stdout.write(`${s}\n`); };
const progress = (s) => { process.stderr.write(`\r\x1b[K${s}`); };
const fmt = (n, d = 1) => (typeof n === 'number' && Number.isFinite(n) ? n.toFixed(d) : 'n/a');

// ---- the in-process API (bundled from the sources, so the benchmark sees exactly what the server runs) ----
async function loadApi() {
  const simIndex = join(ROOT, 'server/src/features/simulate/index.ts');
  const entry = [
    "export { initParser, parseC } from '../../server/src/analysis/parser';",
    "export { DocumentStore, offsetIn } from '../../server/src/analysis/store';",
    "export { fullAnalysis, newCaches } from '../../server/src/analysis/incremental';",
    "export { computeDiagnostics } from '../../server/src/features/diagnostics';",
    "export { hoverAt } from '../../server/src/features/hover';",
    existsSync(simIndex) ? "export * as simulate from '../../server/src/features/simulate/index';" : 'export const simulate = undefined;',
  ].join('\n');
  const dir = join(ROOT, 'out', 'bench');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'entry.ts'), entry);
  const shim = "const __kvmLensImportMetaUrl = require('url').pathToFileURL(__filename).href;";
  await build({
    entryPoints: [join(dir, 'entry.ts')], outfile: join(dir, 'api.js'), bundle: true, platform: 'node', target: 'node20', format: 'cjs',
    define: { 'import.meta.url': '__kvmLensImportMetaUrl' }, banner: { js: shim }, logLevel: 'error',
  });
  return createRequire(import.meta.url)(join(dir, 'api.js'));
}

// ---- corpus ----
function walk(dir, out = []) {
  let entries;
  try { entries = readdirSync(dir, { withFileTypes: true }); } catch { return out; }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.isFile() && /\.[ch]$/.test(e.name)) out.push(p);
  }
  return out;
}

function loadCorpus() {
  const env = process.env.KVM_LENS_BENCH_CORPUS || opt('corpus', '');
  if (env) {
    const dir = resolve(env);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      process.stderr.write(`bench: KVM_LENS_BENCH_CORPUS=${env} is not a directory\n`);
      process.exit(2);
    }
    let parts;
    if (existsSync(join(dir, 'kvm')) && existsSync(join(dir, 'include', 'asm'))) parts = ['kvm', 'include/asm'];
    else if (existsSync(join(dir, 'arch/x86/kvm'))) parts = ['arch/x86/kvm', 'arch/x86/include/asm'];
    else parts = [''];
    const files = parts.flatMap((p) => walk(join(dir, p))).sort();
    return {
      name: `${dir}${parts[0] ? ` (${parts.join(' + ')})` : ''}`, root: dir, synthetic: false,
      include: parts.map((p) => (p ? `${p}/**/*.{c,h}` : '**/*.{c,h}')),
      files: files.map((f) => ({ path: relative(dir, f).split(sep).join('/'), text: readFileSync(f, 'utf8') })),
    };
  }
  const files = synthCorpus();
  const root = join(tmpdir(), 'kvm-lens-bench-synth');
  rmSync(root, { recursive: true, force: true });
  for (const f of files) {
    mkdirSync(dirname(join(root, f.path)), { recursive: true });
    writeFileSync(join(root, f.path), f.text);
  }
  return { name: `synthetic (bench/synth.mjs, seed 42) in ${root}`, root, synthetic: true, include: ['kvm/**/*.{c,h}'], files };
}

const lineCount = (t) => { let n = 1; for (let i = t.indexOf('\n'); i >= 0; i = t.indexOf('\n', i + 1)) n++; return t.endsWith('\n') ? n - 1 : n; };
const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };

/** The hover/edit target: vmx/nested.c if present, else the file closest to 7 000 lines. */
function pickTarget(files) {
  const nested = files.find((f) => /(^|\/)vmx\/nested\.c$/.test(f.path));
  if (nested) return nested;
  return [...files].sort((a, b) => Math.abs(lineCount(a.text) - 7000) - Math.abs(lineCount(b.text) - 7000))[0];
}

function lineStarts(text) {
  const s = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) s.push(i + 1);
  return s;
}
function posAt(starts, off) {
  let lo = 0; let hi = starts.length - 1;
  while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (starts[mid] <= off) lo = mid; else hi = mid - 1; }
  return { line: lo, character: off - starts[lo] };
}
function rng(seed) {
  let a = seed >>> 0;
  return () => { a = (a + 0x6d2b79f5) >>> 0; let t = a; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
}

// ---- measurements ----
function measureParse(api, files) {
  let total = 0;
  for (const f of files) {
    const t0 = performance.now();
    const tree = api.parseC(f.text);
    total += performance.now() - t0;
    tree.delete();
  }
  return total;
}

function measureAnalysis(api, files, perFile) {
  let total = 0;
  for (const f of files) {
    const t0 = performance.now();
    const tree = api.parseC(f.text);
    const doc = api.fullAnalysis(f.text, `file:///${f.path}`, tree);
    api.computeDiagnostics(doc, {});
    const ms = performance.now() - t0;
    total += ms;
    if (perFile) perFile.set(f.path, Math.min(perFile.get(f.path) ?? Infinity, ms));
    tree.delete();
  }
  return total;
}

function hoverOffsets(doc, n) {
  // Half on field references (the expensive path: a card is built), half anywhere.
  const r = rng(1234);
  const out = [];
  for (let i = 0; i < n; i++) {
    if (i % 2 === 0 && doc.refs.length) {
      const ref = doc.refs[Math.floor(r() * doc.refs.length)];
      out.push(ref.start + Math.floor(r() * (ref.end - ref.start)));
    } else out.push(Math.floor(r() * doc.text.length));
  }
  return out;
}

function measureHoverApi(api, target, n) {
  const store = new api.DocumentStore();
  const uri = `file:///${target.path}`;
  store.open(uri, 'c', 1, target.text);
  const doc = store.analysis(uri);
  const starts = doc.lines.starts;
  const offs = hoverOffsets(doc, n);
  const times = [];
  let hits = 0;
  for (const off of offs) {
    const pos = posAt(starts, off);
    const t0 = performance.now();
    const o = api.offsetIn(starts, doc.text.length, pos);
    const h = api.hoverAt(doc, o);
    if (h) { hits++; doc.lines.positionAt(h.start); doc.lines.positionAt(h.end); }
    times.push(performance.now() - t0);
  }
  store.close(uri);
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99), hits, n };
}

/** In-process breakdown of an edit: DocumentStore.change (incremental parse + re-analysis) vs all rules. */
function measureEditApi(api, target, positions) {
  const store = new api.DocumentStore();
  const uri = `file:///${target.path}`;
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

async function serverRun(corpus, target) {
  const lsp = new Lsp(SERVER);
  const out = {};
  try {
    const rootUri = pathToFileURL(corpus.root).href;
    const statusDone = lsp.next((m) => m.method === 'kvmLens/status' && m.params && m.params.busy === false, 300000, 'indexing');
    const t0 = performance.now();
    await lsp.initialize(rootUri, { index: { include: corpus.include } });
    const status = await statusDone;
    out.indexMs = performance.now() - t0;
    out.indexStatus = status.params.tooltip;
    const st0 = (await lsp.request('kvmLens/serverStats')).result;
    out.indexedFiles = st0.indexedFiles;

    const uri = pathToFileURL(join(corpus.root, target.path)).href;
    let version = 1;
    const opened = lsp.next((m) => m.method === 'textDocument/publishDiagnostics' && m.params.uri === uri, 60000, 'first diagnostics');
    lsp.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'c', version, text: target.text } });
    await opened;
    const st1 = (await lsp.request('kvmLens/serverStats')).result;
    out.rssMB = st1.rss / 1048576;
    out.rssPeakMB = st1.maxRss / 1048576;

    // Hovers through the server.
    const starts = lineStarts(target.text);
    const r = rng(99);
    const hoverTimes = [];
    const refsLike = [];
    const re = /\b(GUEST_[A-Z0-9_]+|VM_EXIT_[A-Z_]+|EXIT_QUALIFICATION|int_ctl|guest_pdptr\d|V_IRQ_MASK|vmcs_read\d+|vmcs_write\d+)\b/g;
    for (let m; (m = re.exec(target.text)) !== null;) refsLike.push(m.index + 1);
    for (let i = 0; i < HOVERS; i++) {
      const off = i % 2 === 0 && refsLike.length ? refsLike[Math.floor(r() * refsLike.length)] : Math.floor(r() * target.text.length);
      const t = performance.now();
      await lsp.request('textDocument/hover', { textDocument: { uri }, position: posAt(starts, off) });
      hoverTimes.push(performance.now() - t);
      if (i % 500 === 0) progress(`bench: hover ${i}/${HOVERS}`);
    }
    hoverTimes.sort((a, b) => a - b);
    out.hoverLsp = { p50: percentile(hoverTimes, 50), p99: percentile(hoverTimes, 99) };

    // didChange → publishDiagnostics for single-character edits: insert at 200 positions, each then undone.
    let text = target.text;
    const editTimes = [];
    const er = rng(7);
    for (let i = 0; i < EDIT_POSITIONS; i++) {
      const st = lineStarts(text);
      const line = 1 + Math.floor(er() * (st.length - 2));
      const lineLen = (st[line + 1] ?? text.length + 1) - 1 - st[line];
      const ch = Math.floor(er() * (lineLen + 1));
      for (const kind of ['insert', 'delete']) {
        version++;
        const range = kind === 'insert'
          ? { start: { line, character: ch }, end: { line, character: ch } }
          : { start: { line, character: ch }, end: { line, character: ch + 1 } };
        const newText = kind === 'insert' ? 'x' : '';
        const v = version;
        const got = lsp.next((m) => m.method === 'textDocument/publishDiagnostics' && m.params.uri === uri && m.params.version === v, 30000, `diagnostics v${v}`);
        const t = performance.now();
        lsp.notify('textDocument/didChange', { textDocument: { uri, version: v }, contentChanges: [{ range, text: newText }] });
        await got;
        editTimes.push(performance.now() - t);
        const off = st[line] + ch;
        text = kind === 'insert' ? text.slice(0, off) + 'x' + text.slice(off) : text.slice(0, off) + text.slice(off + 1);
      }
      if (i % 20 === 0) progress(`bench: edit ${i}/${EDIT_POSITIONS}`);
    }
    progress('');
    editTimes.sort((a, b) => a - b);
    out.edit = { p50: percentile(editTimes, 50), p95: percentile(editTimes, 95), max: editTimes[editTimes.length - 1], n: editTimes.length };
    const st2 = (await lsp.request('kvmLens/serverStats')).result;
    out.rssEndMB = st2.rss / 1048576;
  } finally {
    await lsp.close();
  }
  return out;
}

/** features/simulate sweepBenchmark(n): a ~100-line region over n independent predicates (2^n configurations). */
function measureSweep(api) {
  const sim = api.simulate;
  const fn = sim && (typeof sim.sweepBenchmark === 'function' ? sim.sweepBenchmark : typeof sim.benchSweep === 'function' ? sim.benchSweep : undefined);
  if (!fn) return { ms: null, note: 'n/a (features/simulate exports no sweepBenchmark())' };
  try {
    fn(4); // warm-up
    const runs = [];
    let last;
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      last = fn(10);
      runs.push(typeof last?.ms === 'number' ? last.ms : performance.now() - t0);
    }
    const n = typeof last?.configurations === 'number' ? last.configurations : undefined;
    return { ms: median(runs), note: `${n ?? '?'} configurations${last?.lines ? `, ${last.lines}-line region` : ''}, median of 3` };
  } catch (e) {
    return { ms: null, note: `failed: ${e instanceof Error ? e.message : String(e)}` };
  }
}

async function main() {
  if (!existsSync(SERVER)) {
    process.stderr.write('bench: dist/server.js is missing — run `node esbuild.mjs` (npm run bench does)\n');
    process.exit(2);
  }
  const api = await loadApi();
  await api.initParser();
  const corpus = loadCorpus();
  const files = corpus.files;
  const lines = files.reduce((n, f) => n + lineCount(f.text), 0);
  const cpu = cpus();
  log(`kvm-lens bench — node ${process.version}, ${process.platform} ${process.arch}, ${cpu.length} CPU (${cpu[0]?.model ?? '?'}), ${Math.round(totalmem() / 2 ** 30)} GB`);
  log(`corpus     ${corpus.name}: ${files.length} files, ${lines} lines`);

  progress('bench: warm-up');
  measureAnalysis(api, files);
  const parseRuns = [];
  const analysisRuns = [];
  const perFile = new Map();
  for (let i = 0; i < REPS; i++) {
    progress(`bench: parse/analysis round ${i + 1}/${REPS}`);
    parseRuns.push(measureParse(api, files));
    analysisRuns.push(measureAnalysis(api, files, perFile));
  }
  progress('');
  const parseMs = median(parseRuns);
  const analysisMs = median(analysisRuns);
  const ratio = analysisMs / parseMs;
  const [slowPath, slowMs] = [...perFile.entries()].sort((a, b) => b[1] - a[1])[0] ?? ['-', 0];
  const slowLines = lineCount(files.find((f) => f.path === slowPath)?.text ?? '');
  log(`parse      ${fmt(parseMs)} ms   (tree-sitter, all files, median of ${REPS})`);
  log(`analysis   ${fmt(analysisMs)} ms   (parse + facts + all rules, median of ${REPS})   ratio ${fmt(ratio, 2)}`);
  log(`slowest    ${slowPath}  ${fmt(slowMs)} ms (${slowLines} lines)`);

  const target = pickTarget(files);
  const targetLines = lineCount(target.text);
  progress('bench: hovers (API)');
  const hoverApi = measureHoverApi(api, target, HOVERS);
  progress('');
  log(`hover      p50 ${fmt(hoverApi.p50, 3)} ms  p99 ${fmt(hoverApi.p99, 3)} ms   (in process, ${HOVERS} hovers on ${target.path}, ${targetLines} lines, ${hoverApi.hits} with a card)`);

  progress('bench: edits (API)');
  const editApi = measureEditApi(api, target, EDIT_POSITIONS);
  progress('');
  log(`edit/api   change p50 ${fmt(editApi.changeP50, 2)} p95 ${fmt(editApi.changeP95, 2)} ms (incremental parse + re-analysis); rules p50 ${fmt(editApi.rulesP50, 2)} p95 ${fmt(editApi.rulesP95, 2)} ms (all rules, whole document)`);
  const srv = await serverRun(corpus, target);
  log(`hover/lsp  p50 ${fmt(srv.hoverLsp.p50, 3)} ms  p99 ${fmt(srv.hoverLsp.p99, 3)} ms   (through the server, request → response)`);
  log(`edit       p50 ${fmt(srv.edit.p50, 2)} ms  p95 ${fmt(srv.edit.p95, 2)} ms  max ${fmt(srv.edit.max, 1)} ms   (didChange → publishDiagnostics, ${srv.edit.n} single-character edits at ${EDIT_POSITIONS} positions)`);
  log(`index      ${srv.indexedFiles} files in ${fmt(srv.indexMs, 0)} ms (worker thread; ${srv.indexStatus})`);
  log(`rss        ${fmt(srv.rssMB, 0)} MB after indexing + opening the target (peak ${fmt(srv.rssPeakMB, 0)} MB; ${fmt(srv.rssEndMB, 0)} MB after the edits)`);

  const sweep = measureSweep(api);
  log(`sweep      ${sweep.ms === null ? 'n/a' : `${fmt(sweep.ms)} ms`}   (2^10-configuration simulation sweep${sweep.note ? `; ${sweep.note}` : ''})`);

  const checks = [
    ['ratio', ratio <= 1.5, `ratio ${fmt(ratio, 2)} ≤ 1.5`],
    ['tree', corpus.synthetic || analysisMs <= 2000, `analysis ${fmt(analysisMs, 0)} ms ≤ 2000 (real tree)`],
    ['edit', srv.edit.p95 <= 25, `edit p95 ${fmt(srv.edit.p95, 1)} ≤ 25 ms`],
    ['hover', Math.max(hoverApi.p99, srv.hoverLsp.p99) <= 3, `hover p99 ≤ 3 ms`],
    ['rss', srv.rssMB <= 200, `rss ${fmt(srv.rssMB, 0)} ≤ 200 MB`],
    ['sweep', sweep.ms === null ? null : sweep.ms <= 300, 'sweep ≤ 300 ms'],
  ];
  log(`targets    ${checks.map(([k, ok]) => `${k} ${ok === null ? 'n/a' : ok ? 'ok' : 'MISSED'}`).join(', ')}`);

  if (JSON_OUT) {
    const round = (n, d = 3) => (typeof n === 'number' && Number.isFinite(n) ? Number(n.toFixed(d)) : null);
    process.stdout.write(`${JSON.stringify({
      corpus: corpus.name, synthetic: corpus.synthetic, files: files.length, lines,
      parseMs: round(parseMs, 1), analysisMs: round(analysisMs, 1), ratio: round(ratio, 3),
      slowestFile: slowPath, slowestMs: round(slowMs, 1),
      hoverFile: target.path, hoverLines: targetLines,
      hoverP50Ms: round(hoverApi.p50), hoverP99Ms: round(hoverApi.p99),
      hoverLspP50Ms: round(srv.hoverLsp.p50), hoverLspP99Ms: round(srv.hoverLsp.p99),
      editP50Ms: round(srv.edit.p50), editP95Ms: round(srv.edit.p95), editMaxMs: round(srv.edit.max), edits: srv.edit.n,
      editChangeP50Ms: round(editApi.changeP50), editChangeP95Ms: round(editApi.changeP95), editRulesP50Ms: round(editApi.rulesP50), editRulesP95Ms: round(editApi.rulesP95),
      indexMs: round(srv.indexMs, 0), indexedFiles: srv.indexedFiles,
      rssMB: round(srv.rssMB, 1), rssPeakMB: round(srv.rssPeakMB, 1), rssAfterEditsMB: round(srv.rssEndMB, 1),
      sweepMs: round(sweep.ms, 1), sweepNote: sweep.note,
      targets: Object.fromEntries(checks.map(([k, ok]) => [k, ok])),
      machine: { node: process.version, cpus: cpu.length, cpu: cpu[0]?.model ?? null, memGB: Math.round(totalmem() / 2 ** 30) },
    })}\n`);
  }
}

main().catch((e) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
