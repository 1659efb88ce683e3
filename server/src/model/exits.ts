// VMX basic exit reasons (SDM Vol.3D Appendix C) and SVM #VMEXIT codes (AMD APM Vol.2 Appendix C).
import type { ExitReason } from './types';

const VMX_SRC = 'Intel SDM Vol.3D Appendix C (VMX basic exit reasons); Linux arch/x86/include/uapi/asm/vmx.h';
const SVM_SRC = 'AMD APM Vol.2 Appendix C (SVM intercept exit codes); Linux arch/x86/include/uapi/asm/svm.h';

const VMX: Array<[number, string, string]> = [
  [0, 'EXCEPTION_NMI', 'exception or NMI'], [1, 'EXTERNAL_INTERRUPT', 'external interrupt'], [2, 'TRIPLE_FAULT', 'triple fault'],
  [7, 'INTERRUPT_WINDOW', 'interrupt window'], [10, 'CPUID', 'CPUID'], [12, 'HLT', 'HLT'], [28, 'CR_ACCESS', 'control-register access'],
  [30, 'IO_INSTRUCTION', 'I/O instruction'], [31, 'MSR_READ', 'RDMSR'], [32, 'MSR_WRITE', 'WRMSR'], [48, 'EPT_VIOLATION', 'EPT violation'],
  [49, 'EPT_MISCONFIG', 'EPT misconfiguration'],
];
const SVM: Array<[number, string, string]> = [
  [0x64, 'VINTR', 'virtual interrupt taken'], [0x7c, 'MSR', 'RDMSR/WRMSR'], [0x80, 'VMRUN', 'VMRUN'], [0x400, 'NPF', 'nested page fault'],
];

export const VMX_EXIT_REASONS: readonly ExitReason[] = VMX.map(([code, n, meaning]) => ({
  kind: 'exit-reason', vendor: 'vmx', name: `EXIT_REASON_${n}`, aliases: [], code, meaning, sources: [VMX_SRC],
}));
export const SVM_EXIT_CODES: readonly ExitReason[] = SVM.map(([code, n, meaning]) => ({
  kind: 'exit-reason', vendor: 'svm', name: `SVM_EXIT_${n}`, aliases: [], code, meaning, sources: [SVM_SRC],
}));
