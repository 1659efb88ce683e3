// Shared types of the hardware knowledge model. Pure data: no parser, no LSP, no I/O.
// Every fact carries `sources`: SDM/APM sections or the public code a fact was read from.

export type VmcsWidth = 16 | 32 | 64 | 'natural';
export type VmcsType = 'control' | 'read-only' | 'guest-state' | 'host-state';
export type VmcsAccess = 'full' | 'high';

/** KVM lifetime class of a host-state field (semantics.md §b). */
export type HostLifetime = 'constant' | 'per-cpu' | 'per-task';

export interface Vmcs12Member {
  member: string;
  /** Byte offset in struct vmcs12, when known from vmcs12.h (for a `_HIGH` access: offset of the upper 32 bits). */
  offset?: number;
  /** The access reaches only bits 63:32 of the member (KVM maps `X_HIGH` to offset(X) + 4). */
  highHalf?: boolean;
}

export interface VmcsField {
  kind: 'vmcs';
  /** Linux `enum vmcs_field` name, or the SDM/Bochs-derived name for fields Linux lacks. */
  name: string;
  /** Other names: Bochs (`VMCS_...`), kvm-unit-tests. */
  aliases: string[];
  encoding: number;
  width: VmcsWidth;
  type: VmcsType;
  access: VmcsAccess;
  /** True when Linux names the field (mainline or a posted series); false for SDM/Bochs-only fields. */
  linux: boolean;
  linuxStatus: string;
  vmcs12?: Vmcs12Member;
  meaning: string;
  /** What VM entry does with the field and under which controls. */
  onEntry?: string;
  /** What VM exit does with the field. */
  onExit?: string;
  /** When the value saved/left by VM exit is undefined (prose; predicates live in semantics.ts). */
  undefinedWhen?: string;
  /** For exit-information fields: the basic exit reasons for which the field is defined ('all' = every exit). */
  validForExitReasons?: number[] | 'all';
  lifetime?: HostLifetime;
  /** Where KVM writes a host-state field (function names). */
  kvmWriters?: string[];
  notes?: string;
  sources: string[];
  /** For a `_HIGH` field: the name of the 64-bit field whose upper half it accesses. */
  fullName?: string;
  /** Machine-readable VM-entry rule (semantics.ts TransitionCondition: 'always' | 'never' | 'pdptr' | 'control:NAME' | 'supported:TEXT'). */
  entryRule?: string;
  /** Machine-readable VM-exit rule (save for guest-state, load for host-state; same vocabulary as entryRule). */
  exitRule?: string;
  /** Exit-information fields: what exits for reasons outside validForExitReasons leave (exitInfo.ts). */
  exitInfoOtherwise?: 'cleared' | 'undefined';
  /** Exit-information fields: bit 31 (valid) is written on every exit even where the rest is undefined. */
  validBitAlwaysWritten?: boolean;
  /** KVM's shadow VMCS for L1 (vmcs_shadow_fields.h): VMREAD-only or VMREAD/VMWRITE without a VM exit. */
  shadowVmcs?: 'read-only' | 'read-write';
  /** Enlightened VMCS v1: the clean-field group (HV_VMX_ENLIGHTENED_CLEAN_FIELD_*) covering the field. */
  evmcsCleanGroup?: string;
  /** Conditions under which the field is defined, keyed by basic exit reason (exit-information fields). */
  exitReasonConditions?: Record<number, string>;
  /** L1 can VMREAD/VMWRITE this field through KVM's vmcs12 (vmcs12.c FIELD table has it). */
  vmcs12Supported?: boolean;
}

/** A member of a VMCB segment register (struct vmcb_seg: selector, attrib, limit, base). */
export interface VmcbSubMember {
  name: 'selector' | 'attrib' | 'limit' | 'base';
  /** Absolute VMCB offset. */
  offset: number;
  size: number;
}

/** A VMCB clean bit (Linux `enum` in arch/x86/kvm/svm/svm.h). */
export interface CleanBitInfo {
  name: string;
  bit: number;
  /** VMCB members (Linux names) whose cached copy the bit covers. */
  fields: string[];
  meaning: string;
  sources: string[];
}

export type VmcbArea = 'control' | 'save';

export interface VmcbField {
  kind: 'vmcb';
  /** Linux member name in struct vmcb_control_area / vmcb_save_area (e.g. `int_ctl`, `cr4`, `es`). */
  name: string;
  area: VmcbArea;
  aliases: string[];
  offset: number;
  size: number;
  meaning: string;
  /** What #VMEXIT writes into this field, if anything. */
  writtenOnVmexit: 'yes' | 'no' | 'partial';
  vmexitNote?: string;
  /** What VMRUN does with it. */
  onVmrun?: string;
  /** VMCB clean-bit group covering the field (Linux `enum` VMCB_* name), if any. */
  cleanBit?: string;
  /** Covered by VMSAVE/VMLOAD. */
  vmsaveState?: boolean;
  notes?: string;
  sources: string[];
  /** Segment registers: selector/attrib/limit/base with absolute offsets. */
  members?: VmcbSubMember[];
  /** Part of the host state VMRUN saves to the host save area (VM_HSAVE_PA). */
  hostSavedByVmrun?: boolean;
  /** False for fields only present in other layouts (older Linux, Bochs, SEV-ES VMSA). */
  linux?: boolean;
  /** Name used only by older Linux trees (e.g. exit_code_hi before exit_code became u64). */
  legacy?: boolean;
  /** Not the VMCB: a member of the SEV-ES VMSA (struct sev_es_save_area) or of the GHCB (struct ghcb); offset within it. */
  layout?: 'vmsa' | 'ghcb';
}

