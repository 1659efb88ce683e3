// VMX basic exit reasons (SDM Vol.3D Appendix C) and SVM #VMEXIT codes (AMD APM Vol.2 Appendix C).
// Names: Linux 7.1.5 arch/x86/include/uapi/asm/{vmx,svm}.h; codes Linux lacks are named here after the SDM/Bochs
// (linux: false). `defines` comes from exitInfo.ts, the same table the VMCS fields' validForExitReasons use.
import { EXIT_INFO_VALIDITY, fieldsDefinedBy } from './exitInfo';
import { APM, CODE, SDM } from './sources';
import type { ExitReason } from './types';

const VMX_SRC = [SDM.exitReasons, CODE.linuxUapiVmxH, 'Bochs bochs/cpu/vmx.h VMX_vmexit_reason', 'kvm-unit-tests x86/vmx.h (exit reason numbers)'];
const SVM_SRC = [APM.exitCodes, CODE.linuxUapiSvmH, 'Bochs bochs/cpu/svm.h SVM_intercept_codes', 'QEMU target/i386/svm.h (SVM_EXIT_*)'];

/** [code, Linux suffix after EXIT_REASON_ (or null if Linux has none), SDM-style name when Linux lacks one, meaning, Bochs name] */
type VmxRow = [number, string | null, string, string, string];

