import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  VMCB_FIELDS, INT_CTL_BITS, CLEAN_BITS, findVmcbField, findVmcbMember, findIntCtlBit, cleanBitFor, entityForIdentifier, findEntity,
  VMSAVE_MEMBERS, vmsaveCovers,
} from '../../server/src/model/index';

test('int_ctl: offset 0x60, 4 bytes, clean bit VMCB_INTR, partially written back', () => {
  const f = findVmcbField('int_ctl');
  assert.ok(f);
  assert.equal(f.offset, 0x60);
  assert.equal(f.size, 4);
  assert.equal(f.area, 'control');
  assert.equal(f.cleanBit, 'VMCB_INTR');
  assert.equal(f.writtenOnVmexit, 'partial');
});

test('control-area offsets match Linux 7.1.5 struct vmcb_control_area', () => {
  const expect: Array<[string, number, number]> = [
    ['intercepts[0]', 0x0, 4], ['pause_filter_thresh', 0x3c, 2], ['iopm_base_pa', 0x40, 8], ['msrpm_base_pa', 0x48, 8], ['tsc_offset', 0x50, 8],
    ['asid', 0x58, 4], ['tlb_ctl', 0x5c, 1], ['erap_ctl', 0x5d, 1], ['int_vector', 0x64, 4], ['int_state', 0x68, 4], ['exit_code', 0x70, 8],
    ['exit_info_1', 0x78, 8], ['exit_info_2', 0x80, 8], ['exit_int_info', 0x88, 4], ['misc_ctl', 0x90, 8], ['event_inj', 0xa8, 4],
    ['nested_cr3', 0xb0, 8], ['misc_ctl2', 0xb8, 8], ['clean', 0xc0, 4], ['next_rip', 0xc8, 8], ['insn_len', 0xd0, 1], ['insn_bytes', 0xd1, 15],
    ['avic_backing_page', 0xe0, 8], ['vmsa_pa', 0x108, 8], ['bus_lock_counter', 0x120, 2], ['guest_sev_features', 0x140, 8],
  ];
  for (const [n, off, size] of expect) {
    const f = findVmcbField(n, 'control');
    assert.ok(f, n);
    assert.equal(f.offset, off, n);
    assert.equal(f.size, size, n);
  }
});

test('save-area offsets (absolute) match Linux 7.1.5 struct vmcb_save_area', () => {
  const expect: Array<[string, number]> = [
    ['es', 0x400], ['cs', 0x410], ['gdtr', 0x460], ['tr', 0x490], ['cpl', 0x4cb], ['efer', 0x4d0], ['cr4', 0x548], ['cr3', 0x550], ['cr0', 0x558],
    ['dr7', 0x560], ['dr6', 0x568], ['rflags', 0x570], ['rip', 0x578], ['rsp', 0x5d8], ['s_cet', 0x5e0], ['rax', 0x5f8], ['star', 0x600],
    ['kernel_gs_base', 0x620], ['sysenter_eip', 0x638], ['cr2', 0x640], ['g_pat', 0x668], ['dbgctl', 0x670], ['spec_ctrl', 0x6e0],
  ];
  for (const [n, off] of expect) assert.equal(findVmcbField(n, 'save')?.offset, off, n);
});

test('older names resolve as aliases', () => {
  assert.equal(findVmcbField('nested_ctl')?.name, 'misc_ctl');
  assert.equal(findVmcbField('virt_ext')?.name, 'misc_ctl2');
  assert.equal(findVmcbField('exit_code_hi')?.legacy, true);
  assert.equal(findEntity('vmcb->control.int_ctl')?.kind, 'vmcb');
  assert.equal(findEntity('save.cr4')?.kind, 'vmcb');
});

test('segment members selector/attrib/limit/base', () => {
  const r = findVmcbMember('save.cs.selector');
  assert.ok(r);
  assert.equal(r.field.name, 'cs');
  assert.equal(r.member?.offset, 0x410);
  assert.equal(findVmcbMember('es.base')?.member?.offset, 0x408);
  assert.equal(findVmcbMember('tr.limit')?.member?.offset, 0x494);
  assert.equal(findVmcbMember('gs.attrib')?.member?.size, 2);
  assert.equal(findVmcbMember('control.int_ctl')?.field.offset, 0x60);
  assert.equal(findVmcbMember('cs.bogus'), undefined);
});

