// VMX/SVM instructions as KVM names them (mnemonics in inline asm, and the C wrappers around them), and KVM's
// VMCS accessors.
import { VMEXIT_GUEST_SAVE, VMRUN_GUEST_LOAD, VMRUN_HOST_SAVE, VMRUN_HOST_SAVE_OTHER } from './semantics';
import { APM, CODE, SDM } from './sources';
import type { AccessorInfo, InstructionInfo } from './types';

const KVM_VMX_OPS = 'Linux 7.1.5 arch/x86/kvm/vmx/vmx_ops.h (vmcs_read*/vmcs_write*/vmcs_set_bits/vmcs_clear_bits)';
const KVM_SVM_OPS = 'Linux 7.1.5 arch/x86/kvm/svm/svm_ops.h (vmsave/stgi/clgi/invlpga wrappers) and svm/vmenter.S';

export const VMSAVE_STATE = ['FS (selector, base, limit, attributes)', 'GS (selector, base, limit, attributes)',
  'TR (selector, base, limit, attributes)', 'LDTR (selector, base, limit, attributes)', 'KernelGsBase', 'STAR', 'LSTAR',
  'CSTAR', 'SFMASK', 'SYSENTER_CS', 'SYSENTER_ESP', 'SYSENTER_EIP'];
const VMSAVE_SRC = `${APM.vmsave}; ${CODE.bochsSvm} VMLOAD/VMSAVE; ${CODE.linuxNestedSvm} svm_copy_vmloadsave_state()`;

const VMRUN_HOST = [...VMRUN_HOST_SAVE.map((m) => m.toUpperCase()), ...VMRUN_HOST_SAVE_OTHER];
const VMRUN_GUEST = [
  'intercept vectors, IOPM/MSRPM bases, TSC offset, ASID, TLB control (control area)',
  'int_ctl (V_TPR, V_IRQ, V_INTR_PRIO, V_IGN_TPR, V_INTR_MASKING, vGIF and vNMI bits), int_vector, int_state (interrupt shadow)',
  'nested-paging enable and nCR3 (misc_ctl, nested_cr3); g_pat when nested paging is on',
  ...VMRUN_GUEST_LOAD.filter((m) => m !== 'g_pat').map((m) => m.toUpperCase()),
  'then EVENTINJ is delivered if its valid bit is set; GIF is set to 1',
];
const VMEXIT_STATE = [
  'exit_code, exit_info_1, exit_info_2, exit_int_info(+_err), next_rip (NRIPS), insn_len/insn_bytes (decode assists)',
  'event_inj: valid bit cleared',
  ...VMEXIT_GUEST_SAVE.map((m) => (m === 'g_pat' ? 'G_PAT (nested paging only)' : m.toUpperCase())),
  'int_state interrupt shadow; int_ctl V_TPR and V_IRQ (V_GIF with vGIF, V_NMI_PENDING/V_NMI_BLOCKING with vNMI)',
  'GIF cleared; host state reloaded from the host save area; CR0.PE forced to 1; host DR7 breakpoints disabled',
];

const ins = (i: Omit<InstructionInfo, 'kind'>): InstructionInfo => ({ kind: 'instruction', ...i });

