// VMX control bits (pin-based, primary/secondary/tertiary processor-based, VM-exit, VM-entry) as Linux 7.1.5 names them
// in arch/x86/include/asm/vmx.h (bit numbers via VMCS_CONTROL_BIT(VMX_FEATURE_*) in asm/vmxfeatures.h). For each:
// what it does (Intel SDM Vol.3C §25.6-§25.8, in our words), which capability MSR allows it (SDM Vol.3D Appendix A),
// and what KVM does with L1's setting when it builds vmcs02 (Linux 7.1.5 arch/x86/kvm/vmx/nested.c
// prepare_vmcs02_early / prepare_vmcs02 / nested_vmx_setup_*_ctls / prepare_vmcs12 / load_vmcs12_host_state).
import { CODE, SDM } from './sources';
import type { SymbolInfo } from './types';

type Group = 'pin' | 'proc' | 'proc2' | 'proc3' | 'exit' | 'entry';

const FIELD: Record<Group, string> = {
  pin: 'PIN_BASED_VM_EXEC_CONTROL', proc: 'CPU_BASED_VM_EXEC_CONTROL', proc2: 'SECONDARY_VM_EXEC_CONTROL',
  proc3: 'TERTIARY_VM_EXEC_CONTROL', exit: 'VM_EXIT_CONTROLS', entry: 'VM_ENTRY_CONTROLS',
};
const MANUAL: Record<Group, string> = {
  pin: 'Intel SDM Vol.3C §25.6.1 (pin-based VM-execution controls)',
  proc: 'Intel SDM Vol.3C §25.6.2 (processor-based VM-execution controls, primary)',
  proc2: 'Intel SDM Vol.3C §25.6.2 (processor-based VM-execution controls, secondary)',
  proc3: 'Intel SDM Vol.3C §25.6.2 (processor-based VM-execution controls, tertiary)',
  exit: SDM.exitControls, entry: SDM.entryControls,
};
const CAP: Record<Group, (bit: number) => string> = {
  pin: (b) => `IA32_VMX_PINBASED_CTLS (0x481) bit ${32 + b} — IA32_VMX_TRUE_PINBASED_CTLS (0x48D) when IA32_VMX_BASIC[55] = 1 (SDM Vol.3D §A.3.1)`,
  proc: (b) => `IA32_VMX_PROCBASED_CTLS (0x482) bit ${32 + b} — IA32_VMX_TRUE_PROCBASED_CTLS (0x48E) when IA32_VMX_BASIC[55] = 1 (SDM Vol.3D §A.3.2)`,
  proc2: (b) => `IA32_VMX_PROCBASED_CTLS2 (0x48B) bit ${32 + b}; usable only with "activate secondary controls" (SDM Vol.3D §A.3.3)`,
  proc3: (b) => `IA32_VMX_PROCBASED_CTLS3 (0x492) bit ${b} (allowed-1 settings only); usable only with "activate tertiary controls" (SDM Vol.3D §A.3.4)`,
  exit: (b) => `IA32_VMX_EXIT_CTLS (0x483) bit ${32 + b} — IA32_VMX_TRUE_EXIT_CTLS (0x48F) when IA32_VMX_BASIC[55] = 1 (SDM Vol.3D §A.4.1)`,
  entry: (b) => `IA32_VMX_ENTRY_CTLS (0x484) bit ${32 + b} — IA32_VMX_TRUE_ENTRY_CTLS (0x490) when IA32_VMX_BASIC[55] = 1 (SDM Vol.3D §A.5)`,
};
const HEADER: Record<Group, string> = {
  pin: `${CODE.linuxVmxH} (PIN_BASED_*); asm/vmxfeatures.h`, proc: `${CODE.linuxVmxH} (CPU_BASED_*); asm/vmxfeatures.h`,
  proc2: `${CODE.linuxVmxH} (SECONDARY_EXEC_*); asm/vmxfeatures.h`, proc3: `${CODE.linuxVmxH} (TERTIARY_EXEC_*); asm/vmxfeatures.h`,
  exit: CODE.linuxVmxH, entry: CODE.linuxVmxH,
};

