// SVM rules (int-ctl-writeback, vmsave-redundant, msr-passthrough-sync, vmcb-clean-bits) on marker fixtures, plus
// the mask folding of analysis/masks.ts.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initParser } from '../../server/src/analysis/parser';
import { analyzeText } from '../../server/src/analysis/document';
import { analyzeMasks } from '../../server/src/analysis/masks';
import { formulaToString, satisfiable } from '../../server/src/analysis/conditions';
import { ruleById } from '../../server/src/features/diagnostics';
import { checkFixture, fixtureFiles, runFixture } from './fixtures-helper';
import { FIXTURES } from '../paths';

const RULE_IDS = ['int-ctl-writeback', 'vmsave-redundant', 'msr-passthrough-sync', 'vmcb-clean-bits'];

before(async () => { await initParser(); });

test('the four SVM rules are registered with warning severity', () => {
  for (const id of RULE_IDS) {
    const r = ruleById(id);
    assert.ok(r, id);
    assert.equal(r.defaultSeverity, 'warning');
  }
});

for (const id of RULE_IDS) {
  const files = fixtureFiles(id);
  test(`${id}: has positive and negative fixtures`, () => {
    assert.ok(files.length >= 2, `${id} fixtures`);
    const texts = files.map((f) => readFileSync(f, 'utf8'));
    assert.ok(texts.some((t) => /expect:\s*[a-z-]*\b/.test(t) && t.includes(`expect: ${id}`)), 'a positive fixture');
    assert.ok(texts.some((t) => t.includes(`expect-none: ${id}`)), 'a negative fixture');
  });
  for (const f of files) {
    test(`${id}: ${f.split('/').pop()}`, () => {
      const found = checkFixture(f, id);
      for (const x of found) {
        assert.match(x.message, /\[.*(APM|SDM).*\]/, 'message cites its source');
        assert.ok(x.source.length > 0);
      }
    });
  }
}

function fnMasks(src: string, name: string) {
  const doc = analyzeText(src);
  const fn = doc.functions.find((f) => f.name === name);
  assert.ok(fn, name);
  return analyzeMasks(doc, fn);
}

test('masks: folding |=, &= ~ and conditions (seed 002 before)', () => {
  const src = readFileSync(join(FIXTURES, 'rules', 'int-ctl-writeback', 'seed002-before.c'), 'utf8');
  const ma = fnMasks(src, 'nested_sync_int_ctl_from_vmcb02');
  const mask = ma.masks.get('mask');
  assert.ok(mask);
  assert.equal(formulaToString(mask.get('V_TPR')!), 'true');
  assert.equal(mask.get('V_INTR_MASKING')!.kind, 'false');
  // V_GIF only under nested_vgif
  const gif = mask.get('V_GIF')!;
  assert.equal(satisfiable(gif, new Map([['nested_vgif', false]])), false);
  assert.equal(satisfiable(gif, new Map([['nested_vgif', true]])), true);
  // V_IRQ removed when L1 does not use V_INTR_MASKING and L0 intercepts VINTR
  const irq = mask.get('V_IRQ')!;
  assert.equal(satisfiable(irq, new Map([['intercept:VINTR', true], ['int_ctl:V_INTR_MASKING@vmcb12-cache', false]])), false);
  assert.equal(satisfiable(irq, new Map([['intercept:VINTR', false]])), true);
  // one copy: vmcb (svm->vmcb) → vmcb12
  assert.equal(ma.copies.length, 1);
  assert.equal(ma.copies[0].destination, 'vmcb12');
  assert.equal(ma.copies[0].source, 'vmcb');
});

test('masks: two destinations and a zero-initialised mask (seed 002 after)', () => {
  const src = readFileSync(join(FIXTURES, 'rules', 'int-ctl-writeback', 'seed002-after.c'), 'utf8');
  const ma = fnMasks(src, 'nested_sync_int_ctl_from_vmcb02');
  const dsts = ma.copies.map((c) => `${c.source}->${c.destination}`).sort();
  // the kept bits come from the cached controls (`svm->nested.ctl.int_ctl & ~mask`)
  assert.deepEqual(dsts, ['vmcb02->vmcb01', 'vmcb02->vmcb12', 'vmcb12-cache->vmcb12']);
  const to01 = ma.copies.find((c) => c.destination === 'vmcb01')!;
  for (const [, f] of to01.copied) assert.equal(f.kind, 'false', 'l2_to_l0_mask stays empty');
  const to12 = ma.copies.find((c) => c.destination === 'vmcb12' && c.source === 'vmcb02')!;
  assert.equal(satisfiable(to12.copied.get('V_IRQ')!, new Map([['int_ctl:V_INTR_MASKING@vmcb12-cache', false]])), false);
});

test('masks: numeric literals and whole-register copies', () => {
  const ma = fnMasks(`static void f(struct vcpu_svm *svm, struct vmcb *vmcb12) {
  u32 mask = 0x100 | 0x0f;
  struct vmcb *vmcb02 = svm->nested.vmcb02.ptr;
  vmcb12->control.int_ctl = (vmcb12->control.int_ctl & ~mask) | (vmcb02->control.int_ctl & mask);
  svm->nested.ctl.int_ctl = vmcb02->control.int_ctl;
}`, 'f');
  const m = ma.masks.get('mask')!;
  assert.equal(formulaToString(m.get('V_IRQ')!), 'true');
  assert.equal(formulaToString(m.get('V_TPR')!), 'true');
  assert.equal(m.get('V_GIF')!.kind, 'false');
  assert.equal(ma.copies.length, 2);
  assert.equal(ma.copies[1].whole, true);
  assert.equal(ma.copies[1].destination, 'vmcb12-cache');
});

