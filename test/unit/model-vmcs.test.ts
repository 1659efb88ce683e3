import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VMCS_ROWS } from '../../server/src/model/data/vmcsTable';
import {
  VMCS_FIELDS, VMCS_BY_NAME, VMCS_BY_VMCS12_MEMBER, LINUX_VMCS_FIELDS, decodeEncoding, fullFieldOf, findVmcsField,
  entityForIdentifier, findEntity, VMX_EXIT_REASONS, EXIT_INFO_VALIDITY,
} from '../../server/src/model/index';

/** The fact sheet writes the read-only type as "read-only data (VM-exit information)". */
const normType = (t: string): string => (t.startsWith('read-only') ? 'read-only' : t);

test('decode of every encoding equals the fact-sheet width/type/access columns', () => {
  assert.equal(VMCS_ROWS.length, 282);
  for (const row of VMCS_ROWS) {
    const d = decodeEncoding(row.encoding);
    const label = `${row.name} 0x${row.encoding.toString(16)}`;
    assert.equal(d.width, row.width, `${label} width`);
    assert.equal(d.type, normType(row.type), `${label} type`);
    assert.equal(d.access, row.access, `${label} access`);
    assert.ok(d.valid, `${label} is a valid encoding`);
  }
});

test('every table field carries the decoded width/type/access and at least one source', () => {
  for (const f of VMCS_FIELDS) {
    const d = decodeEncoding(f.encoding);
    assert.equal(f.width, d.width);
    assert.equal(f.type, d.type);
    assert.equal(f.access, d.access);
    assert.ok(f.sources.length > 0, f.name);
    assert.ok(f.onEntry, `${f.name} onEntry`);
    assert.ok(f.onExit, `${f.name} onExit`);
  }
});

test('all 222 Linux names are present, unique and resolvable as identifiers', () => {
  const names = VMCS_ROWS.filter((r) => r.name !== '-').map((r) => r.name);
  assert.equal(names.length, 222);
  assert.equal(new Set(names).size, 222);
  assert.equal(LINUX_VMCS_FIELDS.length, 222);
  for (const n of names) {
    assert.equal(VMCS_BY_NAME.get(n)?.name, n);
    assert.equal(entityForIdentifier(n)?.kind, 'vmcs', n);
  }
  for (const n of ['GUEST_IA32_FRED_CONFIG', 'HOST_IA32_FRED_SSP3', 'GUEST_S_CET', 'HOST_INTR_SSP_TABLE', 'SHARED_EPT_POINTER', 'SECONDARY_VM_EXIT_CONTROLS']) {
    assert.ok(VMCS_BY_NAME.has(n), n);
  }
});

test('names are unique across the whole table (SDM-only fields included)', () => {
  assert.equal(new Set(VMCS_FIELDS.map((f) => f.name)).size, VMCS_FIELDS.length);
  // The 282 fact-sheet encodings plus guest IA32_LBR_CTL (0x2816/0x2817), which the sheet lacked (issue 13).
  assert.equal(VMCS_FIELDS.length, 284);
});

test('GUEST_PDPTR0: encoding, width, type, vmcs12 member, load/save rules', () => {
  const f = VMCS_BY_NAME.get('GUEST_PDPTR0');
  assert.ok(f);
  assert.equal(f.encoding, 0x280a);
  assert.equal(f.width, 64);
  assert.equal(f.type, 'guest-state');
  assert.equal(f.vmcs12?.member, 'guest_pdptr0');
  assert.equal(f.vmcs12?.offset, 216);
  assert.equal(f.entryRule, 'pdptr');
  assert.equal(f.exitRule, 'pdptr');
  assert.match(f.undefinedWhen ?? '', /EPT/);
  assert.match(f.onEntry ?? '', /PAE/);
  assert.equal(VMCS_BY_VMCS12_MEMBER.get('guest_pdptr0'), f);
  assert.equal(findVmcsField('vmcs12->guest_pdptr0'), f);
  assert.equal(findEntity('vmcs12->guest_pdptr0'), f);
});

test('_HIGH fields inherit the semantics of the full field and map to offset + 4', () => {
  const h = VMCS_BY_NAME.get('GUEST_PDPTR0_HIGH');
  assert.ok(h);
  assert.equal(h.access, 'high');
  assert.equal(h.fullName, 'GUEST_PDPTR0');
  assert.equal(fullFieldOf(h).name, 'GUEST_PDPTR0');
  assert.equal(h.vmcs12?.member, 'guest_pdptr0');
  assert.equal(h.vmcs12?.offset, 220);
  assert.equal(h.vmcs12?.highHalf, true);
  assert.equal(h.exitRule, 'pdptr');
  assert.equal(VMCS_BY_NAME.get('GUEST_IA32_EFER_HIGH')?.exitRule, 'control:VM_EXIT_SAVE_IA32_EFER');
});

