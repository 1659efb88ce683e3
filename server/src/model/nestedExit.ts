// What a VM exit / #VMEXIT writes into the structure L1 reads (vmcs12 / vmcb12), as facts for the rules that check
// KVM's emulation of nested exits (features/rules/nestedWriteback.ts, exitInfoSynthesis.ts). Pure data + lookups.
import { findVmcbField } from './vmcb';

export const APM_VMEXIT = 'AMD APM Vol.2 §15.6 (#VMEXIT: the processor writes the guest state, EXITCODE, EXITINFO1/2, '
  + 'EXITINTINFO, the interrupt shadow, V_TPR/V_IRQ and, with NRIP save, NextRIP into the VMCB; the other control fields '
  + 'are inputs of VMRUN and are not written), §15.20 (event injection: EVENTINJ is consumed by VMRUN)';
export const SDM_EXIT_SAVE = 'Intel SDM Vol.3C §28.3 (saving guest state on VM exit: DEBUGCTL/DR7, PAT, EFER, '
  + 'PERF_GLOBAL_CTRL and the preemption-timer value are saved only when the corresponding "save" VM-exit control is 1)';
export const SDM_FAILED_ENTRY = 'Intel SDM Vol.3C §27.8 (VM-entry failures during or after loading guest state: only '
  + 'the exit reason (bit 31 set) and the exit qualification are recorded; the other VM-exit information fields are '
  + 'not modified); Linux v7.1.5 arch/x86/kvm/vmx/nested.c prepare_vmcs12()';

/** How #VMEXIT treats a VMCB control field (from the VMCB table's `written` column). */
export type VmexitWrite = 'written' | 'cleared' | 'nrips' | 'partial' | 'input' | 'unknown';

/** The #VMEXIT write class of a VMCB control-area member, or undefined when the member is not a known field. */
export function vmexitWriteOf(member: string): VmexitWrite | undefined {
  // The decode-assist bytes travel with insn_len (the table has one row for both).
  const f = findVmcbField(member === 'insn_bytes' ? 'insn_len' : member, 'control');
  if (!f) return undefined;
  if (f.writtenOnVmexit === 'yes') return 'written';
  if (f.writtenOnVmexit === 'no') return 'input';
  if (f.name === 'event_inj') return 'cleared';
  if (f.name === 'next_rip') return 'nrips';
  if (f.name === 'int_state') return 'written';
  if (f.name === 'int_ctl') return 'partial';
  return 'unknown';
}

/**
 * Input fields KVM may zero when it clears a field #VMEXIT clears (EVENTINJ's error code travels with EVENTINJ:
 * Linux v7.1.5 nested_svm_vmexit_update_vmcb12() zeroes both).
 */
export const ZEROED_WITH: Readonly<Record<string, string>> = { event_inj_err: 'event_inj' };

/** vmcs12 guest-state members a VM exit saves only under a VM-exit control (SDM Vol.3C §28.3.1, §28.3.3). */
export const VMX_CONDITIONAL_SAVES: Readonly<Record<string, string>> = {
  guest_ia32_debugctl: 'VM_EXIT_SAVE_DEBUG_CONTROLS',
  guest_dr7: 'VM_EXIT_SAVE_DEBUG_CONTROLS',
  guest_ia32_pat: 'VM_EXIT_SAVE_IA32_PAT',
  guest_ia32_efer: 'VM_EXIT_SAVE_IA32_EFER',
  vmx_preemption_timer_value: 'VM_EXIT_SAVE_VMX_PREEMPTION_TIMER',
  guest_ia32_perf_global_ctrl: 'VM_EXIT_SAVE_IA32_PERF_GLOBAL_CTRL',
};

/**
 * vmcs12 VM-exit information members a VM exit caused by a failed VM entry leaves unmodified (everything but the
 * exit reason and the exit qualification; SDM Vol.3C §27.8).
 */
export const VMX_UNMODIFIED_ON_FAILED_ENTRY: readonly string[] = [
  'vm_exit_intr_info', 'vm_exit_intr_error_code', 'idt_vectoring_info_field', 'idt_vectoring_error_code',
  'vm_exit_instruction_len', 'vmx_instruction_info', 'guest_linear_address', 'guest_physical_address',
];

/** Exit-information fields every #VMEXIT writes (their contents depend on the exit code; APM Vol.2 §15.6). */
export const SVM_EXIT_ALWAYS_WRITTEN: readonly string[] = ['exit_code', 'exit_info_1', 'exit_info_2'];
