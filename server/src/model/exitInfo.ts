// For which VMX basic exit reasons each VM-exit information field is defined. One table, read by
// semantics.exitInfoFieldDefined(), by the VMCS field table (validForExitReasons) and by the exit-reason table
// (`defines`), so the three always agree.
//
// Sources: Intel SDM Vol.3C §28.2.1-§28.2.5 (2023+ numbering; §27.2.x in the 2016-2022 books), summarised in
// shared/reference/semantics.md §c; KVM's readers in Linux 7.1.5 arch/x86/kvm/vmx/vmx.c (handle_* functions).
import { SDM } from './sources';

export type ExitInfoFieldName =
  | 'VM_EXIT_REASON' | 'EXIT_QUALIFICATION' | 'GUEST_LINEAR_ADDRESS' | 'GUEST_PHYSICAL_ADDRESS'
  | 'VM_EXIT_INTR_INFO' | 'VM_EXIT_INTR_ERROR_CODE' | 'IDT_VECTORING_INFO_FIELD' | 'IDT_VECTORING_ERROR_CODE'
  | 'VM_EXIT_INSTRUCTION_LEN' | 'VMX_INSTRUCTION_INFO' | 'IO_RCX' | 'IO_RSI' | 'IO_RDI' | 'IO_RIP';

export interface ExitInfoReason {
  reason: number;
  /** Set when the field is defined for this reason only in some cases (e.g. only for #PF/#DB). */
  condition?: string;
}

export interface ExitInfoValidity {
  field: ExitInfoFieldName;
  /** 'all' = written by every VM exit. */
  reasons: ExitInfoReason[] | 'all';
  /** For the two interruption-information fields: bit 31 (valid) is written by every exit, the rest only for `reasons`. */
  validBitAlwaysWritten?: boolean;
  /** What an exit that does not define the field leaves in it: 'cleared' (zero) or, by default, undefined contents. */
  otherwise?: 'cleared' | 'undefined';
  note: string;
  source: string;
}

const r = (reason: number, condition?: string): ExitInfoReason => (condition ? { reason, condition } : { reason });
const list = (...reasons: number[]): ExitInfoReason[] => reasons.map((x) => r(x));

/** Exits that may happen while an event is being delivered through the IDT (SDM §28.2.4). */
const DURING_EVENT_DELIVERY = [0, 2, 9, 44, 48, 49, 62, 66, 75];

