// VMX/SVM instruction wrappers and KVM's VMCS accessors.
import type { AccessorInfo, InstructionInfo } from './types';

const KVM_VMX_OPS = 'Linux arch/x86/kvm/vmx/vmx_ops.h (vmcs_read*/vmcs_write*/vmcs_set_bits/vmcs_clear_bits)';

export const VMSAVE_STATE = ['FS (selector, base, limit, attributes)', 'GS (selector, base, limit, attributes)',
  'TR (selector, base, limit, attributes)', 'LDTR (selector, base, limit, attributes)', 'KernelGsBase', 'STAR', 'LSTAR',
  'CSTAR', 'SFMASK', 'SYSENTER_CS', 'SYSENTER_ESP', 'SYSENTER_EIP'];
const VMSAVE_SRC = 'AMD APM Vol.2 §15.5.2 "VMSAVE and VMLOAD Instructions"; Bochs bochs/cpu/svm.cc VMLOAD/VMSAVE; Linux svm_copy_vmloadsave_state()';

export const INSTRUCTIONS: readonly InstructionInfo[] = [
  { kind: 'instruction', name: 'vmsave', aliases: ['__svm_vmsave'], vendor: 'svm', meaning: 'store the processor state not handled by VMRUN into the VMCB at rAX', state: VMSAVE_STATE, sources: [VMSAVE_SRC] },
  { kind: 'instruction', name: 'vmload', aliases: [], vendor: 'svm', meaning: 'load the processor state not handled by VMRUN from the VMCB at rAX', state: VMSAVE_STATE, sources: [VMSAVE_SRC] },
];

const acc = (name: string, op: AccessorInfo['op'], width: AccessorInfo['width'], meaning: string): AccessorInfo =>
  ({ kind: 'accessor', name, aliases: [], op, width, meaning, sources: [KVM_VMX_OPS] });

export const ACCESSORS: readonly AccessorInfo[] = [
  acc('vmcs_read16', 'read', 16, 'VMREAD of a 16-bit field'), acc('vmcs_read32', 'read', 32, 'VMREAD of a 32-bit field'),
  acc('vmcs_read64', 'read', 64, 'VMREAD of a 64-bit field (two reads of full+high on 32-bit hosts)'), acc('vmcs_readl', 'read', 'natural', 'VMREAD of a natural-width field'),
  acc('vmcs_write16', 'write', 16, 'VMWRITE of a 16-bit field'), acc('vmcs_write32', 'write', 32, 'VMWRITE of a 32-bit field'),
  acc('vmcs_write64', 'write', 64, 'VMWRITE of a 64-bit field'), acc('vmcs_writel', 'write', 'natural', 'VMWRITE of a natural-width field'),
  acc('vmcs_set_bits', 'set-bits', 32, 'read-modify-write: OR bits into a 32-bit field'), acc('vmcs_clear_bits', 'clear-bits', 32, 'read-modify-write: clear bits of a 32-bit field'),
];
