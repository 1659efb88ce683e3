// The machine's state (model/machine/machine.ts runs the transitions on it): configuration, level and CPU, the cells
// (every location's value, undefined-ness and provenance), changes and findings of a step, MSR bitmaps, the loaded
// VMCS/VMCB, and snapshots for path forks.
import { DEFAULT_PASSTHROUGH, msrByName, registersFor, setSvmMsrpm, setVmxBitmap, vmcsField, XFEATURE_XTILEDATA, type PagingMode } from './facts';
import {
  DEFAULT_CONFIG, formatCell, valueCell,
  type Cell, type MachineChange, type MachineConfig, type MachineFinding, type MachineLevel,
} from './state';

const VMCS_OBJECTS = new Set(['vmcs01', 'vmcs02', 'vmcs12']);
/**
 * Copy `src`'s own fields into `dst`, an instance of the same class: Maps, Sets and arrays are copied one level deep
 * (their elements are shared: cells and values are replaced, never mutated in place); other values are shared, so
 * typed arrays must be copied on write by their owner.
 */
export function copyState<T extends object>(src: T, dst: T): T {
  const s = src as Record<string, unknown>;
  const d = dst as Record<string, unknown>;
  for (const k of Object.keys(s)) {
    const v = s[k];
    d[k] = v instanceof Map ? new Map(v) : Array.isArray(v) ? v.slice() : v instanceof Set ? new Set(v) : v;
  }
  return dst;
}

/**
 * Complete configurations a machine keeps as given instead of copying: a symbolic sweep's configuration throws when a
 * field it leaves open is read (features/simulate/symbolic.ts guardedConfig), and a copy would read every field.
 */
export const KEPT_CONFIGS = new WeakSet<object>();

/**
 * IA32_VMX_MISC bit 29 (SDM Vol.3D App. A.6: VMWRITE to any supported field), read from the configuration when asked
 * for instead of stored when the machine is built: a symbolic sweep leaves vmwrite_any_field open until something
 * reads it (features/simulate/symbolic.ts guardedConfig).
 */
const VMX_MISC_29 = 'hw.MSR_IA32_VMX_MISC.bit29';

/** Default cells are immutable; shared by all machines. */
const DEFAULT_CELLS = new Map<string, Cell>();

export interface MachineSnapshot {
  readonly cells: ReadonlyMap<string, Cell>;
  level: MachineLevel;
  cpu: number;
  exitedFromL2: boolean;
  loadedVmcs?: 'vmcs01' | 'vmcs02' | 'shadow';
  vmcbPtr?: 'vmcb01' | 'vmcb02';
}

export class MachineCore {
  readonly cfg: MachineConfig;
  level: MachineLevel;
  cpu = 0;
  step = 0;
  protected cells = new Map<string, Cell>();
  changes: MachineChange[] = [];
  findings: MachineFinding[] = [];
  /** VMX MSR bitmaps (one 4-KiB page each): vmcs01's (L0 for L1) and vmcs12's (L1 for L2). Allocated on first use. */
  private bm01?: Uint8Array;
  private bm12?: Uint8Array;
  /** SVM MSR permission maps (8 KiB). */
  private pm01?: Uint8Array;
  private pm12?: Uint8Array;
  /** The bitmaps are shared with a copy (copy()): the first write copies them. */
  private mapsShared = false;
  get msrBitmap01(): Uint8Array { return this.bm01 ??= this.initialMap(4096, 'vmx'); }
  get msrBitmap12(): Uint8Array { return this.bm12 ??= new Uint8Array(4096).fill(0xff); }
  get msrpm01(): Uint8Array { return this.pm01 ??= this.initialMap(8192, 'svm'); }
  get msrpm12(): Uint8Array { return this.pm12 ??= new Uint8Array(8192).fill(0xff); }

  /** KVM starts with every MSR intercepted and passes a few through right after vCPU creation. */
  private initialMap(size: number, kind: 'vmx' | 'svm'): Uint8Array {
    const map = new Uint8Array(size).fill(0xff);
    for (const name of kind === 'vmx' ? DEFAULT_PASSTHROUGH.vmx : DEFAULT_PASSTHROUGH.svm) {
      const m = msrByName(name);
      if (!m) continue;
      for (const op of ['read', 'write'] as const) {
        if (kind === 'vmx') setVmxBitmap(map, op, m.index, false);
        else setSvmMsrpm(map, op, m.index, false);
      }
    }
    return map;
  }
  /** Guest MSR write being emulated (completed after a trip to user space). */
  pendingWrmsr?: { index: number; value?: bigint };
  /** Step and area of the last VMSAVE / VMLOAD. */
  lastVmsave?: { step: number; area: string };
  lastVmload?: { step: number; area: string };
  /** Host MSRs saved/restored by hand (rdmsr/wrmsr), by MSR name. */
  handSaved = new Map<string, number>();
  /** Record changes (flows, single C runs); off for the sweep's hot loop where only findings matter. */
  recordChanges = true;

