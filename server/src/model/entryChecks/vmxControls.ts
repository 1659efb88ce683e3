// Intel SDM Vol.3C §27.2.1 (checks on VMX controls): VM-execution (§27.2.1.1), VM-exit (§27.2.1.2) and VM-entry
// (§27.2.1.3) control fields. Every failure is VMfailValid with error 7 ("VM entry with invalid control field(s)",
// §31.4). Cross-checked against the order and messages of Bochs bochs/cpu/vmx.cc VMenterLoadCheckVmControls().
import { VMFAIL_CONTROL, type CheckGroup, type EntryCheck } from './types';

const EXEC = 'Intel SDM Vol.3C §27.2.1.1 (checks on VMX controls: VM-execution control fields)';
const EXIT = 'Intel SDM Vol.3C §27.2.1.2 (checks on VMX controls: VM-exit control fields)';
const ENTRY = 'Intel SDM Vol.3C §27.2.1.3 (checks on VMX controls: VM-entry control fields)';
const EVENT = 'Intel SDM Vol.3C §27.2.1.3 (VM-entry control fields: event injection) and §25.8.3 (VM-entry controls for event injection)';

type Opt = Partial<Pick<EntryCheck, 'feature' | 'recent' | 'notes'>> & { none?: string[]; inCondition?: string[][] };

function c(group: CheckGroup, section: string, id: string, text: string, fields: string[], all?: string[][], opt: Opt = {}): EntryCheck {
  const { none, inCondition, ...rest } = opt;
  return { id: `vmx.${id}`, vendor: 'vmx', group, order: 0, text, match: { fields, all, none, inCondition }, failure: VMFAIL_CONTROL, section, ...rest };
}
const exec = (id: string, text: string, fields: string[], all?: string[][], opt?: Opt) => c('exec-controls', EXEC, `exec.${id}`, text, fields, all, opt);
const exit = (id: string, text: string, fields: string[], all?: string[][], opt?: Opt) => c('exit-controls', EXIT, `exit.${id}`, text, fields, all, opt);
const entry = (id: string, text: string, fields: string[], all?: string[][], opt?: Opt) => c('entry-controls', ENTRY, `entry.${id}`, text, fields, all, opt);
const event = (id: string, text: string, fields: string[], all?: string[][], opt?: Opt) => c('entry-controls', EVENT, `entry.event.${id}`, text, fields, all, opt);

const PIN = 'pin_based_vm_exec_control';
const PROC = 'cpu_based_vm_exec_control';
const PROC2 = 'secondary_vm_exec_control';
const EPT = ['SECONDARY_EXEC_ENABLE_EPT', 'nested_cpu_has_ept'];
/** "4-KByte aligned and within the physical-address width": KVM spellings. */
const PAGE_ADDR = ['page_address_valid', 'PAGE_ALIGNED', 'kvm_vcpu_is_legal_gpa', 'kvm_vcpu_is_legal_aligned_gpa', 'PAGE_MASK', '/0xfff\\b/'];
const INTR_INFO = 'vm_entry_intr_info_field';

