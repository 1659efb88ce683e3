// Incremental analysis (analysis/incremental.ts via DocumentStore) must give the same facts as a full analysis
// of the same text and tree, whatever the edit: random single-character edits, deletions, pasted blocks,
// unbalanced braces and comments, multi-change didChange batches, full replacements.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { initParser } from '../../server/src/analysis/parser';
import { LineIndex, findFunctions } from '../../server/src/analysis/document';
import { findRefs } from '../../server/src/analysis/refs';
import { DocumentStore, offsetIn, type ContentChange } from '../../server/src/analysis/store';
import { cachedPerFunction, composeEnvelope, countParseErrors, fullAnalysis, lineStartsOf, patchLineStarts } from '../../server/src/analysis/incremental';
import { computeDiagnostics } from '../../server/src/features/diagnostics';
import { rng, synthFile } from '../../bench/synth.mjs';
import { ROOT } from '../paths';

before(async () => { await initParser(); });

function sources(): Array<{ name: string; text: string }> {
  const out: Array<{ name: string; text: string }> = [];
  for (const f of readdirSync(join(ROOT, 'examples'))) if (f.endsWith('.c')) out.push({ name: f, text: readFileSync(join(ROOT, 'examples', f), 'utf8') });
  out.push({ name: 'synth-800', text: synthFile(800, 3) });
  return out;
}

function positionAt(text: string, offset: number): { line: number; character: number } {
  return new LineIndex(text).positionAt(offset);
}

const SNIPPETS = ['x', ' ', '\n', '}', '{', '/*', '*/', '"', '(', ')', ';', 'vmcs_read32(GUEST_PDPTR0)', 'vmcs12->guest_pdptr1 = ',
  '\n#if 0\n', '\n#endif\n', 'svm->vmcb->control.int_ctl |= V_IRQ_MASK;\n', '\r\n', '// ', 'static void f(void) {\n', ''];

function randomChange(r: () => number, text: string): ContentChange {
  const a = Math.floor(r() * (text.length + 1));
  const del = r() < 0.5 ? 0 : Math.floor(r() * (r() < 0.9 ? 4 : 400));
  const b = Math.min(text.length, a + del);
  const ins = SNIPPETS[Math.floor(r() * SNIPPETS.length)];
  return { range: { start: positionAt(text, a), end: positionAt(text, b) }, text: ins };
}

function apply(text: string, c: ContentChange): string {
  if (!c.range) return c.text;
  const starts = lineStartsOf(text);
  const a = offsetIn(starts, text.length, c.range.start);
  const b = Math.max(a, offsetIn(starts, text.length, c.range.end));
  return text.slice(0, a) + c.text + text.slice(b);
}

function checkSame(store: DocumentStore, uri: string, expectedText: string, label: string): void {
  const doc = store.analysis(uri)!;
  assert.equal(doc.text, expectedText, `${label}: text`);
  assert.deepEqual(doc.lines.starts, new LineIndex(expectedText).starts, `${label}: line starts`);
  assert.deepEqual(doc.functions, findFunctions(doc.tree, doc.text), `${label}: functions`);
  const full = findRefs(doc.text, doc.tree);
  const strip = (rs: typeof full) => rs.map((r) => ({ ...r, entity: r.entity.name, accessor: r.accessor?.name }));
  assert.deepEqual(strip(doc.refs), strip(full), `${label}: refs`);
}

test('incremental refs/functions/lines equal a full analysis after random edits', () => {
  for (const src of sources()) {
    const r = rng(src.text.length);
    const store = new DocumentStore();
    const uri = `file:///inc/${src.name}`;
    store.open(uri, 'c', 1, src.text);
    let text = src.text;
    for (let i = 0; i < 120; i++) {
      const n = r() < 0.8 ? 1 : 2 + Math.floor(r() * 3);
      const changes: ContentChange[] = [];
      for (let k = 0; k < n; k++) {
        const c = randomChange(r, text);
        changes.push(c);
        text = apply(text, c);
      }
      store.change(uri, i + 2, changes);
      checkSame(store, uri, text, `${src.name} edit ${i}`);
    }
    // A full replacement in the middle of a batch.
    store.change(uri, 1000, [{ text: src.text }, randomChange(r, src.text)]);
    store.close(uri);
  }
});

