// Named SVM constants: the intercept vector (Linux enum intercept_words and the INTERCEPT_* bit enum), misc_ctl /
// misc_ctl2 bits, TLB_CONTROL_* and ERAP_CONTROL_* values, the int_ctl composite masks, EVENTINJ/EXITINTINFO bits and
// the VMCB clean-bit names. Values from Linux 7.1.5 arch/x86/include/asm/svm.h and arch/x86/kvm/svm/svm.h; meanings
// from AMD APM Vol.2 ch.15 / Appendix B in our words; nested handling from arch/x86/kvm/svm/nested.c.
import { SVM_EXIT_BY_CODE } from './exits';
import { CLEAN_BITS } from './vmcb';
import { APM, CODE } from './sources';
import type { SymbolInfo } from './types';

const SVM_H = CODE.linuxSvmH;
const sym = (s: Omit<SymbolInfo, 'kind' | 'vendor' | 'aliases'> & { aliases?: string[] }): SymbolInfo =>
  ({ kind: 'symbol', vendor: 'svm', aliases: [], ...s });
const hex = (n: number): string => `0x${n.toString(16)}`;

// ---------------------------------------------------------------------------------------------------------------
// Intercept vector: 6 32-bit words at 0x000-0x014. Bit n of the vector (word n / 32, bit n % 32) produces #VMEXIT
// code n: the INTERCEPT_* enum values and the SVM_EXIT_* codes coincide (exceptions: 0x40 + vector = bit 64 + vector).

const WORDS: Array<[string, number, string]> = [
  ['INTERCEPT_CR', 0, 'CR0-CR15 reads (bits 15:0) and writes (bits 31:16)'],
  ['INTERCEPT_DR', 1, 'DR0-DR15 reads (bits 15:0) and writes (bits 31:16)'],
  ['INTERCEPT_EXCEPTION', 2, 'exception vectors 0-31 (bit = vector)'],
  ['INTERCEPT_WORD3', 3, 'INTR, NMI, SMI, INIT, VINTR, selective CR0 write, descriptor-table accesses, RDTSC ... SHUTDOWN'],
  ['INTERCEPT_WORD4', 4, 'VMRUN, VMMCALL, VMLOAD, VMSAVE, STGI, CLGI, SKINIT, RDTSCP, ICEBP, WBINVD, MONITOR, MWAIT, XSETBV, RDPRU, EFER/CR write traps'],
  ['INTERCEPT_WORD5', 5, 'INVLPGB, INVLPGB (illegal), INVPCID, MCOMMIT, TLBSYNC, bus lock, idle HLT'],
];

const INTERCEPT_NESTED = 'vmcb02 = vmcb01\'s intercepts ORed with vmcb12\'s (nested_vmcb02_recalc_intercepts); a #VMEXIT from L2 goes to L1 when vmcb12 intercepts it (nested_svm_exit_handled)';
const NESTED_SRC = `${CODE.linuxNestedSvm} nested_vmcb02_recalc_intercepts, nested_svm_exit_handled`;

/** Linux INTERCEPT_* bit names in enum order, with their bit numbers (asm/svm.h). */
const BITS: Array<[string, number]> = [
  ['INTERCEPT_CR0_READ', 0], ['INTERCEPT_CR3_READ', 3], ['INTERCEPT_CR4_READ', 4], ['INTERCEPT_CR8_READ', 8],
  ['INTERCEPT_CR0_WRITE', 16], ['INTERCEPT_CR3_WRITE', 19], ['INTERCEPT_CR4_WRITE', 20], ['INTERCEPT_CR8_WRITE', 24],
  ...[0, 1, 2, 3, 4, 5, 6, 7].map((n): [string, number] => [`INTERCEPT_DR${n}_READ`, 32 + n]),
  ...[0, 1, 2, 3, 4, 5, 6, 7].map((n): [string, number] => [`INTERCEPT_DR${n}_WRITE`, 48 + n]),
  ...['INTR', 'NMI', 'SMI', 'INIT', 'VINTR', 'SELECTIVE_CR0', 'STORE_IDTR', 'STORE_GDTR', 'STORE_LDTR', 'STORE_TR', 'LOAD_IDTR',
    'LOAD_GDTR', 'LOAD_LDTR', 'LOAD_TR', 'RDTSC', 'RDPMC', 'PUSHF', 'POPF', 'CPUID', 'RSM', 'IRET', 'INTn', 'INVD', 'PAUSE', 'HLT',
    'INVLPG', 'INVLPGA', 'IOIO_PROT', 'MSR_PROT', 'TASK_SWITCH', 'FERR_FREEZE', 'SHUTDOWN'].map((n, i): [string, number] => [`INTERCEPT_${n}`, 96 + i]),
  ...['VMRUN', 'VMMCALL', 'VMLOAD', 'VMSAVE', 'STGI', 'CLGI', 'SKINIT', 'RDTSCP', 'ICEBP', 'WBINVD', 'MONITOR', 'MWAIT', 'MWAIT_COND',
    'XSETBV', 'RDPRU'].map((n, i): [string, number] => [`INTERCEPT_${n}`, 128 + i]),
  ['TRAP_EFER_WRITE', 143], ...[0, 1, 2, 3, 4, 5, 6, 7, 8].map((n): [string, number] => [`TRAP_CR${n}_WRITE`, 144 + n]),
  ...['INVLPGB', 'INVLPGB_ILLEGAL', 'INVPCID', 'MCOMMIT', 'TLBSYNC', 'BUSLOCK', 'IDLE_HLT'].map((n, i): [string, number] => [`INTERCEPT_${n}`, 160 + i]),
];

