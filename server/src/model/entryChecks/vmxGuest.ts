// Intel SDM Vol.3C §27.3.1 (checks on the guest-state area), the PDPTE checks of §27.3.1.6 / §27.3.2.4 and the MSR
// loading of §27.4. A failed check makes VM entry fail with a VM exit: basic reason 33 (invalid guest state) with
// exit qualification 0, 2 (PDPTE loading), 3 (NMI injection with blocking by STI) or 4 (VMCS link pointer); reason 34
// for MSR loading (§27.8, VM-entry failures during or after loading guest state). Cross-checked against Bochs
// bochs/cpu/vmx.cc VMenterLoadCheckGuestState().
import {
  EXIT_INVALID_GUEST, EXIT_INVALID_GUEST_LINK, EXIT_INVALID_GUEST_PDPTE, EXIT_MSR_LOAD, type CheckGroup, type EntryCheck,
  type EntryFailure,
} from './types';

const CRMSR = 'Intel SDM Vol.3C §27.3.1.1 (checks on guest control registers, debug registers, and MSRs)';
const SEG = 'Intel SDM Vol.3C §27.3.1.2 (checks on guest segment registers)';
const DTR = 'Intel SDM Vol.3C §27.3.1.3 (checks on guest descriptor-table registers)';
const RIP = 'Intel SDM Vol.3C §27.3.1.4 (checks on guest RIP, RFLAGS, and SSP)';
const NONREG = 'Intel SDM Vol.3C §27.3.1.5 (checks on guest non-register state)';
const PDPTE = 'Intel SDM Vol.3C §27.3.1.6 (checks on guest page-directory-pointer-table entries)';
const PDPTE_LOAD = 'Intel SDM Vol.3C §27.3.2.4 (loading page-directory-pointer-table entries) and §27.8 (VM-entry failures during or after loading guest state)';
const MSRLOAD = 'Intel SDM Vol.3C §27.4 (loading MSRs) and §27.8 (VM-entry failures during or after loading guest state)';

type Opt = Partial<Pick<EntryCheck, 'feature' | 'recent' | 'notes'>> & { none?: string[]; failure?: EntryFailure };

function c(group: CheckGroup, section: string, id: string, text: string, fields: string[], all?: string[][], opt: Opt = {}): EntryCheck {
  const { none, failure, ...rest } = opt;
  return { id: `vmx.guest.${id}`, vendor: 'vmx', group, order: 0, text, match: { fields, all, none }, failure: failure ?? EXIT_INVALID_GUEST, section, ...rest };
}
const cr = (id: string, text: string, fields: string[], all?: string[][], opt?: Opt) => c('guest-cr-msr', CRMSR, id, text, fields, all, opt);
const seg = (id: string, text: string, fields: string[], all?: string[][], opt?: Opt) => c('guest-seg', SEG, `seg.${id}`, text, fields, all, opt);
const dtr = (id: string, text: string, fields: string[], all?: string[][], opt?: Opt) => c('guest-dtr', DTR, id, text, fields, all, opt);
const rip = (id: string, text: string, fields: string[], all?: string[][], opt?: Opt) => c('guest-rip-rflags', RIP, id, text, fields, all, opt);
const nonreg = (id: string, text: string, fields: string[], all?: string[][], opt?: Opt) => c('guest-non-reg', NONREG, id, text, fields, all, opt);

const IA32E = ['VM_ENTRY_IA32E_MODE'];
const CANONICAL = ['is_noncanonical_address', 'is_noncanonical_msr_address', 'is_noncanonical_base_address', 'is_canonical_address', '__is_canonical_address', 'canonical'];
const DATA = ['es', 'ds', 'fs', 'gs'];
const f = (regs: string[], what: string): string[] => regs.map((r) => `guest_${r}_${what}`);
const SEGS6 = ['cs', 'ss', 'ds', 'es', 'fs', 'gs'];
const AR = ['/_ar_bytes|VMX_AR_|AR_TYPE|AR_S_MASK|AR_P_MASK|AR_DPL|AR_G_MASK|AR_UNUSABLE/'];
const V86 = ['X86_EFLAGS_VM', '/rflags.*VM/'];
const INTR = 'guest_interruptibility_info';
const ACT = 'guest_activity_state';
const PDPTRS = ['guest_pdptr0', 'guest_pdptr1', 'guest_pdptr2', 'guest_pdptr3'];

