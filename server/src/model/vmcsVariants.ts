// Two KVM-specific views of the VMCS fields:
//  - the shadow VMCS KVM gives L1 (enable_shadow_vmcs): which fields L1's VMREAD/VMWRITE reach without a VM exit
//    (Linux 7.1.5 arch/x86/kvm/vmx/vmcs_shadow_fields.h SHADOW_FIELD_RO/RW; nested.c init_vmcs_shadow_fields,
//    copy_shadow_to_vmcs12, copy_vmcs12_to_shadow; SDM Vol.3C §25.10 VMCS types: ordinary and shadow);
//  - the enlightened VMCS v1 (Hyper-V): the clean-field group of each field (data/evmcsTable.ts) and the 17 group
//    names HV_VMX_ENLIGHTENED_CLEAN_FIELD_* (Hyper-V TLFS; Linux hyperv-tlfs definitions; used by
//    arch/x86/kvm/vmx/hyperv_evmcs.c and nested.c copy_enlightened_to_vmcs12 / copy_vmcs12_to_enlightened).
import { EVMCS_FIELD_GROUPS, EVMCS_UNUSED_FIELDS } from './data/evmcsTable';
import { CODE } from './sources';
import type { SymbolInfo } from './types';

export const SHADOW_SRC = 'Linux 7.1.5 arch/x86/kvm/vmx/vmcs_shadow_fields.h; nested.c init_vmcs_shadow_fields, copy_shadow_to_vmcs12, copy_vmcs12_to_shadow';
export const SDM_SHADOW = 'Intel SDM Vol.3C §25.10 (VMCS types: ordinary and shadow); §26.1.3 (VMREAD/VMWRITE bitmaps)';
export const EVMCS_SRC = 'Linux 7.1.5 arch/x86/kvm/vmx/hyperv_evmcs.c vmcs_field_to_evmcs_1[]; nested.c copy_enlightened_to_vmcs12';
const TLFS = 'Microsoft Hypervisor TLFS (enlightened VMCS, clean fields); Linux hyperv-tlfs HV_VMX_ENLIGHTENED_CLEAN_FIELD_* definitions';

const RO = ['VM_EXIT_REASON', 'VM_EXIT_INTR_INFO', 'VM_EXIT_INSTRUCTION_LEN', 'IDT_VECTORING_INFO_FIELD', 'IDT_VECTORING_ERROR_CODE',
  'VM_EXIT_INTR_ERROR_CODE', 'GUEST_CS_AR_BYTES', 'GUEST_SS_AR_BYTES', 'EXIT_QUALIFICATION', 'GUEST_LINEAR_ADDRESS',
  'GUEST_PHYSICAL_ADDRESS', 'GUEST_PHYSICAL_ADDRESS_HIGH'];
const RW = ['GUEST_INTR_STATUS', 'GUEST_PML_INDEX', 'HOST_FS_SELECTOR', 'HOST_GS_SELECTOR', 'CPU_BASED_VM_EXEC_CONTROL',
  'PIN_BASED_VM_EXEC_CONTROL', 'EXCEPTION_BITMAP', 'VM_ENTRY_EXCEPTION_ERROR_CODE', 'VM_ENTRY_INTR_INFO_FIELD', 'VM_ENTRY_INSTRUCTION_LEN',
  'TPR_THRESHOLD', 'GUEST_INTERRUPTIBILITY_INFO', 'VMX_PREEMPTION_TIMER_VALUE', 'GUEST_RIP', 'GUEST_RSP', 'GUEST_CR0', 'GUEST_CR3',
  'GUEST_CR4', 'GUEST_RFLAGS', 'CR0_GUEST_HOST_MASK', 'CR0_READ_SHADOW', 'CR4_READ_SHADOW', 'HOST_FS_BASE', 'HOST_GS_BASE'];

export type ShadowKind = 'read-only' | 'read-write';
const SHADOW = new Map<string, ShadowKind>([...RO.map((n): [string, ShadowKind] => [n, 'read-only']), ...RW.map((n): [string, ShadowKind] => [n, 'read-write'])]);

/** Is the field in KVM's shadow VMCS for L1, and how? undefined = every L1 VMREAD/VMWRITE of it exits to KVM. */
export function shadowVmcsKind(field: string): ShadowKind | undefined {
  return SHADOW.get(field);
}

export function shadowVmcsNote(kind: ShadowKind): string {
  return kind === 'read-write'
    ? 'shadowed read-write for L1 (enable_shadow_vmcs): L1\'s VMREAD and VMWRITE use the shadow VMCS without a VM exit; KVM copies it back into vmcs12 (copy_shadow_to_vmcs12) before using vmcs12'
    : 'shadowed read-only for L1: L1\'s VMREAD uses the shadow VMCS without a VM exit (KVM fills it with copy_vmcs12_to_shadow); L1\'s VMWRITE still exits';
}