test('int-ctl-writeback names the offending bits', () => {
  const f = join(FIXTURES, 'rules', 'int-ctl-writeback', 'whole-copy.c');
  const { findings } = runFixture(f, 'int-ctl-writeback');
  assert.equal(findings.length, 1);
  assert.match(findings[0].message, /V_INTR_MASKING/);
  assert.match(findings[0].message, /V_IGN_TPR/);
  assert.match(findings[0].message, /does not write on #VMEXIT/);
});

test('vmsave-redundant names each covered item and relates the VMSAVE', () => {
  const f = join(FIXTURES, 'rules', 'vmsave-redundant', 'seed003-v1-patch.c');
  const { findings, text } = runFixture(f, 'vmsave-redundant');
  const loop = findings.find((x) => x.message.includes('host_save_user_msrs'));
  assert.ok(loop);
  for (const m of ['MSR_STAR', 'MSR_LSTAR', 'MSR_CSTAR', 'MSR_SYSCALL_MASK', 'MSR_KERNEL_GS_BASE', 'MSR_FS_BASE', 'MSR_IA32_SYSENTER_CS']) {
    assert.ok(loop.message.includes(m), m);
  }
  assert.ok(!loop.message.includes('MSR_TSC_AUX'), 'TSC_AUX is not VMSAVE state');
  assert.equal(loop.related?.length, 1);
  assert.equal(text.slice(loop.related![0].start, loop.related![0].end), 'vmsave');
});

test('vmsave-redundant resolves an MSR array defined in another file of the run', () => {
  const f = join(FIXTURES, 'rules', 'vmsave-redundant', 'seed003-merged.c');
  const header = 'static const u32 host_save_user_msrs[] = {\n\tMSR_STAR, MSR_LSTAR,\n};\n';
  const text = readFileSync(f, 'utf8').replace(/static const u32 host_save_user_msrs\[\] = \{[^}]*\};/, 'extern const u32 host_save_user_msrs[];');
  const doc = analyzeText(text);
  const rule = ruleById('vmsave-redundant')!;
  assert.equal(rule.run(doc).length, 0, 'array unknown: no finding');
  const withHeader = rule.run(doc, { files: [{ path: 'svm.h', text: header }, { path: 'svm.c', text }] });
  assert.equal(withHeader.length, 1);
  assert.match(withHeader[0].message, /MSR_STAR, MSR_LSTAR/);
});

test('msr-passthrough-sync: a sync in another file of the run satisfies it (seed 004 with its x86.c hunk)', () => {
  const f = join(FIXTURES, 'rules', 'msr-passthrough-sync', 'seed004-no-sync.c');
  const text = readFileSync(f, 'utf8');
  const doc = analyzeText(text);
  const rule = ruleById('msr-passthrough-sync')!;
  assert.equal(rule.run(doc).length, 3);
  const x86 = 'static int vcpu_enter_guest(struct kvm_vcpu *vcpu)\n{\n\tif (vcpu->arch.xfd_out_of_sync)\n\t\txfd_sync_state();\n\treturn 0;\n}\n';
  assert.equal(rule.run(doc, { files: [{ path: 'vmx.c', text }, { path: 'x86.c', text: x86 }] }).length, 0);
});

test('msr-passthrough-sync: the xfd_no_write_intercept contract is checked once the run loop is in view', () => {
  const f = join(FIXTURES, 'rules', 'msr-passthrough-sync', 'mainline-contract.c');
  const text = readFileSync(f, 'utf8');
  const doc = analyzeText(text);
  const rule = ruleById('msr-passthrough-sync')!;
  assert.equal(rule.run(doc).length, 0);
  const x86NoSync = 'static int vcpu_enter_guest(struct kvm_vcpu *vcpu)\n{\n\treturn 0;\n}\n';
  const found = rule.run(doc, { files: [{ path: 'vmx.c', text }, { path: 'x86.c', text: x86NoSync }] });
  assert.equal(found.length, 2);
  assert.match(found[0].message, /run loop is in view/);
});

test('vmcb-clean-bits: marking in another file of a tree run is found', () => {
  const helper = 'static void svm_write_dr7(struct vcpu_svm *svm, unsigned long v)\n{\n\tsvm->vmcb->save.dr7 = v;\n}\n';
  const caller = 'void svm_sync_dirty_debug_regs(struct kvm_vcpu *vcpu)\n{\n\tsvm_write_dr7(to_svm(vcpu), 0);\n\tvmcb_mark_dirty(to_svm(vcpu)->vmcb, VMCB_DR);\n}\n';
  const rule = ruleById('vmcb-clean-bits')!;
  const doc = analyzeText(helper);
  assert.equal(rule.run(doc).length, 1, 'alone: static, no caller → flagged');
  assert.equal(rule.run(doc, { files: [{ path: 'a.c', text: helper }, { path: 'b.c', text: caller }] }).length, 0);
});
