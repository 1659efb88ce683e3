// The machine's view of the knowledge model. Every hardware fact the machine uses is read from model/* (the single
// declarative table); this file only adapts shapes. Where a rule function of model/semantics.ts was not available
// when the machine was written, the rule is computed here from the model tables and marked "pending semantics.ts"
// so it can be swapped for the shared function without changing behaviour.
import {
  INT_CTL_BITS, MSRS, VMCS_BY_NAME, VMCS_BY_VMCS12_MEMBER, svmMsrpmPosition, vmxBitmapPosition,
  type HostLifetime, type IntCtlBit, type MsrInfo, type VmcsField,
} from '../index';
import { EXIT_INFO_BY_FIELD } from '../exitInfo';
import { APM, CODE, SDM } from '../sources';

export { APM, CODE, SDM };

export type PagingMode = 'none' | '32-bit' | 'pae' | '4-level' | '5-level';
export const PAGING_MODES: readonly PagingMode[] = ['none', '32-bit', 'pae', '4-level', '5-level'];

// ---- VMCS fields ---------------------------------------------------------------------------------------------

export function vmcsField(name: string): VmcsField | undefined {
  return VMCS_BY_NAME.get(name);
}

export function vmcsFieldByMember(member: string): VmcsField | undefined {
  return VMCS_BY_VMCS12_MEMBER.get(member);
}

export const PDPTR_FIELDS = ['GUEST_PDPTR0', 'GUEST_PDPTR1', 'GUEST_PDPTR2', 'GUEST_PDPTR3'] as const;

/** Paging mode from CR0.PG, CR4.PAE, EFER.LME (IA-32e) and CR4.LA57 (SDM Vol.3A §4.1.1). */
export function pagingMode(cr0: bigint, cr4: bigint, efer: bigint): PagingMode {
  const pg = (cr0 >> 31n) & 1n;
  if (!pg) return 'none';
  const pae = (cr4 >> 5n) & 1n;
  if (!pae) return '32-bit';
  const lme = (efer >> 8n) & 1n;
  if (!lme) return 'pae';
  return (cr4 >> 12n) & 1n ? '5-level' : '4-level';
}

/** CR0/CR4/EFER values that put a processor in `mode`. */
export function registersFor(mode: PagingMode): { cr0: bigint; cr4: bigint; efer: bigint } {
  const PE = 1n, PG = 1n << 31n, PAE = 1n << 5n, LA57 = 1n << 12n, LME = 1n << 8n, LMA = 1n << 10n;
  switch (mode) {
    case 'none': return { cr0: PE, cr4: 0n, efer: 0n };
    case '32-bit': return { cr0: PE | PG, cr4: 0n, efer: 0n };
    case 'pae': return { cr0: PE | PG, cr4: PAE, efer: 0n };
    case '4-level': return { cr0: PE | PG, cr4: PAE, efer: LME | LMA };
    case '5-level': return { cr0: PE | PG, cr4: PAE | LA57, efer: LME | LMA };
  }
}

/**
 * §a: a VM entry takes the PDPTEs from the VMCS iff "enable EPT" = 1 and the guest uses PAE paging; with EPT off
 * and PAE paging they come from memory at guest CR3; otherwise none are loaded. (pending semantics.ts:
 * pdptrsLoadedOnEntry)
 */
export function pdptrsLoadedOnEntry(ept: boolean, mode: PagingMode): 'vmcs' | 'memory' | 'none' {
  if (mode !== 'pae') return 'none';
  return ept ? 'vmcs' : 'memory';
}
export const PDPTR_ENTRY_SOURCE = `${SDM.entryLoadPdpte}; ${SDM.entryPdpteChecks}; ${CODE.bochsVmx} (PDPTE load only when EPT && PG && PAE && !IA-32e)`;

