// Robustness (issue 7): thousands of mutated fixture variants, 5 000-deep nesting, odd and huge files through the
// analysis API, every rule, hovers, inlay hints, code lenses, simulation and incremental edits. No exception may
// escape, rules must not throw (internal errors), and each input must finish in bounded time.
// Bounded by default (well under a minute); KVM_LENS_FUZZ_LONG=1 runs ~10× more variants and the 10 MB file
// through the full analysis API.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initParser } from '../../server/src/analysis/parser';
import { DocumentStore, MAX_ANALYSED_CHARS } from '../../server/src/analysis/store';
import { byteFlips, crlf, deepNesting, deletions, fixtureSources, hugeFile, oddFiles, truncations, unbalanced, type Variant } from '../robustness/mutate';
import { exercise, type Outcome } from '../robustness/harness';

const LONG = process.env.KVM_LENS_FUZZ_LONG === '1';
const SCALE = LONG ? 10 : 1;
/**
 * Per-input bound that catches hangs and runaway (quadratic/exponential) behaviour, not speed: speed is measured by
 * `npm run bench`. Typical inputs take a few ms; 64 KiB of random bytes costs tree-sitter's error recovery ~0.3 s per
 * (re)parse, several times over with edits, and CI may share the machine.
 */
const BOUND_MS = 20000;

before(async () => { await initParser(); });

interface Failure { name: string; what: string }

/** Simulation results that report an internal error (checked by their own test below). */
const simulationInternal: Failure[] = [];

function run(variants: Variant[], opts: Parameters<typeof exercise>[2] = {}, bound = BOUND_MS): { failures: Failure[]; slowest: [string, number]; outcomes: number } {
  const failures: Failure[] = [];
  let slowest: [string, number] = ['', 0];
  for (const v of variants) {
    let o: Outcome;
    try {
      o = exercise(v.name, v.text, opts);
    } catch (e) {
      failures.push({ name: v.name, what: `harness threw: ${String(e)}` });
      continue;
    }
    for (const e of o.escaped) failures.push({ name: v.name, what: `escaped ${e}` });
    for (const e of o.internal) failures.push({ name: v.name, what: `internal error ${e}` });
    for (const e of o.simInternal) simulationInternal.push({ name: v.name, what: e });
    if (o.ms > bound) failures.push({ name: v.name, what: `took ${o.ms.toFixed(0)} ms (bound ${bound})` });
    if (o.ms > slowest[1]) slowest = [v.name, o.ms];
  }
  return { failures, slowest, outcomes: variants.length };
}

function report(label: string, r: ReturnType<typeof run>): void {
  // Group identical failure kinds so a systematic bug shows once with a count and an example.
  const groups = new Map<string, { n: number; example: string }>();
  for (const f of r.failures) {
    const key = f.what.replace(/\d+/g, 'N').slice(0, 160);
    const g = groups.get(key);
    if (g) g.n++;
    else groups.set(key, { n: 1, example: `${f.name}: ${f.what}` });
  }
  const lines = [...groups.values()].map((g) => `  ${g.n}× ${g.example}`);
  assert.equal(r.failures.length, 0, `${label}: ${r.failures.length} failures in ${r.outcomes} inputs\n${lines.join('\n')}`);
}

test('mutated fixtures: truncation at every statement, byte flips, deletions, unbalanced braces/#if, CRLF', () => {
  const variants: Variant[] = [];
  const sources = fixtureSources();
  // About 3 000 variants in all (30 000 in long mode), however many fixtures there are.
  const per = Math.max(4, Math.round((3000 * SCALE) / sources.length / 4));
  sources.forEach((src, i) => {
    variants.push(src, crlf(src));
    variants.push(...truncations(src, per));
    variants.push(...byteFlips(src, per, 100 + i));
    variants.push(...deletions(src, per, 200 + i));
    variants.push(...unbalanced(src, per, 300 + i));
  });
  assert.ok(variants.length >= 2000, `expected thousands of variants, got ${variants.length}`);
  const r = run(variants, { simulate: true, edits: LONG ? 8 : 2, hovers: 10 });
  report('mutated fixtures', r);
});