export const VMX_GUEST_CHECKS: EntryCheck[] = [
  // §27.3.1.1
  cr('cr0-fixed', 'The CR0 field must not set any bit to a value not supported in VMX operation (PE and PG are not checked if "unrestricted guest" is 1; NW and CD are never checked)',
    ['guest_cr0'], [['nested_guest_cr0_valid', 'cr0_fixed0', 'cr0_fixed1', 'fixed_bits_valid', 'CR0_FIXED']]),
  cr('cr0-pg-pe', 'If bit 31 of the CR0 field (PG) is 1, bit 0 (PE) must be 1',
    ['guest_cr0'], [['X86_CR0_PG'], ['X86_CR0_PE']], { none: ['X86_CR4_PAE', 'VM_ENTRY_IA32E_MODE', 'EFER_LME', 'nested_guest_cr0_valid', 'fixed_bits_valid'] }),
  cr('cr4-fixed', 'The CR4 field must not set any bit to a value not supported in VMX operation',
    ['guest_cr4'], [['nested_guest_cr4_valid', 'nested_cr4_valid', 'cr4_fixed0', 'cr4_fixed1', 'fixed_bits_valid', 'CR4_FIXED']]),
  cr('cr4-cet-wp', 'If bit 23 of the CR4 field (CET) is 1, bit 16 of the CR0 field (WP) must be 1',
    ['guest_cr4', 'guest_cr0'], [['X86_CR4_CET'], ['X86_CR0_WP']], { recent: 'CET' }),
  cr('debugctl', 'If "load debug controls" is 1, bits reserved in IA32_DEBUGCTL must be 0 in the field',
    ['guest_ia32_debugctl'], [['VM_ENTRY_LOAD_DEBUG_CONTROLS'], ['vmx_is_valid_debugctl', 'vmx_get_supported_debugctl', 'DEBUGCTL', 'debugctl']], { feature: 'VM_ENTRY_LOAD_DEBUG_CONTROLS' }),
  cr('ia32e-pg', 'If "IA-32e mode guest" is 1, bit 31 of the CR0 field (PG) must be 1',
    ['guest_cr0'], [IA32E, ['X86_CR0_PG']], { none: ['EFER_LME', 'EFER_LMA'] }),
  cr('ia32e-pae', 'If "IA-32e mode guest" is 1, bit 5 of the CR4 field (PAE) must be 1',
    ['guest_cr4'], [IA32E, ['X86_CR4_PAE']]),
  cr('non-ia32e-pcide', 'If "IA-32e mode guest" is 0, bit 17 of the CR4 field (PCIDE) must be 0',
    ['guest_cr4'], [IA32E, ['X86_CR4_PCIDE']]),
  cr('cr3-width', 'The CR3 field must be such that bits 63:52 and bits 51:32 beyond the physical-address width are 0',
    ['guest_cr3'], [['kvm_vcpu_is_legal_cr3', 'kvm_vcpu_is_illegal_gpa', 'kvm_vcpu_is_legal_gpa', 'cr3_lm_rsvd_bits', 'nested_cr3_valid', 'maxphyaddr']]),
  cr('dr7-high', 'If "load debug controls" is 1, bits 63:32 in the DR7 field must be 0',
    ['guest_dr7'], [['VM_ENTRY_LOAD_DEBUG_CONTROLS'], ['kvm_dr7_valid', '/>>\\s*32/']], { feature: 'VM_ENTRY_LOAD_DEBUG_CONTROLS' }),
  cr('sysenter-canonical', 'The IA32_SYSENTER_ESP and IA32_SYSENTER_EIP fields must each contain a canonical address',
    ['guest_sysenter_esp', 'guest_sysenter_eip'], [CANONICAL]),
  cr('cet-s-cet', 'If "load CET state" is 1, the IA32_S_CET field must not set reserved bits and must be canonical',
    ['guest_s_cet'], [['VM_ENTRY_LOAD_CET_STATE'], ['kvm_is_valid_u_s_cet', ...CANONICAL, 'CET_US_RESERVED_BITS']], { feature: 'VM_ENTRY_LOAD_CET_STATE', recent: 'CET' }),
  cr('cet-ssp-tbl', 'If "load CET state" is 1, the IA32_INTERRUPT_SSP_TABLE_ADDR field must be canonical',
    ['guest_ssp_tbl'], [['VM_ENTRY_LOAD_CET_STATE'], CANONICAL], { feature: 'VM_ENTRY_LOAD_CET_STATE', recent: 'CET' }),
  cr('perf-global-ctrl', 'If "load IA32_PERF_GLOBAL_CTRL" is 1, bits reserved in IA32_PERF_GLOBAL_CTRL must be 0 in the field',
    ['guest_ia32_perf_global_ctrl'], [['VM_ENTRY_LOAD_IA32_PERF_GLOBAL_CTRL'], ['kvm_valid_perf_global_ctrl', 'global_ctrl_rsvd', 'global_ctrl_mask']], { feature: 'VM_ENTRY_LOAD_IA32_PERF_GLOBAL_CTRL' }),
  cr('pat', 'If "load IA32_PAT" is 1, each of the eight PAT entries must be a valid memory type',
    ['guest_ia32_pat'], [['VM_ENTRY_LOAD_IA32_PAT'], ['kvm_pat_valid', 'kvm_mtrr_valid', 'pat_valid']], { feature: 'VM_ENTRY_LOAD_IA32_PAT' }),
  cr('efer-reserved', 'If "load IA32_EFER" is 1, bits reserved in IA32_EFER must be 0 in the field',
    ['guest_ia32_efer'], [['VM_ENTRY_LOAD_IA32_EFER'], ['kvm_valid_efer', 'efer_reserved_bits']], { feature: 'VM_ENTRY_LOAD_IA32_EFER' }),
  cr('efer-lma', 'If "load IA32_EFER" is 1, bit 10 (LMA) must equal "IA-32e mode guest"',
    ['guest_ia32_efer'], [['VM_ENTRY_LOAD_IA32_EFER'], ['EFER_LMA'], IA32E], { feature: 'VM_ENTRY_LOAD_IA32_EFER' }),
  cr('efer-lme', 'If "load IA32_EFER" is 1 and CR0.PG is 1 in the CR0 field, bit 8 (LME) must equal "IA-32e mode guest"',
    ['guest_ia32_efer'], [['VM_ENTRY_LOAD_IA32_EFER'], ['EFER_LME'], IA32E], { feature: 'VM_ENTRY_LOAD_IA32_EFER' }),
  cr('bndcfgs', 'If "load IA32_BNDCFGS" is 1, reserved bits 11:2 must be 0 and bits 63:12 must be canonical',
    ['guest_bndcfgs'], [['VM_ENTRY_LOAD_BNDCFGS'], ['MSR_IA32_BNDCFGS_RSVD', ...CANONICAL]], { feature: 'VM_ENTRY_LOAD_BNDCFGS' }),
  cr('rtit-ctl', 'If "load IA32_RTIT_CTL" is 1, bits reserved in IA32_RTIT_CTL must be 0 in the field',
    ['guest_ia32_rtit_ctl'], [['VM_ENTRY_LOAD_IA32_RTIT_CTL']], { feature: 'VM_ENTRY_LOAD_IA32_RTIT_CTL' }),
  cr('lbr-ctl', 'If "load guest IA32_LBR_CTL" is 1, bits reserved in IA32_LBR_CTL must be 0 in the field',
    ['guest_ia32_lbr_ctl'], [['VM_ENTRY_LOAD_IA32_LBR_CTL']], { feature: 'VM_ENTRY_LOAD_IA32_LBR_CTL', recent: 'architectural LBRs' }),
  cr('pkrs', 'If "load PKRS" is 1, bits 63:32 of the IA32_PKRS field must be 0',
    ['guest_ia32_pkrs'], [['VM_ENTRY_LOAD_IA32_PKRS']], { feature: 'VM_ENTRY_LOAD_IA32_PKRS', recent: 'PKS' }),
  cr('fred', 'If "load FRED" is 1, the guest FRED MSR fields must not set reserved bits and the RSP/SSP fields must be canonical',
    ['guest_ia32_fred_config', 'guest_ia32_fred_rsp1', 'guest_ia32_fred_ssp1'], [['VM_ENTRY_LOAD_IA32_FRED']], { feature: 'VM_ENTRY_LOAD_IA32_FRED', recent: 'FRED' }),

  // §27.3.1.2 — selectors
  seg('tr-ti', 'TR: the TI flag (bit 2) of the selector must be 0', ['guest_tr_selector'], [['SEGMENT_TI_MASK', '/&\\s*(0x)?4\\b/']]),
  seg('ldtr-ti', 'LDTR: if usable, the TI flag of the selector must be 0', ['guest_ldtr_selector'], [['SEGMENT_TI_MASK', '/&\\s*(0x)?4\\b/']]),
  seg('ss-rpl', 'SS: if not virtual-8086 and "unrestricted guest" is 0, RPL of SS must equal RPL of CS', ['guest_ss_selector', 'guest_cs_selector'], [['SEGMENT_RPL_MASK', '/&\\s*(0x)?3\\b/']]),
  // base addresses
  seg('v86-base', 'CS, SS, DS, ES, FS, GS: in virtual-8086 mode the base must be the selector shifted left by 4', f(SEGS6, 'base'), [V86]),
  seg('base-canonical', 'TR, FS, GS: the base must be canonical', f(['tr', 'fs', 'gs'], 'base'), [CANONICAL]),
  seg('ldtr-base-canonical', 'LDTR: if usable, the base must be canonical', ['guest_ldtr_base'], [CANONICAL]),
  seg('cs-base-high', 'CS: bits 63:32 of the base must be 0', ['guest_cs_base'], [['/>>\\s*32/']]),
  seg('data-base-high', 'SS, DS, ES: if usable, bits 63:32 of the base must be 0', f(['ss', 'ds', 'es'], 'base'), [['/>>\\s*32/']]),
  // limits
  seg('v86-limit', 'CS, SS, DS, ES, FS, GS: in virtual-8086 mode the limit must be 0000FFFFH', f(SEGS6, 'limit'), [V86]),
  // access rights
  seg('v86-ar', 'CS, SS, DS, ES, FS, GS: in virtual-8086 mode the access rights must be 000000F3H', f(SEGS6, 'ar_bytes'), [V86]),
  seg('cs-type', 'CS: type must be 9, 11, 13 or 15 (accessed code), or 3 if "unrestricted guest" is 1', ['guest_cs_ar_bytes'], [AR]),
  seg('ss-type', 'SS: if usable, type must be 3 or 7 (read/write, accessed)', ['guest_ss_ar_bytes'], [AR]),
  seg('data-type', 'DS, ES, FS, GS: if usable, bit 0 of the type (accessed) must be 1, and a code segment must be readable', f(DATA, 'ar_bytes'), [AR]),
  seg('s-bit', 'CS, and SS/DS/ES/FS/GS if usable: S (bit 4) must be 1', f(SEGS6, 'ar_bytes'), [AR]),
  seg('cs-dpl', 'CS DPL: 0 if type 3 (unrestricted guest); equal to SS DPL if non-conforming code; not above SS DPL if conforming', ['guest_cs_ar_bytes', 'guest_ss_ar_bytes'], [AR]),
  seg('ss-dpl', 'SS DPL: equal to the RPL of the SS selector if "unrestricted guest" is 0; 0 if CS type is 3 or CR0.PE is 0', ['guest_ss_ar_bytes', 'guest_ss_selector'], [AR]),
  seg('data-dpl', 'DS, ES, FS, GS: if "unrestricted guest" is 0 and the register is usable with type 0-11, DPL must not be less than the RPL', f(DATA, 'ar_bytes'), [AR]),
  seg('p-bit', 'CS, and SS/DS/ES/FS/GS if usable: P (bit 7) must be 1', f(SEGS6, 'ar_bytes'), [AR]),
  seg('ar-reserved', 'CS, and SS/DS/ES/FS/GS if usable: reserved bits 11:8 and 31:17 must be 0', f(SEGS6, 'ar_bytes'), [AR]),
  seg('cs-db', 'CS: if "IA-32e mode guest" is 1 and L (bit 13) is 1, D/B (bit 14) must be 0', ['guest_cs_ar_bytes'], [AR, IA32E]),
  seg('g-bit', 'CS, and SS/DS/ES/FS/GS if usable: G must be 0 if any of limit bits 11:0 is 0, and 1 if any of limit bits 31:20 is 1', [...f(SEGS6, 'ar_bytes'), ...f(SEGS6, 'limit')], [AR]),
  seg('tr-type', 'TR: type must be 3 or 11 if "IA-32e mode guest" is 0, and 11 if it is 1', ['guest_tr_ar_bytes'], [AR]),
  seg('tr-s-p', 'TR: S must be 0 and P must be 1', ['guest_tr_ar_bytes'], [AR]),
  seg('tr-reserved-g', 'TR: reserved bits 11:8 and 31:17 must be 0; G consistent with the limit', ['guest_tr_ar_bytes', 'guest_tr_limit'], [AR]),
  seg('tr-usable', 'TR: the unusable bit (16) must be 0', ['guest_tr_ar_bytes'], [AR]),
  seg('ldtr-type', 'LDTR: if usable, type must be 2, S must be 0 and P must be 1', ['guest_ldtr_ar_bytes'], [AR]),
  seg('ldtr-reserved-g', 'LDTR: if usable, reserved bits 11:8 and 31:17 must be 0; G consistent with the limit', ['guest_ldtr_ar_bytes', 'guest_ldtr_limit'], [AR]),

  // §27.3.1.3
  dtr('dtr-base', 'The base-address fields for GDTR and IDTR must contain canonical addresses', ['guest_gdtr_base', 'guest_idtr_base'], [CANONICAL]),
  dtr('dtr-limit', 'Bits 31:16 of the GDTR and IDTR limit fields must be 0', ['guest_gdtr_limit', 'guest_idtr_limit'], [['/0xffff0000|>\\s*0xffff|>>\\s*16/']]),

  // §27.3.1.4
  rip('rip-high', 'RIP: bits 63:32 must be 0 if "IA-32e mode guest" is 0 or CS.L is 0', ['guest_rip'], [['/>>\\s*32/']]),
  rip('rip-canonical', 'RIP: if "IA-32e mode guest" and CS.L are 1, bits 63:N must be identical (N = linear-address width)', ['guest_rip'], [CANONICAL]),
  rip('rflags-reserved', 'RFLAGS: reserved bits 63:22, 15, 5 and 3 must be 0 and bit 1 must be 1', ['guest_rflags'], [['X86_EFLAGS_FIXED', '/0x2\\b|reserved|RSVD/']]),
  rip('rflags-vm', 'RFLAGS: VM must be 0 if "IA-32e mode guest" is 1 or CR0.PE is 0', ['guest_rflags'], [['X86_EFLAGS_VM']]),
  rip('rflags-if', 'RFLAGS: IF must be 1 if the VM-entry interruption information is valid with type external interrupt', ['guest_rflags', 'vm_entry_intr_info_field'], [['X86_EFLAGS_IF'], ['INTR_TYPE_EXT_INTR']]),
  rip('ssp', 'SSP: if "load CET state" is 1, bits 1:0 must be 0; bits 63:32 must be 0 outside 64-bit mode, else bits 63:N identical', ['guest_ssp'], [['VM_ENTRY_LOAD_CET_STATE']], { feature: 'VM_ENTRY_LOAD_CET_STATE', recent: 'CET' }),

  // §27.3.1.5
  nonreg('activity-range', 'The activity-state field must contain a value in the range 0-3', [ACT], [['GUEST_ACTIVITY_ACTIVE', 'GUEST_ACTIVITY_HLT', 'GUEST_ACTIVITY_SHUTDOWN', 'GUEST_ACTIVITY_WAIT_SIPI', '/>\\s*3/']]),
  nonreg('activity-supported', 'The activity-state field must not indicate a state not supported by the processor (IA32_VMX_MISC bits 8:6)', [ACT], [['GUEST_ACTIVITY_ACTIVE', 'GUEST_ACTIVITY_HLT', 'GUEST_ACTIVITY_WAIT_SIPI', 'VMX_MISC_ACTIVITY_HLT', 'VMX_MISC_ACTIVITY_WAIT_SIPI', 'misc']]),
  nonreg('activity-hlt-dpl', 'The activity state must not be HLT unless SS.DPL is 0', [ACT, 'guest_ss_ar_bytes'], [['GUEST_ACTIVITY_HLT'], AR]),
  nonreg('activity-blocking', 'If the interruptibility state indicates blocking by STI or MOV SS, the activity state must be active', [ACT, INTR], [['GUEST_INTR_STATE_STI', 'GUEST_INTR_STATE_MOV_SS'], ['GUEST_ACTIVITY_ACTIVE']]),
  nonreg('activity-injection', 'With a valid VM-entry interruption, the activity state must allow the event: in shutdown only an NMI or #MC may be injected, in wait-for-SIPI none', [ACT, 'vm_entry_intr_info_field'], [['INTR_INFO_VALID_MASK', 'INTR_TYPE_', '/intr_info/'], ['GUEST_ACTIVITY_']]),
  nonreg('activity-smm-sipi', 'If "entry to SMM" is 1, the activity state must not be wait-for-SIPI', [ACT], [['VM_ENTRY_SMM']], { feature: 'VM_ENTRY_SMM' }),
  nonreg('intr-reserved', 'Interruptibility state: reserved bits 31:5 must be 0', [INTR], [['/0xffffffe0|~0x1f|GENMASK\\(31,\\s*5\\)|RESERVED/']]),
  nonreg('intr-sti-movss', 'Interruptibility state: blocking by STI and blocking by MOV SS cannot both be 1', [INTR], [['GUEST_INTR_STATE_STI'], ['GUEST_INTR_STATE_MOV_SS']], { none: ['X86_EFLAGS_IF', 'INTR_TYPE_EXT_INTR', 'INTR_TYPE_NMI_INTR'] }),
  nonreg('intr-sti-if', 'Interruptibility state: blocking by STI must be 0 if RFLAGS.IF is 0', [INTR, 'guest_rflags'], [['GUEST_INTR_STATE_STI'], ['X86_EFLAGS_IF']]),
  nonreg('intr-ext-int', 'Interruptibility state: blocking by STI and by MOV SS must be 0 when injecting an external interrupt', [INTR], [['GUEST_INTR_STATE_STI', 'GUEST_INTR_STATE_MOV_SS'], ['INTR_TYPE_EXT_INTR']]),
  nonreg('intr-nmi-movss', 'Interruptibility state: blocking by MOV SS must be 0 when injecting an NMI (with blocking by STI VM entry may fail with exit qualification 3)', [INTR], [['GUEST_INTR_STATE_MOV_SS', 'GUEST_INTR_STATE_STI'], ['INTR_TYPE_NMI_INTR']]),
  nonreg('intr-smi-outside', 'Interruptibility state: blocking by SMI (bit 2) must be 0 if the processor is not in SMM', [INTR], [['GUEST_INTR_STATE_SMI']]),
  nonreg('intr-smi-entry-smm', 'Interruptibility state: blocking by SMI must be 1 if "entry to SMM" is 1', [INTR], [['GUEST_INTR_STATE_SMI'], ['VM_ENTRY_SMM']], { feature: 'VM_ENTRY_SMM' }),
  nonreg('intr-vnmi', 'Interruptibility state: blocking by NMI (bit 3) must be 0 if "virtual NMIs" is 1 and an NMI is being injected', [INTR], [['GUEST_INTR_STATE_NMI'], ['PIN_BASED_VIRTUAL_NMIS', 'nested_cpu_has_virtual_nmis']]),
  nonreg('intr-enclave', 'Interruptibility state: enclave interruption (bit 4) may be 1 only if SGX is supported and blocking by MOV SS is 0', [INTR], [['GUEST_INTR_STATE_ENCLAVE_INTR']]),
  nonreg('uinv', 'If "load UINV" is 1, bits 15:8 of the guest UINV field must be 0', ['guest_uinv'], [['VM_ENTRY_LOAD_UINV']], { feature: 'VM_ENTRY_LOAD_UINV', recent: 'user interrupts' }),
  nonreg('fred-state', 'If CR4.FRED is 1 in the CR4 field: SS.DPL must be 0 or 3, no CPL0 compatibility mode, RFLAGS.IOPL 0 when SS.DPL is 3, and no blocking by STI when SS.DPL is 3', ['guest_cr4', 'guest_ss_ar_bytes'], [['X86_CR4_FRED']], { feature: 'VM_ENTRY_LOAD_IA32_FRED', recent: 'FRED' }),
  nonreg('pending-dbg-reserved', 'Pending debug exceptions: bits 11:4, 13, 15 and 63:17 must be 0 (bit 16 only with RTM)', ['guest_pending_dbg_exceptions'], [['/0x[0-9a-f]*ff0|RESERVED|RSVD|DR6/i']]),
  nonreg('pending-dbg-bs', 'Pending debug exceptions: with blocking by STI/MOV SS or HLT, BS (bit 14) must be 1 if RFLAGS.TF is 1 and DEBUGCTL.BTF is 0, and 0 otherwise', ['guest_pending_dbg_exceptions', 'guest_rflags', 'guest_ia32_debugctl'], [['X86_EFLAGS_TF', 'DR6_BS', 'DEBUGCTLMSR_BTF']]),
  nonreg('pending-dbg-rtm', 'Pending debug exceptions: if RTM (bit 16) is 1, bits 11:0, 15:14 and 63:17 must be 0, RTM must be supported and blocking by MOV SS must be 0', ['guest_pending_dbg_exceptions'], [['DR6_RTM', '/1\\s*<<\\s*16|BIT\\(16\\)/']]),
  nonreg('link-ptr', 'VMCS link pointer: if not FFFFFFFF_FFFFFFFFH, bits 11:0 must be 0 and no bits beyond the physical-address width may be set',
    ['vmcs_link_pointer'], [['page_address_valid', 'PAGE_ALIGNED', 'kvm_vcpu_is_legal_gpa', 'PAGE_MASK']], { failure: EXIT_INVALID_GUEST_LINK }),
  nonreg('link-revision', 'VMCS link pointer: bits 30:0 of the first 4 bytes of the referenced region must be the VMCS revision identifier',
    ['vmcs_link_pointer'], [['VMCS12_REVISION', 'revision_id']], { failure: EXIT_INVALID_GUEST_LINK }),
  nonreg('link-shadow', 'VMCS link pointer: bit 31 of the first 4 bytes must equal the "VMCS shadowing" control',
    ['vmcs_link_pointer'], [['shadow_vmcs', 'SECONDARY_EXEC_SHADOW_VMCS', 'nested_cpu_has_shadow_vmcs']], { failure: EXIT_INVALID_GUEST_LINK }),

  // §27.3.1.6 / §27.3.2.4
  c('guest-pdpte', PDPTE, 'pdpte-fields', 'If PAE paging will be in use (CR0.PG=1, CR4.PAE=1, "IA-32e mode guest"=0) and "enable EPT" is 1, the PDPTE fields must not set reserved bits when present',
    PDPTRS, [['SECONDARY_EXEC_ENABLE_EPT', 'nested_cpu_has_ept', 'is_pae_paging', 'load_pdptrs', 'pdptr']], { failure: EXIT_INVALID_GUEST_PDPTE }),
  c('guest-pdpte', PDPTE_LOAD, 'pdpte-load', 'If PAE paging will be in use and "enable EPT" is 0, the PDPTEs referenced by the CR3 field are loaded and must not set reserved bits when present (exit qualification 2)',
    ['guest_cr3'], [['load_pdptrs', 'is_pae_paging', 'pdptr']], { failure: EXIT_INVALID_GUEST_PDPTE }),

  // §27.4
  c('msr-load', MSRLOAD, 'msr-load', 'Each entry of the VM-entry MSR-load area must be valid (reserved bits 0, no FS/GS base, x2APIC MSRs or IA32_SMM_MONITOR_CTL, legal value); otherwise VM exit 34 with the entry number as qualification',
    ['vm_entry_msr_load_addr', 'vm_entry_msr_load_count'], [['nested_vmx_load_msr', 'nested_vmx_msr_check_common', 'nested_vmx_load_msr_check']], { failure: EXIT_MSR_LOAD }),
];