/** §a: GUEST_PDPTRn hold defined values after a VM exit iff EPT = 1 and the guest was in PAE paging. (pending semantics.ts: pdptrsDefinedAfterExit) */
export function pdptrsDefinedAfterExit(ept: boolean, mode: PagingMode): boolean {
  return ept && mode === 'pae';
}
export const PDPTR_EXIT_SOURCE = `${SDM.exitSaveNonReg}; KVM commit c7554efc8335 (changelog quoting the SDM); ${CODE.bochsVmx} VMexitSaveGuestState`;

/** §c: is the exit-information field defined for this basic exit reason? Undefined when the table says so. */
export function exitInfoFieldDefined(field: string, reason: number): { defined: boolean; conditional?: string; source: string } | undefined {
  const v = EXIT_INFO_BY_FIELD.get(field);
  if (!v) return undefined;
  if (v.reasons === 'all') return { defined: true, source: v.source };
  const hit = v.reasons.find((r) => r.reason === reason);
  return hit ? { defined: true, conditional: hit.condition, source: v.source } : { defined: false, source: v.source };
}

export function exitInfoFields(): string[] {
  return [...EXIT_INFO_BY_FIELD.keys()];
}

/** §c: VMWRITE rules. Unsupported component → error 12; read-only (type 1) without IA32_VMX_MISC[29] → error 13. */
export function vmwriteError(name: string, vmwriteAnyField: boolean): 12 | 13 | undefined {
  const f = VMCS_BY_NAME.get(name);
  if (!f) return 12;
  if (f.type === 'read-only' && !vmwriteAnyField) return 13;
  return undefined;
}
export const VMWRITE_SOURCE = `${SDM.vmwrite}; ${SDM.instrError}; ${CODE.bochsVmx} VMWRITE; ${CODE.linuxNestedVmx} handle_vmwrite`;

// ---- Host-state lifetimes (§b) --------------------------------------------------------------------------------

// pending model data: VmcsField.lifetime is declared in model/types.ts but not yet filled; until it is, these
// classes are the ones semantics.md §b reads from vmx.c (vmx_set_constant_host_state / vmx_vcpu_load_vmcs /
// vmx_vcpu_run / vmx_prepare_switch_to_guest).
const LIFETIME_FALLBACK: Record<string, HostLifetime> = {
  HOST_CR0: 'constant', HOST_CS_SELECTOR: 'constant', HOST_DS_SELECTOR: 'constant', HOST_ES_SELECTOR: 'constant',
  HOST_SS_SELECTOR: 'constant', HOST_TR_SELECTOR: 'constant', HOST_IDTR_BASE: 'constant', HOST_RIP: 'constant',
  HOST_IA32_SYSENTER_CS: 'constant', HOST_IA32_SYSENTER_EIP: 'constant', HOST_IA32_PAT: 'constant', HOST_IA32_EFER: 'constant',
  HOST_S_CET: 'constant', HOST_SSP: 'constant', HOST_INTR_SSP_TABLE: 'constant', HOST_IA32_PERF_GLOBAL_CTRL: 'constant',
  HOST_TR_BASE: 'per-cpu', HOST_GDTR_BASE: 'per-cpu', HOST_IA32_SYSENTER_ESP: 'per-cpu',
  HOST_CR3: 'per-task', HOST_CR4: 'per-task', HOST_RSP: 'per-task', HOST_FS_SELECTOR: 'per-task', HOST_GS_SELECTOR: 'per-task',
  HOST_FS_BASE: 'per-task', HOST_GS_BASE: 'per-task',
};

export function hostLifetime(name: string): HostLifetime | undefined {
  return VMCS_BY_NAME.get(name)?.lifetime ?? LIFETIME_FALLBACK[name];
}
export const LIFETIME_SOURCE = `${SDM.exitLoadHost}; ${CODE.linuxVmxC} vmx_set_constant_host_state(), vmx_vcpu_load_vmcs(), vmx_vcpu_run()`;

export function hostStateFields(): string[] {
  return [...VMCS_BY_NAME.values()].filter((f) => f.type === 'host-state' && f.access === 'full' && f.linux).map((f) => f.name);
}