/** Extra meaning and nested notes for intercepts KVM treats specially. */
const SPECIAL: Readonly<Record<string, { meaning?: string; nested?: string }>> = {
  INTERCEPT_VINTR: {
    meaning: 'intercept virtual interrupts: #VMEXIT(SVM_EXIT_VINTR) when the guest would take the pending virtual interrupt (V_IRQ); KVM sets V_IRQ with this intercept to open an interrupt window (svm_set_vintr)',
    nested: `${INTERCEPT_NESTED}; L0's own VINTR intercept is dropped from vmcb02 when vmcb12 sets V_INTR_MASKING and L1's RFLAGS.IF is 0 (L1 interrupts cannot be taken while L2 runs)`,
  },
  INTERCEPT_CR8_WRITE: { nested: `${INTERCEPT_NESTED}; L0's CR8-write intercept is dropped when vmcb12 sets V_INTR_MASKING (L2's CR8 does not affect L1's interrupts)` },
  INTERCEPT_PAUSE: { nested: 'set in vmcb02 if and only if vmcb12 intercepts PAUSE (KVM does not yield across L2 vCPUs)' },
  INTERCEPT_SMI: { nested: `${INTERCEPT_NESTED}; cleared when KVM itself does not intercept SMIs (intercept_smi = false)` },
  INTERCEPT_VMLOAD: { nested: `${INTERCEPT_NESTED}; forced on when L2 may not use virtual VMLOAD/VMSAVE (nested_vmcb_needs_vls_intercept)` },
  INTERCEPT_VMSAVE: { nested: `${INTERCEPT_NESTED}; forced on when L2 may not use virtual VMLOAD/VMSAVE (nested_vmcb_needs_vls_intercept)` },
  INTERCEPT_MSR_PROT: { meaning: 'intercept RDMSR/WRMSR as selected by the MSR permission map at msrpm_base_pa (SVM_EXIT_MSR); without it no MSR access exits' },
  INTERCEPT_IOIO_PROT: { meaning: 'intercept IN/OUT/INS/OUTS as selected by the I/O permission map at iopm_base_pa (SVM_EXIT_IOIO)' },
  INTERCEPT_EXCEPTION_OFFSET: {},
};

function interceptSymbol([name, bit]: [string, number]): SymbolInfo {
  const word = bit >> 5;
  const exit = SVM_EXIT_BY_CODE.get(bit);
  const trap = name.startsWith('TRAP_');
  const sp = SPECIAL[name] ?? {};
  const what = exit ? exit.meaning : name.replace(/^INTERCEPT_/, '');
  return sym({
    category: 'svm-intercept', name, container: `intercepts[${word}] (VMCB 0x${(word * 4).toString(16).padStart(3, '0')}) bit ${bit & 31}`, bit,
    value: String(bit), meaning: sp.meaning ?? `${trap ? 'trap' : 'intercept'}: ${what}${trap ? ' (the #VMEXIT happens after the write completes; used for SEV-ES guests)' : ''}`,
    nested: sp.nested ?? INTERCEPT_NESTED, exitCode: exit ? `${exit.name} (${hex(bit)})` : `${hex(bit)}`,
    sources: [APM.vmcbLayout, APM.exitCodes, `${SVM_H} (enum of INTERCEPT_* bits; vmcb_set_intercept/vmcb_is_intercept index the 32-bit words)`, NESTED_SRC],
  });
}