export const INSTRUCTIONS: readonly InstructionInfo[] = [
  // SVM
  ins({ name: 'vmsave', aliases: [], vendor: 'svm', meaning: 'store the processor state not handled by VMRUN into the VMCB at rAX (KVM wrapper vmsave(pa) in svm_ops.h; also asm "vmsave %rax" in vmenter.S)', state: VMSAVE_STATE, exitReason: 'SVM_EXIT_VMSAVE', sources: [VMSAVE_SRC, KVM_SVM_OPS] }),
  ins({ name: 'vmload', aliases: [], vendor: 'svm', meaning: 'load the processor state not handled by VMRUN from the VMCB at rAX (asm "vmload %rax" in svm/vmenter.S; no C wrapper in Linux 7.1.5)', state: VMSAVE_STATE, exitReason: 'SVM_EXIT_VMLOAD', sources: [VMSAVE_SRC, KVM_SVM_OPS] }),
  ins({
    name: 'vmrun', aliases: ['__svm_vcpu_run', '__svm_sev_es_vcpu_run'], vendor: 'svm',
    meaning: 'run the guest described by the VMCB at rAX: save host state to VM_HSAVE_PA, load guest state and controls, inject EVENTINJ, set GIF; returns at #VMEXIT (KVM issues it in vmenter.S __svm_vcpu_run)',
    state: [...VMRUN_HOST.map((s) => (s.startsWith('host ') ? s : `host ${s}`)), ...VMRUN_GUEST], hostSave: VMRUN_HOST, guestLoad: VMRUN_GUEST, onVmexit: VMEXIT_STATE,
    exitReason: 'SVM_EXIT_VMRUN', sources: [APM.vmrun, APM.vmexit, `${CODE.bochsSvm} VMRUN / SvmEnterSaveHostState (incl. host PAT) / Svm_Vmexit`, `${CODE.qemuSvm} helper_vmrun / do_vmexit`, `${CODE.linuxNestedSvm} svm_copy_vmrun_state`],
  }),
  ins({ name: 'vmmcall', aliases: [], vendor: 'svm', meaning: 'call the hypervisor; #UD unless intercepted (KVM uses it for hypercalls on AMD)', exitReason: 'SVM_EXIT_VMMCALL', sources: [APM.exitCodes, CODE.linuxUapiSvmH] }),
  ins({ name: 'stgi', aliases: [], vendor: 'svm', meaning: 'set the global interrupt flag (GIF = 1); in a guest with vGIF it sets V_GIF instead of exiting', exitReason: 'SVM_EXIT_STGI', sources: [APM.gif, `${CODE.bochsSvm} STGI`, KVM_SVM_OPS] }),
  ins({ name: 'clgi', aliases: [], vendor: 'svm', meaning: 'clear the global interrupt flag (GIF = 0): interrupts, NMIs and SMIs are held pending; with vGIF clears V_GIF', exitReason: 'SVM_EXIT_CLGI', sources: [APM.gif, `${CODE.bochsSvm} CLGI`, KVM_SVM_OPS] }),
  ins({ name: 'invlpga', aliases: [], vendor: 'svm', meaning: 'invalidate the TLB mapping of the virtual address in rAX for the ASID in ECX', exitReason: 'SVM_EXIT_INVLPGA', sources: [APM.exitCodes, KVM_SVM_OPS] }),
  // VMX
  ins({ name: 'vmread', aliases: ['__vmcs_readl'], vendor: 'vmx', meaning: 'read a field of the current VMCS (encoding in a register); fails with error 12 for an unsupported encoding', exitReason: 'EXIT_REASON_VMREAD', sources: [SDM.vmxInstructions, KVM_VMX_OPS] }),
  ins({ name: 'vmwrite', aliases: ['__vmcs_writel'], vendor: 'vmx', meaning: 'write a field of the current VMCS; error 13 for a read-only field unless IA32_VMX_MISC bit 29', exitReason: 'EXIT_REASON_VMWRITE', sources: [SDM.vmwrite, KVM_VMX_OPS] }),
  ins({ name: 'vmlaunch', aliases: [], vendor: 'vmx', meaning: 'VM entry with a clear (not yet launched) current VMCS; loads guest state per the VM-entry controls', exitReason: 'EXIT_REASON_VMLAUNCH', sources: [SDM.vmxInstructions, SDM.entryLoadGuest, 'Linux 7.1.5 arch/x86/kvm/vmx/vmenter.S __vmx_vcpu_run'] }),
  ins({ name: 'vmresume', aliases: [], vendor: 'vmx', meaning: 'VM entry with a launched current VMCS', exitReason: 'EXIT_REASON_VMRESUME', sources: [SDM.vmxInstructions, SDM.entryLoadGuest, 'Linux 7.1.5 arch/x86/kvm/vmx/vmenter.S __vmx_vcpu_run'] }),
  ins({ name: 'vmptrld', aliases: ['vmcs_load'], vendor: 'vmx', meaning: 'make the VMCS at the given physical address current (KVM wrapper vmcs_load)', exitReason: 'EXIT_REASON_VMPTRLD', sources: [SDM.vmxInstructions, KVM_VMX_OPS] }),
  ins({ name: 'vmclear', aliases: ['vmcs_clear'], vendor: 'vmx', meaning: 'flush a VMCS to memory, mark it clear and not current (KVM wrapper vmcs_clear)', exitReason: 'EXIT_REASON_VMCLEAR', sources: [SDM.vmxInstructions, KVM_VMX_OPS] }),
  ins({ name: 'vmxon', aliases: [], vendor: 'vmx', meaning: 'enter VMX root operation using the VMXON region', exitReason: 'EXIT_REASON_VMON', sources: [SDM.vmxInstructions] }),
  ins({ name: 'vmxoff', aliases: [], vendor: 'vmx', meaning: 'leave VMX operation', exitReason: 'EXIT_REASON_VMOFF', sources: [SDM.vmxInstructions] }),
  ins({ name: 'invept', aliases: ['__invept', 'ept_sync_global', 'ept_sync_context'], vendor: 'vmx', meaning: 'invalidate EPT-derived (guest-physical and combined) TLB entries, single-context or global', exitReason: 'EXIT_REASON_INVEPT', sources: [SDM.vmxInstructions, KVM_VMX_OPS] }),
  ins({ name: 'invvpid', aliases: ['__invvpid', 'vpid_sync_context', 'vpid_sync_vcpu_addr'], vendor: 'vmx', meaning: 'invalidate linear and combined TLB entries tagged with a VPID (address, single-context, all-context)', exitReason: 'EXIT_REASON_INVVPID', sources: [SDM.vmxInstructions, KVM_VMX_OPS] }),
];

export const INSTRUCTION_BY_NAME: ReadonlyMap<string, InstructionInfo> = new Map(INSTRUCTIONS.flatMap((i) => [i.name, ...i.aliases].map((n): [string, InstructionInfo] => [n, i])));

const acc = (name: string, op: AccessorInfo['op'], width: AccessorInfo['width'], meaning: string): AccessorInfo =>
  ({ kind: 'accessor', name, aliases: [], op, width, meaning, sources: [KVM_VMX_OPS] });

export const ACCESSORS: readonly AccessorInfo[] = [
  acc('vmcs_read16', 'read', 16, 'VMREAD of a 16-bit field'), acc('vmcs_read32', 'read', 32, 'VMREAD of a 32-bit field'),
  acc('vmcs_read64', 'read', 64, 'VMREAD of a 64-bit field (two reads of full+high on 32-bit hosts)'), acc('vmcs_readl', 'read', 'natural', 'VMREAD of a natural-width field'),
  acc('vmcs_write16', 'write', 16, 'VMWRITE of a 16-bit field'), acc('vmcs_write32', 'write', 32, 'VMWRITE of a 32-bit field'),
  acc('vmcs_write64', 'write', 64, 'VMWRITE of a 64-bit field'), acc('vmcs_writel', 'write', 'natural', 'VMWRITE of a natural-width field'),
  acc('vmcs_set_bits', 'set-bits', 32, 'read-modify-write: OR bits into a 32-bit field'), acc('vmcs_clear_bits', 'clear-bits', 32, 'read-modify-write: clear bits of a 32-bit field'),
];