const VMX: VmxRow[] = [
  [0, 'EXCEPTION_NMI', '', 'exception or NMI (per exception bitmap / NMI exiting)', 'EXCEPTION_NMI'],
  [1, 'EXTERNAL_INTERRUPT', '', 'external interrupt', 'EXTERNAL_INTERRUPT'],
  [2, 'TRIPLE_FAULT', '', 'triple fault', 'TRIPLE_FAULT'],
  [3, 'INIT_SIGNAL', '', 'INIT signal', 'INIT'],
  [4, 'SIPI_SIGNAL', '', 'start-up IPI (SIPI)', 'SIPI'],
  [5, null, 'IO_SMI', 'I/O SMI (SMI right after an I/O instruction)', 'IO_SMI'],
  [6, 'OTHER_SMI', '', 'other SMI', 'SMI'],
  [7, 'INTERRUPT_WINDOW', '', 'interrupt window', 'INTERRUPT_WINDOW'],
  [8, 'NMI_WINDOW', '', 'NMI window', 'NMI_WINDOW'],
  [9, 'TASK_SWITCH', '', 'task switch', 'TASK_SWITCH'],
  [10, 'CPUID', '', 'CPUID', 'CPUID'],
  [11, null, 'GETSEC', 'GETSEC', 'GETSEC'],
  [12, 'HLT', '', 'HLT', 'HLT'],
  [13, 'INVD', '', 'INVD', 'INVD'],
  [14, 'INVLPG', '', 'INVLPG', 'INVLPG'],
  [15, 'RDPMC', '', 'RDPMC', 'RDPMC'],
  [16, 'RDTSC', '', 'RDTSC', 'RDTSC'],
  [17, null, 'RSM', 'RSM in SMM', 'RSM'],
  [18, 'VMCALL', '', 'VMCALL', 'VMCALL'],
  [19, 'VMCLEAR', '', 'VMCLEAR', 'VMCLEAR'],
  [20, 'VMLAUNCH', '', 'VMLAUNCH', 'VMLAUNCH'],
  [21, 'VMPTRLD', '', 'VMPTRLD', 'VMPTRLD'],
  [22, 'VMPTRST', '', 'VMPTRST', 'VMPTRST'],
  [23, 'VMREAD', '', 'VMREAD', 'VMREAD'],
  [24, 'VMRESUME', '', 'VMRESUME', 'VMRESUME'],
  [25, 'VMWRITE', '', 'VMWRITE', 'VMWRITE'],
  [26, 'VMOFF', '', 'VMXOFF', 'VMXOFF'],
  [27, 'VMON', '', 'VMXON', 'VMXON'],
  [28, 'CR_ACCESS', '', 'control-register access (MOV CR, CLTS, LMSW)', 'CR_ACCESS'],
  [29, 'DR_ACCESS', '', 'MOV DR', 'DR_ACCESS'],
  [30, 'IO_INSTRUCTION', '', 'I/O instruction', 'IO_INSTRUCTION'],
  [31, 'MSR_READ', '', 'RDMSR', 'RDMSR'],
  [32, 'MSR_WRITE', '', 'WRMSR', 'WRMSR'],
  [33, 'INVALID_STATE', '', 'VM-entry failure: invalid guest state', 'VMENTRY_FAILURE_GUEST_STATE'],
  [34, 'MSR_LOAD_FAIL', '', 'VM-entry failure: MSR loading', 'VMENTRY_FAILURE_MSR'],
  [35, null, 'RESERVED35', 'reserved', 'RESERVED35'],
  [36, 'MWAIT_INSTRUCTION', '', 'MWAIT', 'MWAIT'],
  [37, 'MONITOR_TRAP_FLAG', '', 'monitor trap flag', 'MONITOR_TRAP_FLAG'],
  [38, null, 'RESERVED38', 'reserved', 'RESERVED38'],
  [39, 'MONITOR_INSTRUCTION', '', 'MONITOR', 'MONITOR'],
  [40, 'PAUSE_INSTRUCTION', '', 'PAUSE', 'PAUSE'],
  [41, 'MCE_DURING_VMENTRY', '', 'VM-entry failure: machine-check event', 'VMENTRY_FAILURE_MCA'],
  [42, null, 'RESERVED42', 'reserved', 'RESERVED42'],
  [43, 'TPR_BELOW_THRESHOLD', '', 'TPR below threshold', 'TPR_THRESHOLD'],
  [44, 'APIC_ACCESS', '', 'APIC access', 'APIC_ACCESS'],
  [45, 'EOI_INDUCED', '', 'virtualized EOI', 'VIRTUALIZED_EOI'],
  [46, 'GDTR_IDTR', '', 'GDTR/IDTR access (LGDT/LIDT/SGDT/SIDT)', 'GDTR_IDTR_ACCESS'],
  [47, 'LDTR_TR', '', 'LDTR/TR access (LLDT/LTR/SLDT/STR)', 'LDTR_TR_ACCESS'],
  [48, 'EPT_VIOLATION', '', 'EPT violation', 'EPT_VIOLATION'],
  [49, 'EPT_MISCONFIG', '', 'EPT misconfiguration', 'EPT_MISCONFIGURATION'],
  [50, 'INVEPT', '', 'INVEPT', 'INVEPT'],
  [51, 'RDTSCP', '', 'RDTSCP', 'RDTSCP'],
  [52, 'PREEMPTION_TIMER', '', 'VMX-preemption timer expired', 'VMX_PREEMPTION_TIMER_EXPIRED'],
  [53, 'INVVPID', '', 'INVVPID', 'INVVPID'],
  [54, 'WBINVD', '', 'WBINVD/WBNOINVD', 'WBINVD'],
  [55, 'XSETBV', '', 'XSETBV', 'XSETBV'],
  [56, 'APIC_WRITE', '', 'APIC write (trap-like)', 'APIC_WRITE'],
  [57, 'RDRAND', '', 'RDRAND', 'RDRAND'],
  [58, 'INVPCID', '', 'INVPCID', 'INVPCID'],
  [59, 'VMFUNC', '', 'VMFUNC', 'VMFUNC'],
  [60, 'ENCLS', '', 'ENCLS', 'ENCLS'],
  [61, 'RDSEED', '', 'RDSEED', 'RDSEED'],
  [62, 'PML_FULL', '', 'page-modification log full', 'PML_LOGFULL'],
  [63, 'XSAVES', '', 'XSAVES', 'XSAVES'],
  [64, 'XRSTORS', '', 'XRSTORS', 'XRSTORS'],
  [65, null, 'PCONFIG', 'PCONFIG', 'PCONFIG'],
  [66, null, 'SPP', 'SPP-related event', 'SPP'],
  [67, 'UMWAIT', '', 'UMWAIT', 'UMWAIT'],
  [68, 'TPAUSE', '', 'TPAUSE', 'TPAUSE'],
  [69, null, 'LOADIWKEY', 'LOADIWKEY', 'LOADIWKEY'],
  [70, null, 'ENCLV', 'ENCLV', 'ENCLV'],
  [71, null, 'RESERVED71', 'reserved', 'RESERVED71'],
  [72, null, 'ENQCMD_PASID', 'ENQCMD PASID translation failure', 'ENQCMD_PASID'],
  [73, null, 'ENQCMDS_PASID', 'ENQCMDS PASID translation failure', 'ENQCMDS_PASID'],
  [74, 'BUS_LOCK', '', 'bus lock', 'BUS_LOCK'],
  [75, 'NOTIFY', '', 'instruction timeout (notify window)', 'INSTRUCTION_TIMEOUT'],
  [76, 'SEAMCALL', '', 'SEAMCALL', 'SEAMCALL'],
  [77, 'TDCALL', '', 'TDCALL', 'TDCALL'],
  [78, null, 'RDMSRLIST', 'RDMSRLIST', 'RDMSRLIST'],
  [79, null, 'WRMSRLIST', 'WRMSRLIST', 'WRMSRLIST'],
  [80, null, 'URDMSR', 'URDMSR', 'URDMSR'],
  [81, null, 'UWRMSR', 'UWRMSR', 'UWRMSR'],
  [82, null, 'RESERVED82', 'reserved', 'RESERVED82'],
  [83, null, 'RESERVED83', 'reserved', 'RESERVED83'],
  [84, 'MSR_READ_IMM', '', 'RDMSR with immediate operand', 'RDMSR_IMM'],
  [85, 'MSR_WRITE_IMM', '', 'WRMSRNS with immediate operand', 'WRMSRNS'],
];