  /** `blank`: no initial cells (copy() fills the machine in). */
  constructor(cfg: Partial<MachineConfig> = {}, blank = false) {
    this.cfg = KEPT_CONFIGS.has(cfg) ? cfg as MachineConfig : { ...DEFAULT_CONFIG, ...cfg };
    this.level = 'L0';
    if (blank) return;
    // Host FPU state (x86/fpu): the guest fpstate starts without dynamic features; its XFD copy arms XTILEDATA.
    this.init('host.fpstate.size', valueCell(undefined, 'default size (no dynamic features; XTILEDATA not allocated)'));
    this.init('host.fpstate.xfeatures', valueCell(0n, 'no XTILEDATA'));
    this.init('host.fpstate.xfd', valueCell(XFEATURE_XTILEDATA, 'XTILEDATA disabled'));
    this.init('host.percpu.xfd_state', valueCell(XFEATURE_XTILEDATA, 'XTILEDATA disabled'));
    this.init('hw.IA32_XFD', valueCell(XFEATURE_XTILEDATA, 'XTILEDATA disabled'));
    this.init('hw.GIF', valueCell(1n));
    this.init('hw.cpu', valueCell(0n, 'CPU 0'));
    const regs = registersFor(this.cfg.paging);
    for (const v of ['vmcs01', 'vmcs02', 'vmcs12'] as const) {
      this.init(`${v}.GUEST_CR0`, valueCell(regs.cr0));
      this.init(`${v}.GUEST_CR4`, valueCell(regs.cr4));
      this.init(`${v}.GUEST_IA32_EFER`, valueCell(regs.efer));
    }
  }

  // ---- cells ----------------------------------------------------------------------------------------------------

  protected init(loc: string, c: Cell): void {
    this.cells.set(loc, c);
  }

  has(loc: string): boolean {
    return this.cells.has(loc) || loc === VMX_MISC_29;
  }

  get(loc: string): Cell {
    const c = this.cells.get(loc);
    if (c) return c;
    if (loc === VMX_MISC_29) return valueCell(this.cfg.vmwriteAnyField ? 1n : 0n, 'VMWRITE to any supported field');
    return this.defaultFor(loc);
  }

  /** Value a location holds before anything wrote it (what a path that did not write it has, at a join). */
  defaultFor(loc: string): Cell {
    let d = DEFAULT_CELLS.get(loc);
    if (!d) {
      d = this.defaultCell(loc);
      if (DEFAULT_CELLS.size > 20000) DEFAULT_CELLS.clear();
      DEFAULT_CELLS.set(loc, d);
    }
    return d;
  }

  /** Value a location holds before anything in the run wrote it (the same for every machine; cached). */
  private defaultCell(loc: string): Cell {
    const dot = loc.indexOf('.');
    const obj = loc.slice(0, dot);
    const field = loc.slice(dot + 1);
    if (VMCS_OBJECTS.has(obj)) {
      const who = obj === 'vmcs01' ? 'L1' : 'L2';
      const f = vmcsField(field);
      if (f?.type === 'guest-state') return valueCell(undefined, `${who} ${field.toLowerCase()}`);
      if (f?.type === 'host-state') return valueCell(undefined, `${field} as last written`);
      return valueCell(undefined, `${obj}.${field}`);
    }
    return valueCell(undefined, loc);
  }

  set(loc: string, c: Cell, status?: MachineChange['status']): void {
    if (!this.recordChanges) { this.cells.set(loc, c); return; }
    const cell = { ...c, writtenAt: this.step };
    this.cells.set(loc, cell);
    this.changes.push({ location: loc, value: formatCell(cell), status: status ?? cell.status });
  }

  note(loc: string, value: string, status: MachineChange['status']): void {
    if (this.recordChanges) this.changes.push({ location: loc, value, status });
  }

