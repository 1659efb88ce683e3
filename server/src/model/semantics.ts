// Hardware rules as pure functions. Diagnostics and simulation call these; the field tables (vmcs.ts, vmcb.ts)
// describe the same rules in prose for hover. Every rule has an entry in RULES with the section it comes from
// (editions: see sources.ts) and the public code that implements it.
import { VMCS_ROWS } from './data/vmcsTable';
import { decodeEncoding } from './encoding';
import { EXIT_INFO_BY_FIELD, exitInfoStatus, type ExitInfoOptions, type ExitInfoStatus, type ExitInfoValidity } from './exitInfo';
import { APM, CODE, SDM } from './sources';
import { VMX_CONTROLS } from './controls';
import type { HostLifetime } from './types';

export interface RuleInfo {
  /** One-line statement of the rule in our own words. */
  summary: string;
  /** Manual section(s) and/or public code the rule was checked against. */
  source: string;
}

/** Sources of every rule function in this module, keyed by function name. */
export const RULES = {
  isPaePaging: {
    summary: 'A logical processor uses PAE paging when CR0.PG = 1, CR4.PAE = 1 and it is not in IA-32e mode (EFER.LME/LMA = 0; at VM entry: the "IA-32e mode guest" control is 0).',
    source: `${SDM.pae}; ${SDM.entryPdpteChecks}; ${CODE.bochsVmx} (guest PDPTE check)`,
  },
  pdptrsLoadedOnEntry: {
    summary: 'VM entry loads the PDPTE registers from GUEST_PDPTR0-3 only if "enable EPT" = 1 and the guest will use PAE paging; with EPT = 0 they come from guest memory at GUEST_CR3.',
    source: `${SDM.entryLoadPdpte}; ${SDM.entryPdpteChecks}; ${CODE.bochsVmx} VMenterLoadCheckGuestState; ${CODE.linuxNestedVmx} prepare_vmcs02 / nested_vmx_load_cr3`,
  },
  pdptrsReadFromGuestMemoryOnEntry: {
    summary: 'With "enable EPT" = 0 and a PAE-paging guest, VM entry reads the PDPTEs from memory at GUEST_CR3 (and may check them); the GUEST_PDPTRn fields are ignored.',
    source: `${SDM.entryLoadPdpte}; ${CODE.bochsVmx} (CheckPDPTR(guest.cr3))`,
  },
  pdptrsDefinedAfterExit: {
    summary: 'A VM exit stores the PDPTE registers into GUEST_PDPTR0-3 only if "enable EPT" = 1 and the guest was using PAE paging at the exit; otherwise the four fields are undefined afterwards.',
    source: `${SDM.exitSaveCrMsr}; ${CODE.bochsVmx} VMexitSaveGuestState; KVM commit c7554efc8335 "KVM: nVMX: Copy PDPTRs to/from vmcs12 only when necessary"; ${CODE.linuxNestedVmx} sync_vmcs02_to_vmcs12`,
  },
  isPdptrField: {
    summary: 'GUEST_PDPTR0..3 (and their _HIGH halves, and vmcs12 guest_pdptr0..3) are the four guest PDPTE fields 0x280A-0x2810.',
    source: `${SDM.guestState}; ${CODE.linuxVmxH}; ${CODE.linuxVmcs12H}`,
  },
  exitInfoFieldDefined: {
    summary: 'Each VM-exit information field is written only for certain basic exit reasons; other exits clear it (exit qualification) or leave it undefined; a failed VM entry writes only the exit reason and qualification and leaves the rest unmodified. VM_EXIT_REASON is written by every exit.',
    source: `${SDM.exitRecordInfo} (§28.2.1-§28.2.5); ${SDM.entryFailure}`,
  },
  vmwriteAllowed: {
    summary: 'VMWRITE fails with error 12 for an unsupported encoding and with error 13 for a read-only (exit-information) field unless IA32_VMX_MISC bit 29 ("VMWRITE to any supported field") is 1.',
    source: `${SDM.vmwrite}; ${CODE.bochsVmx} VMWRITE; ${CODE.linuxNestedVmx} handle_vmwrite (nested_cpu_has_vmwrite_any_field)`,
  },
  guestFieldLoadedOnEntry: {
    summary: 'VM entry loads every guest-state field except the ones gated by a VM-entry control (debug controls, PAT, EFER, PERF_GLOBAL_CTRL, BNDCFGS, RTIT_CTL, CET, FRED, PKRS) or by an execution control (PDPTEs with EPT, guest interrupt status with virtual-interrupt delivery, preemption timer).',
    source: `${SDM.entryLoadGuest}; ${SDM.entryControls}; ${CODE.bochsVmx} VMenterLoadCheckGuestState`,
  },
  guestFieldSavedOnExit: {
    summary: 'A VM exit saves most guest state unconditionally; DR7/DEBUGCTL only with "save debug controls", PAT with "save IA32_PAT", EFER with "save IA32_EFER", PERF_GLOBAL_CTRL with "save IA32_PERF_GLOBAL_CTRL", the preemption-timer value with "save VMX-preemption timer value", PDPTEs only with EPT and PAE paging.',
    source: `${SDM.exitSaveGuest}; ${SDM.exitControls}; ${CODE.bochsVmx} VMexitSaveGuestState; ${CODE.linuxNestedVmx} sync_vmcs02_to_vmcs12`,
  },
  hostFieldLoadedOnExit: {
    summary: 'A VM exit loads every host-state field; HOST_IA32_PAT/EFER/PERF_GLOBAL_CTRL, CET and FRED state only when the matching "load ..." VM-exit control is 1.',
    source: `${SDM.exitLoadHost}; ${CODE.bochsVmx} VMexitLoadHostState; ${CODE.linuxNestedVmx} load_vmcs12_host_state`,
  },
  hostLifetime: {
    summary: 'KVM writes host-state fields at three frequencies: once per VMCS (constant), when the vCPU moves to another physical CPU (per-cpu), or before each run / on task switch (per-task).',
    source: `${CODE.linuxVmxC} vmx_set_constant_host_state, vmx_vcpu_load_vmcs, vmx_vcpu_run, vmx_set_host_fs_gs, vmx_update_host_rsp`,
  },
  intCtlWrittenBack: {
    summary: 'On #VMEXIT the processor writes back V_TPR and V_IRQ always, V_GIF only when vGIF is enabled, V_NMI_PENDING/V_NMI_BLOCKING only when vNMI is enabled, and never the control bits (V_INTR_PRIO, V_IGN_TPR, V_INTR_MASKING, V_GIF_ENABLE, V_NMI_ENABLE, X2APIC_MODE, AVIC_ENABLE).',
    source: `${APM.vmexit}; ${CODE.linuxNestedSvm} nested_sync_control_from_vmcb02; ${CODE.bochsSvm} SvmExitSaveGuestState`,
  },
  vmxMsrIntercepted: {
    summary: 'With "use MSR bitmaps" = 1, RDMSR/WRMSR of MSR m exits iff its bit is set (read-low 0x000, read-high 0x400, write-low 0x800, write-high 0xC00; bit m & 0x1FFF); MSRs outside 0-0x1FFF and 0xC0000000-0xC0001FFF always exit, and so does everything when the bitmap is not used.',
    source: `${SDM.msrBitmap}; ${SDM.condExits}; ${CODE.bochsVmexit} VMexit_MSR`,
  },
  svmMsrIntercepted: {
    summary: 'With the MSR_PROT intercept set, RDMSR/WRMSR of MSR m exits (SVM_EXIT_MSR) iff its MSRPM bit is set (2 bits per MSR, read = even, write = odd; ranges 0, 0xC0000000, 0xC0010000 at 0x0/0x800/0x1000); MSRs outside the ranges always exit. Without MSR_PROT nothing is intercepted.',
    source: `${APM.msrIntercepts}; ${CODE.bochsSvm} SvmInterceptMSR; ${CODE.qemuSvm} cpu_svm_check_intercept_param; ${CODE.linuxNestedSvm} nested_svm_exit_handled_msr`,
  },
  vmsaveCovers: {
    summary: 'VMSAVE/VMLOAD transfer exactly FS, GS, TR, LDTR (with hidden state), KernelGsBase, STAR, LSTAR, CSTAR, SFMASK, SYSENTER_CS/ESP/EIP.',
    source: `${APM.vmsave}; ${CODE.bochsSvm} VMLOAD/VMSAVE; ${CODE.linuxNestedSvm} svm_copy_vmloadsave_state`,
  },
  vmrunSavesHost: {
    summary: 'VMRUN saves host ES/CS/SS/DS, GDTR, IDTR, EFER, CR0, CR3, CR4, RFLAGS, RIP, RSP, RAX and IA32_PAT (plus CET and LBR state where enabled) to the host save area (VM_HSAVE_PA); the rest needs VMSAVE.',
    source: `${APM.vmrun}; ${CODE.bochsSvm} SvmEnterSaveHostState (incl. pat_msr); ${CODE.qemuSvm} helper_vmrun; ${CODE.linuxNestedSvm} svm_copy_vmrun_state`,
  },
  vmexitWritesVmcb: {
    summary: '#VMEXIT writes the guest save-area state VMRUN loaded (segments ES/CS/SS/DS, GDTR/IDTR, EFER, CRs, DRs, RFLAGS, RIP, RSP, RAX, CPL, g_pat with NPT) and the exit fields (exit_code, exit_info_1/2, exit_int_info, next_rip, insn bytes), int_state and the int_ctl write-back bits.',
    source: `${APM.vmexit}; ${CODE.bochsSvm} SvmExitSaveGuestState / Svm_Vmexit; ${CODE.qemuSvm} do_vmexit`,
  },
} as const satisfies Record<string, RuleInfo>;