export const VMX_CONTROL_CHECKS: EntryCheck[] = [
  // §27.2.1.1 VM-execution control fields
  exec('pin-reserved', 'Reserved bits in the pin-based VM-execution controls must be set properly (allowed 0/1-settings of IA32_VMX_(TRUE_)PINBASED_CTLS)',
    [PIN], [['/pinbased_ctls_low[\\s\\S]*pinbased_ctls_high/', 'PINBASED_CTLS']]),
  exec('proc-reserved', 'Reserved bits in the primary processor-based VM-execution controls must be set properly (IA32_VMX_(TRUE_)PROCBASED_CTLS)',
    [PROC], [['/procbased_ctls_low[\\s\\S]*procbased_ctls_high/', 'PROCBASED_CTLS']]),
  exec('proc2-reserved', 'If "activate secondary controls" is 1, reserved bits in the secondary processor-based controls must be cleared (IA32_VMX_PROCBASED_CTLS2); if it is 0 no check is made',
    [PROC2], [['/secondary_ctls_low[\\s\\S]*secondary_ctls_high/', 'PROCBASED_CTLS2']]),
  exec('proc3-reserved', 'If "activate tertiary controls" is 1, reserved bits in the tertiary processor-based controls must be cleared (IA32_VMX_PROCBASED_CTLS3)',
    ['tertiary_vm_exec_control'], [['tertiary_ctls', 'PROCBASED_CTLS3']], { feature: 'CPU_BASED_ACTIVATE_TERTIARY_CONTROLS', recent: 'tertiary controls' }),
  exec('cr3-target-count', 'The CR3-target count must not be greater than 4 (the number IA32_VMX_MISC bits 24:16 reports)',
    ['cr3_target_count'], [['nested_cpu_vmx_misc_cr3_count', 'VMX_MISC_CR3_COUNT', '/>\\s*4\\b/', 'misc']]),
  exec('io-bitmaps', 'If "use I/O bitmaps" is 1, each I/O-bitmap address must be 4-KByte aligned and not set bits beyond the physical-address width',
    ['io_bitmap_a', 'io_bitmap_b'], [['CPU_BASED_USE_IO_BITMAPS'], PAGE_ADDR]),
  exec('msr-bitmap', 'If "use MSR bitmaps" is 1, the MSR-bitmap address must be 4-KByte aligned and within the physical-address width',
    ['msr_bitmap'], [['CPU_BASED_USE_MSR_BITMAPS'], PAGE_ADDR]),
  exec('virtual-apic-addr', 'If "use TPR shadow" is 1, the virtual-APIC address must be 4-KByte aligned and within the physical-address width',
    ['virtual_apic_page_addr'], [['CPU_BASED_TPR_SHADOW'], PAGE_ADDR]),
  exec('tpr-threshold-high', 'If "use TPR shadow" is 1 and "virtual-interrupt delivery" is 0, bits 31:4 of the TPR threshold must be 0',
    ['tpr_threshold'], [['/tpr_threshold\\s*>>\\s*4|tpr_threshold\\s*&\\s*(0xfffffff0|~0xf\\b|GENMASK\\(31,\\s*4\\))/'], ['SECONDARY_EXEC_VIRTUAL_INTR_DELIVERY', 'nested_cpu_has_vid']]),
  exec('tpr-threshold-vtpr', 'If "use TPR shadow" is 1 and "virtualize APIC accesses" and "virtual-interrupt delivery" are 0, bits 3:0 of the TPR threshold must not exceed bits 7:4 of VTPR (byte 80H of the virtual-APIC page)',
    ['tpr_threshold', 'virtual_apic_page_addr'], [['APIC_TASKPRI', 'vtpr', 'VTPR']],
    { notes: 'Reads guest memory (the virtual-APIC page), not only VMCS fields.' }),
  exec('no-tpr-shadow-apicv', 'If "use TPR shadow" is 0, "virtualize x2APIC mode", "APIC-register virtualization" and "virtual-interrupt delivery" must be 0',
    [PROC, PROC2], [['CPU_BASED_TPR_SHADOW'], ['SECONDARY_EXEC_VIRTUALIZE_X2APIC_MODE', 'SECONDARY_EXEC_APIC_REGISTER_VIRT', 'SECONDARY_EXEC_VIRTUAL_INTR_DELIVERY', 'nested_cpu_has_vid', 'nested_cpu_has_apic_reg_virt', 'nested_cpu_has_virt_x2apic_mode']],
    { none: ['tpr_threshold', 'virtual_apic_page_addr'] }),
  exec('nmi-virtual-nmis', 'If "NMI exiting" is 0, "virtual NMIs" must be 0',
    [PIN], [['PIN_BASED_NMI_EXITING', 'nested_cpu_has_nmi_exiting'], ['PIN_BASED_VIRTUAL_NMIS', 'nested_cpu_has_virtual_nmis']]),
  exec('virtual-nmis-window', 'If "virtual NMIs" is 0, "NMI-window exiting" must be 0',
    [PIN, PROC], [['PIN_BASED_VIRTUAL_NMIS', 'nested_cpu_has_virtual_nmis'], ['CPU_BASED_NMI_WINDOW_EXITING', 'CPU_BASED_VIRTUAL_NMI_PENDING']]),
  exec('apic-access-addr', 'If "virtualize APIC accesses" is 1, the APIC-access address must be 4-KByte aligned and within the physical-address width',
    ['apic_access_addr'], [['SECONDARY_EXEC_VIRTUALIZE_APIC_ACCESSES'], PAGE_ADDR]),
  exec('x2apic-vs-apic-access', 'If "virtualize x2APIC mode" is 1, "virtualize APIC accesses" must be 0',
    [PROC2], [['SECONDARY_EXEC_VIRTUALIZE_X2APIC_MODE', 'nested_cpu_has_virt_x2apic_mode'], ['SECONDARY_EXEC_VIRTUALIZE_APIC_ACCESSES']]),
  exec('vid-ext-intr', 'If "virtual-interrupt delivery" is 1, "external-interrupt exiting" must be 1',
    [PROC2, PIN], [['SECONDARY_EXEC_VIRTUAL_INTR_DELIVERY', 'nested_cpu_has_vid'], ['PIN_BASED_EXT_INTR_MASK', 'nested_exit_on_intr']]),
  exec('posted-vid', 'If "process posted interrupts" is 1, "virtual-interrupt delivery" must be 1',
    [PIN, PROC2], [['PIN_BASED_POSTED_INTR', 'nested_cpu_has_posted_intr'], ['SECONDARY_EXEC_VIRTUAL_INTR_DELIVERY', 'nested_cpu_has_vid']],
    { none: ['nested_exit_on_intr', 'PIN_BASED_EXT_INTR_MASK', 'nested_cpu_has_virt_x2apic_mode', 'SECONDARY_EXEC_VIRTUALIZE_X2APIC_MODE', 'CPU_BASED_TPR_SHADOW'],
      inCondition: [['SECONDARY_EXEC_VIRTUAL_INTR_DELIVERY', 'nested_cpu_has_vid']] }),
  exec('posted-ack-intr', 'If "process posted interrupts" is 1, the "acknowledge interrupt on exit" VM-exit control must be 1',
    [PIN, 'vm_exit_controls'], [['PIN_BASED_POSTED_INTR', 'nested_cpu_has_posted_intr'], ['VM_EXIT_ACK_INTR_ON_EXIT', 'nested_exit_intr_ack_set']]),
  exec('posted-nv', 'If "process posted interrupts" is 1, bits 15:8 of the posted-interrupt notification vector must be 0',
    ['posted_intr_nv'], [['PIN_BASED_POSTED_INTR', 'nested_cpu_has_posted_intr'], ['/0xff00|>\\s*0xff|>\\s*255|>=\\s*256/']]),
  exec('posted-desc', 'If "process posted interrupts" is 1, bits 5:0 of the posted-interrupt descriptor address must be 0 and it must be within the physical-address width',
    ['posted_intr_desc_addr'], [['PIN_BASED_POSTED_INTR', 'nested_cpu_has_posted_intr'], ['kvm_vcpu_is_legal_aligned_gpa', 'kvm_vcpu_is_legal_gpa', '/0x3f|\\b64\\b|IS_ALIGNED/']]),
  exec('vpid', 'If "enable VPID" is 1, the VPID must not be 0000H',
    ['virtual_processor_id'], [['SECONDARY_EXEC_ENABLE_VPID', 'nested_cpu_has_vpid']]),
  exec('eptp-memtype', 'If "enable EPT" is 1, the EPTP memory type (bits 2:0) must be a value IA32_VMX_EPT_VPID_CAP supports (0 = UC, 6 = WB)',
    ['ept_pointer'], [EPT, ['VMX_EPTP_MT_MASK', 'VMX_EPTP_MT_UC', 'VMX_EPTP_MT_WB', 'VMX_EPTP_UC_BIT', 'VMX_EPTP_WB_BIT']]),
  exec('eptp-walk-length', 'If "enable EPT" is 1, EPTP bits 5:3 (page-walk length - 1) must be 3, or 4 if 5-level EPT is supported',
    ['ept_pointer'], [EPT, ['VMX_EPTP_PWL_MASK', 'VMX_EPTP_PWL_4', 'VMX_EPTP_PWL_5', 'VMX_EPT_PAGE_WALK_4_BIT', 'VMX_EPT_PAGE_WALK_5_BIT']]),
  exec('eptp-ad', 'If "enable EPT" is 1, EPTP bit 6 (enable accessed/dirty flags) must be 0 if IA32_VMX_EPT_VPID_CAP bit 21 is 0',
    ['ept_pointer'], [EPT, ['VMX_EPTP_AD_ENABLE_BIT', 'VMX_EPT_AD_BIT']]),
  exec('eptp-reserved', 'If "enable EPT" is 1, EPTP reserved bits 11:7 (bit 7 unless supervisor shadow-stack control is supported) and bits beyond the physical-address width must be 0',
    ['ept_pointer'], [EPT, ['kvm_vcpu_is_legal_gpa', '/>>\\s*7|0xf80|GENMASK\\(11,\\s*7\\)|>>\\s*(cpuid_)?maxphyaddr/']]),
  exec('pml-ept', 'If "enable PML" is 1, "enable EPT" must be 1',
    [PROC2], [['SECONDARY_EXEC_ENABLE_PML', 'nested_cpu_has_pml'], EPT]),
  exec('pml-addr', 'If "enable PML" is 1, the PML address must be 4-KByte aligned and within the physical-address width',
    ['pml_address'], [['SECONDARY_EXEC_ENABLE_PML', 'nested_cpu_has_pml'], PAGE_ADDR]),
  exec('unrestricted-ept', 'If "unrestricted guest" is 1, "enable EPT" must be 1',
    [PROC2], [['SECONDARY_EXEC_UNRESTRICTED_GUEST'], EPT]),
  exec('spp-ept', 'If "sub-page write permissions for EPT" is 1, "enable EPT" must be 1',
    [PROC2], [['SECONDARY_EXEC_ENABLE_SPP', 'SECONDARY_EXEC_SPP'], EPT], { feature: 'SECONDARY_EXEC_ENABLE_SPP' }),
  exec('spp-addr', 'If "sub-page write permissions for EPT" is 1, SPPTP bits 11:0 must be 0 and within the physical-address width',
    ['spptp', 'spp_table_pointer'], [['SECONDARY_EXEC_ENABLE_SPP', 'SECONDARY_EXEC_SPP']], { feature: 'SECONDARY_EXEC_ENABLE_SPP' }),
  exec('mbec-ept', 'If "mode-based execute control for EPT" is 1, "enable EPT" must be 1',
    [PROC2], [['SECONDARY_EXEC_MODE_BASED_EPT_EXEC'], EPT]),
  exec('pt-gpa', 'If "Intel PT uses guest physical addresses" is 1, "enable EPT", the "load IA32_RTIT_CTL" VM-entry control and the "clear IA32_RTIT_CTL" VM-exit control must be 1',
    [PROC2], [['SECONDARY_EXEC_PT_USE_GPA'], EPT], { feature: 'SECONDARY_EXEC_PT_USE_GPA' }),
  exec('vmfunc-reserved', 'If "enable VM functions" is 1, reserved bits of the VM-function controls must be clear (IA32_VMX_VMFUNC)',
    ['vm_function_control'], [['SECONDARY_EXEC_ENABLE_VMFUNC', 'nested_cpu_has_vmfunc'], ['vmfunc_controls', 'VMFUNC']]),
  exec('eptp-switching-ept', 'If "enable VM functions" is 1 and EPTP switching (VM-function control bit 0) is 1, "enable EPT" must be 1',
    [PROC2, 'vm_function_control'], [['VMX_VMFUNC_EPTP_SWITCHING', 'nested_cpu_has_eptp_switching'], EPT]),
  exec('eptp-list-addr', 'If EPTP switching is enabled, the EPTP-list address must be 4-KByte aligned and within the physical-address width',
    ['eptp_list_address'], [['VMX_VMFUNC_EPTP_SWITCHING', 'nested_cpu_has_eptp_switching'], PAGE_ADDR]),
  exec('vmcs-shadowing-bitmaps', 'If "VMCS shadowing" is 1, the VMREAD-bitmap and VMWRITE-bitmap addresses must be 4-KByte aligned and within the physical-address width',
    ['vmread_bitmap', 'vmwrite_bitmap'], [['SECONDARY_EXEC_SHADOW_VMCS', 'nested_cpu_has_shadow_vmcs'], PAGE_ADDR]),
  exec('ve-info-addr', 'If "EPT-violation #VE" is 1, the virtualization-exception information address must be 4-KByte aligned and within the physical-address width',
    ['ve_information_address'], [['SECONDARY_EXEC_EPT_VIOLATION_VE']], { feature: 'SECONDARY_EXEC_EPT_VIOLATION_VE' }),
  exec('tsc-multiplier', 'If "use TSC scaling" is 1, the TSC multiplier must not be zero',
    ['tsc_multiplier'], [['SECONDARY_EXEC_TSC_SCALING']], { notes: 'Also enforced by Bochs VMenterLoadCheckVmControls().' }),
  exec('hlat', 'If "enable HLAT" is 1, "enable EPT" must be 1 and the HLAT prefix size and HLATP must be valid',
    ['hlatp', 'hlat_prefix_size'], [['TERTIARY_EXEC_HLAT', 'HLAT']], { feature: 'TERTIARY_EXEC_HLAT', recent: 'HLAT (tertiary controls)' }),
  exec('ipi-virt', 'If "IPI virtualization" is 1, "use TPR shadow" and "virtual-interrupt delivery" must be 1 and the PID-pointer table address must be 8-byte aligned with a valid last PID-pointer index',
    ['pid_pointer_table', 'last_pid_pointer_index'], [['TERTIARY_EXEC_IPI_VIRT', 'IPI_VIRT']], { feature: 'TERTIARY_EXEC_IPI_VIRT', recent: 'IPI virtualization (tertiary controls)' }),

  // §27.2.1.2 VM-exit control fields
  exit('reserved', 'Reserved bits in the primary VM-exit controls must be set properly (IA32_VMX_(TRUE_)EXIT_CTLS)',
    ['vm_exit_controls'], [['/exit_ctls_low[\\s\\S]*exit_ctls_high/', 'EXIT_CTLS']]),
  exit('secondary-reserved', 'If "activate secondary controls" (VM-exit control bit 31) is 1, reserved bits in the secondary VM-exit controls must be cleared (IA32_VMX_EXIT_CTLS2)',
    ['secondary_vm_exit_controls'], [['exit_ctls2', 'secondary_exit_ctls', 'EXIT_CTLS2']], { feature: 'VM_EXIT_ACTIVATE_SECONDARY_CONTROLS', recent: 'secondary VM-exit controls' }),
  exit('preemption-timer-save', 'If "activate VMX-preemption timer" is 0, "save VMX-preemption timer value" must be 0',
    [PIN, 'vm_exit_controls'], [['PIN_BASED_VMX_PREEMPTION_TIMER', 'nested_cpu_has_preemption_timer'], ['VM_EXIT_SAVE_VMX_PREEMPTION_TIMER', 'nested_cpu_has_save_preemption_timer']]),
  exit('msr-store', 'If the VM-exit MSR-store count is not 0, the MSR-store address must be 16-byte aligned (bits 3:0 = 0) and its last byte within the physical-address width',
    ['vm_exit_msr_store_addr'], [['vm_exit_msr_store_count', 'nested_vmx_check_msr_switch', 'kvm_vcpu_is_legal_aligned_gpa', '/0xf\\b|\\b16\\b/']]),
  exit('msr-load', 'If the VM-exit MSR-load count is not 0, the MSR-load address must be 16-byte aligned and its last byte within the physical-address width',
    ['vm_exit_msr_load_addr'], [['vm_exit_msr_load_count', 'nested_vmx_check_msr_switch', 'kvm_vcpu_is_legal_aligned_gpa', '/0xf\\b|\\b16\\b/']]),

  // §27.2.1.3 VM-entry control fields
  entry('reserved', 'Reserved bits in the VM-entry controls must be set properly (IA32_VMX_(TRUE_)ENTRY_CTLS)',
    ['vm_entry_controls'], [['/entry_ctls_low[\\s\\S]*entry_ctls_high/', 'ENTRY_CTLS']]),
  event('type', 'If the VM-entry interruption-information valid bit is 1, the interruption type must not be 1 (reserved)',
    [INTR_INFO], [['INTR_TYPE_RESERVED', '/type\\s*==\\s*(1|0x100)\\b/']]),
  event('type-other', 'If valid, the interruption type must not be 7 (other event) unless the processor supports "monitor trap flag"',
    [INTR_INFO], [['INTR_TYPE_OTHER_EVENT'], ['CPU_BASED_MONITOR_TRAP_FLAG', 'nested_cpu_supports_monitor_trap_flag']]),
  event('vector-nmi', 'If the interruption type is NMI, the vector must be 2',
    [INTR_INFO], [['INTR_TYPE_NMI_INTR'], ['NMI_VECTOR', '/!=\\s*2\\b/']]),
  event('vector-hw-exception', 'If the interruption type is hardware exception, the vector must be at most 31',
    [INTR_INFO], [['INTR_TYPE_HARD_EXCEPTION'], ['/>\\s*31|>=\\s*32/']]),
  event('vector-other', 'If the interruption type is other event, the vector must be 0 (pending MTF VM exit)',
    [INTR_INFO], [['INTR_TYPE_OTHER_EVENT'], ['/vector\\s*!=\\s*0/']]),
  event('error-code-mode', 'The deliver-error-code bit must be 0 if "unrestricted guest" is 1 and CR0.PE is 0, or if the interruption type is not hardware exception',
    [INTR_INFO], [['INTR_INFO_DELIVER_CODE_MASK'], ['X86_CR0_PE', 'INTR_TYPE_HARD_EXCEPTION']],
    { none: ['x86_exception_has_error_code'] }),
  event('error-code-vector', 'For a hardware exception in protected mode, deliver-error-code must be 1 exactly for vectors 8, 10-14, 17 and 21 (any vector may deliver one if IA32_VMX_BASIC bit 56 is 1)',
    [INTR_INFO], [['INTR_INFO_DELIVER_CODE_MASK'], ['x86_exception_has_error_code', '/\\b(DF|TS|NP|SS|GP|PF|AC|CP)_VECTOR\\b/']]),
  event('reserved', 'If valid, reserved bits 30:12 of the VM-entry interruption-information field must be 0',
    [INTR_INFO], [['INTR_INFO_RESVD_BITS_MASK', '/0x7ffff000|GENMASK\\(30,\\s*12\\)/']]),
  event('error-code-high', 'If deliver-error-code is 1, bits 31:16 of the VM-entry exception error code must be 0',
    ['vm_entry_exception_error_code'], [['/GENMASK\\(31,\\s*16\\)|0xffff0000|>>\\s*16/']]),
  event('insn-len-range', 'For software interrupt, software exception and privileged software exception, the VM-entry instruction length must be in the range 0-15',
    ['vm_entry_instruction_len'], [['X86_MAX_INSTRUCTION_LENGTH', '/>\\s*15|>=\\s*16/']]),
  event('insn-len-zero', 'For those types, an instruction length of 0 is allowed only if IA32_VMX_MISC bit 30 is 1',
    ['vm_entry_instruction_len'], [['nested_cpu_has_zero_length_injection', 'VMX_MISC_ZERO_LEN_INS', '/==\\s*0/']]),
  entry('msr-load', 'If the VM-entry MSR-load count is not 0, the MSR-load address must be 16-byte aligned and its last byte within the physical-address width',
    ['vm_entry_msr_load_addr'], [['vm_entry_msr_load_count', 'nested_vmx_check_msr_switch', 'kvm_vcpu_is_legal_aligned_gpa', '/0xf\\b|\\b16\\b/']],
    { none: ['nested_vmx_load_msr'] }),
  entry('smm-outside', 'If the processor is not in SMM, "entry to SMM" and "deactivate dual-monitor treatment" must be 0',
    ['vm_entry_controls'], [['VM_ENTRY_SMM', 'VM_ENTRY_DEACT_DUAL_MONITOR']],
    { feature: 'VM_ENTRY_SMM', notes: 'KVM never sets these bits in the allowed-1 settings it reports, so the reserved-bit check rejects them.' }),
  entry('smm-dual', '"Entry to SMM" and "deactivate dual-monitor treatment" cannot both be 1',
    ['vm_entry_controls'], [['VM_ENTRY_SMM'], ['VM_ENTRY_DEACT_DUAL_MONITOR']], { feature: 'VM_ENTRY_SMM' }),
];