const INTERCEPTS: SymbolInfo[] = [
  ...WORDS.map(([name, w, what]) => sym({
    category: 'svm-intercept-word', name, container: `intercepts[${w}] (VMCB 0x${(w * 4).toString(16).padStart(3, '0')})`, value: String(w),
    meaning: `index of intercept word ${w}: ${what}`, nested: INTERCEPT_NESTED, sources: [APM.vmcbLayout, `${SVM_H} (enum intercept_words)`, NESTED_SRC],
  })),
  sym({ category: 'svm-intercept-word', name: 'MAX_INTERCEPT', container: 'intercepts[] (VMCB 0x000-0x017)', value: '6', meaning: 'number of 32-bit intercept words Linux models (intercepts[MAX_INTERCEPT])', sources: [SVM_H] }),
  sym({
    category: 'svm-intercept', name: 'INTERCEPT_EXCEPTION_OFFSET', container: 'intercepts[2] (VMCB 0x008)', bit: 64, value: '64',
    meaning: 'bit number of exception vector 0 in the intercept vector: INTERCEPT_EXCEPTION_OFFSET + vector intercepts that exception (#VMEXIT code SVM_EXIT_EXCP_BASE + vector)',
    nested: INTERCEPT_NESTED, exitCode: 'SVM_EXIT_EXCP_BASE + vector (0x40-0x5f)', sources: [APM.vmcbLayout, APM.exitCodes, SVM_H, NESTED_SRC],
  }),
  ...BITS.map(interceptSymbol),
];

// ---------------------------------------------------------------------------------------------------------------
// misc_ctl (0x090), misc_ctl2 (0x0b8), tlb_ctl (0x05c), erap_ctl (0x05d), int_ctl composites, EVENTINJ