export type RuleName = keyof typeof RULES;

// ---------------------------------------------------------------------------------------------------------------
// VMX control bits (Linux names and values, arch/x86/include/asm/vmx.h in 7.1.5; FRED bits from the posted series)

export interface VmxControlBit { name: string; field: string; value: number; meaning: string; source: string }

const ctl = (name: string, field: string, value: number, meaning: string, source: string = CODE.linuxVmxH): VmxControlBit =>
  ({ name, field, value, meaning, source });

/** Controls Linux 7.1.5 does not name (FRED from the posted series, PKRS named after Bochs). */
const NON_LINUX_CONTROL_BITS: readonly VmxControlBit[] = [
  ctl('VM_ENTRY_LOAD_IA32_LBR_CTL', 'VM_ENTRY_CONTROLS', 0x200000, 'load guest IA32_LBR_CTL on entry (name not in Linux 7.1.5)', `${SDM.entryControls} (bit 21)`),
  ctl('VM_EXIT_CLEAR_IA32_LBR_CTL', 'VM_EXIT_CONTROLS', 0x4000000, 'clear IA32_LBR_CTL on exit (name not in Linux 7.1.5)', `${SDM.exitControls} (bit 26)`),
  ctl('VM_ENTRY_LOAD_IA32_FRED', 'VM_ENTRY_CONTROLS', 0x800000, 'load guest FRED state on entry', 'LKML KVM FRED series (not in Linux 7.1.5); Bochs bochs/cpu/vmx_ctrls.h'),
  ctl('SECONDARY_VM_EXIT_SAVE_IA32_FRED', 'SECONDARY_VM_EXIT_CONTROLS', 0x1, 'save guest FRED state on exit', 'LKML KVM FRED series (not in Linux 7.1.5); Bochs bochs/cpu/vmx_ctrls.h'),
  ctl('SECONDARY_VM_EXIT_LOAD_IA32_FRED', 'SECONDARY_VM_EXIT_CONTROLS', 0x2, 'load host FRED state on exit', 'LKML KVM FRED series (not in Linux 7.1.5); Bochs bochs/cpu/vmx_ctrls.h'),
  ctl('VM_ENTRY_LOAD_IA32_PKRS', 'VM_ENTRY_CONTROLS', 0x400000, 'load guest IA32_PKRS on entry (name not in Linux)', 'Bochs bochs/cpu/vmx_ctrls.h VMX_VMENTRY_CTRL1_LOAD_GUEST_PKRS'),
  ctl('VM_EXIT_LOAD_IA32_PKRS', 'VM_EXIT_CONTROLS', 0x20000000, 'load host IA32_PKRS on exit (name not in Linux)', 'Bochs bochs/cpu/vmx_ctrls.h VMX_VMEXIT_CTRL1_LOAD_HOST_PKRS'),
];

