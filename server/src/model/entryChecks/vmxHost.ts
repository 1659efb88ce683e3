// Intel SDM Vol.3C §27.2.2 (checks on host control registers, MSRs, and SSP), §27.2.3 (checks on host segment and
// descriptor-table registers) and §27.2.4 (checks related to address-space size). Every failure is VMfailValid with
// error 8 ("VM entry with invalid host-state field(s)", §31.4); Bochs bochs/cpu/vmx.cc VMenterLoadCheckHostState()
// reports the same error for the §27.2.4 checks.
import { VMFAIL_HOST, type CheckGroup, type EntryCheck } from './types';

const CRMSR = 'Intel SDM Vol.3C §27.2.2 (checks on host control registers, MSRs, and SSP)';
const SEG = 'Intel SDM Vol.3C §27.2.3 (checks on host segment and descriptor-table registers)';
const ASZ = 'Intel SDM Vol.3C §27.2.4 (checks related to address-space size)';

type Opt = Partial<Pick<EntryCheck, 'feature' | 'recent' | 'notes'>> & { none?: string[] };

function c(group: CheckGroup, section: string, id: string, text: string, fields: string[], all?: string[][], opt: Opt = {}): EntryCheck {
  const { none, ...rest } = opt;
  return { id: `vmx.host.${id}`, vendor: 'vmx', group, order: 0, text, match: { fields, all, none }, failure: VMFAIL_HOST, section, ...rest };
}
const cr = (id: string, text: string, fields: string[], all?: string[][], opt?: Opt) => c('host-cr-msr', CRMSR, id, text, fields, all, opt);
const seg = (id: string, text: string, fields: string[], all?: string[][], opt?: Opt) => c('host-seg', SEG, id, text, fields, all, opt);
const asz = (id: string, text: string, fields: string[], all?: string[][], opt?: Opt) => c('address-space', ASZ, id, text, fields, all, opt);

const HOST_ASZ = ['VM_EXIT_HOST_ADDR_SPACE_SIZE'];
const CANONICAL = ['is_noncanonical_address', 'is_noncanonical_msr_address', 'is_noncanonical_base_address', 'is_canonical_address', '__is_canonical_address', 'is_l1_noncanonical_address_on_vmexit', 'canonical'];
const SELECTORS = ['host_es_selector', 'host_cs_selector', 'host_ss_selector', 'host_ds_selector', 'host_fs_selector', 'host_gs_selector', 'host_tr_selector'];