/** How each group reaches vmcs02 (the default nested note of its bits). */
const ORED: Record<Group, string> = {
  pin: 'ORed into vmcs02 with L0\'s own pin controls (prepare_vmcs02_early); an L2 exit it causes goes to L1 only when L1 set the bit',
  proc: 'ORed into vmcs02 with L0\'s controls (prepare_vmcs02_early); an L2 exit it causes is reflected to L1 only when L1 set the bit (nested_vmx_l1_wants_exit)',
  proc2: 'ORed into vmcs02 with L0\'s secondary controls when L1 sets "activate secondary controls" (prepare_vmcs02_early)',
  proc3: 'not offered to L1: the nested capability MSRs have no tertiary controls; vmcs02 keeps L0\'s setting',
  exit: 'emulated: vmcs02 runs with L0\'s own exit controls (the hardware exit goes to L0); KVM applies L1\'s setting when it reflects an exit to L1',
  entry: 'ORed into vmcs02 with L0\'s entry controls (prepare_vmcs02_early)',
};
const NOT_OFFERED = 'not offered to L1 (absent from the allowed-1 bits of the nested capability MSRs, nested_vmx_setup_*_ctls), so a vmcs12 setting it fails the VM-entry control checks';
const ONLY_VMCS12 = 'taken only from vmcs12: L0\'s bit is dropped and L1\'s setting is used as is (prepare_vmcs02_early)';

/** [name, group, bit, meaning, nested (undefined = the group's default)] */
type Row = [string, Group, number, string, string?];

