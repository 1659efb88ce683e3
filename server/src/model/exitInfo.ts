// What a VM exit (or a failed VM entry) does to each VM-exit information field: written with information, cleared,
// left undefined, or left unmodified. One table, read by exitInfoStatus() / semantics.exitInfoValidity(), by the VMCS
// field table (validForExitReasons, hover) and by the exit-reason table (`defines`), so hover, rules and the simulator
// always agree.
//
// Sources: Intel SDM Vol.3C §28.2.1-§28.2.5 (2023+ numbering; §27.2.x in the 2016-2022 books), summarised in
// shared/reference/semantics.md §c; KVM's readers in Linux 7.1.5 arch/x86/kvm/vmx/vmx.c (handle_* functions).
import { SDM } from './sources';

export type ExitInfoFieldName =
  | 'VM_EXIT_REASON' | 'EXIT_QUALIFICATION' | 'GUEST_LINEAR_ADDRESS' | 'GUEST_PHYSICAL_ADDRESS'
  | 'VM_EXIT_INTR_INFO' | 'VM_EXIT_INTR_ERROR_CODE' | 'IDT_VECTORING_INFO_FIELD' | 'IDT_VECTORING_ERROR_CODE'
  | 'VM_EXIT_INSTRUCTION_LEN' | 'VMX_INSTRUCTION_INFO' | 'IO_RCX' | 'IO_RSI' | 'IO_RDI' | 'IO_RIP';

/**
 * What happens to an exit-information field:
 * - 'written': the exit stores information in it (its meaning depends on the exit reason);
 * - 'cleared': the exit stores 0 (defined, but carries no information);
 * - 'undefined': the exit may leave any value (junk — reading it is legal, using it is a bug);
 * - 'unmodified': the field keeps the value of an earlier exit (failed VM entries, SDM §27.8).
 */
export type ExitInfoStatus = 'written' | 'cleared' | 'undefined' | 'unmodified';

export interface ExitInfoReason {
  reason: number;
  /** Set when the field is written for this reason only in some cases (e.g. only for #PF/#DB). */
  condition?: string;
  /** Outside `condition`: what the exit leaves instead (default: the field's `otherwise`). */
  otherwise?: Exclude<ExitInfoStatus, 'written' | 'unmodified'>;
}

export interface ExitInfoValidity {
  field: ExitInfoFieldName;
  /** Exit reasons that write information into the field; 'all' = written by every VM exit. */
  reasons: ExitInfoReason[] | 'all';
  /** What exits for every other reason leave in the field. */
  otherwise: Exclude<ExitInfoStatus, 'written' | 'unmodified'>;
  /** For the two interruption-information fields: every exit writes bit 31 (valid); where the rest is undefined, bit 31 is 0. */
  validBitAlwaysWritten?: boolean;
  /** Written by a failed VM entry (exit reasons 33/34/41 with bit 31 set); every other field is left unmodified. */
  writtenByFailedEntry?: boolean;
  note: string;
  source: string;
}

const r = (reason: number, condition?: string, otherwise?: ExitInfoReason['otherwise']): ExitInfoReason => {
  const x: ExitInfoReason = { reason };
  if (condition) x.condition = condition;
  if (otherwise) x.otherwise = otherwise;
  return x;
};
const list = (...reasons: number[]): ExitInfoReason[] => reasons.map((x) => r(x));

/**
 * Exits that may happen while an event is being delivered through the IDT (SDM §28.2.4): an exception (0), a task
 * switch (9), an APIC access (44), an EPT violation/misconfiguration (48/49), a full PML log (62), an SPP event (66)
 * or an instruction timeout (75). A triple fault (2) is never one: the event that would cause it is not delivered,
 * the exit itself reports the shutdown, and IDT-vectoring bit 31 is 0.
 */
export const DURING_EVENT_DELIVERY: readonly number[] = [0, 9, 44, 48, 49, 62, 66, 75];

/** Basic exit reasons of failed VM entries (reported with VM_EXIT_REASON bit 31 set). */
export const FAILED_ENTRY_REASONS: readonly number[] = [33, 34, 41];