export const VMX_HOST_CHECKS: EntryCheck[] = [
  cr('cr0-fixed', 'The CR0 field must not set any bit to a value not supported in VMX operation (IA32_VMX_CR0_FIXED0/FIXED1)',
    ['host_cr0'], [['nested_host_cr0_valid', 'cr0_fixed0', 'cr0_fixed1', 'fixed_bits_valid', 'CR0_FIXED']]),
  cr('cr4-fixed', 'The CR4 field must not set any bit to a value not supported in VMX operation (IA32_VMX_CR4_FIXED0/FIXED1)',
    ['host_cr4'], [['nested_host_cr4_valid', 'nested_cr4_valid', 'cr4_fixed0', 'cr4_fixed1', 'fixed_bits_valid', 'CR4_FIXED']]),
  cr('cr4-cet-wp', 'If bit 23 of the CR4 field (CET) is 1, bit 16 of the CR0 field (WP) must be 1',
    ['host_cr4', 'host_cr0'], [['X86_CR4_CET'], ['X86_CR0_WP']], { recent: 'CET' }),
  cr('cr3-width', 'The CR3 field must be such that bits 63:52 and bits 51:32 beyond the physical-address width are 0 (bits 62:61 are allowed with LAM)',
    ['host_cr3'], [['kvm_vcpu_is_legal_cr3', 'kvm_vcpu_is_illegal_gpa', 'kvm_vcpu_is_legal_gpa', 'cr3_lm_rsvd_bits', 'nested_cr3_valid', 'maxphyaddr', '/>>\\s*cpuid_maxphyaddr|>>\\s*52/']]),
  cr('sysenter-canonical', 'The IA32_SYSENTER_ESP and IA32_SYSENTER_EIP fields must each contain a canonical address',
    ['host_ia32_sysenter_esp', 'host_ia32_sysenter_eip'], [CANONICAL]),
  cr('cet-s-cet', 'If "load CET state" is 1, the IA32_S_CET field must not set reserved bits and must be canonical',
    ['host_s_cet'], [['VM_EXIT_LOAD_CET_STATE'], ['kvm_is_valid_u_s_cet', ...CANONICAL, 'CET_US_RESERVED_BITS']], { feature: 'VM_EXIT_LOAD_CET_STATE', recent: 'CET' }),
  cr('cet-ssp-tbl', 'If "load CET state" is 1, the IA32_INTERRUPT_SSP_TABLE_ADDR field must be canonical',
    ['host_ssp_tbl'], [['VM_EXIT_LOAD_CET_STATE'], CANONICAL], { feature: 'VM_EXIT_LOAD_CET_STATE', recent: 'CET' }),
  cr('cet-ssp-align', 'If "load CET state" is 1, bits 1:0 of the SSP field must be 0',
    ['host_ssp'], [['VM_EXIT_LOAD_CET_STATE'], ['IS_ALIGNED', '/&\\s*(0x)?3\\b/']], { feature: 'VM_EXIT_LOAD_CET_STATE', recent: 'CET' }),
  cr('perf-global-ctrl', 'If "load IA32_PERF_GLOBAL_CTRL" is 1, bits reserved in IA32_PERF_GLOBAL_CTRL must be 0 in the field',
    ['host_ia32_perf_global_ctrl'], [['VM_EXIT_LOAD_IA32_PERF_GLOBAL_CTRL'], ['kvm_valid_perf_global_ctrl', 'global_ctrl_rsvd', 'global_ctrl_mask']], { feature: 'VM_EXIT_LOAD_IA32_PERF_GLOBAL_CTRL' }),
  cr('pat', 'If "load IA32_PAT" is 1, each of the eight PAT entries must be a valid memory type (0, 1, 4, 5, 6 or 7)',
    ['host_ia32_pat'], [['VM_EXIT_LOAD_IA32_PAT'], ['kvm_pat_valid', 'kvm_mtrr_valid', 'pat_valid']], { feature: 'VM_EXIT_LOAD_IA32_PAT' }),
  cr('efer-reserved', 'If "load IA32_EFER" is 1, bits reserved in IA32_EFER must be 0 in the field',
    ['host_ia32_efer'], [['VM_EXIT_LOAD_IA32_EFER'], ['kvm_valid_efer', 'efer_reserved_bits', 'kvm_efer_valid']], { feature: 'VM_EXIT_LOAD_IA32_EFER' }),
  cr('efer-lma', 'If "load IA32_EFER" is 1, bit 10 (LMA) of the field must equal "host address-space size"',
    ['host_ia32_efer'], [['VM_EXIT_LOAD_IA32_EFER'], ['EFER_LMA'], HOST_ASZ], { feature: 'VM_EXIT_LOAD_IA32_EFER' }),
  cr('efer-lme', 'If "load IA32_EFER" is 1, bit 8 (LME) of the field must equal "host address-space size"',
    ['host_ia32_efer'], [['VM_EXIT_LOAD_IA32_EFER'], ['EFER_LME'], HOST_ASZ], { feature: 'VM_EXIT_LOAD_IA32_EFER' }),
  cr('pkrs', 'If "load PKRS" is 1, bits 63:32 of the IA32_PKRS field must be 0',
    ['host_ia32_pkrs'], [['VM_EXIT_LOAD_IA32_PKRS']], { feature: 'VM_EXIT_LOAD_IA32_PKRS', recent: 'PKS' }),
  cr('fred', 'If "load FRED" (secondary VM-exit control) is 1, the host FRED MSR fields must not set reserved bits and the RSP/SSP fields must be canonical',
    ['host_ia32_fred_config', 'host_ia32_fred_rsp1', 'host_ia32_fred_ssp1'], [['SECONDARY_VM_EXIT_LOAD_IA32_FRED']], { feature: 'SECONDARY_VM_EXIT_LOAD_IA32_FRED', recent: 'FRED' }),

  seg('selector-rpl-ti', 'In the selector field of each of ES, CS, SS, DS, FS, GS and TR, the RPL (bits 1:0) and TI flag (bit 2) must be 0',
    SELECTORS, [['SEGMENT_RPL_MASK', 'SEGMENT_TI_MASK', '/&\\s*(0x)?7\\b/']]),
  seg('cs-nonzero', 'The selector field for CS must not be 0000H',
    ['host_cs_selector'], [['/host_cs_selector\\s*==\\s*0|!\\s*vmcs12->host_cs_selector/']]),
  seg('tr-nonzero', 'The selector field for TR must not be 0000H',
    ['host_tr_selector'], [['/host_tr_selector\\s*==\\s*0|!\\s*vmcs12->host_tr_selector/']]),
  seg('ss-nonzero', 'The selector field for SS must not be 0000H if "host address-space size" is 0',
    ['host_ss_selector'], [['/host_ss_selector\\s*==\\s*0|!\\s*vmcs12->host_ss_selector/'], HOST_ASZ]),
  seg('base-canonical', 'The base-address fields for FS, GS, GDTR, IDTR and TR must contain canonical addresses',
    ['host_fs_base', 'host_gs_base', 'host_gdtr_base', 'host_idtr_base', 'host_tr_base'], [CANONICAL]),

  asz('outside-ia32e', 'If the logical processor is outside IA-32e mode (IA32_EFER.LMA = 0) at VM entry, "IA-32e mode guest" and "host address-space size" must be 0',
    ['vm_exit_controls', 'vm_entry_controls'], [['/arch\\.efer|is_long_mode\\s*\\(/'], HOST_ASZ]),
  asz('inside-ia32e', 'If the logical processor is in IA-32e mode (IA32_EFER.LMA = 1) at VM entry, "host address-space size" must be 1',
    ['vm_exit_controls'], [['/arch\\.efer|is_long_mode\\s*\\(/'], HOST_ASZ]),
  asz('host32-guest64', 'If "host address-space size" is 0, "IA-32e mode guest" must be 0',
    ['vm_entry_controls'], [['VM_ENTRY_IA32E_MODE'], HOST_ASZ]),
  asz('host32-pcide', 'If "host address-space size" is 0, bit 17 of the CR4 field (PCIDE) must be 0',
    ['host_cr4'], [['X86_CR4_PCIDE'], HOST_ASZ]),
  asz('host32-rip', 'If "host address-space size" is 0, bits 63:32 in the RIP field must be 0',
    ['host_rip'], [['/>>\\s*32|0xffffffff00000000|GENMASK_ULL\\(63,\\s*32\\)/'], HOST_ASZ]),
  asz('host32-cet', 'If "host address-space size" is 0 and "load CET state" is 1, bits 63:32 of the IA32_S_CET and SSP fields must be 0',
    ['host_s_cet', 'host_ssp'], [['VM_EXIT_LOAD_CET_STATE'], ['/>>\\s*32/'], HOST_ASZ], { feature: 'VM_EXIT_LOAD_CET_STATE', recent: 'CET' }),
  asz('host64-pae', 'If "host address-space size" is 1, bit 5 of the CR4 field (PAE) must be 1',
    ['host_cr4'], [['X86_CR4_PAE'], HOST_ASZ]),
  asz('host64-rip', 'If "host address-space size" is 1, the RIP field must contain a canonical address (with respect to the CR4.LA57 value loaded on exit)',
    ['host_rip'], [CANONICAL]),
  asz('host64-cet', 'If "host address-space size" is 1 and "load CET state" is 1, the IA32_S_CET and SSP fields must be canonical',
    ['host_s_cet', 'host_ssp'], [['VM_EXIT_LOAD_CET_STATE'], CANONICAL, HOST_ASZ], { feature: 'VM_EXIT_LOAD_CET_STATE', recent: 'CET' }),
];