test('guest-state entry/exit controls', () => {
  const rule = (n: string) => [VMCS_BY_NAME.get(n)?.entryRule, VMCS_BY_NAME.get(n)?.exitRule];
  assert.deepEqual(rule('GUEST_IA32_EFER'), ['control:VM_ENTRY_LOAD_IA32_EFER', 'control:VM_EXIT_SAVE_IA32_EFER']);
  assert.deepEqual(rule('GUEST_IA32_PAT'), ['control:VM_ENTRY_LOAD_IA32_PAT', 'control:VM_EXIT_SAVE_IA32_PAT']);
  assert.deepEqual(rule('GUEST_DR7'), ['control:VM_ENTRY_LOAD_DEBUG_CONTROLS', 'control:VM_EXIT_SAVE_DEBUG_CONTROLS']);
  assert.deepEqual(rule('VMX_PREEMPTION_TIMER_VALUE'), ['control:PIN_BASED_VMX_PREEMPTION_TIMER', 'control:VM_EXIT_SAVE_VMX_PREEMPTION_TIMER']);
  assert.deepEqual(rule('GUEST_RIP'), ['always', 'always']);
  assert.deepEqual(rule('GUEST_CR3'), ['always', 'always']);
});

test('host-state lifetimes and KVM writers', () => {
  const h = (n: string) => VMCS_BY_NAME.get(n);
  assert.equal(h('HOST_IDTR_BASE')?.lifetime, 'constant');
  assert.deepEqual(h('HOST_IDTR_BASE')?.kvmWriters, ['vmx_set_constant_host_state']);
  assert.equal(h('HOST_TR_BASE')?.lifetime, 'per-cpu');
  assert.deepEqual(h('HOST_TR_BASE')?.kvmWriters, ['vmx_vcpu_load_vmcs']);
  assert.equal(h('HOST_GDTR_BASE')?.lifetime, 'per-cpu');
  assert.equal(h('HOST_CR3')?.lifetime, 'per-task');
  assert.ok(h('HOST_CR3')?.kvmWriters?.includes('vmx_vcpu_run'));
  assert.equal(h('HOST_CR4')?.lifetime, 'per-task');
  assert.equal(h('HOST_RSP')?.lifetime, 'per-task');
  assert.deepEqual(h('HOST_RSP')?.kvmWriters, ['vmx_update_host_rsp']);
  assert.equal(h('HOST_FS_BASE')?.lifetime, 'per-task');
  assert.ok(h('HOST_GS_SELECTOR')?.kvmWriters?.includes('vmx_set_host_fs_gs'));
  assert.equal(h('HOST_RIP')?.lifetime, 'constant');
  assert.equal(h('HOST_CR0')?.lifetime, 'constant');
  assert.equal(h('HOST_IA32_EFER')?.exitRule, 'control:VM_EXIT_LOAD_IA32_EFER');
  // every Linux host-state field in mainline has a lifetime
  for (const f of LINUX_VMCS_FIELDS) {
    if (f.type === 'host-state' && f.linuxStatus === 'mainline') assert.ok(f.lifetime, f.name);
  }
});

test('EXIT_QUALIFICATION: read-only natural, defined for CR_ACCESS, not for CPUID', () => {
  const f = VMCS_BY_NAME.get('EXIT_QUALIFICATION');
  assert.ok(f);
  assert.equal(f.type, 'read-only');
  assert.equal(f.width, 'natural');
  assert.equal(f.encoding, 0x6400);
  assert.ok(Array.isArray(f.validForExitReasons));
  assert.ok((f.validForExitReasons as number[]).includes(28));
  assert.ok(!(f.validForExitReasons as number[]).includes(10));
  assert.equal(VMCS_BY_NAME.get('VM_EXIT_REASON')?.validForExitReasons, 'all');
});

test('exit-information fields: validForExitReasons agrees with the exit-reason table', () => {
  for (const v of EXIT_INFO_VALIDITY) {
    const f = VMCS_BY_NAME.get(v.field);
    assert.ok(f, v.field);
    assert.equal(f.type, 'read-only', v.field);
    for (const r of VMX_EXIT_REASONS) {
      const valid: number[] | 'all' | undefined = f.validForExitReasons;
      const byField: boolean = valid === 'all' || (valid ?? []).includes(r.code);
      assert.equal(r.defines?.includes(v.field) ?? false, byField, `${v.field} / ${r.name}`);
    }
  }
  for (const n of ['EXIT_QUALIFICATION', 'GUEST_LINEAR_ADDRESS', 'GUEST_PHYSICAL_ADDRESS', 'VM_EXIT_INTR_INFO', 'VM_EXIT_INTR_ERROR_CODE',
    'IDT_VECTORING_INFO_FIELD', 'IDT_VECTORING_ERROR_CODE', 'VM_EXIT_INSTRUCTION_LEN', 'VMX_INSTRUCTION_INFO', 'VM_EXIT_REASON']) {
    assert.ok(VMCS_BY_NAME.get(n)?.validForExitReasons, n);
  }
});

test('fact-sheet corrections: CET and SHARED_EPT_POINTER are mainline; CR3 targets not exposed to L1', () => {
  assert.equal(VMCS_BY_NAME.get('GUEST_S_CET')?.linuxStatus, 'mainline');
  assert.equal(VMCS_BY_NAME.get('SHARED_EPT_POINTER')?.linuxStatus, 'mainline');
  assert.equal(VMCS_BY_NAME.get('GUEST_IA32_FRED_CONFIG')?.linuxStatus, 'patch:FRED');
  const t = VMCS_BY_NAME.get('CR3_TARGET_VALUE0');
  assert.equal(t?.vmcs12, undefined);
  assert.equal(t?.vmcs12Supported, false);
  assert.equal(VMCS_BY_NAME.get('GUEST_RIP')?.vmcs12Supported, true);
});
