// DocumentStore parses lazily (change() records edits; analysis() parses them once), and values that outlive their
// version hold detached strings (analysis/detach.ts) — the lazy path must give the same facts as the eager one.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initParser } from '../../server/src/analysis/parser';
import { LineIndex, findFunctions } from '../../server/src/analysis/document';
import { findRefs } from '../../server/src/analysis/refs';
import { DocumentStore, type ContentChange } from '../../server/src/analysis/store';
import { detachStrings, detached } from '../../server/src/analysis/detach';
import { computeDiagnostics, diagnosticSteps } from '../../server/src/features/diagnostics';
import { rng, synthFile } from '../../bench/synth.mjs';

before(async () => { await initParser(); });

const WORDS = ['x', 'vmcs12->guest_pdptr0 = ', 'vmcs_read32(GUEST_CS_SELECTOR);', '}', '{', '/*', '*/', '\n', ''];

function change(r: () => number, text: string): { c: ContentChange; next: string } {
  const lines = new LineIndex(text);
  const a = Math.floor(r() * (text.length + 1));
  const b = Math.min(text.length, a + (r() < 0.6 ? 0 : Math.floor(r() * 30)));
  const ins = WORDS[Math.floor(r() * WORDS.length)];
  return { c: { range: { start: lines.positionAt(a), end: lines.positionAt(b) }, text: ins }, next: text.slice(0, a) + ins + text.slice(b) };
}

test('edits recorded over several change() calls are parsed once, with the facts of a full analysis', () => {
  const r = rng(11);
  let text = synthFile(600, 4);
  const store = new DocumentStore();
  const uri = 'file:///lazy.c';
  store.open(uri, 'c', 1, text);
  let version = 1;
  for (let round = 0; round < 40; round++) {
    const n = 1 + Math.floor(r() * 5);
    for (let k = 0; k < n; k++) {
      const { c, next } = change(r, text);
      assert.equal(store.change(uri, ++version, [c]), 'applied');
      text = next;
      assert.equal(store.isPending(uri), true, 'change() does not parse');
      assert.equal(store.version(uri), version);
      assert.equal(store.text(uri), text);
    }
    const doc = store.analysis(uri)!;
    assert.equal(store.isPending(uri), false);
    assert.equal(doc.text, text);
    assert.deepEqual(doc.lines.starts, new LineIndex(text).starts);
    assert.deepEqual(doc.functions, findFunctions(doc.tree, doc.text));
    const strip = (rs: ReturnType<typeof findRefs>) => rs.map((x) => ({ ...x, entity: x.entity.name, accessor: x.accessor?.name }));
    assert.deepEqual(strip(doc.refs), strip(findRefs(doc.text, doc.tree)), `round ${round}: refs`);
  }
  store.close(uri);
});

test('a change with no content leaves the analysis as it is but takes the version', () => {
  const store = new DocumentStore();
  const uri = 'file:///noop.c';
  store.open(uri, 'c', 1, 'int a;\n');
  const before = store.analysis(uri);
  assert.equal(store.change(uri, 2, []), 'applied');
  assert.equal(store.version(uri), 2);
  assert.equal(store.isPending(uri), false);
  assert.equal(store.analysis(uri), before);
  store.close(uri);
});

test('diagnosticSteps yields between rules and returns what computeDiagnostics returns', () => {
  const store = new DocumentStore();
  const uri = 'file:///steps.c';
  store.open(uri, 'c', 1, synthFile(400, 9));
  const doc = store.analysis(uri)!;
  const it = diagnosticSteps(doc);
  let yields = 0;
  let r = it.next();
  while (!r.done) { yields++; r = it.next(); }
  assert.ok(yields > 1, `yields ${yields}`);
  assert.deepEqual(r.value, computeDiagnostics(doc));
  store.close(uri);
});

test('detachStrings keeps every value, key order and class instance; it reads no getter', () => {
  const long = 'a_rather_long_identifier_name';
  class Opaque { constructor(public s: string) {} }
  const op = new Opaque(long);
  let reads = 0;
  const lazy = { get n(): number { reads++; return 1; } };
  const value = {
    name: long, short: 'x', list: [long, 3, { inner: `${long}_2` }], set: new Set(['z_is_the_first_item_here', long]),
    map: new Map<string, unknown>([['k_is_the_first_key_in_map', long], [long, [long]]]), op, lazy,
  };
  const copy = structuredClone({ ...value, op: undefined, lazy: undefined });
  assert.equal(detachStrings(value), value);
  assert.deepEqual({ ...value, op: undefined, lazy: undefined }, copy);
  assert.deepEqual([...value.set], ['z_is_the_first_item_here', long]);
  assert.deepEqual([...value.map.keys()], ['k_is_the_first_key_in_map', long]);
  assert.equal(value.op, op);
  assert.equal(reads, 0);
  assert.equal(detached(long), long);
  assert.equal(detached('short'), 'short');
});