const ROWS: Row[] = [
  // Pin-based
  ['PIN_BASED_EXT_INTR_MASK', 'pin', 0, 'external-interrupt exiting: external interrupts cause VM exits instead of being delivered through the guest IDT (RFLAGS.IF no longer blocks them)',
    'ORed with L0\'s (L0 always sets it); KVM reflects an interrupt exit to L1 only when L1 set the bit (nested_exit_on_intr)'],
  ['PIN_BASED_NMI_EXITING', 'pin', 3, 'NMI exiting: NMIs cause VM exits', 'ORed with L0\'s; NMI exits go to L1 only when L1 set the bit (nested_exit_on_nmi)'],
  ['PIN_BASED_VIRTUAL_NMIS', 'pin', 5, 'virtual NMIs: NMI blocking is tracked as virtual-NMI blocking, and the NMI-window control becomes usable; requires NMI exiting'],
  ['PIN_BASED_VMX_PREEMPTION_TIMER', 'pin', 6, 'activate the VMX-preemption timer: counts down VMX_PREEMPTION_TIMER_VALUE at a rate derived from the TSC and exits at 0',
    'never taken from L1: masked out of vmcs12\'s value; KVM emulates L1\'s timer with an hrtimer (vmx_start_preemption_timer). Offered to L1 even without hardware support'],
  ['PIN_BASED_POSTED_INTR', 'pin', 7, 'process posted interrupts: a notification vector POSTED_INTR_NV makes the CPU move pending bits from the posted-interrupt descriptor into the virtual APIC',
    'taken only from vmcs12: cleared in vmcs02 unless L1 enables it (nested_cpu_has_posted_intr), then KVM uses L1\'s posted_intr_nv; offered to L1 only with enable_apicv'],
  // Primary processor-based
  ['CPU_BASED_INTR_WINDOW_EXITING', 'proc', 2, 'interrupt-window exiting: VM exit at the start of any instruction when RFLAGS.IF = 1 and there is no blocking by STI/MOV SS',
    'L0\'s own request is dropped from vmcs01\'s value and L1\'s setting is used (prepare_vmcs02_early)'],
  ['CPU_BASED_USE_TSC_OFFSETTING', 'proc', 3, 'use TSC offsetting: RDTSC, RDTSCP and RDMSR of IA32_TSC return the TSC plus TSC_OFFSET (after TSC_MULTIPLIER with TSC scaling)',
    'ORed; when L1 sets it the TSC_OFFSET of vmcs02 combines L1\'s and L0\'s offsets (kvm_calc_nested_tsc_offset)'],
  ['CPU_BASED_HLT_EXITING', 'proc', 7, 'HLT exiting'],
  ['CPU_BASED_INVLPG_EXITING', 'proc', 9, 'INVLPG exiting'],
  ['CPU_BASED_MWAIT_EXITING', 'proc', 10, 'MWAIT exiting'],
  ['CPU_BASED_RDPMC_EXITING', 'proc', 11, 'RDPMC exiting'],
  ['CPU_BASED_RDTSC_EXITING', 'proc', 12, 'RDTSC exiting (also RDTSCP when "enable RDTSCP" is 1)'],
  ['CPU_BASED_CR3_LOAD_EXITING', 'proc', 15, 'CR3-load exiting: MOV to CR3 exits unless the value matches one of the CR3-target values'],
  ['CPU_BASED_CR3_STORE_EXITING', 'proc', 16, 'CR3-store exiting: MOV from CR3 exits'],
  ['CPU_BASED_ACTIVATE_TERTIARY_CONTROLS', 'proc', 17, 'activate tertiary controls: TERTIARY_VM_EXEC_CONTROL is used (else treated as 0)', NOT_OFFERED],
  ['CPU_BASED_CR8_LOAD_EXITING', 'proc', 19, 'CR8-load exiting: MOV to CR8 exits', 'ORed; forced on in vmcs02 (64-bit hosts) when vmcs02 has no TPR shadow'],
  ['CPU_BASED_CR8_STORE_EXITING', 'proc', 20, 'CR8-store exiting: MOV from CR8 exits', 'ORed; forced on in vmcs02 (64-bit hosts) when vmcs02 has no TPR shadow'],
  ['CPU_BASED_TPR_SHADOW', 'proc', 21, 'use TPR shadow: CR8 accesses and (with APIC virtualization) APIC accesses use the virtual-APIC page; TPR_THRESHOLD applies',
    'taken only from vmcs12: L0\'s bit is dropped; with L1\'s bit KVM writes TPR_THRESHOLD from vmcs12 and maps L1\'s virtual-APIC page'],
  ['CPU_BASED_NMI_WINDOW_EXITING', 'proc', 22, 'NMI-window exiting: VM exit at the start of any instruction when there is no virtual-NMI blocking (requires virtual NMIs)',
    'L0\'s own request is dropped from vmcs01\'s value and L1\'s setting is used (prepare_vmcs02_early)'],
  ['CPU_BASED_MOV_DR_EXITING', 'proc', 23, 'MOV-DR exiting'],
  ['CPU_BASED_UNCOND_IO_EXITING', 'proc', 24, 'unconditional I/O exiting: every IN/INS/OUT/OUTS exits (ignored when "use I/O bitmaps" is 1)',
    'always set in vmcs02: every L2 I/O instruction exits to L0, which decides from L1\'s setting and I/O bitmaps whether to reflect it (nested_vmx_exit_handled_io)'],
  ['CPU_BASED_USE_IO_BITMAPS', 'proc', 25, 'use I/O bitmaps A/B (IO_BITMAP_A/B) to decide which ports exit',
    'always clear in vmcs02: KVM reads L1\'s bitmaps itself when an I/O exit reaches L0 (nested_vmx_exit_handled_io)'],
  ['CPU_BASED_MONITOR_TRAP_FLAG', 'proc', 27, 'monitor trap flag: VM exit after the next instruction (single-step for the VMM)'],
  ['CPU_BASED_USE_MSR_BITMAPS', 'proc', 28, 'use MSR bitmaps: RDMSR/WRMSR exit according to the bitmap at MSR_BITMAP (else every RDMSR/WRMSR exits)',
    'recomputed in nested_get_vmcs12_pages: with L1\'s bit vmcs02 uses a merged bitmap (nested_vmx_prepare_msr_bitmap); offered to L1 even without hardware support'],
  ['CPU_BASED_MONITOR_EXITING', 'proc', 29, 'MONITOR exiting'],
  ['CPU_BASED_PAUSE_EXITING', 'proc', 30, 'PAUSE exiting (every PAUSE exits)'],
  ['CPU_BASED_ACTIVATE_SECONDARY_CONTROLS', 'proc', 31, 'activate secondary controls: SECONDARY_VM_EXEC_CONTROL is used (else treated as 0)',
    'ORed; L1\'s secondary controls are merged only when L1 sets it'],
  // Secondary
  ['SECONDARY_EXEC_VIRTUALIZE_APIC_ACCESSES', 'proc2', 0, 'virtualize APIC accesses: accesses to the APIC-access page (APIC_ACCESS_ADDR) exit or are virtualized',
    `${ONLY_VMCS12}; offered to L1 with flexpriority`],
  ['SECONDARY_EXEC_ENABLE_EPT', 'proc2', 1, 'enable EPT: guest-physical addresses are translated through the EPT paging structures at EPT_POINTER',
    'L0\'s EPT stays on in vmcs02; with L1\'s bit KVM shadows L1\'s EPT tables (nested_ept_init_mmu_context) — L1\'s EPTP is never loaded into hardware. Offered with enable_ept'],
  ['SECONDARY_EXEC_DESC', 'proc2', 2, 'descriptor-table exiting: LGDT, LIDT, LLDT, LTR, SGDT, SIDT, SLDT, STR exit',
    `${ONLY_VMCS12}, plus forced on while KVM emulates UMIP and L2 has CR4.UMIP = 1`],
  ['SECONDARY_EXEC_ENABLE_RDTSCP', 'proc2', 3, 'enable RDTSCP: when 0, RDTSCP causes #UD', ONLY_VMCS12],
  ['SECONDARY_EXEC_VIRTUALIZE_X2APIC_MODE', 'proc2', 4, 'virtualize x2APIC mode: RDMSR/WRMSR of x2APIC MSRs use the virtual-APIC page', ONLY_VMCS12],
  ['SECONDARY_EXEC_ENABLE_VPID', 'proc2', 5, 'enable VPID: TLB entries are tagged with VIRTUAL_PROCESSOR_ID',
    'ORed; with L1\'s bit vmcs02 runs L2 with KVM\'s own vpid02 rather than L1\'s VPID. Offered with enable_vpid'],
  ['SECONDARY_EXEC_WBINVD_EXITING', 'proc2', 6, 'WBINVD exiting (also WBNOINVD)'],
  ['SECONDARY_EXEC_UNRESTRICTED_GUEST', 'proc2', 7, 'unrestricted guest: the guest may run with CR0.PE = 0 or CR0.PG = 0 (requires EPT)',
    'cleared in vmcs02 unless L1 sets it (prepare_vmcs02_early). Offered with enable_unrestricted_guest'],
  ['SECONDARY_EXEC_APIC_REGISTER_VIRT', 'proc2', 8, 'APIC-register virtualization: reads of most APIC registers are satisfied from the virtual-APIC page', ONLY_VMCS12],
  ['SECONDARY_EXEC_VIRTUAL_INTR_DELIVERY', 'proc2', 9, 'virtual-interrupt delivery: the CPU evaluates and delivers pending virtual interrupts (GUEST_INTR_STATUS, EOI-exit bitmaps)',
    `${ONLY_VMCS12}; with it KVM writes GUEST_INTR_STATUS from vmcs12`],
  ['SECONDARY_EXEC_PAUSE_LOOP_EXITING', 'proc2', 10, 'PAUSE-loop exiting: a PAUSE loop at CPL 0 longer than PLE_WINDOW (gaps below PLE_GAP) exits', 'not offered to L1; vmcs02 keeps L0\'s own PLE setting'],
  ['SECONDARY_EXEC_RDRAND_EXITING', 'proc2', 11, 'RDRAND exiting'],
  ['SECONDARY_EXEC_ENABLE_INVPCID', 'proc2', 12, 'enable INVPCID: when 0, INVPCID causes #UD', ONLY_VMCS12],
  ['SECONDARY_EXEC_ENABLE_VMFUNC', 'proc2', 13, 'enable VM functions: VMFUNC is allowed per VM_FUNCTION_CONTROL', `${ONLY_VMCS12}; EPTP switching for L2 is emulated by KVM`],
  ['SECONDARY_EXEC_SHADOW_VMCS', 'proc2', 14, 'VMCS shadowing: VMREAD/VMWRITE in VMX non-root operation access the shadow VMCS at VMCS_LINK_POINTER, filtered by the VMREAD/VMWRITE bitmaps',
    'never set in vmcs02: VMCS shadowing for L2 is emulated; offered to L1 even without hardware support. KVM itself uses it in vmcs01 for L1 (enable_shadow_vmcs)'],
  ['SECONDARY_EXEC_ENCLS_EXITING', 'proc2', 15, 'ENCLS exiting: ENCLS leaves selected by ENCLS_EXITING_BITMAP exit',
    'ORed; KVM writes the ENCLS-exiting bitmap combining L1\'s (vmx_write_encls_bitmap). Offered with enable_sgx'],
  ['SECONDARY_EXEC_RDSEED_EXITING', 'proc2', 16, 'RDSEED exiting'],
  ['SECONDARY_EXEC_ENABLE_PML', 'proc2', 17, 'enable page-modification logging: EPT dirty-bit updates append the GPA to the PML buffer (PML_ADDRESS, GUEST_PML_INDEX)',
    'never enabled in hardware for L2: KVM emulates L1\'s PML. Offered with EPT A/D bits'],
  ['SECONDARY_EXEC_EPT_VIOLATION_VE', 'proc2', 18, 'EPT-violation #VE: some EPT violations are delivered to the guest as virtualization exceptions', NOT_OFFERED],
  ['SECONDARY_EXEC_PT_CONCEAL_VMX', 'proc2', 19, 'conceal VMX from Intel PT: PT packets do not reveal non-root operation', NOT_OFFERED],
  ['SECONDARY_EXEC_ENABLE_XSAVES', 'proc2', 20, 'enable XSAVES/XRSTORS: when 0 they cause #UD; XSS_EXIT_BITMAP selects exiting components', ONLY_VMCS12],
  ['SECONDARY_EXEC_MODE_BASED_EPT_EXEC', 'proc2', 22, 'mode-based execute control for EPT: separate execute permissions for supervisor and user linear addresses', NOT_OFFERED],
  ['SECONDARY_EXEC_PT_USE_GPA', 'proc2', 24, 'Intel PT uses guest-physical addresses (translated through EPT)', NOT_OFFERED],
  ['SECONDARY_EXEC_TSC_SCALING', 'proc2', 25, 'use TSC scaling: TSC reads are multiplied by TSC_MULTIPLIER before the offset',
    'ORed; vmcs02\'s TSC_MULTIPLIER combines L1\'s and L0\'s (kvm_calc_nested_tsc_multiplier)'],
  ['SECONDARY_EXEC_ENABLE_USR_WAIT_PAUSE', 'proc2', 26, 'enable user wait and pause: when 0, UMONITOR/UMWAIT/TPAUSE cause #UD', ONLY_VMCS12],
  ['SECONDARY_EXEC_BUS_LOCK_DETECTION', 'proc2', 30, 'VMM bus-lock detection: a bus lock causes a VM exit (EXIT_REASON_BUS_LOCK) after the instruction', NOT_OFFERED],
  ['SECONDARY_EXEC_NOTIFY_VM_EXITING', 'proc2', 31, 'instruction-timeout (notify) exiting: a VM exit when no event window opens for NOTIFY_WINDOW cycles', NOT_OFFERED],
  // Tertiary
  ['TERTIARY_EXEC_IPI_VIRT', 'proc3', 4, 'IPI virtualization: ICR writes that send an IPI are virtualized through the PID-pointer table (PID_POINTER_TABLE, LAST_PID_POINTER_INDEX)'],
  // VM-exit controls
  ['VM_EXIT_SAVE_DEBUG_CONTROLS', 'exit', 2, 'save debug controls: the VM exit saves DR7 and IA32_DEBUGCTL into GUEST_DR7 / GUEST_IA32_DEBUGCTL',
    'emulated: on a reflected exit KVM saves L2\'s DR7/DEBUGCTL into vmcs12 when L1 set it (prepare_vmcs12); L1 may clear it (default1 bit relaxed)'],
  ['VM_EXIT_HOST_ADDR_SPACE_SIZE', 'exit', 9, 'host address-space size: the VM exit returns to a 64-bit host (EFER.LMA = EFER.LME = 1, CS.L = 1)',
    'emulated in load_vmcs12_host_state (L1\'s EFER and CS after the exit); checked against HOST_IA32_EFER/HOST_CR4 on nested VM entry'],
  ['VM_EXIT_LOAD_IA32_PERF_GLOBAL_CTRL', 'exit', 12, 'load IA32_PERF_GLOBAL_CTRL from HOST_IA32_PERF_GLOBAL_CTRL on exit', 'emulated in load_vmcs12_host_state (KVM writes L1\'s PERF_GLOBAL_CTRL)'],
  ['VM_EXIT_ACK_INTR_ON_EXIT', 'exit', 15, 'acknowledge interrupt on exit: an external-interrupt exit acknowledges the interrupt controller and stores the vector in VM_EXIT_INTR_INFO (else the interrupt stays pending and VM_EXIT_INTR_INFO is invalid)',
    'emulated: when KVM reflects an external-interrupt exit to L1 with this bit set, it acknowledges the interrupt itself and writes vmcs12\'s VM_EXIT_INTR_INFO (nested_vmx_vmexit, nested_exit_intr_ack_set)'],
  ['VM_EXIT_SAVE_IA32_PAT', 'exit', 18, 'save IA32_PAT into GUEST_IA32_PAT on exit', 'emulated: KVM stores L2\'s PAT into vmcs12 on a reflected exit'],
  ['VM_EXIT_LOAD_IA32_PAT', 'exit', 19, 'load IA32_PAT from HOST_IA32_PAT on exit', 'emulated in load_vmcs12_host_state'],
  ['VM_EXIT_SAVE_IA32_EFER', 'exit', 20, 'save IA32_EFER into GUEST_IA32_EFER on exit', 'emulated (sync_vmcs02_to_vmcs12 stores L2\'s EFER); always offered to L1'],
  ['VM_EXIT_LOAD_IA32_EFER', 'exit', 21, 'load IA32_EFER from HOST_IA32_EFER on exit',
    'emulated in load_vmcs12_host_state; vmcs02\'s own bit is set by KVM whenever L2\'s EFER differs from the host\'s (prepare_vmcs02_early)'],
  ['VM_EXIT_SAVE_VMX_PREEMPTION_TIMER', 'exit', 22, 'save the VMX-preemption timer value into VMX_PREEMPTION_TIMER_VALUE on exit',
    'emulated: KVM stores the remaining value of its hrtimer into vmcs12 (vmx_get_preemption_timer_value)'],
  ['VM_EXIT_CLEAR_BNDCFGS', 'exit', 23, 'clear IA32_BNDCFGS on exit', 'emulated in load_vmcs12_host_state (without it L2\'s BNDCFGS propagates to L1)'],
  ['VM_EXIT_PT_CONCEAL_PIP', 'exit', 24, 'conceal VM exits from Intel PT (no PIP/VMCS packets)', NOT_OFFERED],
  ['VM_EXIT_CLEAR_IA32_RTIT_CTL', 'exit', 25, 'clear IA32_RTIT_CTL on exit', NOT_OFFERED],
  ['VM_EXIT_LOAD_CET_STATE', 'exit', 28, 'load CET state (IA32_S_CET, SSP, IA32_INTERRUPT_SSP_TABLE_ADDR) from HOST_S_CET, HOST_SSP, HOST_INTR_SSP_TABLE on exit',
    'emulated in load_vmcs12_host_state; offered when the host supports shadow stacks or IBT'],
  ['VM_EXIT_SAVE_IA32_PERF_GLOBAL_CTRL', 'exit', 30, 'save IA32_PERF_GLOBAL_CTRL into GUEST_IA32_PERF_GLOBAL_CTRL on exit', NOT_OFFERED],
  // VM-entry controls
  ['VM_ENTRY_LOAD_DEBUG_CONTROLS', 'entry', 2, 'load debug controls: VM entry loads DR7 and IA32_DEBUGCTL from GUEST_DR7 / GUEST_IA32_DEBUGCTL',
    'on nested VM entry KVM loads L2\'s DR7/DEBUGCTL from vmcs12 when L1 set it, else carries L1\'s values over (prepare_vmcs02); L1 may clear it'],
  ['VM_ENTRY_IA32E_MODE', 'entry', 9, 'IA-32e mode guest: after entry EFER.LMA = 1 and the guest is in IA-32e mode (with "load IA32_EFER" = 0 also EFER.LME)',
    'recomputed for vmcs02 from L2\'s effective EFER.LMA (nested_vmx_calc_efer), not copied from L1'],
  ['VM_ENTRY_SMM', 'entry', 10, 'entry to SMM (dual-monitor treatment only)', NOT_OFFERED],
  ['VM_ENTRY_DEACT_DUAL_MONITOR', 'entry', 11, 'deactivate dual-monitor treatment (only from the SMM-transfer monitor)', NOT_OFFERED],
  ['VM_ENTRY_LOAD_IA32_PERF_GLOBAL_CTRL', 'entry', 13, 'load IA32_PERF_GLOBAL_CTRL from GUEST_IA32_PERF_GLOBAL_CTRL',
    'masked out of L1\'s value (vmcs02 keeps L0\'s choice); KVM writes L2\'s value itself through kvm_set_msr in prepare_vmcs02'],
  ['VM_ENTRY_LOAD_IA32_PAT', 'entry', 14, 'load IA32_PAT from GUEST_IA32_PAT', 'ORed; with L1\'s bit KVM writes GUEST_IA32_PAT from vmcs12 (prepare_vmcs02)'],
  ['VM_ENTRY_LOAD_IA32_EFER', 'entry', 15, 'load IA32_EFER from GUEST_IA32_EFER (else only LMA/LME follow "IA-32e mode guest")',
    'recomputed: set in vmcs02 whenever L2\'s effective EFER differs from the host\'s (prepare_vmcs02_early)'],
  ['VM_ENTRY_LOAD_BNDCFGS', 'entry', 16, 'load IA32_BNDCFGS from GUEST_BNDCFGS', 'ORed; L2 gets vmcs12\'s BNDCFGS when L1 set it, else L1\'s value'],
  ['VM_ENTRY_PT_CONCEAL_PIP', 'entry', 17, 'conceal VM entries from Intel PT', NOT_OFFERED],
  ['VM_ENTRY_LOAD_IA32_RTIT_CTL', 'entry', 18, 'load IA32_RTIT_CTL from GUEST_IA32_RTIT_CTL', NOT_OFFERED],
  ['VM_ENTRY_LOAD_CET_STATE', 'entry', 20, 'load CET state (IA32_S_CET, SSP, IA32_INTERRUPT_SSP_TABLE_ADDR) from GUEST_S_CET, GUEST_SSP, GUEST_INTR_SSP_TABLE',
    'ORed; L2 gets vmcs12\'s CET state when L1 set it, else L1\'s pre-entry values'],
];