test('stale versions and unknown documents are ignored', () => {
  const store = new DocumentStore();
  store.open('file:///a.c', 'c', 5, 'int a;\n');
  assert.equal(store.change('file:///a.c', 4, [{ text: 'int b;\n' }]), 'stale-version');
  assert.equal(store.text('file:///a.c'), 'int a;\n');
  assert.equal(store.change('file:///nope.c', 9, [{ text: 'x' }]), 'unknown-document');
  assert.equal(store.change('file:///a.c', 6, [{ range: { start: { line: 99, character: 99 }, end: { line: 120, character: 0 } }, text: 'int c;\n' }]), 'applied');
  assert.equal(store.text('file:///a.c'), 'int a;\nint c;\n');
  assert.equal(store.change('file:///a.c', 7, [{ range: { start: { line: -3, character: -1 }, end: { line: 0, character: 999 } }, text: 'long' }]), 'applied');
  assert.equal(store.text('file:///a.c'), 'long\nint c;\n');
});

test('line-start patching and envelope composition', () => {
  const r = rng(11);
  let text = 'a\nbb\n\nccc\n';
  let starts = lineStartsOf(text);
  for (let i = 0; i < 500; i++) {
    const a = Math.floor(r() * (text.length + 1));
    const b = Math.min(text.length, a + Math.floor(r() * 5));
    const ins = ['', 'x', '\n', 'y\nz', '\n\n'][Math.floor(r() * 5)];
    starts = patchLineStarts(starts, a, b, ins);
    text = text.slice(0, a) + ins + text.slice(b);
    assert.deepEqual(starts, lineStartsOf(text));
  }
  // Envelope: two edits compose to one region outside which old and new agree.
  for (let i = 0; i < 300; i++) {
    const old = 'abcdefghijklmnopqrstuvwxyz0123456789';
    let cur = old;
    let env;
    for (let k = 0; k < 3; k++) {
      const a = Math.floor(r() * (cur.length + 1));
      const b = Math.min(cur.length, a + Math.floor(r() * 4));
      const ins = 'XY'.slice(0, Math.floor(r() * 3));
      env = composeEnvelope(env, { start: a, oldEnd: b, newEnd: a + ins.length });
      cur = cur.slice(0, a) + ins + cur.slice(b);
    }
    assert.equal(cur.slice(0, env!.start), old.slice(0, env!.start));
    assert.equal(cur.slice(env!.newEnd), old.slice(env!.oldEnd));
  }
});

test('parse-error count is lazy and matches a walk of the tree', () => {
  const store = new DocumentStore();
  store.open('file:///e.c', 'c', 1, 'int f( {\n  x = ;\n}\n#if\n');
  const doc = store.analysis('file:///e.c')!;
  const n = doc.parseErrors;
  assert.ok(n > 0);
  assert.equal(n, countParseErrors(doc.tree));
});

test('cachedPerFunction reuses results of unchanged functions, shifted', () => {
  const store = new DocumentStore();
  const uri = 'file:///c.c';
  const text = 'void a(void)\n{\n\tx = 1;\n}\n\nvoid b(void)\n{\n\ty = 2;\n}\n';
  store.open(uri, 'c', 1, text);
  let computed: string[] = [];
  const run = (): Array<{ start: number; end: number }> => {
    const doc = store.analysis(uri)!;
    return doc.functions.flatMap((fn) => cachedPerFunction(doc, 'test-rule', fn, () => {
      computed.push(fn.name);
      return [{ rule: 't', severity: 'info' as const, start: fn.bodyStart, end: fn.bodyStart + 1, message: fn.name, source: '' }];
    }));
  };
  const first = run();
  assert.deepEqual(computed, ['a', 'b']);
  computed = [];
  store.change(uri, 2, [{ range: { start: { line: 2, character: 1 }, end: { line: 2, character: 1 } }, text: 'xx' }]);
  const second = run();
  assert.deepEqual(computed, ['a'], 'only the edited function is recomputed');
  const doc = store.analysis(uri)!;
  assert.equal(second[1].start, doc.functions[1].bodyStart, 'reused finding shifted to the new offset');
  assert.equal(second[1].start, first[1].start + 2);
});