// ---- int_ctl (§e) ---------------------------------------------------------------------------------------------

export function intCtlBit(name: string): IntCtlBit | undefined {
  return INT_CTL_BITS.find((b) => b.name === name || b.aliases.includes(name) || b.shiftName === name);
}

export function intCtlMask(name: string): bigint {
  const b = intCtlBit(name);
  return b ? BigInt(b.mask >>> 0) : 0n;
}

/**
 * Whether #VMEXIT writes the int_ctl bit back into the VMCB that ran: V_TPR and V_IRQ always, V_GIF only with
 * V_GIF_ENABLE set in that VMCB, V_NMI_PENDING/BLOCKING only with V_NMI_ENABLE; every other bit is input only.
 * (pending semantics.ts: intCtlWrittenBack — the table's `writeback` column classifies V_IRQ as conditional because
 * its note mentions KVM's own VINTR exception; the hardware write-back itself is unconditional.)
 */
export function intCtlWrittenBack(name: string, vmcbIntCtl: bigint): boolean {
  const b = intCtlBit(name);
  if (!b) return false;
  switch (b.name) {
    case 'V_TPR_MASK': case 'V_IRQ_MASK': return true;
    case 'V_GIF_MASK': return (vmcbIntCtl & intCtlMask('V_GIF_ENABLE_MASK')) !== 0n;
    case 'V_NMI_PENDING_MASK': case 'V_NMI_BLOCKING_MASK': return (vmcbIntCtl & intCtlMask('V_NMI_ENABLE_MASK')) !== 0n;
    default: return b.writeback === 'always';
  }
}
export const INTCTL_SOURCE = `${APM.vmexit}; ${APM.vintr}; ${CODE.bochsSvm} SvmExitSaveGuestState; ${CODE.linuxNestedSvm} nested_sync_control_from_vmcb02`;

/** Names of the int_ctl bits (one entry per mask). */
export function intCtlBitNames(): string[] {
  return INT_CTL_BITS.filter((b) => b.register === 'int_ctl').map((b) => b.name);
}

// ---- MSRs (§d) ------------------------------------------------------------------------------------------------

export function msrByName(name: string): MsrInfo | undefined {
  const n = name.replace(/^MSR_/, '').toUpperCase();
  return MSRS.find((m) => m.name === name || m.name === `MSR_${n}` || m.name === `MSR_IA32_${n}` || m.aliases.includes(name));
}

export function msrByIndex(index: number): MsrInfo | undefined {
  return MSRS.find((m) => m.index === index);
}

export type MsrOp = 'read' | 'write';

/** §d VMX: exits when "use MSR bitmaps" = 0, when ECX is outside both ranges, or when the bitmap bit is 1. */
export function vmxMsrIntercepted(bitmap: Uint8Array, useBitmaps: boolean, op: MsrOp, index: number): { exit: boolean; why: string } {
  if (!useBitmaps) return { exit: true, why: '"use MSR bitmaps" = 0: every RDMSR/WRMSR exits' };
  const pos = vmxBitmapPosition(index);
  if (!pos) return { exit: true, why: `MSR 0x${index.toString(16)} is outside 0-0x1FFF and 0xC0000000-0xC0001FFF: always exits` };
  const byte = op === 'read' ? pos.readByte : pos.writeByte;
  const set = ((bitmap[byte] >> pos.bit) & 1) === 1;
  return { exit: set, why: `${op} bitmap byte 0x${byte.toString(16)} bit ${pos.bit} = ${set ? 1 : 0}` };
}
export const VMX_MSR_SOURCE = `${SDM.msrBitmap}; ${SDM.condExits}; ${CODE.bochsVmexit} VMexit_MSR`;