/** Every control bit: the Linux ones from controls.ts (one table for hover and simulation), then the extras. */
export const VMX_CONTROL_BITS: readonly VmxControlBit[] = [
  ...VMX_CONTROLS.filter((c) => c.category === 'vmx-control').map((c) => ctl(c.name, c.container, Number(c.value), c.meaning, c.sources[1])),
  ...NON_LINUX_CONTROL_BITS,
];
export const VMX_CONTROL_BY_NAME: ReadonlyMap<string, VmxControlBit> = new Map(VMX_CONTROL_BITS.map((c) => [c.name, c]));

/** Which controls are 1. Missing names are treated as 0. Keys are Linux macro names (VMX_CONTROL_BITS). */
export type ControlSettings = Readonly<Partial<Record<string, boolean>>>;

// ---------------------------------------------------------------------------------------------------------------
// PAE paging and the PDPTE fields

export interface PagingConfig {
  /** CR0.PG of the guest (at entry: the GUEST_CR0 field; at exit: the guest's CR0 when it exited). */
  pg: boolean;
  /** CR4.PAE of the guest. */
  pae: boolean;
  /** Guest in IA-32e mode (entry: VM_ENTRY_IA32E_MODE control; exit: EFER.LMA). */
  ia32eGuest: boolean;
}
export interface PdptrConfig extends PagingConfig {
  /** Secondary control "enable EPT" (SECONDARY_EXEC_ENABLE_EPT). */
  ept: boolean;
}

export function isPaePaging(cfg: PagingConfig): boolean {
  return cfg.pg && cfg.pae && !cfg.ia32eGuest;
}

// (The paging mode is tested before the EPT control: outside PAE paging the control does not matter, and a caller may
// compute it only when asked — features/simulate/symbolic.ts leaves enable_ept open until something needs it.)

/** VM entry loads the PDPTE registers from GUEST_PDPTR0-3 (and checks them). */
export function pdptrsLoadedOnEntry(cfg: PdptrConfig): boolean {
  return isPaePaging(cfg) && cfg.ept;
}

/** VM entry takes the PDPTEs from guest memory at GUEST_CR3 instead (EPT off, PAE paging). */
export function pdptrsReadFromGuestMemoryOnEntry(cfg: PdptrConfig): boolean {
  return isPaePaging(cfg) && !cfg.ept;
}

/** The values a VM exit leaves in GUEST_PDPTR0-3 are defined (the CPU stored its PDPTE registers). */
export function pdptrsDefinedAfterExit(cfg: PdptrConfig): boolean {
  return isPaePaging(cfg) && cfg.ept;
}

const PDPTR_RE = /^(?:GUEST_PDPTR[0-3](?:_HIGH)?|guest_pdptr[0-3]|VMCS_64BIT_GUEST_IA32_PDPTE[0-3](?:_HI)?|GUEST_PDPTE)$/;
export function isPdptrField(name: string): boolean {
  return PDPTR_RE.test(name);
}

// ---------------------------------------------------------------------------------------------------------------
// VM-exit information fields

const FIELD_NAME_BY_ENCODING = new Map<number, string>(VMCS_ROWS.map((r) => [r.encoding, r.name]));
const ENCODING_BY_NAME = new Map<string, number>(VMCS_ROWS.filter((r) => r.name !== '-').map((r) => [r.name, r.encoding]));
const VMCS12_MEMBER_TO_NAME = new Map<string, string>(
  VMCS_ROWS.filter((r) => r.vmcs12 && r.access === 'full' && r.name !== '-').map((r) => [r.vmcs12 ?? '', r.name]),
);

/** Normalise a VMCS field reference (Linux name, `_HIGH` name, vmcs12 member, encoding) to the Linux full-field name. */
export function normaliseVmcsFieldName(field: string | number): string | undefined {
  if (typeof field === 'number') {
    const n = FIELD_NAME_BY_ENCODING.get(field & ~1);
    return n && n !== '-' ? n : undefined;
  }
  if (ENCODING_BY_NAME.has(field)) return field.endsWith('_HIGH') ? field.slice(0, -5) : field;
  const m = VMCS12_MEMBER_TO_NAME.get(field.replace(/^vmcs12(?:->|\.)/, ''));
  if (m) return m;
  if (/^IO_R(CX|SI|DI|IP)$/.test(field)) return field;
  return undefined;
}