  finding(rule: string, severity: MachineFinding['severity'], message: string, source?: string, subject?: string): void {
    const f: MachineFinding = { rule, severity, message };
    if (source) f.source = source;
    if (subject) f.subject = subject;
    this.findings.push(f);
  }

  /** Start a new step: changes and findings are collected per step by the caller. */
  begin(step: number): void {
    this.step = step;
    this.changes = [];
    this.findings = [];
  }

  get guestPaging(): PagingMode {
    return this.cfg.paging;
  }

  /**
   * The current (loaded) VMCS: set by KVM's switches (vmx_switch_vmcs, loaded_vmcs + vmcs_load) through `loadVmcs`;
   * until KVM switches, the VMCS of the guest that ran (vmcs02 while L2 runs or just exited, else vmcs01).
   */
  currentVmcs(): 'vmcs01' | 'vmcs02' | 'shadow' {
    return this.loadedVmcs ?? (this.level === 'L2' || this.exitedFromL2 ? 'vmcs02' : 'vmcs01');
  }

  /** The VMCB `svm->vmcb` points to: set by svm_switch_vmcb / assignments through `switchVmcb`, else the one that ran. */
  currentVmcb(): 'vmcb01' | 'vmcb02' {
    return this.vmcbPtr ?? (this.level === 'L2' || this.exitedFromL2 ? 'vmcb02' : 'vmcb01');
  }

  /** VMPTRLD by KVM (vmcs_load): the VMCS VMREAD/VMWRITE now access. */
  loadVmcs(v: 'vmcs01' | 'vmcs02' | 'shadow'): void {
    this.loadedVmcs = v;
    this.note('hw.current_vmcs', v, 'value');
  }

  switchVmcb(v: 'vmcb01' | 'vmcb02'): void {
    this.vmcbPtr = v;
    this.note('svm->vmcb', v, 'value');
  }

  loadedVmcs?: 'vmcs01' | 'vmcs02' | 'shadow';
  vmcbPtr?: 'vmcb01' | 'vmcb02';

  /** Copy of the mutable state a C path changes (cells, level, CPU, loaded control structures), for path forks. */
  snapshot(): MachineSnapshot {
    return { cells: new Map(this.cells), level: this.level, cpu: this.cpu, exitedFromL2: this.exitedFromL2, loadedVmcs: this.loadedVmcs, vmcbPtr: this.vmcbPtr };
  }

  /**
   * An independent machine in the same state (the sweep resumes runs from copies: features/simulate/resume.ts). Cells
   * are never mutated in place, so the maps of cells are copied and the cells shared; the MSR bitmaps are shared
   * until one side writes them (writableMaps()).
   */
  copy(): this {
    // Constructed, not Object.create()d: a copy keeps the class's object layout (property access stays fast).
    const m = new (this.constructor as new (cfg: MachineConfig, blank: boolean) => this)(this.cfg, true);
    copyState(this, m);
    this.mapsShared = m.mapsShared = true;
    return m;
  }

  /** Before a write of an MSR bitmap: this machine's own copies of the bitmaps. */
  protected writableMaps(): void {
    if (!this.mapsShared) return;
    this.mapsShared = false;
    this.bm01 = this.bm01?.slice();
    this.bm12 = this.bm12?.slice();
    this.pm01 = this.pm01?.slice();
    this.pm12 = this.pm12?.slice();
  }

  /**
   * The live state itself, not a copy (a path fork hands it from one arm to the join without copying it): the machine
   * must adopt() another state before it runs again.
   */
  take(): MachineSnapshot {
    return { cells: this.cells, level: this.level, cpu: this.cpu, exitedFromL2: this.exitedFromL2, loadedVmcs: this.loadedVmcs, vmcbPtr: this.vmcbPtr };
  }

  /** Continue in state `s`, which becomes the live state: nothing else may use `s` afterwards (unlike restore()). */
  adopt(s: MachineSnapshot): void {
    this.restore(s, true);
  }

  restore(s: MachineSnapshot, own = false): void {
    this.cells = own ? s.cells as Map<string, Cell> : new Map(s.cells);
    this.level = s.level;
    this.cpu = s.cpu;
    this.exitedFromL2 = s.exitedFromL2;
    this.loadedVmcs = s.loadedVmcs;
    this.vmcbPtr = s.vmcbPtr;
  }

  /** Set by a hardware exit from L2 until KVM switches back to vmcs01/vmcb01 (nested_vmx_vmexit / nested_svm_vmexit). */
  exitedFromL2 = false;

}
