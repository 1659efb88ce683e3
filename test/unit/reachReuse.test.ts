// Typing inside a function: the path exploration is carried over from the previous version where the edit lies
// inside a leaf statement or a comment between statements (analysis/reachReuse.ts), and references are found again
// only in the statements around the edit (incremental.ts refRescanRange). Both must give exactly what a fresh
// analysis of the same text gives, and the carrying over must happen where it may and only there.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initParser } from '../../server/src/analysis/parser';
import { DocumentStore } from '../../server/src/analysis/store';
import { functionReach } from '../../server/src/analysis/conditions';
import { reachReuseStats } from '../../server/src/analysis/reachReuse';
import { computeDiagnostics } from '../../server/src/features/diagnostics';
import type { DocumentAnalysis } from '../../server/src/analysis/document';

before(async () => { await initParser(); });

// KVM-style code written for this test: a prepare_vmcs02-like function with guards, an early exit, a goto and
// leaf statements of every kind the reuse looks at.
const SOURCE = `static int prepare_vmcs02(struct kvm_vcpu *vcpu, struct vmcs12 *vmcs12, bool from_vmentry)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);
	bool load_pdptrs = false;

	if (vmx->nested.dirty_vmcs12) {
		prepare_vmcs02_rare(vmx, vmcs12);
		vmx->nested.dirty_vmcs12 = false;
		load_pdptrs = true;
	}

	/*
	 * The PDPTRs are loaded from vmcs12 only when L1 uses EPT and the
	 * guest is in PAE paging.
	 */
	vmcs_writel(GUEST_CR3, vmcs12->guest_cr3);
	kvm_set_dr(vcpu, 7, vmcs12->guest_dr7);
	if (!from_vmentry)
		goto out;

	if (load_pdptrs && nested_cpu_has_ept(vmcs12) && is_pae_paging(vcpu)) {
		vmcs_write64(GUEST_PDPTR0, vmcs12->guest_pdptr0);
		vmcs_write64(GUEST_PDPTR1, vmcs12->guest_pdptr1);
	}
	vmcs_write64(GUEST_PDPTR2, vmcs12->guest_pdptr2);
	vmx->nested.pre_vmenter_debugctl = vmcs_read64(GUEST_IA32_DEBUGCTL);
out:
	vmcs_write64(GUEST_PDPTR3, vmcs12->guest_pdptr3);
	return 0;
}
`;

interface Edit { what: string; at: string; offset: number; text: string; reuse: boolean }

/** Insert `text` at `offset` characters into the first occurrence of `at`. */
const EDITS: Edit[] = [
  { what: 'an argument of a call', at: 'vmcs12->guest_cr3', offset: 9, text: 'x', reuse: true },
  { what: 'a block comment between statements', at: 'only when L1', offset: 5, text: 'really ', reuse: true },
  { what: 'the value of a member assignment', at: 'vmcs_read64(GUEST_IA32_DEBUGCTL)', offset: 5, text: 'x', reuse: true },
  { what: 'a call after the goto', at: 'guest_pdptr3', offset: 3, text: 'y', reuse: true },
  { what: 'an if condition', at: 'is_pae_paging(vcpu)', offset: 3, text: 'x', reuse: false },
  { what: 'a local assignment (a definition conditions read)', at: 'load_pdptrs = true', offset: 15, text: 'ru', reuse: false },
  { what: 'a goto', at: 'goto out', offset: 8, text: '2', reuse: false },
  { what: 'a statement made a syntax error', at: '\tkvm_set_dr', offset: 1, text: 'x ', reuse: false },
];

function fresh(text: string): DocumentAnalysis {
  const s = new DocumentStore();
  s.open('file:///fresh.c', 'c', 1, text);
  return s.analysis('file:///fresh.c')!;
}

function reachOf(doc: DocumentAnalysis): unknown {
  return doc.functions.map((fn) => functionReach(doc, fn));
}

for (const e of EDITS) {
  test(`an edit in ${e.what} ${e.reuse ? 'carries' : 'does not carry'} the exploration over, and both agree with a fresh analysis`, () => {
    const store = new DocumentStore();
    const uri = 'file:///work/prepare.c';
    store.open(uri, 'c', 1, SOURCE);
    const doc0 = store.analysis(uri)!;
    computeDiagnostics(doc0, {});
    reachOf(doc0);
    const offset = SOURCE.indexOf(e.at);
    assert.ok(offset >= 0, e.at);
    const pos = doc0.lines.positionAt(offset + e.offset);
    const before = reachReuseStats.reused;
    store.change(uri, 2, [{ range: { start: pos, end: pos }, text: e.text }]);
    const doc = store.analysis(uri)!;
    const reach = reachOf(doc);
    assert.equal(reachReuseStats.reused - before, e.reuse ? 1 : 0, 'carried over');
    const full = fresh(doc.text);
    assert.deepEqual(reach, reachOf(full));
    assert.deepEqual(doc.refs, full.refs);
    assert.deepEqual(computeDiagnostics(doc, {}), computeDiagnostics(full, {}));
    // and back: the deletion is an edit in the same place
    const end = doc.lines.positionAt(offset + e.offset + e.text.length);
    store.change(uri, 3, [{ range: { start: pos, end }, text: '' }]);
    const back = store.analysis(uri)!;
    assert.equal(back.text, SOURCE);
    assert.deepEqual(reachOf(back), reachOf(fresh(SOURCE)));
    assert.deepEqual(back.refs, fresh(SOURCE).refs);
  });
}

test('a run of edits inside leaf statements keeps agreeing with fresh analyses, and carries the exploration over each time', () => {
  const store = new DocumentStore();
  const uri = 'file:///work/run.c';
  store.open(uri, 'c', 1, SOURCE);
  reachOf(store.analysis(uri)!);
  let text = SOURCE;
  const before = reachReuseStats.reused;
  let version = 1;
  const base = SOURCE.indexOf('vmcs12->guest_dr7') + 8; // inside `guest_dr7`, which only grows
  for (let k = 0; k < 12; k++) {
    const at = base + (k % 5);
    const doc = store.analysis(uri)!;
    const pos = doc.lines.positionAt(at);
    store.change(uri, ++version, [{ range: { start: pos, end: pos }, text: 'q' }]);
    text = text.slice(0, at) + 'q' + text.slice(at);
    const now = store.analysis(uri)!;
    assert.equal(now.text, text);
    assert.deepEqual(reachOf(now), reachOf(fresh(text)));
  }
  assert.equal(reachReuseStats.reused - before, 12);
});
