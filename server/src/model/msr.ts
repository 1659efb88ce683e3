// MSRs KVM names, with their positions in the VMX MSR bitmap (SDM Vol.3C §25.6.9) and the SVM MSR permission map
// (AMD APM Vol.2 §15.11; Bochs bochs/cpu/svm.cc SvmInterceptMSR; QEMU svm_helper.c cpu_svm_check_intercept_param).
import { MSR_EXTRA, MSR_EXTRA_SOURCE } from './data/msrExtra';
import type { MsrInfo } from './types';

export const SDM_MSR_BITMAP = 'Intel SDM Vol.3C §25.6.9 (MSR-bitmap address), §26.1.3 (instructions that cause VM exits conditionally); Bochs bochs/cpu/vmexit.cc VMexit_MSR';
export const APM_MSRPM = 'AMD APM Vol.2 §15.11 (MSR intercepts); Bochs bochs/cpu/svm.cc SvmInterceptMSR';

/** VMX MSR bitmap: read-low 0x000, read-high 0x400, write-low 0x800, write-high 0xC00; one bit per MSR. */
export function vmxBitmapPosition(index: number): MsrInfo['vmxBitmap'] {
  let base: number;
  if (index >= 0 && index <= 0x1fff) base = 0;
  else if (index >= 0xc0000000 && index <= 0xc0001fff) base = 0x400;
  else return undefined;
  const n = index & 0x1fff;
  return { readByte: base + (n >> 3), writeByte: base + 0x800 + (n >> 3), bit: n & 7 };
}

/** SVM MSRPM: 2 KiB per range (0, 0xC0000000, 0xC0010000), two bits per MSR: even = read, odd = write. */
export function svmMsrpmPosition(index: number): MsrInfo['svmMsrpm'] {
  const ranges = [0, 0xc0000000, 0xc0010000];
  for (let i = 0; i < ranges.length; i++) {
    if (index >= ranges[i] && index <= ranges[i] + 0x1fff) {
      const bitNr = i * 0x800 * 8 + (index - ranges[i]) * 2;
      return { byte: bitNr >> 3, readBit: bitNr, writeBit: bitNr + 1 };
    }
  }
  return undefined;
}

interface MsrSeed { name: string; index: number; meaning: string; aliases?: string[]; vmsave?: boolean; hostCopy?: string; notes?: string; sources: string[] }

const XFD_SRC = 'LKML [PATCH v6 20/21] x86/fpu: Provide fpu_sync_guest_vmexit_xfd_state(); [PATCH v5 21/21] kvm: x86: Disable interception for IA32_XFD on demand';
const VMSAVE_SRC = 'AMD APM Vol.2 §15.5.2 (VMSAVE/VMLOAD state); Bochs bochs/cpu/svm.cc VMLOAD/VMSAVE; Linux svm_copy_vmloadsave_state()';
const MSR_IDX = 'Linux 7.1.5 arch/x86/include/asm/msr-index.h';

const VMXCAP = 'Intel SDM Vol.3D Appendix A (VMX capability reporting)';
const URET = 'Linux 7.1.5 arch/x86/kvm/vmx/vmx.c vmx_uret_msrs_list / arch/x86/kvm/x86.c kvm_set_user_return_msr (guest value loaded by KVM, host value restored lazily on return to user space)';
const LBR = 'Linux 7.1.5 arch/x86/kvm/svm/svm.c (LBR virtualization) / vmx.c (LBR MSR pass-through)';
const RTIT = 'Linux 7.1.5 arch/x86/kvm/vmx/vmx.c pt_guest_enter/pt_guest_exit (Intel PT)';
const CET = 'Linux 7.1.5 arch/x86/kvm/vmx/vmx.c / svm/svm.c CET MSR handling';

