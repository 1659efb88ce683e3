// SEV-ES layouts: the VM save area (VMSA, Linux struct sev_es_save_area — the encrypted guest state of SEV-ES/SNP
// guests, also used as the host save area of their VMCB) and the GHCB (guest-hypervisor communication block, struct
// ghcb with its save area and valid bitmap). Offsets are computed here from the member sizes (packed layouts) and
// checked in tests against the sizes Linux asserts: EXPECTED_SEV_ES_SAVE_AREA_SIZE 1648, EXPECTED_GHCB_SAVE_AREA_SIZE
// 1032, GHCB 4096 (Linux 7.1.5 arch/x86/include/asm/svm.h). Semantics: AMD APM Vol.2 §15.35 (SEV-ES) and the AMD
// GHCB specification (document 56421); KVM's use: arch/x86/kvm/svm/sev.c.
import { APM, CODE } from './sources';
import type { VmcbField } from './types';

const SEV_SRC = [APM.sevEs, CODE.linuxSvmH, `${CODE.linuxSvmC.replace('svm.c', 'sev.c')} (sev_es_sync_vmsa, sev_es_sync_from_ghcb)`];
const GHCB_SRC = ['AMD GHCB specification (document 56421): GHCB layout and valid bitmap', CODE.linuxSvmH, `${CODE.linuxSvmC.replace('svm.c', 'sev.c')} (sev_es_sync_from_ghcb, sev_es_validate_vmgexit)`];

/** [member, size in bytes, meaning]; a member named '' is reserved space. */
type M = [string, number, string];
const seg = (n: string): M => [n, 16, `guest ${n.toUpperCase()} (selector, attrib, limit, base)`];
const r = (size: number): M => ['', size, ''];