const NESTED_SRC = `${CODE.linuxNestedVmx} prepare_vmcs02_early, prepare_vmcs02, nested_vmx_setup_*_ctls, load_vmcs12_host_state`;

function build([name, group, bit, meaning, nested]: Row): SymbolInfo {
  return {
    kind: 'symbol', category: 'vmx-control', vendor: 'vmx', name, aliases: [], container: FIELD[group], bit,
    value: `0x${(2 ** bit).toString(16)}`, meaning, nested: nested ?? ORED[group], capability: CAP[group](bit),
    sources: [MANUAL[group], HEADER[group], NESTED_SRC, 'Intel SDM Vol.3D Appendix A (VMX capability reporting)'],
  };
}

const DEFAULT1: Array<[string, Group, number]> = [
  ['PIN_BASED_ALWAYSON_WITHOUT_TRUE_MSR', 'pin', 0x16], ['CPU_BASED_ALWAYSON_WITHOUT_TRUE_MSR', 'proc', 0x0401e172],
  ['VM_EXIT_ALWAYSON_WITHOUT_TRUE_MSR', 'exit', 0x36dff], ['VM_ENTRY_ALWAYSON_WITHOUT_TRUE_MSR', 'entry', 0x11ff],
];

/** Every VMX control bit Linux 7.1.5 names, plus the four default1 masks. */
export const VMX_CONTROLS: readonly SymbolInfo[] = [
  ...ROWS.map(build),
  ...DEFAULT1.map(([name, group, value]): SymbolInfo => ({
    kind: 'symbol', category: 'vmx-control-default1', vendor: 'vmx', name, aliases: [], container: FIELD[group], value: `0x${value.toString(16)}`,
    meaning: `the default1 bits of ${FIELD[group]}: controls that must be 1 on processors without the TRUE capability MSRs (IA32_VMX_BASIC[55] = 0)`,
    nested: 'KVM reports them as allowed-0 = 1 in the nested capability MSRs (nested_vmx_setup_*_ctls), then relaxes the ones it can emulate as 0 (debug-control save/load, CR3 exiting) in the TRUE MSRs',
    sources: ['Intel SDM Vol.3D §A.2 (default1 controls)', HEADER[group], `${CODE.linuxNestedVmx} nested_vmx_setup_*_ctls`],
  })),
];

export const VMX_CONTROL_SYMBOL: ReadonlyMap<string, SymbolInfo> = new Map(VMX_CONTROLS.map((c) => [c.name, c]));
