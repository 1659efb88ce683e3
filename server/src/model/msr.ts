// MSRs KVM names, with their positions in the VMX MSR bitmap (SDM Vol.3C §25.6.9) and the SVM MSR permission map
// (AMD APM Vol.2 §15.11; Bochs bochs/cpu/svm.cc SvmInterceptMSR; QEMU svm_helper.c cpu_svm_check_intercept_param).
import type { MsrInfo } from './types';

export const SDM_MSR_BITMAP = 'Intel SDM Vol.3C §25.6.9 (MSR-bitmap address), §26.1.3 (instructions that cause VM exits conditionally)';
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
const MSR_IDX = 'Linux arch/x86/include/asm/msr-index.h';

const SEEDS: MsrSeed[] = [
  { name: 'MSR_IA32_XFD', index: 0x1c4, meaning: 'extended feature disable: a set bit i makes use of XSAVE component i raise #NM (AMX tile data = bit 18)', hostCopy: 'fpstate->xfd and the per-CPU xfd_state cache (re-synced by fpu_sync_guest_vmexit_xfd_state() after VM exit)', sources: [MSR_IDX, XFD_SRC] },
  { name: 'MSR_IA32_XFD_ERR', index: 0x1c5, meaning: 'records which XSAVE component caused an XFD-induced #NM', hostCopy: 'guest_fpu.xfd_err (read in handle_nm_fault_irqoff(), restored before entry)', sources: [MSR_IDX, XFD_SRC] },
  { name: 'MSR_STAR', index: 0xc0000081, meaning: 'SYSCALL target CS/SS selectors and 32-bit EIP', vmsave: true, sources: [MSR_IDX, VMSAVE_SRC] },
  { name: 'MSR_LSTAR', index: 0xc0000082, meaning: '64-bit SYSCALL target RIP', vmsave: true, sources: [MSR_IDX, VMSAVE_SRC] },
  { name: 'MSR_CSTAR', index: 0xc0000083, meaning: 'compatibility-mode SYSCALL target RIP', vmsave: true, sources: [MSR_IDX, VMSAVE_SRC] },
  { name: 'MSR_SYSCALL_MASK', index: 0xc0000084, meaning: 'SFMASK: RFLAGS bits cleared by SYSCALL', vmsave: true, sources: [MSR_IDX, VMSAVE_SRC] },
  { name: 'MSR_FS_BASE', index: 0xc0000100, meaning: 'FS segment base', vmsave: true, sources: [MSR_IDX, VMSAVE_SRC] },
  { name: 'MSR_GS_BASE', index: 0xc0000101, meaning: 'GS segment base', vmsave: true, sources: [MSR_IDX, VMSAVE_SRC] },
  { name: 'MSR_KERNEL_GS_BASE', index: 0xc0000102, meaning: 'value swapped into GS.base by SWAPGS', vmsave: true, sources: [MSR_IDX, VMSAVE_SRC] },
  { name: 'MSR_TSC_AUX', index: 0xc0000103, meaning: 'auxiliary TSC value returned by RDTSCP/RDPID', sources: [MSR_IDX] },
  { name: 'MSR_EFER', index: 0xc0000080, meaning: 'extended feature enables (SCE, LME, LMA, NXE, SVME...)', sources: [MSR_IDX] },
  { name: 'MSR_IA32_SYSENTER_CS', index: 0x174, meaning: 'SYSENTER target CS', vmsave: true, sources: [MSR_IDX, VMSAVE_SRC] },
  { name: 'MSR_IA32_SYSENTER_ESP', index: 0x175, meaning: 'SYSENTER target ESP', vmsave: true, sources: [MSR_IDX, VMSAVE_SRC] },
  { name: 'MSR_IA32_SYSENTER_EIP', index: 0x176, meaning: 'SYSENTER target EIP', vmsave: true, sources: [MSR_IDX, VMSAVE_SRC] },
  { name: 'MSR_IA32_SPEC_CTRL', index: 0x48, meaning: 'speculation control (IBRS, STIBP, SSBD)', sources: [MSR_IDX] },
  { name: 'MSR_IA32_PRED_CMD', index: 0x49, meaning: 'prediction command (IBPB)', sources: [MSR_IDX] },
  { name: 'MSR_IA32_FLUSH_CMD', index: 0x10b, meaning: 'L1D flush command', sources: [MSR_IDX] },
  { name: 'MSR_IA32_TSC', index: 0x10, meaning: 'time-stamp counter', sources: [MSR_IDX] },
  { name: 'MSR_IA32_CR_PAT', index: 0x277, meaning: 'page-attribute table', sources: [MSR_IDX] },
  { name: 'MSR_IA32_DEBUGCTLMSR', index: 0x1d9, meaning: 'debug control (LBR, BTF...)', sources: [MSR_IDX] },
  { name: 'MSR_IA32_BNDCFGS', index: 0xd90, meaning: 'MPX bounds configuration (supervisor)', sources: [MSR_IDX] },
  { name: 'MSR_IA32_XSS', index: 0xda0, meaning: 'supervisor XSAVE state components enabled for XSAVES', sources: [MSR_IDX] },
  { name: 'MSR_IA32_S_CET', index: 0x6a2, meaning: 'supervisor CET configuration', sources: [MSR_IDX] },
  { name: 'MSR_IA32_U_CET', index: 0x6a0, meaning: 'user CET configuration', sources: [MSR_IDX] },
  { name: 'MSR_IA32_PL0_SSP', index: 0x6a4, meaning: 'ring-0 shadow-stack pointer', sources: [MSR_IDX] },
  { name: 'MSR_IA32_INT_SSP_TAB', index: 0x6a8, meaning: 'interrupt shadow-stack table address', sources: [MSR_IDX] },
  { name: 'MSR_IA32_APICBASE', index: 0x1b, meaning: 'local APIC base and enable/x2APIC bits', sources: [MSR_IDX] },
  { name: 'MSR_IA32_TSX_CTRL', index: 0x122, meaning: 'TSX control (RTM disable, CPUID clear)', sources: [MSR_IDX] },
  { name: 'MSR_IA32_UMWAIT_CONTROL', index: 0xe1, meaning: 'UMWAIT/TPAUSE control', sources: [MSR_IDX] },
  { name: 'MSR_IA32_PERF_CAPABILITIES', index: 0x345, meaning: 'performance-monitoring capabilities', sources: [MSR_IDX] },
  { name: 'MSR_CORE_PERF_GLOBAL_CTRL', index: 0x38f, meaning: 'global enable of performance counters', sources: [MSR_IDX] },
  { name: 'MSR_IA32_VMX_BASIC', index: 0x480, meaning: 'VMX capability: VMCS revision, region size, memory type', sources: [MSR_IDX, 'Intel SDM Vol.3D Appendix A.1'] },
  { name: 'MSR_IA32_VMX_MISC', index: 0x485, meaning: 'VMX miscellaneous capabilities (bit 29: VMWRITE to any field incl. exit-information)', sources: [MSR_IDX, 'Intel SDM Vol.3D Appendix A.6'] },
  { name: 'MSR_VM_HSAVE_PA', index: 0xc0010117, meaning: 'physical address of the host-state save area used by VMRUN', sources: [MSR_IDX, 'AMD APM Vol.2 §15.30.4'] },
  { name: 'MSR_VM_CR', index: 0xc0010114, meaning: 'SVM control (SVMDIS, LOCK...)', sources: [MSR_IDX] },
  { name: 'MSR_AMD64_VIRT_SPEC_CTRL', index: 0xc001011f, meaning: 'virtualized speculation control (SSBD)', sources: [MSR_IDX] },
  { name: 'MSR_AMD64_TSC_RATIO', index: 0xc0000104, meaning: 'TSC ratio for guests', sources: [MSR_IDX] },
];

export const MSRS: readonly MsrInfo[] = SEEDS.map((s) => {
  const m: MsrInfo = { kind: 'msr', name: s.name, aliases: s.aliases ?? [], index: s.index, meaning: s.meaning, sources: [...s.sources, SDM_MSR_BITMAP, APM_MSRPM] };
  const v = vmxBitmapPosition(s.index);
  if (v) m.vmxBitmap = v;
  const p = svmMsrpmPosition(s.index);
  if (p) m.svmMsrpm = p;
  if (s.vmsave) m.vmsaveState = true;
  if (s.hostCopy) m.hostSoftwareCopy = s.hostCopy;
  if (s.notes) m.notes = s.notes;
  return m;
});
