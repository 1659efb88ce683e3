// analysis/docMemo.ts: per-function values spliced through the edits, segment scans and substring counts of an open
// document must equal what a from-scratch computation gives on the same version — and the per-function work must
// be limited to the functions the edit touched.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initParser } from '../../server/src/analysis/parser';
import { LineIndex, analyzeText, type DocumentAnalysis } from '../../server/src/analysis/document';
import { functionRoles } from '../../server/src/analysis/roles';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../paths';
import { DocumentStore } from '../../server/src/analysis/store';
import { docHas, functionsWhere, perFunctionValues, scanSegments } from '../../server/src/analysis/docMemo';
import { rng, synthFile } from '../../bench/synth.mjs';

before(async () => { await initParser(); });

const NEEDLES = ['vmcs12', 'GUEST_PDPTR', 'int_ctl', 'x', 'zz_not_there', 'nested.ctl', '}\n'];
const SNIPPETS = ['x', 'zz_not_there', '\n', '}', '{', '/*', '*/', 'vmcs12->guest_pdptr1 = ', 'int_ctl', '#if 0\n', '#endif\n', ''];

/** What the memoised helpers must return, computed from scratch on the document's text. */
function fresh(doc: DocumentAnalysis): { lens: string; has: boolean[]; scan: number[]; where: string[] } {
  return {
    lens: doc.functions.map((f) => `${f.name}:${f.start}:${f.bodyEnd - f.bodyStart}`).join(','),
    has: NEEDLES.map((n) => doc.text.includes(n)),
    scan: [...doc.text.matchAll(/\bvmcs12\b/g)].map((m) => m.index!),
    where: doc.functions.filter((f) => doc.text.slice(f.bodyStart, f.bodyEnd).includes('int_ctl')).map((f) => f.name),
  };
}

test('docHas, perFunctionValues, functionsWhere and scanSegments equal a fresh computation after random edits', () => {
  const r = rng(17);
  const store = new DocumentStore();
  const uri = 'file:///kvm/vmx/nested.c';
  let text = synthFile(600, 5);
  store.open(uri, 'c', 1, text);
  let computed = 0;
  let recomputed = 0;
  let visited = 0;
  for (let i = 0; i < 150; i++) {
    const doc = store.analysis(uri)!;
    computed = 0;
    const lens = perFunctionValues(doc, 'test:lens', (fn) => { computed++; return `${fn.name}:${fn.bodyEnd - fn.bodyStart}`; }, () => false,
      (v) => v).map(({ fn, value }) => `${value.split(':')[0]}:${fn.start}:${value.split(':')[1]}`).join(',');
    const want = fresh(doc);
    assert.equal(lens, want.lens, `edit ${i}: per-function values`);
    assert.deepEqual(NEEDLES.map((n) => docHas(doc, n)), want.has, `edit ${i}: docHas`);
    assert.deepEqual(scanSegments(doc, 'test:vmcs12', (t, from, to) => [...t.slice(from, to).matchAll(/\bvmcs12\b/g)].map((m) => ({ index: from + m.index! })))
      .map((m) => m.index), want.scan, `edit ${i}: scanSegments`);
    assert.deepEqual(functionsWhere(doc, 'test:int_ctl', (_, body) => body.includes('int_ctl')).map((f) => f.name), want.where, `edit ${i}: functionsWhere`);
    if (i > 0) { recomputed += computed; visited += doc.functions.length; }
    // The next edit: a snippet at a random place, sometimes replacing a few characters.
    const a = Math.floor(r() * text.length);
    const b = Math.min(text.length, a + (r() < 0.5 ? 0 : Math.floor(r() * 5)));
    const ins = SNIPPETS[Math.floor(r() * SNIPPETS.length)];
    const lines = new LineIndex(text);
    store.change(uri, i + 2, [{ range: { start: lines.positionAt(a), end: lines.positionAt(b) }, text: ins }]);
    text = text.slice(0, a) + ins + text.slice(b);
  }
  // Random snippets pile up unbalanced braces and comments (a function inside a broken region is recomputed with it):
  // still far fewer than every function each time.
  assert.ok(recomputed < visited / 2, `${recomputed} of ${visited} per-function values recomputed in 149 edits`);
});