export const EXIT_INFO_VALIDITY: readonly ExitInfoValidity[] = [
  {
    field: 'VM_EXIT_REASON', reasons: 'all',
    note: 'written by every VM exit and by VM-entry failures reported as exits (bit 31 set); bits 15:0 are the basic exit reason',
    source: SDM.exitBasicInfo,
  },
  {
    field: 'EXIT_QUALIFICATION',
    reasons: [
      r(0, 'only for #DB (pending debug exceptions, DR6-like) and #PF (faulting linear address)'),
      r(5), r(9), r(14), r(19), r(21), r(22), r(23), r(25), r(27), r(28), r(29), r(30),
      r(33, 'VM-entry failure detail: 2 = PDPTE loading, 3 = NMI injection, 4 = VMCS link pointer'), r(34, 'index of the failing MSR-load entry'),
      r(36), r(44), r(45), r(46), r(47), r(48), r(50), r(53), r(56), r(58), r(62), r(63), r(64), r(66), r(72), r(73), r(75),
      r(84), r(85),
    ],
    otherwise: 'cleared',
    note: 'cleared (zero) by every other exit (e.g. CPUID, HLT, RDMSR/WRMSR, EPT misconfiguration): "For all other VM exits, this field is cleared"',
    source: `${SDM.exitBasicInfo} (exit qualification tables); Linux 7.1.5 vmx.c handle_* readers of vmx_get_exit_qual()`,
  },
  {
    field: 'GUEST_LINEAR_ADDRESS',
    reasons: [
      r(5), r(28, 'only LMSW with a memory operand'), r(30, 'only INS/OUTS (with a usable segment)'),
      r(48, 'only when exit-qualification bit 7 (guest linear address valid) is 1'),
    ],
    note: 'undefined for all other exits; bits 63:32 are cleared outside 64-bit mode',
    source: SDM.exitBasicInfo,
  },
  {
    field: 'GUEST_PHYSICAL_ADDRESS', reasons: [r(48), r(49), r(66)],
    note: 'only for EPT violations, EPT misconfigurations and SPP-related exits; undefined otherwise',
    source: SDM.exitBasicInfo,
  },
  {
    field: 'VM_EXIT_INTR_INFO', reasons: [r(0), r(1, 'only when the "acknowledge interrupt on exit" VM-exit control is 1')],
    validBitAlwaysWritten: true,
    note: 'for other exits bit 31 (valid) is cleared and the other bits are undefined',
    source: SDM.exitVectoredInfo,
  },
  {
    field: 'VM_EXIT_INTR_ERROR_CODE', reasons: [r(0, 'only when VM_EXIT_INTR_INFO bit 11 (error code valid) is 1')],
    note: 'undefined unless the exception delivered an error code',
    source: SDM.exitVectoredInfo,
  },
  {
    field: 'IDT_VECTORING_INFO_FIELD', reasons: DURING_EVENT_DELIVERY.map((x) => r(x, 'only when the exit happened during event delivery (bit 31 = 1)')),
    validBitAlwaysWritten: true,
    note: 'every exit writes bit 31 (1 = the exit interrupted delivery of an event, including one injected by VM entry); the remaining bits are defined only then',
    source: SDM.exitDeliveryInfo,
  },
  {
    field: 'IDT_VECTORING_ERROR_CODE', reasons: DURING_EVENT_DELIVERY.map((x) => r(x, 'only when IDT-vectoring bits 31 and 11 are both 1')),
    note: 'undefined unless the interrupted event delivered an error code',
    source: SDM.exitDeliveryInfo,
  },
  {
    field: 'VM_EXIT_INSTRUCTION_LEN',
    reasons: [
      r(0, 'only software exceptions (INT3, INTO) and faults during delivery of a software interrupt/exception'),
      r(9, 'only task switches caused by CALL, IRET, JMP or a task gate during software-event delivery'),
      ...list(10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 36, 39, 40),
      r(44, 'only during delivery of a software interrupt/exception'), ...list(46, 47),
      r(48, 'only during delivery of a software interrupt/exception'),
      r(49, 'only during delivery of a software interrupt/exception (KVM also uses it on bare metal for MMIO fast paths)'),
      ...list(50, 51, 53, 54, 55, 57, 58), r(59, 'only for VMFUNC failures'),
      ...list(60, 61, 63, 64, 65, 67, 68, 69, 70, 72, 73, 76, 77, 78, 79, 80, 81, 84, 85),
    ],
    note: 'undefined for exits not caused by executing an instruction (interrupts, EPT misconfiguration in general, APIC write, preemption timer, ...)',
    source: SDM.exitInstrInfo,
  },
  {
    field: 'VMX_INSTRUCTION_INFO',
    reasons: [
      r(30, 'only INS/OUTS, when IA32_VMX_BASIC[54] reports instruction information for them'),
      ...list(19, 21, 22, 23, 25, 27, 46, 47, 50, 53, 57, 58, 61, 63, 64, 67, 68, 69, 78, 79, 80, 81, 84, 85),
    ],
    note: 'format depends on the instruction (memory operand description or register operand); undefined for other exits',
    source: SDM.exitInstrInfo,
  },
  ...(['IO_RCX', 'IO_RSI', 'IO_RDI', 'IO_RIP'] as const).map((field): ExitInfoValidity => ({
    field, reasons: [r(5)], note: 'only for SMIs that arrive immediately after an I/O instruction (dual-monitor treatment); not in Linux',
    source: SDM.exitInstrInfo,
  })),
];

export const EXIT_INFO_BY_FIELD: ReadonlyMap<string, ExitInfoValidity> = new Map(EXIT_INFO_VALIDITY.map((v) => [v.field, v]));

/** Exit-information fields a basic exit reason defines (possibly conditionally), in table order. */
export function fieldsDefinedBy(reason: number): string[] {
  return EXIT_INFO_VALIDITY.filter((v) => v.reasons === 'all' || v.reasons.some((x) => x.reason === reason)).map((v) => v.field);
}