test('clean bits: table and per-field groups', () => {
  const names = CLEAN_BITS.map((c) => [c.name, c.bit]);
  assert.deepEqual(names, [['VMCB_INTERCEPTS', 0], ['VMCB_PERM_MAP', 1], ['VMCB_ASID', 2], ['VMCB_INTR', 3], ['VMCB_NPT', 4], ['VMCB_CR', 5],
    ['VMCB_DR', 6], ['VMCB_DT', 7], ['VMCB_SEG', 8], ['VMCB_CR2', 9], ['VMCB_LBR', 10], ['VMCB_AVIC', 11], ['VMCB_CET', 12], ['VMCB_SW', 31]]);
  for (const c of CLEAN_BITS) assert.ok(c.sources.length);
  assert.equal(cleanBitFor('cr4'), 'VMCB_CR');
  assert.equal(cleanBitFor('efer'), 'VMCB_CR');
  assert.equal(cleanBitFor('cs.selector'), 'VMCB_SEG');
  assert.equal(cleanBitFor('tlb_ctl'), undefined);
  assert.equal(cleanBitFor('exit_code'), undefined);
  assert.equal(findVmcbField('tlb_ctl')?.cleanBit, undefined);
  assert.equal(findVmcbField('exit_info_1')?.cleanBit, undefined);
  assert.equal(findVmcbField('g_pat')?.cleanBit, 'VMCB_NPT');
  assert.equal(findVmcbField('nested_cr3')?.cleanBit, 'VMCB_NPT');
  assert.equal(findVmcbField('tsc_offset', 'control')?.cleanBit, 'VMCB_INTERCEPTS');
});

test('VMSAVE/VMLOAD coverage and VMRUN/#VMEXIT behaviour per field', () => {
  assert.deepEqual([...VMSAVE_MEMBERS].sort(), ['cstar', 'fs', 'gs', 'kernel_gs_base', 'ldtr', 'lstar', 'sfmask', 'star', 'sysenter_cs', 'sysenter_eip', 'sysenter_esp', 'tr']);
  for (const f of VMCB_FIELDS.filter((x) => x.area === 'save' && x.linux !== false)) {
    assert.equal(f.vmsaveState, vmsaveCovers(f.name), f.name);
    if (f.vmsaveState) assert.equal(f.writtenOnVmexit, 'no', f.name);
  }
  assert.equal(findVmcbField('cr4')?.writtenOnVmexit, 'yes');
  assert.equal(findVmcbField('cr4')?.hostSavedByVmrun, true);
  assert.equal(findVmcbField('exit_code')?.writtenOnVmexit, 'yes');
  assert.equal(findVmcbField('tlb_ctl')?.writtenOnVmexit, 'no');
  assert.match(findVmcbField('fs')?.onVmrun ?? '', /VMLOAD/);
});

test('int_ctl bits: Linux masks, shifts and write-back classes', () => {
  const b = (n: string) => findIntCtlBit(n);
  assert.equal(b('V_TPR_MASK')?.mask, 0x0f);
  assert.equal(b('V_IRQ_MASK')?.mask, 0x100);
  assert.equal(b('V_IRQ_SHIFT')?.name, 'V_IRQ_MASK');
  assert.equal(b('V_GIF_MASK')?.mask, 0x200);
  assert.equal(b('V_NMI_PENDING_MASK')?.mask, 0x800);
  assert.equal(b('V_NMI_BLOCKING_MASK')?.mask, 0x1000);
  assert.equal(b('V_INTR_PRIO_MASK')?.mask, 0xf0000);
  assert.equal(b('V_IGN_TPR_MASK')?.mask, 0x100000);
  assert.equal(b('V_INTR_MASKING_MASK')?.mask, 0x1000000);
  assert.equal(b('V_GIF_ENABLE_MASK')?.mask, 0x2000000);
  assert.equal(b('V_NMI_ENABLE_MASK')?.mask, 0x4000000);
  assert.equal(b('X2APIC_MODE_MASK')?.mask, 0x40000000);
  assert.equal(b('AVIC_ENABLE_MASK')?.mask, 0x80000000);
  assert.equal(b('SVM_INTERRUPT_SHADOW_MASK')?.register, 'int_state');
  assert.equal(b('V_TPR_MASK')?.writeback, 'always');
  assert.equal(b('V_IRQ_MASK')?.writeback, 'always');
  assert.equal(b('V_GIF_MASK')?.writeback, 'conditional');
  assert.equal(b('V_GIF_MASK')?.writebackCondition, 'vgif');
  assert.equal(b('V_NMI_PENDING_MASK')?.writebackCondition, 'vnmi');
  assert.equal(b('V_NMI_BLOCKING_MASK')?.writebackCondition, 'vnmi');
  for (const n of ['V_INTR_MASKING_MASK', 'V_IGN_TPR_MASK', 'V_INTR_PRIO_MASK', 'V_GIF_ENABLE_MASK', 'V_NMI_ENABLE_MASK', 'AVIC_ENABLE_MASK', 'X2APIC_MODE_MASK']) {
    assert.equal(b(n)?.writeback, 'never', n);
  }
  for (const n of ['V_IRQ_SHIFT', 'V_GIF_SHIFT', 'V_NMI_PENDING_SHIFT', 'V_NMI_BLOCKING_SHIFT', 'V_INTR_PRIO_SHIFT', 'V_IGN_TPR_SHIFT',
    'V_INTR_MASKING_SHIFT', 'V_GIF_ENABLE_SHIFT', 'V_NMI_ENABLE_SHIFT', 'AVIC_ENABLE_SHIFT', 'X2APIC_MODE_SHIFT', 'V_GIF_ENABLED_MASK']) {
    assert.equal(entityForIdentifier(n)?.kind, 'intctl', n);
  }
  assert.equal(INT_CTL_BITS.length, 14);
});
