// The machine's view of the knowledge model. Every hardware fact the machine uses is read from model/* (the field
// tables and the rule functions of model/semantics.ts); this file only adapts shapes to the machine's state.
import {
  INT_CTL_BITS, MSRS, VMCS_BY_NAME, VMCS_BY_VMCS12_MEMBER, svmMsrpmPosition, vmxBitmapPosition,
  type HostLifetime, type IntCtlBit, type MsrInfo, type VmcsField,
} from '../index';
import { EXIT_INFO_BY_FIELD } from '../exitInfo';
import * as sem from '../semantics';
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

/** `ept` is asked for only when the paging mode makes it matter (semantics.ts tests the mode first). */
function pdptrConfig(ept: () => boolean, mode: PagingMode): sem.PdptrConfig {
  return { get ept() { return ept(); }, pg: mode !== 'none', pae: mode === 'pae' || mode === '4-level' || mode === '5-level', ia32eGuest: mode === '4-level' || mode === '5-level' };
}

/** §a: where a VM entry takes the PDPTEs from (semantics.pdptrsLoadedOnEntry / pdptrsReadFromGuestMemoryOnEntry). */
export function pdptrsLoadedOnEntry(ept: () => boolean, mode: PagingMode): 'vmcs' | 'memory' | 'none' {
  const c = pdptrConfig(ept, mode);
  if (sem.pdptrsLoadedOnEntry(c)) return 'vmcs';
  if (sem.pdptrsReadFromGuestMemoryOnEntry(c)) return 'memory';
  return 'none';
}
export const PDPTR_ENTRY_SOURCE = sem.RULES.pdptrsLoadedOnEntry.source;

/** §a: GUEST_PDPTRn hold defined values after a VM exit (semantics.pdptrsDefinedAfterExit). */
export function pdptrsDefinedAfterExit(ept: () => boolean, mode: PagingMode): boolean {
  return sem.pdptrsDefinedAfterExit(pdptrConfig(ept, mode));
}
export const PDPTR_EXIT_SOURCE = sem.RULES.pdptrsDefinedAfterExit.source;

/** §c: what the exit leaves in the exit-information field (written / cleared / undefined / unmodified). */
export function exitInfoFieldDefined(field: string, reason: number): { defined: boolean; status: sem.ExitInfoAnswer['status']; conditional?: string; source: string } | undefined {
  const a = sem.exitInfoValidity(field, reason);
  if (!a) return undefined;
  const base = { defined: a.defined !== 'never', status: a.status, source: a.rule.source };
  return a.condition ? { ...base, conditional: a.condition } : base;
}

export function exitInfoFields(): string[] {
  return [...EXIT_INFO_BY_FIELD.keys()];
}

/** §c: VMWRITE rules (semantics.vmwriteError): unsupported component → 12; read-only without IA32_VMX_MISC[29] → 13. */
export function vmwriteError(name: string, vmwriteAnyField: boolean): number | undefined {
  return sem.vmwriteError(name, vmwriteAnyField);
}
export const VMWRITE_SOURCE = sem.RULES.vmwriteAllowed.source;

// ---- Host-state lifetimes (§b) --------------------------------------------------------------------------------

/** KVM lifetime class of a host-state field (semantics.hostLifetime, §b). */
export function hostLifetime(name: string): HostLifetime | undefined {
  return sem.hostLifetime(name);
}
export const LIFETIME_SOURCE = `${SDM.exitLoadHost}; ${sem.RULES.hostLifetime.source}`;

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

/** Whether #VMEXIT writes the int_ctl bit back into the VMCB that ran, given that VMCB's int_ctl (semantics.intCtlWrittenBack). */
export function intCtlWrittenBack(name: string, vmcbIntCtl: bigint): boolean {
  return sem.intCtlWrittenBack(name, {
    vgif: (vmcbIntCtl & intCtlMask('V_GIF_ENABLE_MASK')) !== 0n,
    vnmi: (vmcbIntCtl & intCtlMask('V_NMI_ENABLE_MASK')) !== 0n,
  });
}
export const INTCTL_SOURCE = `${sem.RULES.intCtlWrittenBack.source}; ${APM.vintr}`;

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
  const pos = sem.vmxMsrBitmapBit(index, op === 'write');
  if (!pos) return { exit: true, why: `MSR 0x${index.toString(16)} is outside 0-0x1FFF and 0xC0000000-0xC0001FFF: always exits` };
  const set = sem.vmxMsrIntercepted(bitmap, index, op === 'write');
  return { exit: set, why: `${op} bitmap byte 0x${pos.byte.toString(16)} bit ${pos.bit} = ${set ? 1 : 0}` };
}
export const VMX_MSR_SOURCE = sem.RULES.vmxMsrIntercepted.source;

/** §d SVM: MSR_PROT clear → nothing intercepted; outside the three ranges → always; else the MSRPM bit. */
export function svmMsrIntercepted(msrpm: Uint8Array, msrProt: boolean, op: MsrOp, index: number): { exit: boolean; why: string } {
  const set = sem.svmMsrIntercepted(msrpm, msrProt, index, op === 'write');
  if (!msrProt) return { exit: set, why: 'MSR_PROT intercept clear: no MSR access is intercepted' };
  const bitNr = sem.svmMsrpmBitNumber(index, op === 'write');
  if (bitNr === undefined) return { exit: set, why: `MSR 0x${index.toString(16)} is outside the three MSRPM ranges: always intercepted` };
  return { exit: set, why: `MSRPM bit 0x${bitNr.toString(16)} (byte 0x${(bitNr >> 3).toString(16)} bit ${bitNr & 7}) = ${set ? 1 : 0}` };
}
export const SVM_MSR_SOURCE = sem.RULES.svmMsrIntercepted.source;

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
export const VMSAVE_SOURCE = sem.RULES.vmsaveCovers.source;

// ---- XFD (§f) -------------------------------------------------------------------------------------------------

export const XFD_INDEX = msrByName('MSR_IA32_XFD')?.index ?? 0x1c4;
/** XTILEDATA = XSAVE component 18 (semantics.md §f). */
export const XFEATURE_XTILEDATA = 1n << 18n;
export const XFD_SOURCE = 'LKML "[PATCH v5 21/21] kvm: x86: Disable interception for IA32_XFD on demand"; "[PATCH v6 20/21] x86/fpu: Provide fpu_sync_guest_vmexit_xfd_state()"';
