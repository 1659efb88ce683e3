// VM-entry / VMRUN consistency checks as data. One entry per rule of the manual's list: Intel SDM Vol.3C §27.2
// (checks on VMX controls and host-state area), §27.3.1 (checks on the guest-state area) with the loading-time
// checks of §27.3.2.4 and §27.4, and AMD APM Vol.2 §15.5.1 (VMRUN consistency checks).
//
// Section numbers follow the edition named in ../sources.ts (325462-080 and later: VM entries = ch.27). Some newer
// editions number the same chapter 28 ("28.2 Checks on VMX Controls and Host-State Area", "28.3.1 Checks on the
// Guest-State Area"); every citation carries the section title so either numbering can be found.
//
// `match` says which fields and which KVM spellings of the bits/capabilities a condition reads; the audit
// (features/nestedAudit) matches KVM's check sites against it. No parser here: plain data.

/** How the processor reports a failed check. */
export type EntryFailure =
  /** VMfailValid with this VM-instruction error number (7 = invalid control field(s), 8 = invalid host-state field(s)). */
  | { kind: 'vmfail'; error: number }
  /** VM exit with bit 31 of the exit reason set: 33 = invalid guest state, 34 = MSR loading; exit qualification. */
  | { kind: 'vmexit'; reason: number; qualification?: number }
  /** SVM: #VMEXIT with exit code VMEXIT_INVALID (-1). */
  | { kind: 'vmexit-invalid' };

export type CheckGroup =
  | 'exec-controls' | 'exit-controls' | 'entry-controls' | 'host-cr-msr' | 'host-seg' | 'address-space'
  | 'guest-cr-msr' | 'guest-seg' | 'guest-dtr' | 'guest-rip-rflags' | 'guest-non-reg' | 'guest-pdpte' | 'msr-load'
  | 'svm-save' | 'svm-control';

export interface CheckMatch {
  /**
   * Fields the condition tests: vmcs12 members (VMX) or VMCB member names (SVM: `efer`, `cr0`, `asid`, ...).
   * A KVM site implements the check only if it reads one of them; the check is fully covered when the union of its
   * matching sites reads all of them.
   */
  fields: string[];
  /**
   * Conjunction of alternatives: every group needs one spelling in the site's condition or guards (after KVM helper
   * and local-variable expansion). A spelling is a C identifier (bit macro, capability name, helper) or `/regex/`.
   */
  all?: string[][];
  /** Like `all`, but matched against the condition alone (its guards do not count). */
  inCondition?: string[][];
  /** Fields read, or spellings written in the condition itself, that rule the site out (separates neighbouring checks). */
  none?: string[];
  /** `any`: the fields are alternative names of one field (layouts differ between kernels); one covers the check. */
  cover?: 'all' | 'any';
}

export interface EntryCheck {
  id: string;
  vendor: 'vmx' | 'svm';
  group: CheckGroup;
  /** Position in the manual's list (1-based within the vendor's list). */
  order: number;
  /** The rule as the manual states it (paraphrased). */
  text: string;
  match: CheckMatch;
  failure: EntryFailure;
  /** Manual section (number and title). */
  section: string;
  /** The control/feature bit that must be exposed to the guest hypervisor for the check to be reachable (KVM name). */
  feature?: string;
  /** Present only in recent manual editions (feature named). */
  recent?: string;
  notes?: string;
}

export const VMFAIL_CONTROL: EntryFailure = { kind: 'vmfail', error: 7 };
export const VMFAIL_HOST: EntryFailure = { kind: 'vmfail', error: 8 };
export const EXIT_INVALID_GUEST: EntryFailure = { kind: 'vmexit', reason: 33, qualification: 0 };
export const EXIT_INVALID_GUEST_PDPTE: EntryFailure = { kind: 'vmexit', reason: 33, qualification: 2 };
export const EXIT_INVALID_GUEST_NMI_STI: EntryFailure = { kind: 'vmexit', reason: 33, qualification: 3 };
export const EXIT_INVALID_GUEST_LINK: EntryFailure = { kind: 'vmexit', reason: 33, qualification: 4 };
export const EXIT_MSR_LOAD: EntryFailure = { kind: 'vmexit', reason: 34 };
export const SVM_VMEXIT_INVALID: EntryFailure = { kind: 'vmexit-invalid' };

export function failureText(f: EntryFailure): string {
  switch (f.kind) {
    case 'vmfail': return `VMfailValid(${f.error})`;
    case 'vmexit': return `VM exit ${f.reason}${f.qualification ? ` (qual ${f.qualification})` : ''}`;
    case 'vmexit-invalid': return 'VMEXIT_INVALID';
  }
}

export function sameFailure(a: EntryFailure, b: EntryFailure): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'vmfail' && b.kind === 'vmfail') return a.error === b.error;
  if (a.kind === 'vmexit' && b.kind === 'vmexit') return a.reason === b.reason;
  return true;
}

/** Phase rank of a failure: VM entry reports VMfail checks before guest-state exits, and those before MSR loading. */
export function failurePhase(f: EntryFailure): number {
  if (f.kind === 'vmfail') return 1;
  if (f.kind === 'vmexit') return f.reason === 34 ? 3 : 2;
  return 1;
}
