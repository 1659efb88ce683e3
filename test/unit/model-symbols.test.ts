// Issue 13: control bits, intercepts, clean bits, eVMCS/shadow VMCS and the SEV-ES layouts. Values are checked against
// the kernel headers when a Linux 7.1.5 tree is present (/work/trees/7.1.5), and against sizes Linux asserts always.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import {
  SYMBOLS, SYMBOL_BY_NAME, VMX_CONTROLS, SVM_SYMBOLS, EVMCS_CLEAN_GROUPS, VMSA_FIELDS, GHCB_FIELDS, layoutSize, ghcbValidBit,
  findVmsaField, findGhcbField, VMCS_BY_NAME, SVM_EXIT_BY_CODE, findExitReason, entityForIdentifier, findEntity, VMX_CONTROL_BY_NAME,
} from '../../server/src/model/index';

const TREE = '/work/trees/7.1.5/arch/x86';
const haveTree = existsSync(`${TREE}/include/asm/vmx.h`);
const read = (p: string): string => readFileSync(`${TREE}/${p}`, 'utf8');

test('every symbol has a meaning and a source; names are unique', () => {
  const seen = new Set<string>();
  for (const s of SYMBOLS) {
    assert.ok(s.meaning.length > 10, s.name);
    assert.ok(s.sources.length > 0, s.name);
    assert.ok(!seen.has(s.name), `duplicate ${s.name}`);
    seen.add(s.name);
  }
});

test('VMX control bits: all six groups, each with what KVM does for L1 and the capability MSR bit', () => {
  const groups = new Set(VMX_CONTROLS.filter((c) => c.category === 'vmx-control').map((c) => c.container));
  assert.deepEqual([...groups].sort(), ['CPU_BASED_VM_EXEC_CONTROL', 'PIN_BASED_VM_EXEC_CONTROL', 'SECONDARY_VM_EXEC_CONTROL', 'TERTIARY_VM_EXEC_CONTROL', 'VM_ENTRY_CONTROLS', 'VM_EXIT_CONTROLS']);
  for (const c of VMX_CONTROLS.filter((x) => x.category === 'vmx-control')) {
    assert.ok(c.nested && c.nested.length > 10, c.name);
    assert.match(c.capability ?? '', /IA32_VMX_/, c.name);
    assert.equal(Number(c.value), 2 ** (c.bit ?? -1), c.name);
  }
  const ept = SYMBOL_BY_NAME.get('SECONDARY_EXEC_ENABLE_EPT');
  assert.equal(ept?.bit, 1);
  assert.match(ept?.capability ?? '', /0x48B\) bit 33/);
  assert.match(SYMBOL_BY_NAME.get('PIN_BASED_VMX_PREEMPTION_TIMER')?.nested ?? '', /hrtimer/);
  assert.match(SYMBOL_BY_NAME.get('CPU_BASED_USE_IO_BITMAPS')?.nested ?? '', /always clear in vmcs02/);
  assert.match(SYMBOL_BY_NAME.get('SECONDARY_EXEC_SHADOW_VMCS')?.nested ?? '', /never set in vmcs02/);
  // The simulator's control table reads the same values.
  assert.equal(VMX_CONTROL_BY_NAME.get('VM_EXIT_ACK_INTR_ON_EXIT')?.value, 0x8000);
});