/** §d SVM: MSR_PROT clear → nothing intercepted; outside the three ranges → always; else the MSRPM bit. */
export function svmMsrIntercepted(msrpm: Uint8Array, msrProt: boolean, op: MsrOp, index: number): { exit: boolean; why: string } {
  if (!msrProt) return { exit: false, why: 'MSR_PROT intercept clear: no MSR access is intercepted' };
  const pos = svmMsrpmPosition(index);
  if (!pos) return { exit: true, why: `MSR 0x${index.toString(16)} is outside the three MSRPM ranges: always intercepted` };
  const bitNr = op === 'read' ? pos.readBit : pos.writeBit;
  const set = ((msrpm[bitNr >> 3] >> (bitNr & 7)) & 1) === 1;
  return { exit: set, why: `MSRPM bit ${bitNr} (byte 0x${(bitNr >> 3).toString(16)} bit ${bitNr & 7}) = ${set ? 1 : 0}` };
}
export const SVM_MSR_SOURCE = `${APM.msrIntercepts}; ${CODE.bochsSvm} SvmInterceptMSR; ${CODE.qemuSvm} cpu_svm_check_intercept_param`;

export function setVmxBitmap(bitmap: Uint8Array, op: MsrOp, index: number, intercept: boolean): boolean {
  const pos = vmxBitmapPosition(index);
  if (!pos) return false;
  const byte = op === 'read' ? pos.readByte : pos.writeByte;
  if (intercept) bitmap[byte] |= 1 << pos.bit;
  else bitmap[byte] &= ~(1 << pos.bit);
  return true;
}

export function setSvmMsrpm(msrpm: Uint8Array, op: MsrOp, index: number, intercept: boolean): boolean {
  const pos = svmMsrpmPosition(index);
  if (!pos) return false;
  const bitNr = op === 'read' ? pos.readBit : pos.writeBit;
  if (intercept) msrpm[bitNr >> 3] |= 1 << (bitNr & 7);
  else msrpm[bitNr >> 3] &= ~(1 << (bitNr & 7));
  return true;
}

/** MSRs KVM passes through by default right after vCPU creation (vmx_vcpu_create / svm direct_access_msrs). */
export const DEFAULT_PASSTHROUGH = {
  vmx: ['MSR_FS_BASE', 'MSR_GS_BASE', 'MSR_KERNEL_GS_BASE', 'MSR_IA32_SYSENTER_CS', 'MSR_IA32_SYSENTER_ESP', 'MSR_IA32_SYSENTER_EIP'],
  svm: ['MSR_FS_BASE', 'MSR_GS_BASE', 'MSR_KERNEL_GS_BASE', 'MSR_STAR', 'MSR_LSTAR', 'MSR_CSTAR', 'MSR_SYSCALL_MASK',
    'MSR_IA32_SYSENTER_CS', 'MSR_IA32_SYSENTER_ESP', 'MSR_IA32_SYSENTER_EIP'],
} as const;

// ---- VMSAVE/VMLOAD (§e) ---------------------------------------------------------------------------------------

/** MSRs whose values VMSAVE/VMLOAD transfer (model: MsrInfo.vmsaveState). */
export function vmsaveMsrs(): MsrInfo[] {
  return MSRS.filter((m) => m.vmsaveState === true);
}
export const VMSAVE_SOURCE = `${APM.vmsave}; ${CODE.bochsSvm} VMLOAD/VMSAVE; ${CODE.linuxNestedSvm} svm_copy_vmloadsave_state()`;

// ---- XFD (§f) -------------------------------------------------------------------------------------------------

export const XFD_INDEX = msrByName('MSR_IA32_XFD')?.index ?? 0x1c4;
/** XTILEDATA = XSAVE component 18 (semantics.md §f). */
export const XFEATURE_XTILEDATA = 1n << 18n;
export const XFD_SOURCE = 'LKML "[PATCH v5 21/21] kvm: x86: Disable interception for IA32_XFD on demand"; "[PATCH v6 20/21] x86/fpu: Provide fpu_sync_guest_vmexit_xfd_state()"';