export interface ExitInfoAnswer {
  /**
   * 'always': the value is architecturally defined for this reason (written, or cleared to 0 — see `status`);
   * 'conditional': written only in the sub-case named by `condition`; 'never': undefined, or left unmodified by a
   * failed VM entry (a stale value of an earlier exit).
   */
  defined: 'always' | 'conditional' | 'never';
  /** What the exit does to the field (exitInfo.ts exitInfoStatus). */
  status: ExitInfoStatus;
  condition?: string;
  /** Outside `condition`: 'cleared' or 'undefined'. */
  otherwise?: ExitInfoStatus;
  /** Bit 31 (valid) of the interruption-information fields is written on every exit even when `defined` is 'never'. */
  validBitAlwaysWritten?: boolean;
  rule: ExitInfoValidity;
}

/**
 * Detailed answer: what does the exit with `basicExitReason` (basic reason or full VM_EXIT_REASON; bit 31 = failed
 * VM entry) leave in `field`? undefined = not an exit-information field.
 */
export function exitInfoValidity(field: string | number, basicExitReason: number, opts: ExitInfoOptions = {}): ExitInfoAnswer | undefined {
  const name = normaliseVmcsFieldName(field);
  const rule = name ? EXIT_INFO_BY_FIELD.get(name) : undefined;
  if (!rule || !name) return undefined;
  const st = exitInfoStatus(name, basicExitReason, opts);
  if (!st) return undefined;
  const a: ExitInfoAnswer = {
    defined: st.status === 'undefined' || st.status === 'unmodified' ? 'never' : st.condition ? 'conditional' : 'always',
    status: st.status, rule,
  };
  if (st.condition) a.condition = st.condition;
  if (st.otherwise) a.otherwise = st.otherwise;
  if (rule.validBitAlwaysWritten && st.status !== 'unmodified') a.validBitAlwaysWritten = true;
  return a;
}

/**
 * Is the exit-information field `fieldName` defined after a VM exit with this basic exit reason?
 * true = defined (possibly only in a sub-case, see exitInfoValidity), false = undefined for this reason,
 * undefined = `fieldName` is not an exit-information field (or unknown).
 */