const MISC: SymbolInfo[] = [
  sym({ category: 'svm-misc-ctl', name: 'SVM_MISC_ENABLE_NP', aliases: ['SVM_NESTED_CTL_NP_ENABLE'], container: 'misc_ctl (VMCB 0x090)', bit: 0, value: '0x1',
    meaning: 'enable nested paging: guest-physical addresses are translated through the nested page table at nested_cr3; g_pat is loaded by VMRUN',
    nested: 'set in vmcb02 whenever KVM uses NPT itself; L1\'s bit decides whether KVM shadows L1\'s nested page tables for L2 (nested NPT MMU)',
    sources: [APM.vmcbLayout, 'AMD APM Vol.2 §15.25 (nested paging)', SVM_H, `${CODE.linuxNestedSvm} nested_vmcb02_prepare_control`] }),
  sym({ category: 'svm-misc-ctl', name: 'SVM_MISC_ENABLE_SEV', aliases: ['SVM_NESTED_CTL_SEV_ENABLE'], container: 'misc_ctl (VMCB 0x090)', bit: 1, value: '0x2',
    meaning: 'enable SEV: guest memory is encrypted with the key of the guest ASID', nested: 'never offered to L1 (KVM does not run SEV guests as L2)', sources: [APM.vmcbLayout, SVM_H] }),
  sym({ category: 'svm-misc-ctl', name: 'SVM_MISC_ENABLE_SEV_ES', aliases: ['SVM_NESTED_CTL_SEV_ES_ENABLE'], container: 'misc_ctl (VMCB 0x090)', bit: 2, value: '0x4',
    meaning: 'enable SEV-ES: guest register state lives encrypted in the VMSA at vmsa_pa; VMRUN/#VMEXIT swap the full state', nested: 'never offered to L1', sources: [APM.vmcbLayout, SVM_H] }),
  sym({ category: 'svm-misc-ctl', name: 'SVM_MISC2_ENABLE_V_LBR', aliases: ['LBR_CTL_ENABLE_MASK'], container: 'misc_ctl2 (VMCB 0x0b8)', bit: 0, value: '0x1',
    meaning: 'LBR virtualization: VMRUN loads DBGCTL and the last-branch records from the save area (dbgctl, br_from, br_to, last_excp_*) and #VMEXIT saves them (clean bit VMCB_LBR)',
    nested: 'vmcb02 takes L1\'s LBR state only when L1 enables it and KVM offers LBRV to L1; otherwise KVM keeps vmcb01\'s LBR state (svm_update_lbrv)',
    sources: [APM.vmcbLayout, 'AMD APM Vol.2 ch.15 (LBR virtualization)', SVM_H, `${CODE.linuxSvmC} svm_update_lbrv`] }),
  sym({ category: 'svm-misc-ctl', name: 'SVM_MISC2_ENABLE_V_VMLOAD_VMSAVE', aliases: ['VIRTUAL_VMLOAD_VMSAVE_ENABLE_MASK'], container: 'misc_ctl2 (VMCB 0x0b8)', bit: 1, value: '0x2',
    meaning: 'virtualized VMLOAD/VMSAVE: guest VMLOAD/VMSAVE run without #VMEXIT, with the guest-physical VMCB address translated through the nested page table',
    nested: 'with it off for L2 KVM intercepts VMLOAD/VMSAVE in vmcb02 (nested_vmcb_needs_vls_intercept)', sources: [APM.vmcbLayout, SVM_H, `${CODE.linuxNestedSvm} nested_vmcb02_recalc_intercepts`] }),
  ...([['TLB_CONTROL_DO_NOTHING', 0, 'no TLB flush on VMRUN'], ['TLB_CONTROL_FLUSH_ALL_ASID', 1, 'flush the entire TLB (all ASIDs) on VMRUN'],
    ['TLB_CONTROL_FLUSH_ASID', 3, 'flush the TLB entries of this guest\'s ASID on VMRUN'],
    ['TLB_CONTROL_FLUSH_ASID_LOCAL', 7, 'flush the non-global TLB entries of this guest\'s ASID on VMRUN']] as Array<[string, number, string]>).map(([name, v, what]) => sym({
    category: 'svm-tlb-ctl', name, container: 'tlb_ctl (VMCB 0x05c, 8 bits)', value: String(v), meaning: `${what} (values other than those the CPU supports are illegal)`,
    nested: 'nested VMRUN sets vmcb02\'s tlb_ctl to TLB_CONTROL_DO_NOTHING and honours L1\'s request with its own flushes (nested_svm_transition_tlb_flush); vmcb12\'s value is cached masked with TLB_CONTROL_MASK',
    sources: [APM.vmcbLayout, 'AMD APM Vol.2 §15.16 (TLB control)', SVM_H] })),
  sym({ category: 'svm-tlb-ctl', name: 'TLB_CONTROL_MASK', container: 'tlb_ctl (VMCB 0x05c)', value: '0x7', meaning: 'bits 2:0 of tlb_ctl: the TLB_CONTROL_* value', sources: [SVM_H] }),
  sym({ category: 'svm-erap-ctl', name: 'ERAP_CONTROL_ALLOW_LARGER_RAP', container: 'erap_ctl (VMCB 0x05d)', bit: 0, value: '0x1',
    meaning: 'let the guest use the larger return-address predictor (ERAPS)', sources: [APM.vmcbLayout, SVM_H] }),
  sym({ category: 'svm-erap-ctl', name: 'ERAP_CONTROL_CLEAR_RAP', container: 'erap_ctl (VMCB 0x05d)', bit: 1, value: '0x2',
    meaning: 'clear the return-address predictor on the next VMRUN (requested by KVM when the host may have polluted it)', sources: [APM.vmcbLayout, SVM_H] }),
  sym({ category: 'svm-int-ctl', name: 'V_IRQ_INJECTION_BITS_MASK', container: 'int_ctl (VMCB 0x060)', value: '0x1f0100',
    meaning: 'V_IRQ_MASK | V_INTR_PRIO_MASK | V_IGN_TPR_MASK: the bits that describe a pending virtual interrupt. V_IRQ is written back by #VMEXIT, V_INTR_PRIO and V_IGN_TPR are input only',
    nested: 'KVM clears these bits in vmcb01 after using V_IRQ for its own interrupt window, and copies them from vmcb12 into vmcb02 as L1\'s pending virtual interrupt',
    sources: [SVM_H, APM.vintr, `${CODE.linuxNestedSvm} nested_vmcb02_prepare_control`] }),
  sym({ category: 'svm-int-ctl', name: 'SVM_INT_VECTOR_MASK', container: 'int_vector (VMCB 0x064)', value: '0xff',
    meaning: 'bits 7:0 of int_vector: the vector of the virtual interrupt delivered when V_IRQ is taken; input only (not written by #VMEXIT)',
    sources: [SVM_H, APM.vintr] }),
];