const FAILED_ENTRY = new Set([33, 34, 41]);

function vmxReason([code, linux, sdm, meaning, bochs]: VmxRow): ExitReason {
  const name = `EXIT_REASON_${linux ?? sdm}`;
  const defines = fieldsDefinedBy(code);
  const cond: Record<string, string> = {};
  for (const v of EXIT_INFO_VALIDITY) {
    if (v.reasons === 'all') continue;
    const hit = v.reasons.find((x) => x.reason === code);
    if (hit?.condition) cond[v.field] = hit.condition;
  }
  const e: ExitReason = {
    kind: 'exit-reason', vendor: 'vmx', name, aliases: [`VMX_VMEXIT_${bochs}`].filter((a) => a !== name), code, meaning,
    defines, linux: linux !== null, sources: [...VMX_SRC, SDM.exitRecordInfo],
  };
  if (Object.keys(cond).length) e.definesConditions = cond;
  if (FAILED_ENTRY.has(code)) e.failedEntry = true;
  // Older Linux name (v5.2 arch/x86/include/uapi/asm/vmx.h) for the interrupt-window exit.
  if (code === 7) e.aliases.push('EXIT_REASON_PENDING_INTERRUPT');
  return e;
}

export const VMX_EXIT_REASONS: readonly ExitReason[] = VMX.map(vmxReason);

/** VM_EXIT_REASON bit 31: the exit reports a failed VM entry (Linux VMX_EXIT_REASONS_FAILED_VMENTRY). */
export const VMX_EXIT_REASONS_FAILED_VMENTRY = 0x80000000;

// SVM ------------------------------------------------------------------------------------------------------------

type SvmRow = [number, string, string, string?];

