// Issue 13: every corrected fact, pinned with its source. One row per fact: what the model must say, and where the
// fact comes from (the row fails if the model's own source strings stop citing it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  exitInfoStatus, exitInfoValidity, findVmcbField, VMCS_BY_NAME, VMX_EXIT_BY_CODE, INSTRUCTION_BY_NAME, RULES,
  guestFieldSavedOnExit, guestFieldLoadedOnEntry, DURING_EVENT_DELIVERY,
} from '../../server/src/model/index';

interface Row { fact: string; source: RegExp; sources: () => string[]; check: () => void }

const vmcs = (n: string) => {
  const f = VMCS_BY_NAME.get(n);
  assert.ok(f, n);
  return f;
};
const status = (field: string, reason: number, opts = {}) => exitInfoStatus(field, reason, opts);

const ROWS: Row[] = [
  {
    fact: 'EXIT_QUALIFICATION is cleared (not undefined) by exits that do not define it',
    source: /§28\.2\.1/,
    sources: () => [status('EXIT_QUALIFICATION', 10)?.source ?? ''],
    check: () => {
      for (const reason of [1, 10, 12, 31, 32, 49, 52]) assert.equal(status('EXIT_QUALIFICATION', reason)?.status, 'cleared', `reason ${reason}`);
      assert.equal(exitInfoValidity('EXIT_QUALIFICATION', 10)?.defined, 'always');
      assert.equal(status('EXIT_QUALIFICATION', 0)?.otherwise, 'cleared', 'exceptions other than #DB/#PF clear it');
      assert.equal(vmcs('EXIT_QUALIFICATION').exitInfoOtherwise, 'cleared');
      assert.doesNotMatch(vmcs('EXIT_QUALIFICATION').onExit ?? '', /undefined for every other/);
    },
  },
  {
    fact: 'SIPI (exit reason 4) defines EXIT_QUALIFICATION (vector in bits 7:0)',
    source: /§28\.2\.1/,
    sources: () => [status('EXIT_QUALIFICATION', 4)?.source ?? ''],
    check: () => {
      assert.equal(status('EXIT_QUALIFICATION', 4)?.status, 'written');
      assert.match(status('EXIT_QUALIFICATION', 4)?.condition ?? '', /7:0/);
      assert.ok(VMX_EXIT_BY_CODE.get(4)?.defines?.includes('EXIT_QUALIFICATION'));
    },
  },
  {
    fact: 'WBINVD/WBNOINVD (exit reason 54) define EXIT_QUALIFICATION',
    source: /§28\.2\.1/,
    sources: () => [status('EXIT_QUALIFICATION', 54)?.source ?? ''],
    check: () => {
      assert.equal(status('EXIT_QUALIFICATION', 54)?.status, 'written');
      assert.ok(VMX_EXIT_BY_CODE.get(54)?.defines?.includes('EXIT_QUALIFICATION'));
    },
  },
  {
    fact: 'a triple fault is never an exit during event delivery (IDT-vectoring info not written)',
    source: /§28\.2\.4/,
    sources: () => [status('IDT_VECTORING_INFO_FIELD', 2)?.source ?? ''],
    check: () => {
      assert.ok(!DURING_EVENT_DELIVERY.includes(2));
      assert.equal(status('IDT_VECTORING_INFO_FIELD', 2)?.status, 'undefined');
      assert.equal(status('IDT_VECTORING_INFO_FIELD', 2)?.validBitWritten, true, 'bit 31 is still written (0)');
      assert.ok(!VMX_EXIT_BY_CODE.get(2)?.defines?.includes('IDT_VECTORING_INFO_FIELD'));
    },
  },
  {
    fact: 'GUEST_SMBASE is undefined after every VM exit except SMM VM exits',
    source: /SMM/,
    sources: () => vmcs('GUEST_SMBASE').sources,
    check: () => {
      const f = vmcs('GUEST_SMBASE');
      assert.match(f.undefinedWhen ?? '', /after every VM exit except SMM VM exits/);
      assert.doesNotMatch(f.onExit ?? '', /^not saved by VM exit$/);
      assert.equal(guestFieldSavedOnExit('GUEST_SMBASE', { controls: {} }), false);
    },
  },
  {
    fact: 'VM_EXIT_INTR_INFO for external interrupts only with "acknowledge interrupt on exit"',
    source: /§28\.2\.2/,
    sources: () => [status('VM_EXIT_INTR_INFO', 1)?.source ?? ''],
    check: () => {
      assert.match(status('VM_EXIT_INTR_INFO', 1)?.condition ?? '', /acknowledge interrupt on exit/);
      assert.equal(status('VM_EXIT_INTR_INFO', 1, { ackIntrOnExit: false })?.status, 'undefined');
      assert.equal(status('VM_EXIT_INTR_INFO', 1, { ackIntrOnExit: true })?.status, 'written');
      assert.match(vmcs('VM_EXIT_INTR_INFO').exitReasonConditions?.[1] ?? '', /acknowledge interrupt on exit/);
    },
  },
  {
    fact: 'EPT-violation guest-linear address only when exit-qualification bit 7 is set',
    source: /§28\.2\.1/,
    sources: () => [status('GUEST_LINEAR_ADDRESS', 48)?.source ?? ''],
    check: () => {
      const a = status('GUEST_LINEAR_ADDRESS', 48);
      assert.match(a?.condition ?? '', /bit 7/);
      assert.equal(a?.otherwise, 'undefined');
      assert.match(vmcs('GUEST_LINEAR_ADDRESS').exitReasonConditions?.[48] ?? '', /bit 7/);
    },
  },
  {
    fact: 'VM_EXIT_INSTRUCTION_LEN is undefined after EPT misconfigurations (list and note agree)',
    source: /§28\.2\.5/,
    sources: () => [status('VM_EXIT_INSTRUCTION_LEN', 49)?.source ?? ''],
    check: () => {
      assert.equal(status('VM_EXIT_INSTRUCTION_LEN', 49)?.status, 'undefined');
      assert.ok(!(vmcs('VM_EXIT_INSTRUCTION_LEN').validForExitReasons as number[]).includes(49));
      assert.match(status('VM_EXIT_INSTRUCTION_LEN', 49)?.source ?? '', /skip_emulated_instruction/);
    },
  },
  {
    fact: 'VMCS_LINK_POINTER is checked by VM entry, not loaded into the processor',
    source: /§27\.3\.1\.5/,
    sources: () => vmcs('VMCS_LINK_POINTER').sources,
    check: () => {
      const f = vmcs('VMCS_LINK_POINTER');
      assert.doesNotMatch(f.onEntry ?? '', /^loaded into the processor/);
      assert.match(f.onEntry ?? '', /not loaded into the processor/);
      assert.equal(guestFieldLoadedOnEntry('VMCS_LINK_POINTER', { controls: {} }), false);
      assert.equal(f.onExit, 'not modified by VM exit');
    },
  },
  {
    fact: 'a failed VM entry writes only the exit reason and qualification; other exit-information fields are unmodified',
    source: /§27\.8/,
    sources: () => [status('IDT_VECTORING_INFO_FIELD', 0x80000021)?.source ?? ''],
    check: () => {
      for (const f of ['VM_EXIT_INTR_INFO', 'IDT_VECTORING_INFO_FIELD', 'VM_EXIT_INSTRUCTION_LEN', 'VMX_INSTRUCTION_INFO', 'GUEST_PHYSICAL_ADDRESS']) {
        assert.equal(status(f, 0x80000021)?.status, 'unmodified', f);
        assert.equal(status(f, 34, { entryFailed: true })?.status, 'unmodified', f);
      }
      assert.equal(status('VM_EXIT_REASON', 0x80000022)?.status, 'written');
      assert.equal(status('EXIT_QUALIFICATION', 0x80000021)?.status, 'written');
      assert.equal(status('EXIT_QUALIFICATION', 0x80000022)?.status, 'written');
      assert.equal(exitInfoValidity('VM_EXIT_INTR_INFO', 0x80000021)?.defined, 'never');
    },
  },
  {
    fact: '`intercepts[INTERCEPT_DR]` is the DR word at 0x004 (resolved in analysis/refs.ts; hover fixture forms.c)',
    source: /svm\.h/,
    sources: () => findVmcbField('intercepts[1]')?.sources ?? [],
    check: () => assert.equal(findVmcbField('intercepts[1]')?.offset, 0x004),
  },
  {
    fact: 'event_inj_err / exit_int_info_err are not aliases of event_inj / exit_int_info',
    source: /svm\.h/,
    sources: () => findVmcbField('event_inj_err')?.sources ?? [],
    check: () => {
      assert.ok(!findVmcbField('event_inj_err')?.aliases.includes('event_inj'));
      assert.ok(!findVmcbField('exit_int_info_err')?.aliases.includes('exit_int_info'));
      assert.equal(findVmcbField('event_inj')?.name, 'event_inj');
      assert.equal(findVmcbField('exit_int_info')?.name, 'exit_int_info');
    },
  },
  {
    fact: 'exit_int_info_err is written only when the #VMEXIT interrupted event delivery of an event with an error code',
    source: /§15\.7\.2/,
    sources: () => findVmcbField('exit_int_info_err')?.sources ?? [],
    check: () => {
      const f = findVmcbField('exit_int_info_err');
      assert.equal(f?.writtenOnVmexit, 'partial');
      assert.match(f?.vmexitNote ?? '', /interrupted the delivery of an event/);
    },
  },
  {
    fact: 'bus_lock_counter is written back by #VMEXIT (KVM reads the decremented count)',
    source: /nested_svm_vmexit/,
    sources: () => findVmcbField('bus_lock_counter')?.sources ?? [],
    check: () => {
      assert.equal(findVmcbField('bus_lock_counter')?.writtenOnVmexit, 'yes');
      assert.match(findVmcbField('bus_lock_counter')?.vmexitNote ?? '', /decremented/);
    },
  },
  {
    fact: 'VMRUN saves the host PAT (and CET/LBR state where enabled)',
    source: /SvmEnterSaveHostState/,
    sources: () => [RULES.vmrunSavesHost.source, ...(INSTRUCTION_BY_NAME.get('vmrun')?.sources ?? [])],
    check: () => {
      const hs = INSTRUCTION_BY_NAME.get('vmrun')?.hostSave ?? [];
      assert.ok(hs.some((h) => /IA32_PAT/.test(h)));
      assert.ok(hs.some((h) => /CET/.test(h)));
      assert.ok(hs.some((h) => /LBR/.test(h)));
      assert.match(RULES.vmrunSavesHost.summary, /IA32_PAT/);
    },
  },
];

for (const row of ROWS) {
  test(`corrected fact: ${row.fact}`, () => {
    row.check();
    assert.ok(row.sources().some((s) => row.source.test(s)), `the model cites ${row.source} for: ${row.fact}`);
  });
}