const SEEDS: MsrSeed[] = [
  { name: 'MSR_IA32_XFD', index: 0x1c4, meaning: 'extended feature disable: a set bit i makes use of XSAVE component i raise #NM (AMX tile data = bit 18)', hostCopy: 'fpstate->xfd and the per-CPU xfd_state cache (re-synced by fpu_sync_guest_vmexit_xfd_state() after VM exit)', notes: 'KVM intercepts writes until the guest first writes a non-zero value, then passes it through (RW) and must re-sync its software copy after every exit', sources: [MSR_IDX, XFD_SRC] },
  { name: 'MSR_IA32_XFD_ERR', index: 0x1c5, meaning: 'records which XSAVE component caused an XFD-induced #NM', hostCopy: 'guest_fpu.xfd_err (read in handle_nm_fault_irqoff(), restored before entry)', sources: [MSR_IDX, XFD_SRC] },
  { name: 'MSR_STAR', index: 0xc0000081, meaning: 'SYSCALL target CS/SS selectors and 32-bit EIP', vmsave: true, notes: 'VMX: no host-state field; KVM treats it as a user-return MSR', sources: [MSR_IDX, VMSAVE_SRC, URET] },
  { name: 'MSR_LSTAR', index: 0xc0000082, meaning: '64-bit SYSCALL target RIP', vmsave: true, notes: 'VMX: user-return MSR', sources: [MSR_IDX, VMSAVE_SRC, URET] },
  { name: 'MSR_CSTAR', index: 0xc0000083, meaning: 'compatibility-mode SYSCALL target RIP', vmsave: true, notes: 'VMX: user-return MSR', sources: [MSR_IDX, VMSAVE_SRC, URET] },
  { name: 'MSR_SYSCALL_MASK', index: 0xc0000084, meaning: 'SFMASK: RFLAGS bits cleared by SYSCALL', vmsave: true, notes: 'VMX: user-return MSR', sources: [MSR_IDX, VMSAVE_SRC, URET] },
  { name: 'MSR_FS_BASE', index: 0xc0000100, meaning: 'FS segment base', vmsave: true, notes: 'VMX: HOST_FS_BASE/GUEST_FS_BASE fields switch it', sources: [MSR_IDX, VMSAVE_SRC] },
  { name: 'MSR_GS_BASE', index: 0xc0000101, meaning: 'GS segment base', vmsave: true, notes: 'VMX: HOST_GS_BASE/GUEST_GS_BASE fields switch it', sources: [MSR_IDX, VMSAVE_SRC] },
  { name: 'MSR_KERNEL_GS_BASE', index: 0xc0000102, meaning: 'value swapped into GS.base by SWAPGS', vmsave: true, notes: 'VMX: no VMCS field; KVM swaps it in vmx_prepare_switch_to_guest/host', sources: [MSR_IDX, VMSAVE_SRC, 'Linux 7.1.5 arch/x86/kvm/vmx/vmx.c vmx_prepare_switch_to_host'] },
  { name: 'MSR_TSC_AUX', index: 0xc0000103, meaning: 'auxiliary TSC value returned by RDTSCP/RDPID', notes: 'VMX: user-return MSR; SVM: KVM switches it itself (or the VMSA holds it for SEV-ES)', sources: [MSR_IDX, URET] },
  { name: 'MSR_EFER', index: 0xc0000080, meaning: 'extended feature enables (SCE, LME, LMA, NXE, SVME...)', notes: 'VMX: GUEST_IA32_EFER/HOST_IA32_EFER with the load/save EFER controls, else the MSR autoload lists; SVM: save.efer', sources: [MSR_IDX] },
  { name: 'MSR_IA32_SYSENTER_CS', index: 0x174, meaning: 'SYSENTER target CS', vmsave: true, notes: 'VMX: GUEST_SYSENTER_CS / HOST_IA32_SYSENTER_CS', sources: [MSR_IDX, VMSAVE_SRC] },
  { name: 'MSR_IA32_SYSENTER_ESP', index: 0x175, meaning: 'SYSENTER target ESP', vmsave: true, notes: 'VMX: GUEST_SYSENTER_ESP / HOST_IA32_SYSENTER_ESP', sources: [MSR_IDX, VMSAVE_SRC] },
  { name: 'MSR_IA32_SYSENTER_EIP', index: 0x176, meaning: 'SYSENTER target EIP', vmsave: true, notes: 'VMX: GUEST_SYSENTER_EIP / HOST_IA32_SYSENTER_EIP', sources: [MSR_IDX, VMSAVE_SRC] },
  { name: 'MSR_IA32_SPEC_CTRL', index: 0x48, meaning: 'speculation control (IBRS, STIBP, SSBD)', notes: 'passed through after the guest first writes it; KVM saves the guest value after every exit (vmx_spec_ctrl_restore_host / svm: save.spec_ctrl with V_SPEC_CTRL)', sources: [MSR_IDX, 'Linux 7.1.5 arch/x86/kvm/vmx/vmx.c vmx_spec_ctrl_restore_host'] },
  { name: 'MSR_IA32_PRED_CMD', index: 0x49, meaning: 'prediction command (IBPB); write-only', sources: [MSR_IDX] },
  { name: 'MSR_IA32_FLUSH_CMD', index: 0x10b, meaning: 'L1D flush command; write-only', sources: [MSR_IDX] },
  { name: 'MSR_IA32_ARCH_CAPABILITIES', index: 0x10a, meaning: 'enumeration of speculative-execution immunities (read-only)', sources: [MSR_IDX] },
  { name: 'MSR_IA32_TSC', index: 0x10, meaning: 'time-stamp counter', notes: 'guest reads see host TSC scaled and offset by TSC_MULTIPLIER/TSC_OFFSET (VMX) or tsc_offset/TSC_RATIO (SVM)', sources: [MSR_IDX] },
  { name: 'MSR_IA32_TSC_ADJUST', index: 0x3b, meaning: 'TSC adjustment', sources: [MSR_IDX] },
  { name: 'MSR_IA32_TSC_DEADLINE', index: 0x6e0, meaning: 'local APIC TSC-deadline timer', sources: [MSR_IDX] },
  { name: 'MSR_IA32_CR_PAT', index: 0x277, meaning: 'page-attribute table', notes: 'VMX: GUEST_IA32_PAT/HOST_IA32_PAT with the PAT controls; SVM: g_pat with nested paging', sources: [MSR_IDX] },
  { name: 'MSR_IA32_DEBUGCTLMSR', index: 0x1d9, meaning: 'debug control (LBR, BTF...)', notes: 'VMX: GUEST_IA32_DEBUGCTL with the debug-controls entry/exit controls; VM exit clears the host value; SVM: save.dbgctl with LBR virtualization', sources: [MSR_IDX] },
  { name: 'MSR_IA32_LASTBRANCHFROMIP', index: 0x1db, meaning: 'last branch from (legacy LBR)', sources: [MSR_IDX, LBR] },
  { name: 'MSR_IA32_LASTBRANCHTOIP', index: 0x1dc, meaning: 'last branch to (legacy LBR)', sources: [MSR_IDX, LBR] },
  { name: 'MSR_IA32_LASTINTFROMIP', index: 0x1dd, meaning: 'last exception/interrupt from', sources: [MSR_IDX, LBR] },
  { name: 'MSR_IA32_LASTINTTOIP', index: 0x1de, meaning: 'last exception/interrupt to', sources: [MSR_IDX, LBR] },
  { name: 'MSR_IA32_BNDCFGS', index: 0xd90, meaning: 'MPX bounds configuration (supervisor)', notes: 'VMX: GUEST_BNDCFGS with "load IA32_BNDCFGS"; cleared on exit with "clear IA32_BNDCFGS"', sources: [MSR_IDX] },
  { name: 'MSR_IA32_XSS', index: 0xda0, meaning: 'supervisor XSAVE state components enabled for XSAVES', sources: [MSR_IDX] },
  { name: 'MSR_IA32_U_CET', index: 0x6a0, meaning: 'user CET configuration', sources: [MSR_IDX, CET] },
  { name: 'MSR_IA32_S_CET', index: 0x6a2, meaning: 'supervisor CET configuration', notes: 'VMX: GUEST_S_CET/HOST_S_CET with the CET-state controls; SVM: save.s_cet', sources: [MSR_IDX, CET] },
  { name: 'MSR_IA32_PL0_SSP', index: 0x6a4, meaning: 'ring-0 shadow-stack pointer', sources: [MSR_IDX, CET] },
  { name: 'MSR_IA32_PL1_SSP', index: 0x6a5, meaning: 'ring-1 shadow-stack pointer', sources: [MSR_IDX, CET] },
  { name: 'MSR_IA32_PL2_SSP', index: 0x6a6, meaning: 'ring-2 shadow-stack pointer', sources: [MSR_IDX, CET] },
  { name: 'MSR_IA32_PL3_SSP', index: 0x6a7, meaning: 'ring-3 (user) shadow-stack pointer', sources: [MSR_IDX, CET] },
  { name: 'MSR_IA32_INT_SSP_TAB', index: 0x6a8, meaning: 'interrupt shadow-stack table address', notes: 'VMX: GUEST_INTR_SSP_TABLE/HOST_INTR_SSP_TABLE; SVM: save.isst_addr', sources: [MSR_IDX, CET] },
  { name: 'MSR_IA32_APICBASE', index: 0x1b, meaning: 'local APIC base and enable/x2APIC bits', sources: [MSR_IDX] },
  { name: 'MSR_IA32_FEAT_CTL', index: 0x3a, meaning: 'feature control (lock, VMX enable inside/outside SMX)', sources: [MSR_IDX] },
  { name: 'MSR_IA32_SMBASE', index: 0x9e, meaning: 'SMRAM base (readable only in SMM)', sources: [MSR_IDX] },
  { name: 'MSR_IA32_MISC_ENABLE', index: 0x1a0, meaning: 'miscellaneous feature enables', sources: [MSR_IDX] },
  { name: 'MSR_IA32_MPERF', index: 0xe7, meaning: 'maximum-performance frequency clock count', sources: [MSR_IDX] },
  { name: 'MSR_IA32_APERF', index: 0xe8, meaning: 'actual-performance frequency clock count', sources: [MSR_IDX] },
  { name: 'MSR_IA32_TSX_CTRL', index: 0x122, meaning: 'TSX control (RTM disable, CPUID clear)', notes: 'VMX: user-return MSR', sources: [MSR_IDX, URET] },
  { name: 'MSR_IA32_MCU_OPT_CTRL', index: 0x123, meaning: 'microcode update option control', sources: [MSR_IDX] },
  { name: 'MSR_IA32_UMWAIT_CONTROL', index: 0xe1, meaning: 'UMWAIT/TPAUSE control', sources: [MSR_IDX] },
  { name: 'MSR_IA32_PERF_CAPABILITIES', index: 0x345, meaning: 'performance-monitoring capabilities', sources: [MSR_IDX] },
  { name: 'MSR_CORE_PERF_GLOBAL_STATUS', index: 0x38e, meaning: 'global counter overflow status', sources: [MSR_IDX] },
  { name: 'MSR_CORE_PERF_GLOBAL_CTRL', index: 0x38f, meaning: 'global enable of performance counters', notes: 'VMX: GUEST/HOST_IA32_PERF_GLOBAL_CTRL with the load controls (KVM: atomic switch)', sources: [MSR_IDX] },
  { name: 'MSR_CORE_PERF_GLOBAL_OVF_CTRL', index: 0x390, meaning: 'global counter overflow clear', sources: [MSR_IDX] },
  { name: 'MSR_IA32_PEBS_ENABLE', index: 0x3f1, meaning: 'PEBS enable', sources: [MSR_IDX] },
  { name: 'MSR_IA32_MCG_EXT_CTL', index: 0x4d0, meaning: 'machine-check extended control (LMCE)', sources: [MSR_IDX] },
  { name: 'MSR_IA32_RTIT_CTL', index: 0x570, meaning: 'Intel PT trace control', notes: 'VMX: GUEST_IA32_RTIT_CTL with "load IA32_RTIT_CTL"; cleared on exit with "clear IA32_RTIT_CTL"', sources: [MSR_IDX, RTIT] },
  { name: 'MSR_IA32_RTIT_STATUS', index: 0x571, meaning: 'Intel PT trace status', sources: [MSR_IDX, RTIT] },
  { name: 'MSR_IA32_VMX_BASIC', index: 0x480, meaning: 'VMX capability: VMCS revision, region size, memory type, true controls (bit 55), INS/OUTS info (bit 54)', sources: [MSR_IDX, VMXCAP] },
  { name: 'MSR_IA32_VMX_PINBASED_CTLS', index: 0x481, meaning: 'allowed settings of the pin-based controls', sources: [MSR_IDX, VMXCAP] },
  { name: 'MSR_IA32_VMX_PROCBASED_CTLS', index: 0x482, meaning: 'allowed settings of the primary processor-based controls', sources: [MSR_IDX, VMXCAP] },
  { name: 'MSR_IA32_VMX_EXIT_CTLS', index: 0x483, meaning: 'allowed settings of the primary VM-exit controls', sources: [MSR_IDX, VMXCAP] },
  { name: 'MSR_IA32_VMX_ENTRY_CTLS', index: 0x484, meaning: 'allowed settings of the VM-entry controls', sources: [MSR_IDX, VMXCAP] },
  { name: 'MSR_IA32_VMX_MISC', index: 0x485, meaning: 'VMX miscellaneous capabilities (bit 29: VMWRITE to any field incl. exit-information; bit 5: exits store EFER.LMA)', sources: [MSR_IDX, 'Intel SDM Vol.3D §A.6'] },
  { name: 'MSR_IA32_VMX_CR0_FIXED0', index: 0x486, meaning: 'CR0 bits fixed to 1 in VMX operation', sources: [MSR_IDX, VMXCAP] },
  { name: 'MSR_IA32_VMX_CR0_FIXED1', index: 0x487, meaning: 'CR0 bits allowed to be 1 in VMX operation', sources: [MSR_IDX, VMXCAP] },
  { name: 'MSR_IA32_VMX_CR4_FIXED0', index: 0x488, meaning: 'CR4 bits fixed to 1 in VMX operation', sources: [MSR_IDX, VMXCAP] },
  { name: 'MSR_IA32_VMX_CR4_FIXED1', index: 0x489, meaning: 'CR4 bits allowed to be 1 in VMX operation', sources: [MSR_IDX, VMXCAP] },
  { name: 'MSR_IA32_VMX_VMCS_ENUM', index: 0x48a, meaning: 'highest VMCS field index', sources: [MSR_IDX, VMXCAP] },
  { name: 'MSR_IA32_VMX_PROCBASED_CTLS2', index: 0x48b, meaning: 'allowed settings of the secondary processor-based controls', sources: [MSR_IDX, VMXCAP] },
  { name: 'MSR_IA32_VMX_EPT_VPID_CAP', index: 0x48c, meaning: 'EPT and VPID capabilities', sources: [MSR_IDX, VMXCAP] },
  { name: 'MSR_IA32_VMX_TRUE_PINBASED_CTLS', index: 0x48d, meaning: 'true allowed settings of the pin-based controls', sources: [MSR_IDX, VMXCAP] },
  { name: 'MSR_IA32_VMX_TRUE_PROCBASED_CTLS', index: 0x48e, meaning: 'true allowed settings of the primary processor-based controls', sources: [MSR_IDX, VMXCAP] },
  { name: 'MSR_IA32_VMX_TRUE_EXIT_CTLS', index: 0x48f, meaning: 'true allowed settings of the VM-exit controls', sources: [MSR_IDX, VMXCAP] },
  { name: 'MSR_IA32_VMX_TRUE_ENTRY_CTLS', index: 0x490, meaning: 'true allowed settings of the VM-entry controls', sources: [MSR_IDX, VMXCAP] },
  { name: 'MSR_IA32_VMX_VMFUNC', index: 0x491, meaning: 'allowed VM functions', sources: [MSR_IDX, VMXCAP] },
  { name: 'MSR_IA32_VMX_PROCBASED_CTLS3', index: 0x492, meaning: 'allowed settings of the tertiary processor-based controls', sources: [MSR_IDX, VMXCAP] },
  { name: 'MSR_IA32_FRED_RSP0', index: 0x1cc, meaning: 'FRED ring-0 stack pointer', sources: [MSR_IDX] },
  { name: 'MSR_IA32_FRED_STKLVLS', index: 0x1d0, meaning: 'FRED stack levels', sources: [MSR_IDX] },
  { name: 'MSR_IA32_FRED_CONFIG', index: 0x1d4, meaning: 'FRED configuration', sources: [MSR_IDX] },
  { name: 'MSR_VM_CR', index: 0xc0010114, meaning: 'SVM control (SVMDIS, LOCK...)', sources: [MSR_IDX] },
  { name: 'MSR_VM_HSAVE_PA', index: 0xc0010117, meaning: 'physical address of the host-state save area used by VMRUN', notes: 'KVM nested SVM: L1 must set it before VMRUN (nested_svm_vmrun injects #GP otherwise)', sources: [MSR_IDX, 'AMD APM Vol.2 §15.30.4 (VM_HSAVE_PA MSR)'] },
  { name: 'MSR_AMD64_SEV_ES_GHCB', index: 0xc0010130, meaning: 'GHCB guest-physical address (SEV-ES)', sources: [MSR_IDX] },
  { name: 'MSR_AMD64_VIRT_SPEC_CTRL', index: 0xc001011f, meaning: 'virtualized speculation control (SSBD)', sources: [MSR_IDX] },
  { name: 'MSR_AMD64_TSC_RATIO', index: 0xc0000104, meaning: 'TSC ratio for guests', sources: [MSR_IDX] },
  { name: 'MSR_AMD64_PERF_CNTR_GLOBAL_CTL', index: 0xc0000301, meaning: 'AMD PerfMonV2 global counter enable', sources: [MSR_IDX] },
  { name: 'MSR_AMD64_DE_CFG', index: 0xc0011029, meaning: 'AMD decode configuration (LFENCE serializing)', sources: [MSR_IDX] },
];

