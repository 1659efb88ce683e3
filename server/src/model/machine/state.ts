// State of the executable VMX/SVM machine: cells that hold a value, "undefined (why)" or "stale (since step N)".
import type { PagingMode } from './facts';

export type MachineLevel = 'L0' | 'HU' | 'L1' | 'L2';
export type Vendor = 'vmx' | 'svm';

export interface MachineConfig {
  vendor: Vendor;
  /** KVM's enable_ept / npt_enabled (L0 uses EPT/NPT). */
  ept: boolean;
  /** A nested guest (L2) exists. */
  nested: boolean;
  /** vmcs12 enables EPT / vmcb12 enables nested paging (nested_cpu_has_ept / nested_npt_enabled). */
  nestedEpt: boolean;
  /** Paging mode of the guest that runs (L2 when nested, else L1). */
  paging: PagingMode;
  /** IA32_VMX_MISC[29]: VMWRITE to any supported field, including exit-information fields. */
  vmwriteAnyField: boolean;
  /** VMX primary control "use MSR bitmaps" / SVM MSR_PROT intercept. */
  useMsrBitmaps: boolean;
  /** Nested vGIF: vmcb12 sets V_GIF_ENABLE and L1 may use vGIF (nested_vgif_enabled). */
  vgif: boolean;
  /** Nested vNMI (nested_vnmi_enabled). */
  vnmi: boolean;
  /** vmcb12 int_ctl V_INTR_MASKING. */
  vIntrMasking: boolean;
  /** L0 requested an interrupt window while L2 runs: VINTR intercept + V_IRQ set in vmcb02 by L0. */
  l0IrqWindow: boolean;
  /** L1 intercepts VINTR in vmcb12. */
  l1InterceptVintr: boolean;
  /** A virtual interrupt is pending (V_IRQ) in vmcb12. */
  vIrqPending: boolean;
  /** Guest CPUID enumerates AMX (XTILEDATA may be enabled through XCR0/XFD). */
  amx: boolean;
  /** The vCPU has already been migrated once; number of physical CPUs. */
  cpus: number;
}

export const DEFAULT_CONFIG: MachineConfig = {
  vendor: 'vmx', ept: true, nested: false, nestedEpt: true, paging: '4-level', vmwriteAnyField: false, useMsrBitmaps: true,
  vgif: false, vnmi: false, vIntrMasking: true, l0IrqWindow: false, l1InterceptVintr: false, vIrqPending: false, amx: true, cpus: 2,
};

export interface Cell {
  status: 'value' | 'undefined' | 'stale';
  /** Concrete value when known. */
  n?: bigint;
  /** What the value is, in words: "L2 PDPTE0 saved by VM exit", "TSS of CPU 0". */
  desc?: string;
  /** Why undefined / why stale. */
  why?: string;
  /** Step where the value went stale. */
  since?: number;
  /** For per-CPU host values: the CPU they describe. */
  cpu?: number;
  /** Step that wrote the value. */
  writtenAt?: number;
  /** Configuration variables (simulation sweep keys) the value or its definedness depends on. */
  deps?: string[];
  /** The hardware cleared the field (zero by rule, e.g. an exit-information field the exit does not define). */
  cleared?: boolean;
}

export function valueCell(n: bigint | undefined, desc?: string): Cell {
  const c: Cell = { status: 'value' };
  if (n !== undefined) c.n = n;
  if (desc) c.desc = desc;
  return c;
}

export function undefinedCell(why: string): Cell {
  return { status: 'undefined', why };
}

export function hex(n: bigint): string {
  return n < 0n ? `-0x${(-n).toString(16)}` : `0x${n.toString(16)}`;
}

export function formatCell(c: Cell | undefined): string {
  if (!c) return 'unset';
  if (c.status === 'undefined') return `undefined (${c.why ?? 'no value defined'})`;
  if (c.status === 'stale') return c.since ? `stale (since step ${c.since}${c.why ? `: ${c.why}` : ''})` : `stale (${c.why ?? 'outdated'})`;
  if (c.n !== undefined && c.desc) return `${hex(c.n)} (${c.desc})`;
  if (c.n !== undefined) return hex(c.n);
  return c.desc ?? 'value';
}

export interface MachineFinding {
  rule: string;
  /** What the finding is about (a field or register name), for grouping. */
  subject?: string;
  severity: 'error' | 'warning' | 'info' | 'hint';
  message: string;
  source?: string;
}

export interface MachineChange {
  location: string;
  value: string;
  status: 'value' | 'undefined' | 'stale' | 'copied' | 'intercepted';
}