test('VMX control bits match asm/vmx.h + vmxfeatures.h of Linux 7.1.5', { skip: !haveTree && 'no kernel tree' }, () => {
  const vmx = read('include/asm/vmx.h');
  const feat = read('include/asm/vmxfeatures.h');
  const featBit = new Map([...feat.matchAll(/#define VMX_FEATURE_([A-Z0-9_]+)\s*\(\s*(\d+)\*32\+\s*(\d+)\)/g)].map((m) => [m[1], Number(m[3])]));
  let n = 0;
  for (const m of vmx.matchAll(/^#define ((?:PIN_BASED|CPU_BASED|SECONDARY_EXEC|TERTIARY_EXEC|VM_EXIT|VM_ENTRY)_[A-Z0-9_]+)\s+(\S+)/gm)) {
    const [, name, val] = m;
    const bit = /VMCS_CONTROL_BIT\((\w+)\)/.exec(val);
    const value = bit ? 2 ** (featBit.get(bit[1]) ?? -1) : Number(val);
    const s = SYMBOL_BY_NAME.get(name);
    assert.ok(s, `no card for ${name}`);
    assert.equal(Number(s.value), value, name);
    n++;
  }
  assert.ok(n >= 79, `the issue counts 79 names; found ${n}`);
});

test('SVM intercepts: bit n produces #VMEXIT code n; values match asm/svm.h', () => {
  const vintr = SYMBOL_BY_NAME.get('INTERCEPT_VINTR');
  assert.equal(vintr?.bit, 100);
  assert.match(vintr?.container ?? '', /intercepts\[3\] \(VMCB 0x00c\) bit 4/);
  assert.match(vintr?.exitCode ?? '', /SVM_EXIT_VINTR \(0x64\)/);
  assert.match(vintr?.nested ?? '', /V_INTR_MASKING/);
  assert.equal(SYMBOL_BY_NAME.get('INTERCEPT_DR')?.value, '1');
  assert.equal(SYMBOL_BY_NAME.get('INTERCEPT_IDLE_HLT')?.bit, 166);
  for (const s of SVM_SYMBOLS.filter((x) => x.category === 'svm-intercept' && x.name !== 'INTERCEPT_EXCEPTION_OFFSET')) {
    assert.equal(SVM_EXIT_BY_CODE.get(s.bit ?? -1)?.code ?? s.bit, s.bit, s.name);
  }
});

test('SVM intercept enum matches asm/svm.h of Linux 7.1.5', { skip: !haveTree && 'no kernel tree' }, () => {
  const svm = read('include/asm/svm.h');
  const body = svm.slice(svm.indexOf('/* Byte offset 000h (word 0) */'), svm.indexOf('};', svm.indexOf('/* Byte offset 000h (word 0) */')));
  let next = 0;
  let n = 0;
  for (const m of body.matchAll(/^\s*([A-Z][A-Za-z0-9_]*)(?:\s*=\s*([0-9+ ]+))?,/gm)) {
    const value = m[2] ? m[2].split('+').reduce((a, b) => a + Number(b.trim()), 0) : next;
    next = value + 1;
    const s = SYMBOL_BY_NAME.get(m[1]);
    assert.ok(s, `no card for ${m[1]}`);
    assert.equal(Number(s.value), value, m[1]);
    n++;
  }
  assert.ok(n >= 89, `the issue counts 89 intercept names; found ${n}`);
  for (const m of svm.matchAll(/^#define ((?:SVM_MISC2?_|TLB_CONTROL_|ERAP_CONTROL_)[A-Z0-9_]+)\s/gm)) assert.ok(SYMBOL_BY_NAME.get(m[1]), m[1]);
  const kvmSvm = read('kvm/svm/svm.h');
  for (const m of kvmSvm.matchAll(/^\s*(VMCB_[A-Z0-9]+)\s*(?:=\s*\d+)?,/gm)) assert.ok(entityForIdentifier(m[1])?.kind === 'symbol', m[1]);
  const uapi = read('include/uapi/asm/svm.h');
  for (const m of uapi.matchAll(/^#define (SVM_(?:EXIT|VMGEXIT)_[A-Z0-9_]+)\s+(0x[0-9a-f]+|\d+)/gm)) assert.ok(entityForIdentifier(m[1]), m[1]);
});

test('misc_ctl, TLB control, int_ctl composites, clean-bit names', () => {
  assert.equal(SYMBOL_BY_NAME.get('SVM_MISC_ENABLE_NP')?.container, 'misc_ctl (VMCB 0x090)');
  assert.equal(SYMBOL_BY_NAME.get('SVM_NESTED_CTL_NP_ENABLE')?.name, 'SVM_MISC_ENABLE_NP', 'older Linux name');
  assert.equal(SYMBOL_BY_NAME.get('TLB_CONTROL_FLUSH_ASID')?.value, '3');
  assert.equal(SYMBOL_BY_NAME.get('TLB_CONTROL_FLUSH_ASID_LOCAL')?.value, '7');
  assert.equal(Number(SYMBOL_BY_NAME.get('V_IRQ_INJECTION_BITS_MASK')?.value), 0x100 | 0xf0000 | 0x100000);
  assert.equal(SYMBOL_BY_NAME.get('SVM_INT_VECTOR_MASK')?.value, '0xff');
  assert.match(SYMBOL_BY_NAME.get('VMCB_NPT')?.meaning ?? '', /nested_cr3/);
  assert.equal(SYMBOL_BY_NAME.get('VMCB_ALWAYS_DIRTY_MASK')?.value, '0x208');
});

test('missing SVM exit codes: INVLPGB/INVLPGB_ILLEGAL/MCOMMIT/TLBSYNC and the VMGEXIT requests', () => {
  assert.equal(SVM_EXIT_BY_CODE.get(0xa0)?.name, 'SVM_EXIT_INVLPGB');
  assert.equal(SVM_EXIT_BY_CODE.get(0xa1)?.name, 'SVM_EXIT_INVLPGB_ILLEGAL');
  assert.equal(SVM_EXIT_BY_CODE.get(0xa3)?.name, 'SVM_EXIT_MCOMMIT');
  assert.equal(SVM_EXIT_BY_CODE.get(0xa4)?.name, 'SVM_EXIT_TLBSYNC');
  assert.equal(SVM_EXIT_BY_CODE.get(0xa4)?.linux, false);
  assert.equal(findExitReason('SVM_VMGEXIT_PSC')?.code, 0x80000010);
  assert.equal(SVM_EXIT_BY_CODE.get(0)?.name, 'SVM_EXIT_READ_CR0', 'VMGEXIT sub-operations (value 0, 1, 2) do not shadow exit codes');
  assert.equal(entityForIdentifier('SVM_VMGEXIT_AP_CREATE')?.kind, 'symbol');
});

test('shadow VMCS and enlightened VMCS facts on the VMCS fields', () => {
  assert.equal(VMCS_BY_NAME.get('GUEST_RIP')?.shadowVmcs, 'read-write');
  assert.equal(VMCS_BY_NAME.get('EXIT_QUALIFICATION')?.shadowVmcs, 'read-only');
  assert.equal(VMCS_BY_NAME.get('GUEST_PHYSICAL_ADDRESS_HIGH')?.shadowVmcs, 'read-only');
  assert.equal(VMCS_BY_NAME.get('GUEST_ES_BASE')?.shadowVmcs, undefined);
  assert.equal(VMCS_BY_NAME.get('GUEST_CR3')?.evmcsCleanGroup, 'HV_VMX_ENLIGHTENED_CLEAN_FIELD_CRDR');
  assert.equal(VMCS_BY_NAME.get('GUEST_RIP')?.evmcsCleanGroup, 'HV_VMX_ENLIGHTENED_CLEAN_FIELD_NONE');
  assert.equal(VMCS_BY_NAME.get('GUEST_IA32_LBR_CTL')?.encoding, 0x2816);
  assert.equal(VMCS_BY_NAME.get('GUEST_IA32_LBR_CTL')?.evmcsCleanGroup, 'HV_VMX_ENLIGHTENED_CLEAN_FIELD_GUEST_GRP1');
  assert.equal(findEntity('GUEST_IA32_LBR_CTL')?.kind, 'vmcs');
  assert.equal(EVMCS_CLEAN_GROUPS.length, 18, '17 groups (NONE + 16 bits) and ALL');
  assert.equal(SYMBOL_BY_NAME.get('HV_VMX_ENLIGHTENED_CLEAN_FIELD_ENLIGHTENMENTSCONTROL')?.value, '0x8000');
});

test('SEV-ES VMSA and GHCB layouts: sizes Linux asserts, offsets and valid-bitmap bits', () => {
  assert.equal(layoutSize('vmsa'), 1648, 'EXPECTED_SEV_ES_SAVE_AREA_SIZE');
  assert.equal(layoutSize('ghcb-save'), 1032, 'EXPECTED_GHCB_SAVE_AREA_SIZE');
  assert.equal(findVmsaField('pl0_ssp')?.offset, 0xa0);
  assert.equal(findVmsaField('xss')?.offset, 0x140);
  assert.equal(findVmsaField('rsp')?.offset, 0x1d8);
  assert.equal(findVmsaField('reserved_0x320')?.offset, 0x320);
  assert.equal(findVmsaField('sev_features')?.offset, 0x3b0);
  assert.equal(findVmsaField('fpreg_ymm')?.offset, 1648 - 256);
  assert.ok(VMSA_FIELDS.length >= 90, `${VMSA_FIELDS.length} VMSA members`);
  assert.equal(findGhcbField('sw_exit_code')?.offset, 0x390);
  assert.equal(findGhcbField('valid_bitmap')?.offset, 0x3f0);
  assert.equal(findGhcbField('protocol_version')?.offset, 0xffa);
  assert.equal(findGhcbField('ghcb_usage')?.offset, 0xffc);
  assert.equal(ghcbValidBit('rax'), 0x1f8 / 8);
  assert.equal(ghcbValidBit('sw_exit_info_2'), 0x3a0 / 8);
  assert.ok(GHCB_FIELDS.every((f) => f.layout === 'ghcb'));
  const p = findEntity('vmsa.pl0_ssp');
  assert.ok(p?.kind === 'vmcb' && p.offset === 0xa0 && p.layout === 'vmsa');
  const v = findEntity('ghcb.save.valid_bitmap');
  assert.ok(v?.kind === 'vmcb' && v.offset === 0x3f0 && v.layout === 'ghcb');
});

test('hover on the sub-member of a segment (`save.gs.base`) shows the segment card', async () => {
  const { initParser } = await import('../../server/src/analysis/parser');
  const { analyzeText } = await import('../../server/src/analysis/document');
  const { hoverAt } = await import('../../server/src/features/hover');
  await initParser();
  const text = 'void f(struct vcpu_svm *svm)\n{\n\tu64 b = svm->vmcb->save.gs.base;\n}\n';
  const doc = analyzeText(text);
  const at = text.indexOf('base;') + 1;
  const h = hoverAt(doc, at);
  assert.ok(h, 'hover on base');
  assert.match(h.markdown, /\*\*gs\*\*/);
  assert.match(h.markdown, /member `base`/);
  assert.equal(text.slice(h.start, h.end), 'base');
});