export const EXIT_INFO_VALIDITY: readonly ExitInfoValidity[] = [
  {
    field: 'VM_EXIT_REASON', reasons: 'all', otherwise: 'cleared', writtenByFailedEntry: true,
    note: 'written by every VM exit and by VM-entry failures reported as exits (bit 31 set); bits 15:0 are the basic exit reason',
    source: `${SDM.exitBasicInfo}; ${SDM.entryFailure}`,
  },
  {
    field: 'EXIT_QUALIFICATION', otherwise: 'cleared', writtenByFailedEntry: true,
    reasons: [
      r(0, 'only for #DB (pending debug exceptions, DR6-like) and #PF (faulting linear address)', 'cleared'),
      r(4, 'SIPI vector in bits 7:0; bits 63:8 cleared'),
      r(5), r(9), r(14), r(19), r(21), r(22), r(23), r(25), r(27), r(28), r(29), r(30),
      r(33, 'VM-entry failure detail: 0 in most cases, 2 = PDPTE loading, 3 = NMI injection blocked by STI, 4 = VMCS link pointer'),
      r(34, 'index (1-based) of the failing VM-entry MSR-load entry'),
      r(36), r(44, 'linear/guest-physical APIC-page accesses; undefined for physical accesses to the APIC-access page', 'undefined'),
      r(45), r(46), r(47), r(48), r(50), r(53), r(54, 'WBINVD or WBNOINVD (bit 0 tells which)'), r(56), r(58), r(62), r(63), r(64), r(66),
      r(72), r(73), r(75), r(84), r(85),
    ],
    note: 'every other VM exit clears it to 0 (e.g. CPUID, HLT, RDMSR/WRMSR, external interrupt, EPT misconfiguration): reading it is defined but carries no information',
    source: `${SDM.exitBasicInfo} (exit qualification: "for all other VM exits, this field is cleared"); ${SDM.entryFailure}; Linux 7.1.5 vmx.c handle_* readers of vmx_get_exit_qual()`,
  },
  {
    field: 'GUEST_LINEAR_ADDRESS', otherwise: 'undefined',
    reasons: [
      r(5), r(28, 'only LMSW with a memory operand'), r(30, 'only INS/OUTS (with a usable segment)'),
      r(48, 'only when exit-qualification bit 7 (guest linear address valid) is 1'),
    ],
    note: 'undefined for all other exits (and for EPT violations with qualification bit 7 = 0); bits 63:32 are cleared outside 64-bit mode',
    source: SDM.exitBasicInfo,
  },
  {
    field: 'GUEST_PHYSICAL_ADDRESS', reasons: [r(48), r(49), r(66)], otherwise: 'undefined',
    note: 'only for EPT violations, EPT misconfigurations and SPP-related exits; undefined otherwise',
    source: SDM.exitBasicInfo,
  },
  {
    field: 'VM_EXIT_INTR_INFO', otherwise: 'undefined',
    reasons: [r(0), r(1, 'only when the "acknowledge interrupt on exit" VM-exit control is 1 (else bit 31 = 0, rest undefined)', 'undefined')],
    validBitAlwaysWritten: true,
    note: 'for other exits (including external interrupts without "acknowledge interrupt on exit") bit 31 (valid) is cleared and the other bits are undefined',
    source: SDM.exitVectoredInfo,
  },
  {
    field: 'VM_EXIT_INTR_ERROR_CODE', reasons: [r(0, 'only when VM_EXIT_INTR_INFO bit 11 (error code valid) is 1', 'undefined')], otherwise: 'undefined',
    note: 'undefined unless the exception delivered an error code',
    source: SDM.exitVectoredInfo,
  },
  {
    field: 'IDT_VECTORING_INFO_FIELD', otherwise: 'undefined',
    reasons: DURING_EVENT_DELIVERY.map((x) => r(x, 'only when the exit happened during event delivery (bit 31 = 1)', 'undefined')),
    validBitAlwaysWritten: true,
    note: 'every VM exit writes bit 31 (1 = the exit interrupted delivery of an event, including one injected by VM entry); the remaining bits are defined only then. A triple-fault exit never reports event delivery',
    source: SDM.exitDeliveryInfo,
  },
  {
    field: 'IDT_VECTORING_ERROR_CODE', otherwise: 'undefined',
    reasons: DURING_EVENT_DELIVERY.map((x) => r(x, 'only when IDT-vectoring bits 31 and 11 are both 1', 'undefined')),
    note: 'undefined unless the interrupted event delivered an error code',
    source: SDM.exitDeliveryInfo,
  },
  {
    field: 'VM_EXIT_INSTRUCTION_LEN', otherwise: 'undefined',
    reasons: [
      r(0, 'only software exceptions (INT3, INTO) and faults during delivery of a software interrupt/exception', 'undefined'),
      r(9, 'only task switches caused by CALL, IRET, JMP or a task gate during software-event delivery', 'undefined'),
      ...list(10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 36, 39, 40),
      r(44, 'only during delivery of a software interrupt/exception', 'undefined'), ...list(46, 47),
      r(48, 'only during delivery of a software interrupt/exception', 'undefined'),
      ...list(50, 51, 53, 54, 55, 57, 58), r(59, 'only for VMFUNC failures', 'undefined'),
      ...list(60, 61, 63, 64, 65, 67, 68, 69, 70, 72, 73, 76, 77, 78, 79, 80, 81, 84, 85),
    ],
    note: 'undefined for exits not caused by executing an instruction (interrupts, EPT misconfiguration, APIC write, preemption timer, ...). KVM still uses it after EPT misconfigurations (MMIO fast path in handle_ept_misconfig) and says in skip_emulated_instruction() that this relies on behaviour the SDM does not promise',
    source: `${SDM.exitInstrInfo}; Linux 7.1.5 arch/x86/kvm/vmx/vmx.c skip_emulated_instruction (comment on EPT misconfig)`,
  },
  {
    field: 'VMX_INSTRUCTION_INFO', otherwise: 'undefined',
    reasons: [
      r(30, 'only INS/OUTS, when IA32_VMX_BASIC[54] reports instruction information for them', 'undefined'),
      ...list(19, 21, 22, 23, 25, 27, 46, 47, 50, 53, 57, 58, 61, 63, 64, 67, 68, 69, 78, 79, 80, 81, 84, 85),
    ],
    note: 'format depends on the instruction (memory operand description or register operand); undefined for other exits',
    source: SDM.exitInstrInfo,
  },
  ...(['IO_RCX', 'IO_RSI', 'IO_RDI', 'IO_RIP'] as const).map((field): ExitInfoValidity => ({
    field, reasons: [r(5)], otherwise: 'undefined',
    note: 'only for SMIs that arrive immediately after an I/O instruction (dual-monitor treatment); not in Linux',
    source: SDM.exitInstrInfo,
  })),
];