/** An MSR entry with its VMX MSR-bitmap and SVM MSRPM positions (absent when outside the ranges). */
function msrInfo(name: string, aliases: string[], index: number, meaning: string, sources: string[]): MsrInfo {
  const m: MsrInfo = { kind: 'msr', name, aliases, index, meaning, sources: [...sources, SDM_MSR_BITMAP, APM_MSRPM] };
  const v = vmxBitmapPosition(index);
  if (v) m.vmxBitmap = v;
  const p = svmMsrpmPosition(index);
  if (p) m.svmMsrpm = p;
  return m;
}

export const MSRS: readonly MsrInfo[] = SEEDS.map((s) => {
  const m = msrInfo(s.name, s.aliases ?? [], s.index, s.meaning, s.sources);
  if (s.vmsave) m.vmsaveState = true;
  if (s.hostCopy) m.hostSoftwareCopy = s.hostCopy;
  if (s.notes) m.notes = s.notes;
  return m;
});

const EXTRA: MsrInfo[] = MSR_EXTRA.filter(([name]) => !SEEDS.some((s) => s.name === name || s.aliases?.includes(name))).map(([name, index, family]) => msrInfo(name, [], index, family, [MSR_EXTRA_SOURCE]));

/** Every MSR the model knows: the annotated table first, then the number-only extension. */
export const ALL_MSRS: readonly MsrInfo[] = [...MSRS, ...EXTRA];

export const MSR_BY_NAME: ReadonlyMap<string, MsrInfo> = new Map(ALL_MSRS.flatMap((m) => [m.name, ...m.aliases].map((n): [string, MsrInfo] => [n, m])));
export const MSR_BY_INDEX: ReadonlyMap<number, MsrInfo> = new Map([...EXTRA, ...MSRS].map((m) => [m.index, m]));

/** Lookup by Linux name, alias or MSR index. */
export function findMsr(ref: string | number): MsrInfo | undefined {
  return typeof ref === 'number' ? MSR_BY_INDEX.get(ref) : MSR_BY_NAME.get(ref);
}