/** The 17 eVMCS clean-field groups, HV_VMX_ENLIGHTENED_CLEAN_FIELD_NONE (value 0) then bits 0-15, plus ALL. */
const GROUPS: Array<[string, number | undefined, string]> = [
  ['NONE', undefined, 'fields no clean bit covers (guest RIP, TPR threshold, the exit-information fields): KVM copies them on every nested VM entry or exit'],
  ['IO_BITMAP', 0, 'I/O bitmap A/B addresses'], ['MSR_BITMAP', 1, 'MSR bitmap address'],
  ['CONTROL_GRP2', 2, 'TSC offset and multiplier, virtual-APIC address, XSS-exiting and ENCLS-exiting bitmaps'],
  ['CONTROL_GRP1', 3, 'pin-based, VM-exit and secondary processor-based controls'], ['CONTROL_PROC', 4, 'primary processor-based controls'],
  ['CONTROL_EVENT', 5, 'VM-entry event injection (interruption information, exception error code, instruction length)'],
  ['CONTROL_ENTRY', 6, 'VM-entry controls'], ['CONTROL_EXCPN', 7, 'exception bitmap'],
  ['CRDR', 8, 'CR0/CR4 guest/host masks and read shadows, guest CR0/CR3/CR4, guest DR7'],
  ['CONTROL_XLAT', 9, 'EPT pointer and VPID'],
  ['GUEST_BASIC', 10, 'guest RSP, RFLAGS, interruptibility state'],
  ['GUEST_GRP1', 11, 'VMCS link pointer, guest DEBUGCTL/PAT/EFER/PERF_GLOBAL_CTRL, PDPTEs, pending debug exceptions, SYSENTER MSRs, BNDCFGS, activity state'],
  ['GUEST_GRP2', 12, 'guest segment registers, GDTR/IDTR/LDTR/TR (selectors, bases, limits, access rights)'],
  ['HOST_POINTER', 13, 'host FS/GS/TR/GDTR/IDTR bases and host RSP'],
  ['HOST_GRP1', 14, 'the rest of the host state: CRs, selectors, PAT/EFER/PERF_GLOBAL_CTRL, SYSENTER, RIP'],
  ['ENLIGHTENMENTSCONTROL', 15, 'Hyper-V enlightenment controls (partition-assist page, VM and VP ids)'],
];

const groupName = (g: string): string => `HV_VMX_ENLIGHTENED_CLEAN_FIELD_${g}`;
const FIELD_GROUP = new Map<string, string>(EVMCS_FIELD_GROUPS.map(([f, g]) => [f, groupName(g)]));

/** eVMCS clean-field group of a VMCS field (Linux enum name), undefined if the eVMCS v1 has no such field. */
export function evmcsGroupOf(field: string): string | undefined {
  return FIELD_GROUP.get(field);
}

/** eVMCS v1 fields KVM does not map (e.g. 0x2816 guest_ia32_lbr_ctl): encoding → [member, group]. */
export function evmcsUnusedField(encoding: number): { member: string; group: string } | undefined {
  const r = EVMCS_UNUSED_FIELDS.find(([enc]) => enc === encoding);
  return r ? { member: r[1], group: groupName(r[2]) } : undefined;
}

function covered(g: string): string[] {
  return EVMCS_FIELD_GROUPS.filter(([, x]) => x === g).map(([f]) => f);
}

export const EVMCS_CLEAN_GROUPS: readonly SymbolInfo[] = [
  ...GROUPS.map(([g, bit, what]): SymbolInfo => {
    const fields = covered(g);
    const s: SymbolInfo = {
      kind: 'symbol', category: 'evmcs-clean-field', vendor: 'vmx', name: groupName(g), aliases: [], container: 'hv_clean_fields (enlightened VMCS v1)',
      value: bit === undefined ? '0x0' : `0x${(2 ** bit).toString(16)}`,
      meaning: `eVMCS clean-field group${bit === undefined ? '' : ` (bit ${bit})`}: ${what}. When L1 sets the bit, KVM may skip copying the group from the eVMCS into vmcs12 on nested VM entry (copy_enlightened_to_vmcs12); L1 must clear it after changing any covered field${fields.length ? `. Fields (${fields.length}): ${fields.slice(0, 12).join(', ')}${fields.length > 12 ? ', ...' : ''}` : ''}`,
      sources: [TLFS, EVMCS_SRC],
    };
    if (bit !== undefined) s.bit = bit;
    return s;
  }),
  {
    kind: 'symbol', category: 'evmcs-clean-field', vendor: 'vmx', name: groupName('ALL'), aliases: [], container: 'hv_clean_fields (enlightened VMCS v1)', value: '0xffff',
    meaning: `all 16 clean-field bits (nested VM entry treats L1's value with this mask). KVM's field table gives it to the fields it does not take from the eVMCS at all (${covered('ALL').join(', ')}): their copies are commented out in copy_enlightened_to_vmcs12`,
    sources: [TLFS, EVMCS_SRC],
  },
];

export const EVMCS_NOTE_SRC = `${EVMCS_SRC}; ${CODE.linuxNestedVmx} nested_vmx_handle_enlightened_vmptrld`;