export const EXIT_INFO_BY_FIELD: ReadonlyMap<string, ExitInfoValidity> = new Map(EXIT_INFO_VALIDITY.map((v) => [v.field, v]));

/** Exit-information fields a basic exit reason writes (possibly conditionally), in table order. */
export function fieldsDefinedBy(reason: number): string[] {
  return EXIT_INFO_VALIDITY.filter((v) => v.reasons === 'all' || v.reasons.some((x) => x.reason === reason)).map((v) => v.field);
}

// ---------------------------------------------------------------------------------------------------------------
// The status API: one answer per (field, exit reason, entry failed?) with its source.

export interface ExitInfoOptions {
  /** The exit reports a failed VM entry (VM_EXIT_REASON bit 31 = 1). Implied when `exitReason` has bit 31 set. */
  entryFailed?: boolean;
  /** "acknowledge interrupt on exit" (VM_EXIT_ACK_INTR_ON_EXIT); unknown when omitted. */
  ackIntrOnExit?: boolean;
}

export interface ExitInfoStatusAnswer {
  field: ExitInfoFieldName;
  /** The status when `condition` holds (or unconditionally when there is none). */
  status: ExitInfoStatus;
  /** The field is written only in this sub-case of the exit reason; outside it the field is `otherwise`. */
  condition?: string;
  otherwise?: Exclude<ExitInfoStatus, 'written' | 'unmodified'>;
  /** Interruption-information fields: bit 31 (valid) is written (0) even when the rest is undefined. */
  validBitWritten?: boolean;
  note: string;
  source: string;
}

/** VM_EXIT_REASON bit 31: the exit reports a failed VM entry. */
const FAILED_ENTRY_BIT = 0x80000000;

/**
 * What the VM exit with `exitReason` (basic reason, or the full VM_EXIT_REASON value) leaves in the exit-information
 * field `field` (a name from EXIT_INFO_VALIDITY). undefined = not an exit-information field.
 * Failed VM entries (bit 31, or `opts.entryFailed`) write only VM_EXIT_REASON and EXIT_QUALIFICATION; the other
 * fields keep the values of an earlier exit (SDM §27.8).
 */
export function exitInfoStatus(field: string, exitReason: number, opts: ExitInfoOptions = {}): ExitInfoStatusAnswer | undefined {
  const rule = EXIT_INFO_BY_FIELD.get(field);
  if (!rule) return undefined;
  const reason = exitReason & 0xffff;
  const failed = opts.entryFailed === true || (exitReason & FAILED_ENTRY_BIT) !== 0 || FAILED_ENTRY_REASONS.includes(reason);
  const base = { field: rule.field, note: rule.note, source: rule.source };
  if (failed) {
    if (!rule.writtenByFailedEntry) {
      return { ...base, status: 'unmodified', note: 'a failed VM entry writes only the exit reason and the exit qualification; every other exit-information field keeps the value of the last VM exit', source: SDM.entryFailure };
    }
    if (rule.field === 'EXIT_QUALIFICATION' && reason === 41) {
      return { ...base, status: 'undefined', note: 'the SDM gives exit-qualification values for VM-entry failures 33 and 34 only', source: SDM.entryFailure };
    }
  }
  const withValid = rule.validBitAlwaysWritten ? { validBitWritten: true } : {};
  if (rule.reasons === 'all') return { ...base, status: 'written', ...withValid };
  const hit = rule.reasons.find((x) => x.reason === reason);
  if (!hit) return { ...base, status: rule.otherwise, ...withValid };
  if (!hit.condition) return { ...base, status: 'written', ...withValid };
  // A condition the caller settles.
  if (rule.field === 'VM_EXIT_INTR_INFO' && reason === 1 && opts.ackIntrOnExit !== undefined) {
    return { ...base, status: opts.ackIntrOnExit ? 'written' : 'undefined', ...withValid };
  }
  return { ...base, status: 'written', condition: hit.condition, otherwise: hit.otherwise ?? rule.otherwise, ...withValid };
}
