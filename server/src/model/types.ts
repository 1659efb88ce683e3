// Shared types of the hardware knowledge model. Pure data: no parser, no LSP, no I/O.
// Every fact carries `sources`: SDM/APM sections or the public code a fact was read from.

export type VmcsWidth = 16 | 32 | 64 | 'natural';
export type VmcsType = 'control' | 'read-only' | 'guest-state' | 'host-state';
export type VmcsAccess = 'full' | 'high';

/** KVM lifetime class of a host-state field (semantics.md §b). */
export type HostLifetime = 'constant' | 'per-cpu' | 'per-task';

export interface Vmcs12Member {
  member: string;
  /** Byte offset in struct vmcs12, when known from vmcs12.h. */
  offset?: number;
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

export type Entity = VmcsField | VmcbField | IntCtlBit | MsrInfo | ExitReason | InstructionInfo | AccessorInfo;
export type EntityKind = Entity['kind'];
