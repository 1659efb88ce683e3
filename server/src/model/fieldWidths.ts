// Widths and reserved bits of values KVM moves into VMCS/VMCB fields, beyond the VMCS encoding widths
// (model/vmcs.ts) and the VMCB layout sizes (model/vmcb.ts). Used by features/rules/fieldWidth.ts.

export const SDM_ERROR_CODE = 'Intel SDM Vol.3C §27.2.1.3 (checks on VM-entry event injection: bits 31:16 of the '
  + 'VM-entry exception error code are 0), Vol.3A §6.13 (error code: the upper half is reserved); Linux 6.1 '
  + '"KVM: VMX: Drop bits 31:16 when shoving exception error code into VMCS"';
export const APM_EXITCODE = 'AMD APM Vol.2 §15.6 and Appendix C (EXITCODE is a 64-bit field; VMEXIT_INVALID = -1); '
  + 'Linux v7.1.5 arch/x86/include/asm/svm.h (u64 exit_code)';

/**
 * Fields holding an exception error code, whose bits 31:16 must be 0 (VM entry fails otherwise; VM exits never
 * report them): the VMCS field by encoding name and its vmcs12 counterpart for what KVM reflects to L1.
 */
export const ERROR_CODE_FIELDS: readonly string[] = ['VM_ENTRY_EXCEPTION_ERROR_CODE', 'vm_exit_intr_error_code'];