/**
 * Shapes whose cost grows with depth × size (found by this suite, reported to the owners): tree-sitter's
 * Node.parent and descendantForIndex walk down from the root, so refs.ts pays O(depth) per field reference;
 * conditions.ts pays O(n²) on 5 000-term conjunctions. The bounded suite runs them at depth 1 000; the long mode
 * at 5 000 (time bound as a todo until fixed).
 */
const QUADRATIC = new Set(['else-if', 'switch', 'and-chain', 'if-nest']);
const kind = (name: string): string => name.replace(/\d+$/, '');

test('5 000-deep nesting of every kind: no stack overflow, no exception, bounded time', () => {
  const variants = deepNesting(5000).filter((v) => !QUADRATIC.has(kind(v.name)));
  variants.push(...deepNesting(1000).filter((v) => QUADRATIC.has(kind(v.name))));
  const r = run(variants, { simulate: true, edits: 2 }, 30000); // a hang detector (speed: npm run bench)
  report('deep nesting', r);
});

test('5 000-deep quadratic shapes (long mode)', { skip: !LONG && 'set KVM_LENS_FUZZ_LONG=1' }, (t) => {
  const variants = deepNesting(5000).filter((v) => QUADRATIC.has(kind(v.name)));
  const r = run(variants, { simulate: true, edits: 1 }, 120000);
  report('deep quadratic shapes: exceptions', { ...r, failures: r.failures.filter((f) => !f.what.startsWith('took')) });
  const slow = r.failures.filter((f) => f.what.startsWith('took'));
  if (slow.length) t.todo(`slow: ${slow.map((f) => `${f.name} ${f.what}`).join('; ')}`);
});

test('odd files: empty, NUL, binary, non-UTF-8, lone surrogates, BOM, CR-only', () => {
  const r = run(oddFiles().flatMap((v) => [v, crlf(v)]), { simulate: true, edits: 5 });
  report('odd files', r);
});

test('simulation reports no internal error (stack overflow) on any input', () => {
  const groups = new Map<string, string[]>();
  for (const f of simulationInternal) groups.set(f.what.replace(/\d+/g, 'N'), [...(groups.get(f.what.replace(/\d+/g, 'N')) ?? []), f.name]);
  assert.equal(simulationInternal.length, 0, [...groups].map(([k, v]) => `${v.length}× ${k} (e.g. ${v.slice(0, 4).join(', ')})`).join('\n'));
});

test('a 10 MB file: the editor store keeps it without analysing; edits stay cheap', () => {
  const big = hugeFile(10 * 1024 * 1024);
  assert.ok(big.text.length > MAX_ANALYSED_CHARS);
  const store = new DocumentStore();
  const t0 = performance.now();
  store.open('file:///huge.c', 'c', 1, big.text);
  store.change('file:///huge.c', 2, [{ range: { start: { line: 10, character: 0 }, end: { line: 10, character: 0 } }, text: 'x' }]);
  const doc = store.analysis('file:///huge.c')!;
  assert.equal(doc.refs.length, 0);
  assert.equal(store.text('file:///huge.c')!.length, big.text.length + 1);
  // Shrinking it below the limit analyses it again.
  store.change('file:///huge.c', 3, [{ text: big.text.slice(0, 100_000) }]);
  assert.ok(store.analysis('file:///huge.c')!.refs.length > 0);
  store.close('file:///huge.c');
  assert.ok(performance.now() - t0 < 30000, `took ${performance.now() - t0} ms`);
});

test('a 10 MB file through the full analysis API (long mode)', { skip: !LONG && 'set KVM_LENS_FUZZ_LONG=1' }, () => {
  const big = hugeFile(10 * 1024 * 1024);
  const r = run([big], { simulate: false, edits: 0, hovers: 100 }, 60000);
  report('10 MB', r);
});
