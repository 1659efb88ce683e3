import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  VMX_EXIT_REASONS, SVM_EXIT_CODES, MSRS, INSTRUCTIONS, ACCESSORS, VMSAVE_STATE, allEntities, entityForIdentifier, findEntity,
  suggestNames, findExitReason, INSTRUCTION_BY_NAME,
} from '../../server/src/model/index';

test('VMX basic exit reasons 0..85 with Linux names', () => {
  assert.deepEqual(VMX_EXIT_REASONS.map((e) => e.code), Array.from({ length: 86 }, (_, i) => i));
  const byName = (n: string) => VMX_EXIT_REASONS.find((e) => e.name === n)?.code;
  assert.equal(byName('EXIT_REASON_CR_ACCESS'), 28);
  assert.equal(byName('EXIT_REASON_EPT_VIOLATION'), 48);
  assert.equal(byName('EXIT_REASON_OTHER_SMI'), 6);
  assert.equal(byName('EXIT_REASON_SIPI_SIGNAL'), 4);
  assert.equal(byName('EXIT_REASON_MSR_WRITE_IMM'), 85);
  assert.equal(byName('EXIT_REASON_NOTIFY'), 75);
  assert.equal(VMX_EXIT_REASONS.filter((e) => e.linux).length, 67);
  assert.ok(VMX_EXIT_REASONS.find((e) => e.code === 33)?.failedEntry);
  const cpuid = VMX_EXIT_REASONS[10];
  assert.ok(!cpuid.defines?.includes('EXIT_QUALIFICATION'));
  assert.ok(VMX_EXIT_REASONS[28].defines?.includes('EXIT_QUALIFICATION'));
  for (const e of VMX_EXIT_REASONS) assert.ok(e.defines?.includes('VM_EXIT_REASON'), e.name);
});

test('SVM exit codes incl. exception codes and SVM_EXIT_ERR', () => {
  const code = (n: string) => findExitReason(n, 'svm')?.code;
  assert.equal(code('SVM_EXIT_EXCP_BASE'), 0x40);
  assert.equal(code('SVM_EXIT_EXCP_BASE + PF_VECTOR'), 0x4e);
  assert.equal(code('SVM_EXIT_EXCP_BASE+PF_VECTOR'), 0x4e);
  assert.equal(code('SVM_EXIT_LAST_EXCP'), 0x5f);
  assert.equal(code('SVM_EXIT_ERR'), -1);
  assert.equal(code('SVM_EXIT_NPF'), 0x400);
  assert.equal(code('SVM_EXIT_VMGEXIT'), 0x403);
  assert.equal(code('SVM_EXIT_IDLE_HLT'), 0xa6);
  const exc = SVM_EXIT_CODES.filter((e) => e.code >= 0x40 && e.code <= 0x5f);
  assert.deepEqual(exc.map((e) => e.code), Array.from({ length: 32 }, (_, i) => 0x40 + i));
  assert.equal(new Set(SVM_EXIT_CODES.map((e) => e.code)).size, SVM_EXIT_CODES.length);
  assert.equal(entityForIdentifier('SVM_EXIT_VINTR')?.kind, 'exit-reason');
});

test('MSRs: names, indexes and positions', () => {
  assert.ok(MSRS.length >= 80);
  assert.equal(new Set(MSRS.map((m) => m.name)).size, MSRS.length);
  assert.equal(new Set(MSRS.map((m) => m.index)).size, MSRS.length);
  for (const m of MSRS) {
    assert.ok(m.sources.length >= 2, m.name);
    const inVmx = m.index <= 0x1fff || (m.index >= 0xc0000000 && m.index <= 0xc0001fff);
    assert.equal(m.vmxBitmap !== undefined, inVmx, m.name);
  }
  assert.equal(entityForIdentifier('MSR_IA32_XFD_ERR')?.kind, 'msr');
  assert.equal((entityForIdentifier('MSR_KERNEL_GS_BASE') as { vmsaveState?: boolean }).vmsaveState, true);
});

test('instructions: SVM and VMX, VMRUN state lists', () => {
  for (const n of ['vmsave', 'vmload', 'vmrun', 'vmmcall', 'stgi', 'clgi', 'invlpga', 'vmread', 'vmwrite', 'vmlaunch', 'vmresume', 'vmptrld', 'vmclear', 'vmxon', 'vmxoff', 'invept', 'invvpid']) {
    assert.ok(INSTRUCTIONS.some((i) => i.name === n), n);
  }
  const vmrun = INSTRUCTION_BY_NAME.get('vmrun');
  assert.ok(vmrun?.hostSave?.includes('CR3'));
  assert.ok(vmrun?.guestLoad?.some((s) => s === 'CR2'));
  assert.ok(vmrun?.onVmexit?.some((s) => /GIF cleared/.test(s)));
  assert.equal(INSTRUCTION_BY_NAME.get('__svm_vcpu_run')?.name, 'vmrun');
  assert.equal(VMSAVE_STATE.length, 12);
  assert.equal(ACCESSORS.length, 10);
  assert.equal(entityForIdentifier('vmcs_readl')?.kind, 'accessor');
});

test('lookup API stays backward compatible', () => {
  assert.equal(findEntity('GUEST_PDPTR0')?.kind, 'vmcs');
  assert.equal(findEntity('guest_pdptr0')?.kind, 'vmcs');
  assert.equal(findEntity('V_IRQ_MASK')?.kind, 'intctl');
  assert.equal(findEntity('int_ctl')?.kind, 'vmcb');
  assert.ok(suggestNames('GUEST_PDPTR').includes('GUEST_PDPTR0'));
  const all = allEntities();
  assert.ok(all.length > 600);
  for (const e of all) assert.ok(e.sources.length > 0, `${e.kind} ${e.name}`);
});