const SVM: SvmRow[] = [
  [0x000, 'READ_CR0', 'read of CR0'], [0x002, 'READ_CR2', 'read of CR2'], [0x003, 'READ_CR3', 'read of CR3'], [0x004, 'READ_CR4', 'read of CR4'], [0x008, 'READ_CR8', 'read of CR8'],
  [0x010, 'WRITE_CR0', 'write to CR0'], [0x012, 'WRITE_CR2', 'write to CR2'], [0x013, 'WRITE_CR3', 'write to CR3'], [0x014, 'WRITE_CR4', 'write to CR4'], [0x018, 'WRITE_CR8', 'write to CR8'],
  ...[0, 1, 2, 3, 4, 5, 6, 7].map((n): SvmRow => [0x020 + n, `READ_DR${n}`, `read of DR${n}`]),
  ...[0, 1, 2, 3, 4, 5, 6, 7].map((n): SvmRow => [0x030 + n, `WRITE_DR${n}`, `write to DR${n}`]),
  [0x040, 'EXCP_BASE', 'exception intercept base: code 0x40 + vector (this code itself = #DE, vector 0)'],
  [0x05f, 'LAST_EXCP', 'last exception intercept code (vector 31)'],
  [0x060, 'INTR', 'physical INTR'], [0x061, 'NMI', 'physical NMI'], [0x062, 'SMI', 'SMI'], [0x063, 'INIT', 'INIT'],
  [0x064, 'VINTR', 'virtual interrupt taken (VINTR intercept; used for interrupt windows)'],
  [0x065, 'CR0_SEL_WRITE', 'CR0 write changing bits other than TS/MP (selective CR0 write)'],
  [0x066, 'IDTR_READ', 'SIDT'], [0x067, 'GDTR_READ', 'SGDT'], [0x068, 'LDTR_READ', 'SLDT'], [0x069, 'TR_READ', 'STR'],
  [0x06a, 'IDTR_WRITE', 'LIDT'], [0x06b, 'GDTR_WRITE', 'LGDT'], [0x06c, 'LDTR_WRITE', 'LLDT'], [0x06d, 'TR_WRITE', 'LTR'],
  [0x06e, 'RDTSC', 'RDTSC'], [0x06f, 'RDPMC', 'RDPMC'], [0x070, 'PUSHF', 'PUSHF'], [0x071, 'POPF', 'POPF'], [0x072, 'CPUID', 'CPUID'],
  [0x073, 'RSM', 'RSM'], [0x074, 'IRET', 'IRET'], [0x075, 'SWINT', 'software INTn'], [0x076, 'INVD', 'INVD'], [0x077, 'PAUSE', 'PAUSE'],
  [0x078, 'HLT', 'HLT'], [0x079, 'INVLPG', 'INVLPG'], [0x07a, 'INVLPGA', 'INVLPGA'],
  [0x07b, 'IOIO', 'IN/OUT/INS/OUTS (IOPM)', 'exit_info_1: port, size, direction, string/rep flags; exit_info_2: next RIP'],
  [0x07c, 'MSR', 'RDMSR/WRMSR (MSRPM)', 'exit_info_1: 0 = RDMSR, 1 = WRMSR'],
  [0x07d, 'TASK_SWITCH', 'task switch', 'exit_info_1: target TSS selector; exit_info_2: reason bits and error code'],
  [0x07e, 'FERR_FREEZE', 'FERR_FREEZE'], [0x07f, 'SHUTDOWN', 'shutdown'],
  [0x080, 'VMRUN', 'VMRUN'], [0x081, 'VMMCALL', 'VMMCALL'], [0x082, 'VMLOAD', 'VMLOAD'], [0x083, 'VMSAVE', 'VMSAVE'],
  [0x084, 'STGI', 'STGI'], [0x085, 'CLGI', 'CLGI'], [0x086, 'SKINIT', 'SKINIT'], [0x087, 'RDTSCP', 'RDTSCP'], [0x088, 'ICEBP', 'ICEBP (INT1)'],
  [0x089, 'WBINVD', 'WBINVD'], [0x08a, 'MONITOR', 'MONITOR'], [0x08b, 'MWAIT', 'MWAIT'], [0x08c, 'MWAIT_COND', 'MWAIT (conditional)'],
  [0x08d, 'XSETBV', 'XSETBV'], [0x08e, 'RDPRU', 'RDPRU'], [0x08f, 'EFER_WRITE_TRAP', 'EFER write trap (after the write; SEV-ES)'],
  ...Array.from({ length: 16 }, (_, n): SvmRow => [0x090 + n, `CR${n}_WRITE_TRAP`, `CR${n} write trap (after the write; SEV-ES)`]),
  [0x0a2, 'INVPCID', 'INVPCID'], [0x0a5, 'BUS_LOCK', 'bus lock with bus_lock_counter at 0 (bus-lock threshold)'], [0x0a6, 'IDLE_HLT', 'HLT with no pending event (idle HLT)'],
  [0x400, 'NPF', 'nested page fault', 'exit_info_1: page-fault error code (+ NPF bits); exit_info_2: guest-physical address'],
  [0x401, 'AVIC_INCOMPLETE_IPI', 'AVIC incomplete IPI'], [0x402, 'AVIC_UNACCELERATED_ACCESS', 'AVIC unaccelerated access'],
  [0x403, 'VMGEXIT', 'VMGEXIT (SEV-ES guest request)'],
  [0xf0000000, 'SW', 'range reserved for software (hypervisor) use'],
  [-1, 'ERR', 'VMRUN failed its consistency checks (invalid VMCB state); Linux SVM_EXIT_ERR is -1ull'],
];