test('typing inside a function recomputes that function only', () => {
  const r = rng(23);
  const store = new DocumentStore();
  const uri = 'file:///kvm/vmx/nested.c';
  let text = synthFile(600, 7);
  store.open(uri, 'c', 1, text);
  let recomputed = 0;
  let edits = 0;
  for (let i = 0; i < 120; i++) {
    const doc = store.analysis(uri)!;
    let computed = 0;
    perFunctionValues(doc, 'test:typing', (fn) => { computed++; return fn.name; }, () => false, (v) => v);
    if (i > 0) { recomputed += computed; edits++; }
    // A letter appended to an identifier inside a function body, then removed again.
    const fn = doc.functions[Math.floor(r() * doc.functions.length)];
    const body = text.slice(fn.bodyStart, fn.bodyEnd);
    const m = /[A-Za-z_]\w*/g;
    const ids = [...body.matchAll(m)];
    const id = ids[Math.floor(r() * ids.length)];
    const at = fn.bodyStart + id.index! + id[0].length;
    const lines = new LineIndex(text);
    if (i % 2 === 0) {
      store.change(uri, i + 2, [{ range: { start: lines.positionAt(at), end: lines.positionAt(at) }, text: 'q' }]);
      text = text.slice(0, at) + 'q' + text.slice(at);
    } else {
      const q = text.lastIndexOf('q', at);
      store.change(uri, i + 2, [{ range: { start: lines.positionAt(q), end: lines.positionAt(q + 1) }, text: '' }]);
      text = text.slice(0, q) + text.slice(q + 1);
    }
  }
  assert.ok(recomputed / edits <= 1.5, `${recomputed} per-function values recomputed in ${edits} edits`);
});

test('outside a DocumentStore the helpers just compute', () => {
  const store = new DocumentStore();
  store.open('file:///a.c', 'c', 1, 'static void f(void)\n{\n\tint_ctl = 1;\n}\n');
  const doc = store.analysis('file:///a.c')!;
  const copy = { ...doc };
  assert.equal(docHas(copy, 'int_ctl'), true);
  assert.equal(docHas(copy, 'vmcs12'), false);
  assert.deepEqual(functionsWhere(copy, 'k', (_, body) => body.includes('int_ctl')).map((f) => f.name), ['f']);
});

test('function roles of an open document follow edits to calls, names, static, exit tables and function pointers', () => {
  const base = readFileSync(join(ROOT, 'test/fixtures/rules/vmcs-undefined-read/exit-info-handlers.c'), 'utf8');
  // Edits that change what the roles are computed from (and some that do not).
  const edits: Array<[string, string]> = [
    ['log_linear(vcpu);', 'log_linearx(vcpu);'], ['log_linearx(vcpu);', 'log_linear(vcpu);'],
    ['static void log_linear', 'void log_linear'], ['void log_linear', 'static void log_linear'],
    ['return 1;\n}', 'return 1;\n}\nstatic void *p = log_linear;\n'], ['static void *p = log_linear;\n', ''],
    ['{\n        log_linear(vcpu);', '{\n        u32 x = 0;\n        log_linear(vcpu);'],
    ['static int handle_io(', 'static int handle_iox('], ['static int handle_iox(', 'static int handle_io('],
    ['[EXIT_REASON_', '[EXIT_REASONX_'], ['[EXIT_REASONX_', '[EXIT_REASON_'],
  ];
  const store = new DocumentStore();
  const uri = 'file:///kvm/vmx/vmx.c';
  let text = base;
  store.open(uri, 'c', 1, text);
  const show = (d: DocumentAnalysis): string => [...functionRoles(d)].map(([k, v]) => `${k}:${v.kind}:${v.via}:${(v.exitReasons ?? []).join('/')}`).sort().join('\n');
  let v = 1;
  const seen = new Set<string>();
  for (let round = 0; round < 2; round++) {
    for (const [from, to] of edits) {
      const a = text.indexOf(from);
      if (a < 0) continue;
      const lines = new LineIndex(text);
      store.change(uri, ++v, [{ range: { start: lines.positionAt(a), end: lines.positionAt(a + from.length) }, text: to }]);
      text = text.slice(0, a) + to + text.slice(a + from.length);
      const doc = store.analysis(uri)!;
      const fresh = analyzeText(text, uri);
      assert.equal(show(doc), show(fresh), `after ${JSON.stringify(from)} -> ${JSON.stringify(to)}`);
      seen.add(show(doc));
      fresh.tree.delete();
    }
  }
  assert.ok(seen.size >= 4, `the edits change the roles (${seen.size} distinct role maps)`);
});