export function exitInfoFieldDefined(fieldName: string | number, basicExitReason: number, opts: ExitInfoOptions = {}): boolean | undefined {
  const a = exitInfoValidity(fieldName, basicExitReason, opts);
  return a ? a.defined !== 'never' : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// VMWRITE

export const VMXERR_UNSUPPORTED_VMCS_COMPONENT = 12;
export const VMXERR_VMWRITE_READ_ONLY_VMCS_COMPONENT = 13;

function encodingOf(field: string | number | { encoding: number }): number | undefined {
  if (typeof field === 'number') return field;
  if (typeof field === 'object') return field.encoding;
  return ENCODING_BY_NAME.get(field);
}

/** VM-instruction error a VMWRITE to `field` would fail with, or undefined if it succeeds. */
export function vmwriteError(field: string | number | { encoding: number }, vmwriteAnyField: boolean): number | undefined {
  const enc = encodingOf(field);
  if (enc === undefined || !decodeEncoding(enc).valid) return VMXERR_UNSUPPORTED_VMCS_COMPONENT;
  if (decodeEncoding(enc).type === 'read-only' && !vmwriteAnyField) return VMXERR_VMWRITE_READ_ONLY_VMCS_COMPONENT;
  return undefined;
}

/** May software VMWRITE this field? `vmwriteAnyField` = IA32_VMX_MISC bit 29 (KVM: nested_cpu_has_vmwrite_any_field). */
export function vmwriteAllowed(field: string | number | { encoding: number }, vmwriteAnyField: boolean): boolean {
  return vmwriteError(field, vmwriteAnyField) === undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Guest-state load (VM entry) and save (VM exit)

/**
 * How a transition treats a field: 'always'; 'never'; 'pdptr' (EPT ∧ PAE paging); 'control:NAME' (only when the
 * named control is 1); 'smm' (only SMM VM exits / VM entries that return from SMM — the dual-monitor treatment, which
 * KVM never uses; undefined after other exits); 'supported:TEXT' (every time, on processors that support the feature).
 */
export type TransitionCondition = 'always' | 'never' | 'pdptr' | 'smm' | `control:${string}` | `supported:${string}`;

export interface GuestFieldRule { entry: TransitionCondition; exit: TransitionCondition; note?: string }

const SEG_RULE: GuestFieldRule = { entry: 'always', exit: 'always' };
const GUEST_RULES = new Map<string, GuestFieldRule>();
for (const s of ['ES', 'CS', 'SS', 'DS', 'FS', 'GS', 'LDTR', 'TR']) {
  for (const p of ['SELECTOR', 'LIMIT', 'AR_BYTES', 'BASE']) GUEST_RULES.set(`GUEST_${s}_${p}`, SEG_RULE);
}
for (const n of ['GUEST_GDTR_BASE', 'GUEST_GDTR_LIMIT', 'GUEST_IDTR_BASE', 'GUEST_IDTR_LIMIT', 'GUEST_CR0', 'GUEST_CR4',
  'GUEST_RSP', 'GUEST_RIP', 'GUEST_RFLAGS', 'GUEST_SYSENTER_CS', 'GUEST_SYSENTER_ESP', 'GUEST_SYSENTER_EIP',
  'GUEST_ACTIVITY_STATE', 'GUEST_INTERRUPTIBILITY_INFO', 'GUEST_PENDING_DBG_EXCEPTIONS']) GUEST_RULES.set(n, SEG_RULE);
GUEST_RULES.set('GUEST_CR3', { entry: 'always', exit: 'always', note: 'with EPT = 0 KVM puts its shadow-page-table root here, not the guest CR3' });
GUEST_RULES.set('GUEST_DR7', { entry: 'control:VM_ENTRY_LOAD_DEBUG_CONTROLS', exit: 'control:VM_EXIT_SAVE_DEBUG_CONTROLS' });
GUEST_RULES.set('GUEST_IA32_DEBUGCTL', { entry: 'control:VM_ENTRY_LOAD_DEBUG_CONTROLS', exit: 'control:VM_EXIT_SAVE_DEBUG_CONTROLS' });
GUEST_RULES.set('GUEST_IA32_PAT', { entry: 'control:VM_ENTRY_LOAD_IA32_PAT', exit: 'control:VM_EXIT_SAVE_IA32_PAT' });
GUEST_RULES.set('GUEST_IA32_EFER', {
  entry: 'control:VM_ENTRY_LOAD_IA32_EFER', exit: 'control:VM_EXIT_SAVE_IA32_EFER',
  note: 'without "load IA32_EFER", entry sets only EFER.LMA/LME from the "IA-32e mode guest" control',
});
GUEST_RULES.set('GUEST_IA32_PERF_GLOBAL_CTRL', { entry: 'control:VM_ENTRY_LOAD_IA32_PERF_GLOBAL_CTRL', exit: 'control:VM_EXIT_SAVE_IA32_PERF_GLOBAL_CTRL' });
GUEST_RULES.set('GUEST_BNDCFGS', { entry: 'control:VM_ENTRY_LOAD_BNDCFGS', exit: 'supported:processors supporting "load IA32_BNDCFGS" or "clear IA32_BNDCFGS"' });
GUEST_RULES.set('GUEST_IA32_LBR_CTL', { entry: 'control:VM_ENTRY_LOAD_IA32_LBR_CTL', exit: 'supported:processors supporting "load guest IA32_LBR_CTL" or "clear IA32_LBR_CTL"' });
GUEST_RULES.set('GUEST_IA32_RTIT_CTL', { entry: 'control:VM_ENTRY_LOAD_IA32_RTIT_CTL', exit: 'supported:processors supporting "load IA32_RTIT_CTL" or "clear IA32_RTIT_CTL"' });
for (const n of ['GUEST_S_CET', 'GUEST_SSP', 'GUEST_INTR_SSP_TABLE']) {
  GUEST_RULES.set(n, { entry: 'control:VM_ENTRY_LOAD_CET_STATE', exit: 'supported:processors supporting "load CET state"' });
}
for (const n of ['GUEST_IA32_FRED_CONFIG', 'GUEST_IA32_FRED_RSP1', 'GUEST_IA32_FRED_RSP2', 'GUEST_IA32_FRED_RSP3',
  'GUEST_IA32_FRED_STKLVLS', 'GUEST_IA32_FRED_SSP1', 'GUEST_IA32_FRED_SSP2', 'GUEST_IA32_FRED_SSP3']) {
  GUEST_RULES.set(n, { entry: 'control:VM_ENTRY_LOAD_IA32_FRED', exit: 'control:SECONDARY_VM_EXIT_SAVE_IA32_FRED' });
}
for (const n of ['GUEST_PDPTR0', 'GUEST_PDPTR1', 'GUEST_PDPTR2', 'GUEST_PDPTR3']) GUEST_RULES.set(n, { entry: 'pdptr', exit: 'pdptr' });
GUEST_RULES.set('VMCS_LINK_POINTER', { entry: 'never', exit: 'never', note: 'not processor state: VM entry only checks it (all ones, or with "VMCS shadowing" = 1 the address of a shadow VMCS that VMREAD/VMWRITE in VMX non-root operation use); VM exit does not modify it' });
GUEST_RULES.set('VMX_PREEMPTION_TIMER_VALUE', { entry: 'control:PIN_BASED_VMX_PREEMPTION_TIMER', exit: 'control:VM_EXIT_SAVE_VMX_PREEMPTION_TIMER' });
GUEST_RULES.set('GUEST_INTR_STATUS', { entry: 'control:SECONDARY_EXEC_VIRTUAL_INTR_DELIVERY', exit: 'control:SECONDARY_EXEC_VIRTUAL_INTR_DELIVERY' });
GUEST_RULES.set('GUEST_PML_INDEX', { entry: 'control:SECONDARY_EXEC_ENABLE_PML', exit: 'control:SECONDARY_EXEC_ENABLE_PML', note: 'the processor decrements it in place while logging' });
GUEST_RULES.set('GUEST_IA32_PKRS', { entry: 'control:VM_ENTRY_LOAD_IA32_PKRS', exit: 'supported:processors supporting PKS' });
GUEST_RULES.set('GUEST_UINV', { entry: 'supported:processors supporting user interrupts', exit: 'supported:processors supporting user interrupts' });
GUEST_RULES.set('GUEST_SMBASE', { entry: 'smm', exit: 'smm', note: 'dual-monitor treatment of SMM only: SMM VM exits save SMBASE here, VM entries that return from SMM load it; after every other VM exit the field is undefined' });

export function guestFieldRule(name: string): GuestFieldRule | undefined {
  return GUEST_RULES.get(name.endsWith('_HIGH') ? name.slice(0, -5) : name);
}

function evalCondition(c: TransitionCondition, controls: ControlSettings, pdptr: () => boolean): boolean {
  if (c === 'always') return true;
  if (c === 'never') return false;
  if (c === 'pdptr') return pdptr();
  if (c === 'smm') return false;
  if (c.startsWith('control:')) return controls[c.slice(8)] === true;
  return true; // supported:... — written whenever the feature exists
}

export interface EntryContext { controls: ControlSettings; paging?: PagingConfig }
export interface ExitContext { controls: ControlSettings; paging?: PagingConfig }

function eptOn(ctx: EntryContext | ExitContext): boolean {
  return ctx.controls.SECONDARY_EXEC_ENABLE_EPT === true;
}

/** Does VM entry load the guest-state field `name` into the processor? undefined = not a guest-state field we know. */
export function guestFieldLoadedOnEntry(name: string, ctx: EntryContext): boolean | undefined {
  const r = guestFieldRule(name);
  if (!r) return undefined;
  const paging = ctx.paging ?? { pg: false, pae: false, ia32eGuest: ctx.controls.VM_ENTRY_IA32E_MODE === true };
  return evalCondition(r.entry, ctx.controls, () => pdptrsLoadedOnEntry({ ...paging, ept: eptOn(ctx) }));
}

/** Does VM exit store a defined value into the guest-state field `name`? undefined = not a guest-state field we know. */
export function guestFieldSavedOnExit(name: string, ctx: ExitContext): boolean | undefined {
  const r = guestFieldRule(name);
  if (!r) return undefined;
  const paging = ctx.paging ?? { pg: false, pae: false, ia32eGuest: false };
  return evalCondition(r.exit, ctx.controls, () => pdptrsDefinedAfterExit({ ...paging, ept: eptOn(ctx) }));
}

// ---------------------------------------------------------------------------------------------------------------
// Host-state fields: what VM exit loads, and how long KVM's value stays valid

export interface HostFieldRule { exit: TransitionCondition; lifetime?: HostLifetime; kvmWriters: string[]; note?: string }

const HOST_RULES = new Map<string, HostFieldRule>();
const host = (names: string[], rule: HostFieldRule): void => { for (const n of names) HOST_RULES.set(n, rule); };
host(['HOST_CR0'], { exit: 'always', lifetime: 'constant', kvmWriters: ['vmx_set_constant_host_state'] });
host(['HOST_CR3', 'HOST_CR4'], {
  exit: 'always', lifetime: 'per-task', kvmWriters: ['vmx_set_constant_host_state', 'vmx_vcpu_run'],
  note: 'vmx_vcpu_run() compares the current value with the cached one before every entry and rewrites it when the task (CR3) or CR4 changed',
});
host(['HOST_CS_SELECTOR', 'HOST_DS_SELECTOR', 'HOST_ES_SELECTOR', 'HOST_SS_SELECTOR', 'HOST_TR_SELECTOR'],
  { exit: 'always', lifetime: 'constant', kvmWriters: ['vmx_set_constant_host_state'] });
host(['HOST_IDTR_BASE'], {
  exit: 'always', lifetime: 'constant', kvmWriters: ['vmx_set_constant_host_state'],
  note: 'all CPUs share one IDT after boot; KVM reads it once (host_idt_base) — seed 000. The IDTR limit is forced to 0xFFFF by the exit',
});
host(['HOST_RIP'], { exit: 'always', lifetime: 'constant', kvmWriters: ['vmx_set_constant_host_state'], note: 'points at vmx_vmexit' });
host(['HOST_IA32_SYSENTER_CS', 'HOST_IA32_SYSENTER_EIP'], { exit: 'always', lifetime: 'constant', kvmWriters: ['vmx_set_constant_host_state'] });
host(['HOST_IA32_PAT'], { exit: 'control:VM_EXIT_LOAD_IA32_PAT', lifetime: 'constant', kvmWriters: ['vmx_set_constant_host_state'] });
host(['HOST_IA32_EFER'], { exit: 'control:VM_EXIT_LOAD_IA32_EFER', lifetime: 'constant', kvmWriters: ['vmx_set_constant_host_state'] });
host(['HOST_S_CET', 'HOST_SSP', 'HOST_INTR_SSP_TABLE'], { exit: 'control:VM_EXIT_LOAD_CET_STATE', lifetime: 'constant', kvmWriters: ['vmx_set_constant_host_state'] });
host(['HOST_IA32_PERF_GLOBAL_CTRL'], {
  exit: 'control:VM_EXIT_LOAD_IA32_PERF_GLOBAL_CTRL', lifetime: 'per-task', kvmWriters: ['vmx_set_constant_host_state', 'add_atomic_switch_msr (atomic_switch_perf_msrs, from vmx_vcpu_run)'],
  note: 'initialised to 0 with the constant state, then rewritten before each run when perf needs PERF_GLOBAL_CTRL switched atomically',
});
host(['HOST_TR_BASE'], { exit: 'always', lifetime: 'per-cpu', kvmWriters: ['vmx_vcpu_load_vmcs'], note: 'per-CPU TSS; the exit also forces the TR limit to 0x67' });
host(['HOST_GDTR_BASE'], { exit: 'always', lifetime: 'per-cpu', kvmWriters: ['vmx_vcpu_load_vmcs'], note: 'per-CPU GDT; the exit forces the GDTR limit to 0xFFFF' });
host(['HOST_IA32_SYSENTER_ESP'], {
  exit: 'always', lifetime: 'per-cpu', kvmWriters: ['vmx_vcpu_load_vmcs', 'vmx_set_constant_host_state'],
  note: 'per-CPU entry stack when IA32 emulation or a 32-bit kernel is configured; otherwise a constant 0',
});
host(['HOST_RSP'], { exit: 'always', lifetime: 'per-task', kvmWriters: ['vmx_update_host_rsp'] });
host(['HOST_FS_SELECTOR', 'HOST_GS_SELECTOR', 'HOST_FS_BASE', 'HOST_GS_BASE'], {
  exit: 'always', lifetime: 'per-task', kvmWriters: ['vmx_prepare_switch_to_guest', 'vmx_set_host_fs_gs'],
  note: 'init_vmcs() zeroes them; vmx_prepare_switch_to_guest() writes the current task\'s values via vmx_set_host_fs_gs()',
});
host(['HOST_IA32_FRED_CONFIG', 'HOST_IA32_FRED_RSP1', 'HOST_IA32_FRED_RSP2', 'HOST_IA32_FRED_RSP3', 'HOST_IA32_FRED_STKLVLS',
  'HOST_IA32_FRED_SSP1', 'HOST_IA32_FRED_SSP2', 'HOST_IA32_FRED_SSP3'], {
  exit: 'control:SECONDARY_VM_EXIT_LOAD_IA32_FRED', kvmWriters: [],
  note: 'FRED host state is not in Linux 7.1.5; its KVM lifetime depends on the posted series',
});
host(['HOST_IA32_PKRS'], { exit: 'control:VM_EXIT_LOAD_IA32_PKRS', kvmWriters: [] });
host(['HOST_IA32_SPEC_CTRL'], { exit: 'supported:processors with IA32_SPEC_CTRL virtualization (tertiary controls)', kvmWriters: [] });

export function hostFieldRule(name: string): HostFieldRule | undefined {
  return HOST_RULES.get(name.endsWith('_HIGH') ? name.slice(0, -5) : name);
}

/** KVM lifetime class of a host-state field (semantics.md §b), undefined for non-host fields. */
export function hostLifetime(name: string): HostLifetime | undefined {
  return hostFieldRule(name)?.lifetime;
}

/** Does VM exit load the processor state from host-state field `name`? */
export function hostFieldLoadedOnExit(name: string, ctx: ExitContext): boolean | undefined {
  const r = hostFieldRule(name);
  return r ? evalCondition(r.exit, ctx.controls, () => false) : undefined;
}

/** Human text for a TransitionCondition. */
export function describeCondition(c: TransitionCondition, verb: string): string {
  if (c === 'always') return `${verb} on every transition`;
  if (c === 'never') return `not ${verb}`;
  if (c === 'pdptr') return `${verb} only if "enable EPT" = 1 and the guest uses PAE paging (CR0.PG = 1, CR4.PAE = 1, not IA-32e mode)`;
  if (c === 'smm') return `${verb} only by SMM VM exits / VM entries that return from SMM (dual-monitor treatment)`;
  if (c.startsWith('control:')) return `${verb} only if ${c.slice(8)} = 1`;
  return `${verb} on every transition, on ${c.slice(10)}`;
}

// ---------------------------------------------------------------------------------------------------------------
// SVM int_ctl write-back

export interface IntCtlConfig {
  /** vGIF enabled for this VMCB (V_GIF_ENABLE set; KVM nested: nested_vgif_enabled()). */
  vgif: boolean;
  /** vNMI enabled for this VMCB (V_NMI_ENABLE set; KVM nested: nested_vnmi_enabled()). */
  vnmi: boolean;
  /** SEV-ES guest (only for int_state bit 1, SVM_GUEST_INTERRUPT_MASK). */
  sevEs?: boolean;
}

type WritebackClass = 'always' | 'never' | 'vgif' | 'vnmi' | 'sev-es';

const INT_CTL_WRITEBACK: Readonly<Record<string, WritebackClass>> = {
  V_TPR: 'always', V_IRQ: 'always', V_GIF: 'vgif', V_NMI_PENDING: 'vnmi', V_NMI_BLOCKING: 'vnmi',
  V_INTR_PRIO: 'never', V_IGN_TPR: 'never', V_INTR_MASKING: 'never', V_GIF_ENABLE: 'never', V_NMI_ENABLE: 'never',
  X2APIC_MODE: 'never', AVIC_ENABLE: 'never', SVM_INTERRUPT_SHADOW: 'always', SVM_GUEST_INTERRUPT: 'sev-es',
};

function intCtlKey(bitName: string): string {
  return bitName.replace(/_(MASK|SHIFT)$/, '').replace(/^V_GIF_ENABLED$/, 'V_GIF_ENABLE');
}

/** Write-back class of an int_ctl/int_state bit (mask, shift or bare name), or undefined if unknown. */
export function intCtlWritebackClass(bitName: string): WritebackClass | undefined {
  return INT_CTL_WRITEBACK[intCtlKey(bitName)];
}

/**
 * Does the processor write this int_ctl bit back into the VMCB on #VMEXIT under `cfg`?
 * Accepts `V_IRQ_MASK`, `V_IRQ_SHIFT` or `V_IRQ`. Unknown names → false.
 */
export function intCtlWrittenBack(bitName: string, cfg: IntCtlConfig): boolean {
  const c = intCtlWritebackClass(bitName);
  if (c === 'always') return true;
  if (c === 'vgif') return cfg.vgif;
  if (c === 'vnmi') return cfg.vnmi;
  if (c === 'sev-es') return cfg.sevEs === true;
  return false;
}

/** The int_ctl mask the processor writes back under `cfg` (what KVM's nested_sync_control_from_vmcb02 copies). */
export function intCtlWritebackMask(cfg: IntCtlConfig): number {
  let mask = 0x0f | 0x100; // V_TPR_MASK | V_IRQ_MASK
  if (cfg.vgif) mask |= 0x200;
  if (cfg.vnmi) mask |= 0x800 | 0x1000;
  return mask;
}

// ---------------------------------------------------------------------------------------------------------------
// MSR interception

/** Byte and bit of MSR `index` in the VMX MSR bitmap for a read or a write, or undefined if outside both ranges. */
export function vmxMsrBitmapBit(index: number, write: boolean): { byte: number; bit: number } | undefined {
  let base: number;
  if (index >= 0 && index <= 0x1fff) base = 0;
  else if (index >= 0xc0000000 && index <= 0xc0001fff) base = 0x400;
  else return undefined;
  const n = index & 0x1fff;
  return { byte: base + (write ? 0x800 : 0) + (n >> 3), bit: n & 7 };
}

/**
 * Does RDMSR (write = false) or WRMSR (write = true) of MSR `index` cause a VM exit?
 * `bitmap` = the 4 KiB MSR bitmap, or undefined when "use MSR bitmaps" is 0.
 */
export function vmxMsrIntercepted(bitmap: Uint8Array | undefined, index: number, write: boolean): boolean {
  if (!bitmap) return true;
  const pos = vmxMsrBitmapBit(index, write);
  if (!pos) return true;
  return ((bitmap[pos.byte] ?? 0) >> pos.bit & 1) === 1;
}

const MSRPM_RANGES = [0, 0xc0000000, 0xc0010000] as const;

/** Bit number of MSR `index` in the SVM MSRPM (read = even bit; write = read + 1), or undefined outside the three ranges. */
export function svmMsrpmBitNumber(index: number, write: boolean): number | undefined {
  for (let i = 0; i < MSRPM_RANGES.length; i++) {
    const start = MSRPM_RANGES[i];
    if (index >= start && index <= start + 0x1fff) return i * 0x800 * 8 + (index - start) * 2 + (write ? 1 : 0);
  }
  return undefined;
}

/**
 * Does RDMSR/WRMSR of MSR `index` cause #VMEXIT(SVM_EXIT_MSR)? `msrProt` = INTERCEPT_MSR_PROT set in the VMCB;
 * `msrpm` = the 8 KiB permission map (undefined = all zero).
 */
export function svmMsrIntercepted(msrpm: Uint8Array | undefined, msrProt: boolean, index: number, write: boolean): boolean {
  if (!msrProt) return false;
  const bitNr = svmMsrpmBitNumber(index, write);
  if (bitNr === undefined) return true;
  if (!msrpm) return false;
  return ((msrpm[bitNr >> 3] ?? 0) >> (bitNr & 7) & 1) === 1;
}

// ---------------------------------------------------------------------------------------------------------------
// SVM state transfers (VMCB save-area member names as in Linux struct vmcb_save_area)

export const VMSAVE_MEMBERS = ['fs', 'gs', 'tr', 'ldtr', 'kernel_gs_base', 'star', 'lstar', 'cstar', 'sfmask',
  'sysenter_cs', 'sysenter_esp', 'sysenter_eip'] as const;
export const VMRUN_HOST_SAVE = ['es', 'cs', 'ss', 'ds', 'gdtr', 'idtr', 'efer', 'cr0', 'cr3', 'cr4', 'rflags', 'rip', 'rsp', 'rax'] as const;
/**
 * Host state VMRUN also saves (and #VMEXIT restores) that is not a save-area member: the host PAT (the guest runs with
 * g_pat under nested paging), and, where the feature is enabled for the VMCB, the host CET and LBR state. Sources:
 * Bochs bochs/cpu/svm.cc SvmEnterSaveHostState (pat_msr); AMD APM Vol.2 ch.15 (nested-paging PAT, LBR virtualization,
 * shadow-stack support) — the host save area's format is implementation-specific.
 */
export const VMRUN_HOST_SAVE_OTHER = [
  'host IA32_PAT (restored by #VMEXIT; the guest uses g_pat under nested paging)',
  'host CET state (S_CET, SSP, ISST) when guest shadow stacks are enabled for the VMCB',
  'host DebugCtl/LBR state when LBR virtualization (misc_ctl2 bit 0) is enabled',
] as const;
export const VMRUN_GUEST_LOAD = ['es', 'cs', 'ss', 'ds', 'gdtr', 'idtr', 'efer', 'cr0', 'cr2', 'cr3', 'cr4', 'dr6', 'dr7',
  'rflags', 'rip', 'rsp', 'rax', 'cpl', 'g_pat'] as const;
export const VMEXIT_GUEST_SAVE = VMRUN_GUEST_LOAD;

function segRoot(member: string): string {
  return member.replace(/^save\./, '').replace(/\.(selector|attrib|limit|base)$/, '');
}

/** Is this save-area member transferred by VMSAVE/VMLOAD? (`fs`, `fs.base`, `kernel_gs_base`, ...) */
export function vmsaveCovers(member: string): boolean {
  return (VMSAVE_MEMBERS as readonly string[]).includes(segRoot(member));
}
/** Is this save-area member loaded from the VMCB by VMRUN (guest state)? g_pat only with nested paging. */
export function vmrunLoadsGuest(member: string, npt = true): boolean {
  const m = segRoot(member);
  if (m === 'g_pat') return npt;
  return (VMRUN_GUEST_LOAD as readonly string[]).includes(m);
}
/** Is this register part of the host state VMRUN saves to the host save area? */
export function vmrunSavesHost(member: string): boolean {
  return (VMRUN_HOST_SAVE as readonly string[]).includes(segRoot(member));
}
/** Does #VMEXIT write this save-area member back into the VMCB? */
export function vmexitWritesSaveMember(member: string, npt = true): boolean {
  return vmrunLoadsGuest(member, npt);
}