/** Linux vector macro names (arch/x86/include/asm/... *_VECTOR) used as SVM_EXIT_EXCP_BASE + XX_VECTOR. */
const VECTORS: Readonly<Record<number, [string, string]>> = {
  1: ['DB_VECTOR', '#DB'], 2: ['NMI_VECTOR', 'NMI (vector 2)'], 3: ['BP_VECTOR', '#BP'], 4: ['OF_VECTOR', '#OF'], 5: ['BR_VECTOR', '#BR'],
  6: ['UD_VECTOR', '#UD'], 7: ['NM_VECTOR', '#NM'], 8: ['DF_VECTOR', '#DF'], 10: ['TS_VECTOR', '#TS'], 11: ['NP_VECTOR', '#NP'],
  12: ['SS_VECTOR', '#SS'], 13: ['GP_VECTOR', '#GP'], 14: ['PF_VECTOR', '#PF'], 16: ['MF_VECTOR', '#MF'], 17: ['AC_VECTOR', '#AC'],
  18: ['MC_VECTOR', '#MC'], 19: ['XM_VECTOR', '#XM'], 20: ['VE_VECTOR', '#VE'], 21: ['CP_VECTOR', '#CP'], 28: ['HV_VECTOR', '#HV'],
  29: ['VC_VECTOR', '#VC'], 30: ['SX_VECTOR', '#SX'],
};

function svmCode([code, n, meaning, info]: SvmRow): ExitReason {
  const e: ExitReason = { kind: 'exit-reason', vendor: 'svm', name: `SVM_EXIT_${n}`, aliases: [], code, meaning, linux: true, sources: SVM_SRC };
  if (info) e.defines = [info];
  if (n === 'EXCP_BASE') e.aliases.push('SVM_EXIT_EXCP_BASE + DE_VECTOR');
  return e;
}

const EXCEPTION_CODES: ExitReason[] = [];
for (let v = 1; v < 31; v++) {
  const vec = VECTORS[v];
  const name = vec ? `SVM_EXIT_EXCP_BASE + ${vec[0]}` : `SVM_EXIT_EXCP_BASE + ${v}`;
  const e: ExitReason = {
    kind: 'exit-reason', vendor: 'svm', name, aliases: [`SVM_EXIT_EXCP_BASE+${vec ? vec[0] : v}`], code: 0x40 + v,
    meaning: `exception intercept, vector ${v}${vec ? ` (${vec[1]})` : ''}`, linux: vec !== undefined, sources: [...SVM_SRC, 'Linux 7.1.5 arch/x86/kvm/svm/svm.c svm_exit_handlers'],
  };
  if (v === 14) e.defines = ['exit_info_1: #PF error code; exit_info_2: faulting address (CR2 is not written)'];
  EXCEPTION_CODES.push(e);
}

/** Codes the APM defines that Linux 7.1.5 does not name (named here after the APM; Bochs names them SVM_VMEXIT_*). */
const SVM_NOT_IN_LINUX: SvmRow[] = [
  [0x0a0, 'INVLPGB', 'INVLPGB (broadcast TLB invalidation)'], [0x0a1, 'INVLPGB_ILLEGAL', 'INVLPGB with an illegal operand combination'],
  [0x0a3, 'MCOMMIT', 'MCOMMIT'], [0x0a4, 'TLBSYNC', 'TLBSYNC'],
];

/**
 * VMGEXIT requests of SEV-ES/SNP guests: not #VMEXIT codes the CPU writes but values the guest puts in the GHCB's
 * sw_exit_code (exit_code is SVM_EXIT_VMGEXIT); KVM dispatches them in sev_handle_vmgexit. Linux 7.1.5
 * arch/x86/include/uapi/asm/svm.h; AMD GHCB specification (document 56421), "Non-automatic exits".
 */
