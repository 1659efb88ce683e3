// analysis/docMemo.ts: per-function values spliced through the edits, segment scans and substring counts of an open
// document must equal what a from-scratch computation gives on the same version — and the per-function work must
// be limited to the functions the edit touched.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initParser } from '../../server/src/analysis/parser';
import { LineIndex, type DocumentAnalysis } from '../../server/src/analysis/document';
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
  // An unterminated comment or #if can change every function after it; most edits touch one or two.
  assert.ok(recomputed / 149 < 2, `${recomputed} of ${visited} per-function values recomputed in 149 edits`);
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