const VMSA: M[] = [
  ...['es', 'cs', 'ss', 'ds', 'fs', 'gs', 'gdtr', 'ldtr', 'idtr', 'tr'].map(seg),
  ['pl0_ssp', 8, 'ring-0 shadow-stack pointer'], ['pl1_ssp', 8, 'ring-1 shadow-stack pointer'], ['pl2_ssp', 8, 'ring-2 shadow-stack pointer'],
  ['pl3_ssp', 8, 'ring-3 shadow-stack pointer'], ['u_cet', 8, 'user CET configuration (IA32_U_CET)'], r(2),
  ['vmpl', 1, 'VM permission level of this VMSA (SEV-SNP)'], ['cpl', 1, 'current privilege level'], r(4),
  ['efer', 8, 'guest EFER'], r(104), ['xss', 8, 'guest IA32_XSS'], ['cr4', 8, 'guest CR4'], ['cr3', 8, 'guest CR3'], ['cr0', 8, 'guest CR0'],
  ['dr7', 8, 'guest DR7'], ['dr6', 8, 'guest DR6'], ['rflags', 8, 'guest RFLAGS'], ['rip', 8, 'guest RIP'],
  ['dr0', 8, 'guest DR0'], ['dr1', 8, 'guest DR1'], ['dr2', 8, 'guest DR2'], ['dr3', 8, 'guest DR3'],
  ['dr0_addr_mask', 8, 'DR0 address mask (breakpoint address masking)'], ['dr1_addr_mask', 8, 'DR1 address mask'],
  ['dr2_addr_mask', 8, 'DR2 address mask'], ['dr3_addr_mask', 8, 'DR3 address mask'], r(24),
  ['rsp', 8, 'guest RSP'], ['s_cet', 8, 'supervisor CET configuration'], ['ssp', 8, 'shadow-stack pointer'], ['isst_addr', 8, 'interrupt SSP table address'],
  ['rax', 8, 'guest RAX'], ['star', 8, 'STAR'], ['lstar', 8, 'LSTAR'], ['cstar', 8, 'CSTAR'], ['sfmask', 8, 'SFMASK'], ['kernel_gs_base', 8, 'KernelGsBase'],
  ['sysenter_cs', 8, 'SYSENTER_CS'], ['sysenter_esp', 8, 'SYSENTER_ESP'], ['sysenter_eip', 8, 'SYSENTER_EIP'], ['cr2', 8, 'guest CR2'], r(32),
  ['g_pat', 8, 'guest PAT'], ['dbgctl', 8, 'DebugCtl'], ['br_from', 8, 'last branch from'], ['br_to', 8, 'last branch to'],
  ['last_excp_from', 8, 'last exception from'], ['last_excp_to', 8, 'last exception to'], r(80),
  ['pkru', 4, 'guest PKRU'], ['tsc_aux', 4, 'guest TSC_AUX'], ['tsc_scale', 8, 'TSC ratio (Secure TSC)'], ['tsc_offset', 8, 'TSC offset (Secure TSC)'], r(8),
  ['rcx', 8, 'guest RCX'], ['rdx', 8, 'guest RDX'], ['rbx', 8, 'guest RBX'], ['reserved_0x320', 8, 'reserved (RSP lives at 0x1d8)'], ['rbp', 8, 'guest RBP'],
  ['rsi', 8, 'guest RSI'], ['rdi', 8, 'guest RDI'], ...[8, 9, 10, 11, 12, 13, 14, 15].map((n): M => [`r${n}`, 8, `guest R${n}`]), r(16),
  ['guest_exit_info_1', 8, 'exit information 1 of the last automatic exit (SEV-SNP restricted/alternate injection)'],
  ['guest_exit_info_2', 8, 'exit information 2 of the last automatic exit'], ['guest_exit_int_info', 8, 'exit interrupt information of the last automatic exit'],
  ['guest_nrip', 8, 'next RIP of the last automatic exit'], ['sev_features', 8, 'SEV features enabled for the guest (SVM_SEV_FEAT_*: SNP active, debug swap, secure TSC, ...)'],
  ['vintr_ctrl', 8, 'virtual interrupt control (int_ctl equivalent for restricted injection)'], ['guest_exit_code', 8, 'exit code of the last automatic exit'],
  ['virtual_tom', 8, 'virtual top of memory'], ['tlb_id', 8, 'TLB id'], ['pcpu_id', 8, 'physical CPU id'], ['event_inj', 8, 'event to inject (alternate injection)'],
  ['xcr0', 8, 'guest XCR0'], r(16),
  ['x87_dp', 8, 'x87 data pointer'], ['mxcsr', 4, 'MXCSR'], ['x87_ftw', 2, 'x87 tag word'], ['x87_fsw', 2, 'x87 status word'], ['x87_fcw', 2, 'x87 control word'],
  ['x87_fop', 2, 'x87 last opcode'], ['x87_ds', 2, 'x87 data segment'], ['x87_cs', 2, 'x87 code segment'], ['x87_rip', 8, 'x87 instruction pointer'],
  ['fpreg_x87', 80, 'x87 registers ST0-ST7'], ['fpreg_xmm', 256, 'XMM0-XMM15'], ['fpreg_ymm', 256, 'upper halves of YMM0-YMM15'],
];

const GHCB_SAVE: M[] = [
  r(203), ['cpl', 1, 'guest CPL'], r(116), ['xss', 8, 'guest IA32_XSS (for CPUID leaf 0xD)'], r(24), ['dr7', 8, 'guest DR7'], r(16),
  ['rip', 8, 'guest RIP'], r(88), ['rsp', 8, 'guest RSP'], r(24), ['rax', 8, 'guest RAX'], r(264), ['rcx', 8, 'guest RCX'], ['rdx', 8, 'guest RDX'],
  ['rbx', 8, 'guest RBX'], r(8), ['rbp', 8, 'guest RBP'], ['rsi', 8, 'guest RSI'], ['rdi', 8, 'guest RDI'],
  ...[8, 9, 10, 11, 12, 13, 14, 15].map((n): M => [`r${n}`, 8, `guest R${n}`]), r(16),
  ['sw_exit_code', 8, 'the exit the guest requests with VMGEXIT (an SVM_EXIT_* code or an SVM_VMGEXIT_* code)'],
  ['sw_exit_info_1', 8, 'request parameter 1 in; result/error out (GHCB_HV_RESP_*)'], ['sw_exit_info_2', 8, 'request parameter 2 in; result out'],
  ['sw_scratch', 8, 'guest-physical address of the scratch area (inside the shared buffer or guest memory) for string I/O, MMIO, PSC'],
  r(56), ['xcr0', 8, 'guest XCR0 (for CPUID leaf 0xD)'],
  ['valid_bitmap', 16, 'valid bitmap: bit n = the 8-byte save-area quadword at offset 8n was provided; KVM reads only fields whose bit is set (ghcb_<field>_is_valid, sev_es_validate_vmgexit) and clears the bitmap before returning'],
  ['x87_state_gpa', 8, 'guest-physical address of the x87 state (XSAVE area)'],
];