const VMGEXIT: Array<[number, string, string]> = [
  [0x80000001, 'MMIO_READ', 'MMIO read: sw_exit_info_1 = GPA, sw_exit_info_2 = length, data through sw_scratch'],
  [0x80000002, 'MMIO_WRITE', 'MMIO write: sw_exit_info_1 = GPA, sw_exit_info_2 = length, data through sw_scratch'],
  [0x80000003, 'NMI_COMPLETE', 'the guest finished handling an NMI (re-enables NMI injection)'],
  [0x80000004, 'AP_HLT_LOOP', 'AP parked in its HLT loop (AP reset hold)'],
  [0x80000005, 'AP_JUMP_TABLE', 'set/get the AP jump table address (sw_exit_info_1 = SVM_VMGEXIT_SET/GET_AP_JUMP_TABLE)'],
  [0x80000010, 'PSC', 'page state change (SNP): private/shared conversions described in the shared buffer'],
  [0x80000011, 'GUEST_REQUEST', 'SNP guest request message to the firmware (request/response pages)'],
  [0x80000012, 'EXT_GUEST_REQUEST', 'extended SNP guest request (also returns certificate data)'],
  [0x80000013, 'AP_CREATION', 'SNP AP creation: create or destroy a vCPU\'s VMSA (sub-op in sw_exit_info_1: SVM_VMGEXIT_AP_CREATE_ON_INIT/AP_CREATE/AP_DESTROY)'],
  [0x80000018, 'SNP_RUN_VMPL', 'run the vCPU at another VMPL (SNP)'],
  [0x8000001a, 'SAVIC', 'Secure AVIC request (register/unregister the APIC backing page GPA)'],
  [0x8000fffd, 'HV_FEATURES', 'query the hypervisor feature bitmap (GHCB_HV_FT_*)'],
  [0x8000fffe, 'TERM_REQUEST', 'guest requests termination (reason set and code in sw_exit_info_1)'],
  [0x8000ffff, 'UNSUPPORTED_EVENT', 'report an unsupported event to the hypervisor'],
];
const VMGEXIT_SRC = [CODE.linuxUapiSvmH, 'AMD GHCB specification (document 56421)', 'Linux 7.1.5 arch/x86/kvm/svm/sev.c sev_handle_vmgexit'];

const BASE_CODES = SVM.map(svmCode);
const EXTRA_SVM_CODES: ExitReason[] = [
  ...SVM_NOT_IN_LINUX.map((row) => ({ ...svmCode(row), linux: false, sources: [APM.exitCodes, 'Bochs bochs/cpu/svm.h (SVM_VMEXIT_INVLPGB, _INVLPGB_ILLEGAL, _MCOMMIT, _TLBSYNC)'] })),
  ...VMGEXIT.map(([code, n, meaning]): ExitReason => ({
    kind: 'exit-reason', vendor: 'svm', name: `SVM_VMGEXIT_${n}`, aliases: [], code, linux: true, sources: VMGEXIT_SRC,
    meaning: `VMGEXIT request (GHCB sw_exit_code, with exit_code = SVM_EXIT_VMGEXIT): ${meaning}`,
  })),
];
const LAST = BASE_CODES.findIndex((e) => e.name === 'SVM_EXIT_LAST_EXCP');
export const SVM_EXIT_CODES: readonly ExitReason[] = [...BASE_CODES.slice(0, LAST), ...EXCEPTION_CODES, ...BASE_CODES.slice(LAST), ...EXTRA_SVM_CODES];

export const VMX_EXIT_BY_CODE: ReadonlyMap<number, ExitReason> = new Map(VMX_EXIT_REASONS.map((e) => [e.code, e]));
export const SVM_EXIT_BY_CODE: ReadonlyMap<number, ExitReason> = new Map(SVM_EXIT_CODES.map((e) => [e.code, e]));

export function findExitReason(ref: string | number, vendor?: 'vmx' | 'svm'): ExitReason | undefined {
  const all = vendor === 'svm' ? SVM_EXIT_CODES : vendor === 'vmx' ? VMX_EXIT_REASONS : [...VMX_EXIT_REASONS, ...SVM_EXIT_CODES];
  if (typeof ref === 'number') return all.find((e) => e.code === ref);
  const compact = ref.replace(/\s+/g, '');
  return all.find((e) => e.name === ref || e.name.replace(/\s+/g, '') === compact || e.aliases.includes(ref));
}