/** A bit or bit-field of VMCB int_ctl (0x60) or int_state (0x68). */
export interface IntCtlBit {
  kind: 'intctl';
  /** Linux mask macro name, e.g. `V_IRQ_MASK`. */
  name: string;
  /** Shift macro, e.g. `V_IRQ_SHIFT`. */
  shiftName?: string;
  aliases: string[];
  register: 'int_ctl' | 'int_state';
  bit: number;
  bits: number;
  mask: number;
  meaning: string;
  /** Whether the processor writes this bit back into the VMCB on #VMEXIT. */
  writeback: 'always' | 'never' | 'conditional';
  /** Condition for a conditional write-back, as a model predicate name (e.g. `vgif`, `vnmi`). */
  writebackCondition?: string;
  writebackNote: string;
  sources: string[];
}

export interface MsrInfo {
  kind: 'msr';
  /** Linux `msr-index.h` name, e.g. `MSR_IA32_XFD`. */
  name: string;
  aliases: string[];
  index: number;
  meaning: string;
  /** VMX MSR-bitmap position (read bitmap byte/bit; write = +0x800), undefined if outside both ranges. */
  vmxBitmap?: { readByte: number; writeByte: number; bit: number };
  /** SVM MSRPM position (read bit number; write = +1), undefined if outside the three ranges. */
  svmMsrpm?: { byte: number; readBit: number; writeBit: number };
  /** State saved/loaded by VMSAVE/VMLOAD. */
  vmsaveState?: boolean;
  /** Host state KVM must keep in sync with the hardware value when the MSR is passed through. */
  hostSoftwareCopy?: string;
  notes?: string;
  sources: string[];
}

export interface ExitReason {
  kind: 'exit-reason';
  vendor: 'vmx' | 'svm';
  /** Linux constant, e.g. `EXIT_REASON_EPT_VIOLATION` or `SVM_EXIT_NPF`. */
  name: string;
  aliases: string[];
  code: number;
  meaning: string;
  /** VMX: exit-information fields defined for this reason (names). SVM: exit_info_1/2 meaning. */
  defines?: string[];
  sources: string[];
  /** VMX: fields of `defines` that are defined only in a sub-case, with the condition. */
  definesConditions?: Record<string, string>;
  /** VMX: reasons reported with bit 31 set for a failed VM entry (33, 34, 41). */
  failedEntry?: boolean;
  /** Linux defines this constant (false: SDM/Bochs-only code, named here after the SDM). */
  linux?: boolean;
}

export interface InstructionInfo {
  kind: 'instruction';
  /** Wrapper or mnemonic as written in KVM: `vmsave`, `vmload`, `vmrun`, `stgi`, `clgi`, `vmread`, `vmwrite`... */
  name: string;
  aliases: string[];
  vendor: 'vmx' | 'svm';
  meaning: string;
  /** State the instruction transfers (VMSAVE/VMLOAD list, VMRUN host save...). */
  state?: string[];
  sources: string[];
  /** VMRUN: host state saved to the host save area. */
  hostSave?: string[];
  /** VMRUN: guest state loaded from the VMCB. */
  guestLoad?: string[];
  /** VMRUN: what the matching #VMEXIT writes back / reloads. */
  onVmexit?: string[];
  /** Exit reason / exit code produced when the instruction is intercepted. */
  exitReason?: string;
}

export interface AccessorInfo {
  kind: 'accessor';
  /** `vmcs_read16`, `vmcs_writel`, `vmcs_set_bits`, ... */
  name: string;
  aliases: string[];
  op: 'read' | 'write' | 'set-bits' | 'clear-bits';
  /** Width the accessor moves; 'natural' for the *l variants; undefined for the set/clear helpers (32-bit in KVM). */
  width: VmcsWidth;
  meaning: string;
  sources: string[];
}

/** What a named constant (or KVM helper) is: a control bit, an intercept, a clean bit, an enumerated value... */
export type SymbolCategory =
  | 'vmx-control' | 'vmx-control-default1' | 'svm-intercept' | 'svm-intercept-word' | 'vmcb-clean-bit' | 'svm-misc-ctl'
  | 'svm-tlb-ctl' | 'svm-erap-ctl' | 'svm-int-ctl' | 'svm-event' | 'evmcs-clean-field' | 'ghcb' | 'kvm-helper';

/**
 * A named constant of the VMX/SVM interface as Linux spells it (`SECONDARY_EXEC_ENABLE_EPT`, `INTERCEPT_VINTR`,
 * `VMCB_NPT`, `SVM_MISC_ENABLE_NP`, `TLB_CONTROL_FLUSH_ASID`, `HV_VMX_ENLIGHTENED_CLEAN_FIELD_GUEST_GRP2`), or a KVM
 * helper that stands for a field (`vmx_get_exit_qual`).
 */
export interface SymbolInfo {
  kind: 'symbol';
  category: SymbolCategory;
  vendor: 'vmx' | 'svm';
  name: string;
  aliases: string[];
  /** Where it lives: the VMCS field, VMCB member (with offset) or structure. */
  container: string;
  /** Bit position for single-bit constants. */
  bit?: number;
  /** Value as written in the header: mask, enumerated value or bit number (hex text; may exceed 32 bits). */
  value: string;
  meaning: string;
  /** VMX controls: what KVM does with L1's setting when it builds vmcs02; SVM intercepts: how KVM merges vmcb12's. */
  nested?: string;
  /** VMX controls: which capability MSR bit allows setting it. */
  capability?: string;
  /** SVM intercepts: the #VMEXIT code it produces. */
  exitCode?: string;
  sources: string[];
}

export type Entity = VmcsField | VmcbField | IntCtlBit | MsrInfo | ExitReason | InstructionInfo | AccessorInfo | SymbolInfo;
export type EntityKind = Entity['kind'];