const EVENT_SRC = [APM.exitIntInfo, 'AMD APM Vol.2 §15.20 (event injection)', SVM_H];
const EVENT: SymbolInfo[] = ([
  ['VEC_MASK', '0xff', 'bits 7:0: vector'], ['TYPE_SHIFT', '8', 'shift of the 3-bit event type (bits 10:8)'], ['TYPE_MASK', '0x700', 'bits 10:8: event type'],
  ['TYPE_INTR', '0x0', 'type 0: external or virtual interrupt'], ['TYPE_NMI', '0x200', 'type 2: NMI'], ['TYPE_EXEPT', '0x300', 'type 3: exception (fault or trap)'],
  ['TYPE_SOFT', '0x400', 'type 4: software interrupt (INTn)'], ['VALID_ERR', '0x800', 'bit 11 (EV): an error code is pushed; it is in the *_err word'],
  ['VALID', '0x80000000', 'bit 31 (V): the field holds an event'],
] as Array<[string, string, string]>).flatMap(([n, v, what]) => [
  sym({ category: 'svm-event', name: `SVM_EVTINJ_${n}`, container: 'event_inj (VMCB 0x0a8)', value: v, meaning: `EVENTINJ ${what}; VMRUN injects the event when V = 1 and #VMEXIT clears V`, sources: EVENT_SRC }),
  ...(n === 'TYPE_SHIFT' ? [] : [sym({ category: 'svm-event', name: `SVM_EXITINTINFO_${n}`, container: 'exit_int_info (VMCB 0x088)', value: v,
    meaning: `EXITINTINFO ${what}; written by #VMEXIT when it interrupted the delivery of an event`, sources: EVENT_SRC })]),
]);

EVENT.push(sym({ category: 'svm-event', name: 'SVM_EVTINJ_RESERVED_BITS', container: 'event_inj (VMCB 0x0a8)', value: '~0x80000fff',
  meaning: 'EVENTINJ bits other than vector, type, EV and V (30:12): reserved; KVM drops them when it caches vmcb12\'s event_inj (__nested_copy_vmcb_control_to_cache)',
  sources: [...EVENT_SRC, `${CODE.linuxNestedSvm} __nested_copy_vmcb_control_to_cache`] }));

// ---------------------------------------------------------------------------------------------------------------
// Clean bits

const CLEAN: SymbolInfo[] = [
  ...CLEAN_BITS.map((c) => sym({
    category: 'vmcb-clean-bit', name: c.name, container: 'clean (VMCB 0x0c0)', bit: c.bit, value: String(c.bit),
    meaning: `clean bit ${c.bit}: ${c.meaning}${c.fields.length ? `. Covers ${c.fields.join(', ')}` : ''}. When 1, VMRUN may use a cached copy of these fields: KVM must clear it (vmcb_mark_dirty) after changing any of them`,
    nested: 'vmcb02 starts with every group dirty after a nested VMRUN; KVM\'s own vmcb_mark_dirty calls track later changes',
    sources: c.sources,
  })),
  sym({ category: 'vmcb-clean-bit', name: 'VMCB_ALL_CLEAN_MASK', container: 'clean (VMCB 0x0c0)', value: '0x80001fff',
    meaning: 'every clean-bit group Linux knows (VMCB_INTERCEPTS..VMCB_CET and VMCB_SW); vmcb_mark_all_clean() sets clean to it minus VMCB_ALWAYS_DIRTY_MASK before VMRUN', sources: [CODE.linuxKvmSvmH, APM.cleanBits] }),
  sym({ category: 'vmcb-clean-bit', name: 'VMCB_ALWAYS_DIRTY_MASK', container: 'clean (VMCB 0x0c0)', value: '0x208',
    meaning: 'VMCB_INTR | VMCB_CR2: groups KVM never marks clean (it rewrites int_ctl and CR2 before every VMRUN)', sources: [CODE.linuxKvmSvmH, APM.cleanBits] }),
];

export const SVM_SYMBOLS: readonly SymbolInfo[] = [...INTERCEPTS, ...MISC, ...EVENT, ...CLEAN];