// A KVM-style file where an unterminated comment typed into the first function swallows its closing braces and the
// next function, up to the comment before the last one: the last function's text is unchanged but it now parses
// inside the first one (error recovery), so its path conditions — and findings — change.
const RESHAPE = `static bool is_ext_field(unsigned long field)
{
	switch (field) {
${Array.from({ length: 12 }, (_, i) => `\tcase GUEST_FIELD_${i}:`).join('\n')}
	case GUEST_TR_SELECTOR:
		return false;
	default:
		return true;
	}
}

static void sync_rare(struct kvm_vcpu *vcpu, struct vmcs12 *vmcs12)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);

	vmcs12->guest_es_selector = vmcs_read16(GUEST_ES_SELECTOR);
	vmx->nested.need_sync = false;
}

/*
 * Update the guest state fields of vmcs12 after L2 ran.
 */
static void sync_vmcs02_to_vmcs12(struct kvm_vcpu *vcpu, struct vmcs12 *vmcs12)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);

	if (vmx->nested.need_sync)
		sync_rare(vcpu, vmcs12);

	if (enable_ept) {
		vmcs12->guest_cr3 = vmcs_readl(GUEST_CR3);
		if (nested_cpu_has_ept(vmcs12) && is_pae_paging(vcpu)) {
			vmcs12->guest_pdptr0 = vmcs_read64(GUEST_PDPTR0);
			vmcs12->guest_pdptr1 = vmcs_read64(GUEST_PDPTR1);
		}
	}
}
`;

test('per-function memos follow syntax changes: diagnostics after an edit equal a fresh analysis of the same tree', () => {
  const key = (f: { rule: string; start: number; end: number; message: string }): string => `${f.rule}@${f.start}-${f.end} ${f.message}`;
  const from = RESHAPE.indexOf('case GUEST_FIELD_0');
  const to = RESHAPE.indexOf('static void sync_rare');
  let reshaped = 0;
  for (let at = from; at < to; at += 7) {
    const store = new DocumentStore();
    const uri = 'file:///memo/nested.c';
    store.open(uri, 'c', 1, RESHAPE);
    assert.deepEqual(computeDiagnostics(store.analysis(uri)!), [], 'the guarded reads are not flagged');
    const p = positionAt(RESHAPE, at);
    store.change(uri, 2, [{ range: { start: p, end: p }, text: '/*' }]);
    const doc = store.analysis(uri)!;
    const incremental = computeDiagnostics(doc).map(key);
    const fresh = computeDiagnostics(fullAnalysis(doc.text, 'file:///fresh/nested.c', doc.tree)).map(key);
    assert.deepEqual(incremental, fresh, `"/*" typed at offset ${at}`);
    if (fresh.length) reshaped++;
  }
  assert.ok(reshaped > 0, 'some edits reshape the last function (otherwise this test checks nothing)');
});

test('edits inside a region broken by a missing brace: diagnostics equal a fresh analysis of the same tree', () => {
  // Deleting a closing brace makes the functions after it one ERROR node; a later edit inside that node makes
  // tree-sitter recover it again, which can reshape a function its changed ranges do not cover.
  const key = (f: { rule: string; start: number; end: number; message: string }): string => `${f.rule}@${f.start}-${f.end} ${f.message}`;
  const src = RESHAPE.replace('static void sync_rare', 'static void sync_rare_a(void)\n{\n\tfoo();\n}\n\nstatic void sync_rare');
  const brace = src.indexOf('}\n\nstatic void sync_rare_a');
  let compared = 0;
  for (const second of ['/*', '{', '}', 'x', ';']) {
    for (let at = brace + 2; at < src.length; at += 11) {
      const store = new DocumentStore();
      const uri = 'file:///memo/nested.c';
      store.open(uri, 'c', 1, src);
      computeDiagnostics(store.analysis(uri)!);
      const b = positionAt(src, brace);
      store.change(uri, 2, [{ range: { start: b, end: positionAt(src, brace + 1) }, text: '' }]);
      computeDiagnostics(store.analysis(uri)!);
      const text = src.slice(0, brace) + src.slice(brace + 1);
      const p = positionAt(text, at - 1);
      store.change(uri, 3, [{ range: { start: p, end: p }, text: second }]);
      const doc = store.analysis(uri)!;
      const incremental = computeDiagnostics(doc).map(key);
      const fresh = computeDiagnostics(fullAnalysis(doc.text, 'file:///fresh/nested.c', doc.tree)).map(key);
      assert.deepEqual(incremental, fresh, `brace deleted, then ${JSON.stringify(second)} typed at offset ${at - 1}`);
      compared++;
    }
  }
  assert.ok(compared > 50);
});