interface Laid { name: string; offset: number; size: number; meaning: string }
function layout(ms: M[], base = 0): Laid[] {
  let off = base;
  const out: Laid[] = [];
  for (const [name, size, meaning] of ms) {
    if (name) out.push({ name, offset: off, size, meaning });
    off += size;
  }
  return out;
}
export function layoutSize(ms: 'vmsa' | 'ghcb-save'): number {
  return (ms === 'vmsa' ? VMSA : GHCB_SAVE).reduce((n, m) => n + m[1], 0);
}

const SEG_NAMES = new Set(['es', 'cs', 'ss', 'ds', 'fs', 'gs', 'gdtr', 'ldtr', 'idtr', 'tr']);

function asField(l: Laid, layoutName: 'vmsa' | 'ghcb'): VmcbField {
  const f: VmcbField = {
    kind: 'vmcb', name: l.name, area: 'save', aliases: [], offset: l.offset, size: l.size, meaning: l.meaning, writtenOnVmexit: 'no',
    linux: true, layout: layoutName, sources: layoutName === 'vmsa' ? SEV_SRC : GHCB_SRC,
  };
  if (layoutName === 'vmsa') {
    f.vmexitNote = 'for an SEV-ES guest VMRUN loads and #VMEXIT saves the whole VMSA (encrypted with the guest key); KVM can touch it only before the launch measurement (sev_es_sync_vmsa) or for debug-enabled guests';
    f.writtenOnVmexit = 'yes';
    f.onVmrun = 'loaded from the encrypted VMSA at control.vmsa_pa (SEV-ES); the VMCB save area then holds host state only';
  } else {
    f.onVmrun = 'not used by VMRUN: the GHCB is a shared (unencrypted) page the guest fills before VMGEXIT; KVM copies the valid fields in (sev_es_sync_from_ghcb) and results out (sev_es_sync_to_ghcb)';
  }
  if (SEG_NAMES.has(l.name)) {
    f.members = [
      { name: 'selector', offset: l.offset, size: 2 }, { name: 'attrib', offset: l.offset + 2, size: 2 },
      { name: 'limit', offset: l.offset + 4, size: 4 }, { name: 'base', offset: l.offset + 8, size: 8 },
    ];
  }
  if (layoutName === 'ghcb' && l.offset < 0x3f0 && l.size === 8) f.notes = `GHCB valid-bitmap bit ${l.offset / 8} (ghcb_${l.name}_is_valid)`;
  return f;
}

/** struct sev_es_save_area members with offsets relative to the VMSA page (= VMCB offset - 0x400 when it is the VMCB's save area). */
export const VMSA_FIELDS: readonly VmcbField[] = layout(VMSA).map((l) => asField(l, 'vmsa'));

/** struct ghcb: the save area (with valid bitmap), then shared_buffer at 0x800, protocol_version at 0xffa, ghcb_usage at 0xffc. */
export const GHCB_FIELDS: readonly VmcbField[] = [
  ...layout(GHCB_SAVE).map((l) => asField(l, 'ghcb')),
  ...layout([['shared_buffer', 2032, 'shared buffer (scratch area for string I/O, MMIO and page-state changes)'], r(10),
    ['protocol_version', 2, 'negotiated GHCB protocol version'], ['ghcb_usage', 4, 'GHCB usage: 0 = standard format (the only one KVM accepts)']], 0x800)
    .map((l) => ({ ...asField(l, 'ghcb'), area: 'control' as const })),
];

export function findVmsaField(name: string): VmcbField | undefined {
  return VMSA_FIELDS.find((f) => f.name === name);
}
export function findGhcbField(name: string): VmcbField | undefined {
  return GHCB_FIELDS.find((f) => f.name === name);
}

/** GHCB valid-bitmap bit of a save-area member (its offset / 8), undefined if not an 8-byte save-area quadword. */
export function ghcbValidBit(name: string): number | undefined {
  const f = GHCB_FIELDS.find((x) => x.name === name && x.area === 'save');
  return f && f.size === 8 && f.offset < 0x3f0 ? f.offset / 8 : undefined;
}
