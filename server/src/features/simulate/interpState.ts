// Interpreter state shared by every part of the C interpreter (c.ts): the machine, path condition, frames,
// findings and steps, config-backed predicates, and machine locations (locate, readCell, store into cells).
import { evaluate, predicatesOf, TRUE, type Formula } from '../../analysis/conditions';
import type { ControlSwitch, VmcsObject } from '../../analysis/engine/control';
import { describePath, feasible } from '../../analysis/engine/paths';
import { statusOf } from '../../analysis/engine/values';
import { vmcbRole } from '../../analysis/masks';
import {
  Machine, displayLocation, intCtlBitNames, intCtlMask, intCtlWrittenBack, valueCell, vmcsFieldByMember,
  type Cell, type MachineConfig, type MachineSnapshot,
} from '../../model/machine/index';
import type { Actor, SimFieldValue, SimFinding, SimStep } from '../../protocol/simulation';
import type { Expr } from './cir';
import type { Compiled } from './compiled';
import { ConfigReader, predicateValue, type VarValue } from './predicates';
import { ALL, describe, type Val } from './values';
import { consulted, type SymbolicTrace } from './symbolic';

export type Signal = 'normal' | 'break' | 'continue' | 'return';

export interface PathState {
  machine: MachineSnapshot;
  locals: Map<string, Val>;
  lastStore: Map<string, { val: Val; line: number; path?: string }>;
  loadedPtr?: VmcsObject;
}

/** A path that left the function (return/goto), with its state and condition. */
export interface Exit { state: PathState; pc: Formula; ret?: Val }

export interface Frame { locals: Map<string, Val>; ret?: Val; exits: Exit[] }

export interface RunOptions {
  record: boolean;
  region?: { start: number; end: number };
}

export interface RunFinding extends SimFinding { subject: string; path?: string }

/** State of one interpretation run; the layers above (interpEval.ts, c.ts) evaluate and execute on it. */
export class InterpState {
  readonly m: Machine;
  readonly reader: ConfigReader;
  readonly findings: RunFinding[] = [];
  readonly flows: string[] = [];
  readonly steps: SimStep[] = [];
  protected frames: Frame[] = [];
  /** Calls being followed: each callee and the line of its call (the first entry's line is in the simulated function). */
  protected calls: Array<{ fn: string; line: number }> = [];
  /** Path condition of the path being interpreted (engine/paths.ts). */
  pc: Formula = TRUE;
  /** The `loaded_vmcs` pointer: what vmcs_load(vmx->loaded_vmcs->vmcs) / vmx_vcpu_load_vmcs load. */
  protected loadedPtr?: VmcsObject;
  protected budget = 20000;
  protected depth = 0;
  /** Last store into a machine location, with the value's taint (for int_ctl write-back checks). */
  lastStore = new Map<string, { val: Val; line: number; path?: string }>();
  readonly handSaves: Array<{ what: string; line: number; restore: boolean }> = [];
  readonly vmsaves: Array<{ line: number; load: boolean }> = [];
  readonly hostWrites = new Map<string, number>();
  protected line = 0;
  /** Set for a symbolic run (symbolic.ts): the open variables and what the run records about its paths. */
  sym?: SymbolicTrace;

  /** Line that events (prelude/postlude steps, machine findings) are attributed to. */
  at(line: number): void {
    this.line = line;
  }

  /** `machine`: run on this machine instead of a new one (resume.ts copies an interpreter this way). */
  constructor(readonly c: Compiled, cfg: MachineConfig, assignment: ReadonlyMap<string, VarValue>, readonly opts: RunOptions, machine?: Machine) {
    this.m = machine ?? new Machine(cfg);
    this.m.recordChanges = opts.record;
    this.reader = new ConfigReader(cfg, assignment);
  }

  // -- findings / steps

  find(severity: SimFinding['severity'], rule: string, subject: string, message: string): void {
    const path = this.pathText();
    const f: RunFinding = { line: this.line, severity, rule, subject, message: message + (path ? ` (on the path where ${path})` : '') };
    if (path) f.path = path;
    this.findings.push(f);
    if (this.sym) {
      this.sym.effects++;
      this.sym.findingPcs.set(f, { pc: this.pc, base: message });
      this.recordFixed();
    }
  }

  /** A flow of the run (what went where). */
  protected flow(text: string): void {
    this.flows.push(text);
    if (this.sym) {
      this.sym.effects++;
      this.sym.flowPcs.push(this.pc);
      this.recordFixed();
    }
  }

  /** Symbolic run: what the configuration decides about the current path condition, the first time it is recorded. */
  private recordFixed(): void {
    const sym = this.sym!;
    if (sym.mentions(this.pc) && !sym.fixedAt.has(this.pc)) sym.fixedAt.set(this.pc, this.fixedFor(this.pc));
  }

  /** The current path condition, minus what the configuration decides. */
  pathText(): string {
    return this.pc.kind === 'true' ? '' : describePath(this.pc, this.fixedFor(this.pc));
  }

  /** Values the configuration gives the predicates of `f`. */
  protected fixedFor(f: Formula): Map<string, boolean> {
    const a = new Map<string, boolean>();
    for (const k of predicatesOf(f)) {
      const v = this.predicate(k);
      if (v !== undefined) a.set(k, v);
    }
    return a;
  }

  stepBegin(): void {
    if (this.opts.record) this.m.begin(this.steps.length + 1);
  }

  stepEnd(op: string, actor: Actor = 'KVM', explanation?: string, source?: string, force = false): void {
    if (!this.opts.record) return;
    const changes = this.m.changes.map((c) => ({ ...c, location: displayLocation(c.location) }));
    if (!changes.length && !force) return;
    const s: SimStep = { index: this.steps.length + 1, line: this.line, actor, op, simulated: true, changes, level: this.m.level };
    s.control = this.m.cfg.vendor === 'svm' ? this.m.currentVmcb() : this.m.currentVmcs();
    const path = this.pathText();
    if (path) s.path = path;
    if (explanation) s.explanation = explanation;
    if (source) s.source = source;
    if (this.calls.length) s.via = { fn: this.calls[this.calls.length - 1].fn, line: this.calls[0].line };
    this.steps.push(s);
  }

  event(op: string, fn: () => void, explanation?: string, source?: string, actor: Actor = 'HW'): void {
    this.stepBegin();
    fn();
    this.flushMachineFindings();
    this.stepEnd(op, actor, explanation, source, true);
  }

  // -- config-backed predicates

  protected machineBit(key: string): boolean | undefined {
    const [name, object] = key.split('@');
    const vmcb = object === 'vmcb12-cache' || object === 'vmcb12' ? 'vmcb12' : object === 'vmcb01' ? 'vmcb01' : object === 'vmcb02' ? 'vmcb02' : this.m.currentVmcb();
    if (name.startsWith('intercept:')) {
      const what = name.slice('intercept:'.length);
      if (what !== 'VINTR') return undefined;
      if (vmcb === 'vmcb12') return this.reader.get('l1_intercept_vintr') === true;
      if (vmcb === 'vmcb02') {
        const l1 = this.reader.get('l1_intercept_vintr') === true;
        const l0 = this.reader.get('l0_irq_window') === true && this.reader.get('v_intr_masking') !== true;
        return l1 || l0;
      }
      return this.reader.get('l0_irq_window') === true;
    }
    if (name.startsWith('int_ctl:')) {
      const v = this.readCell(`${vmcb}.int_ctl`);
      const mask = intCtlMask(`${name.slice('int_ctl:'.length)}_MASK`);
      this.touchBitDeps(v, mask);
      return v.n !== undefined ? (v.n & mask) !== 0n : undefined;
    }
    return undefined;
  }

  protected predicate(key: string): boolean | undefined {
    if (this.sym?.open.has(key)) {
      // An open variable of a symbolic run: read (the sweep learns it), but not decided (and not evaluated: an open
      // machine variable's value is not in the configuration, symbolic.ts guardedConfig).
      this.reader.read.add(key);
      if (this.sym.probing) this.sym.touched.add(key);
      return undefined;
    }
    return predicateValue(key, this.reader, (k) => this.machineBit(k));
  }

  /**
   * A predicate whose value the model itself needs here (not a condition of the C code): an open variable of a symbolic
   * run has the value the current path implies; when the path leaves it open, the run cannot stand for the
   * configurations (SymbolicAbort, naming it so that the sweep can split on it).
   */
  protected needed(key: string): boolean | undefined {
    const v = this.predicate(key);
    if (v !== undefined || !this.sym?.open.has(key)) return v;
    const fixed = this.fixedFor(this.pc);
    const on = feasible(this.pc, new Map([...fixed, [key, true]]));
    if (on !== feasible(this.pc, new Map([...fixed, [key, false]]))) return on;
    return consulted(key);
  }

  protected evalFormula(f: Formula): boolean | undefined {
    if (!predicatesOf(f).length) return undefined;
    return evaluate(f, this.fixedFor(f));
  }

  /** Configuration variables an int_ctl cell's bits were built from. */
  private intCtlDeps(loc: string): Array<[bigint, string[]]> | undefined {
    const m = (n: string) => intCtlMask(n);
    if (loc === 'vmcb12.int_ctl') {
      return [[m('V_INTR_MASKING_MASK'), ['v_intr_masking']], [m('V_GIF_MASK') | m('V_GIF_ENABLE_MASK'), ['nested_vgif']],
        [m('V_NMI_ENABLE_MASK'), ['nested_vnmi']], [m('V_IRQ_MASK'), ['v_irq_pending']]];
    }
    if (loc === 'vmcb02.int_ctl') {
      return [[m('V_IRQ_MASK'), ['v_irq_pending', 'l0_irq_window', 'v_intr_masking']], [m('V_GIF_MASK') | m('V_GIF_ENABLE_MASK'), ['nested_vgif']],
        [m('V_NMI_ENABLE_MASK') | m('V_NMI_PENDING_MASK') | m('V_NMI_BLOCKING_MASK'), ['nested_vnmi']]];
    }
    return undefined;
  }

  protected touchBitDeps(v: Val, mask: bigint): void {
    for (const [bits, keys] of v.bitDeps ?? []) if (bits & mask) for (const k of keys) this.reader.get(k);
  }

  // -- machine locations

  protected readCell(loc: string): Val {
    const c: Cell = this.m.get(loc);
    if (c.deps) for (const k of c.deps) this.reader.get(k);
    const v: Val = { from: displayLocation(loc) };
    // int_ctl values carry which machine bits they hold; a value KVM stored keeps the provenance it was stored with.
    if (loc.endsWith('int_ctl')) v.src = this.lastStore.get(loc)?.val.src ?? [{ loc, mask: ALL }];
    if (c.n !== undefined) v.n = c.n;
    if (c.desc) v.desc = c.desc;
    if (c.cpu !== undefined) v.cpu = c.cpu;
    if (c.status === 'undefined') v.undef = c.why ?? 'undefined';
    if (c.status === 'stale') v.stale = c.why ?? `stale since step ${c.since}`;
    const deps = this.intCtlDeps(loc);
    if (deps) v.bitDeps = deps;
    return v;
  }

  protected cellOf(v: Val): Cell {
    const c: Cell = v.undef ? { status: 'undefined', why: v.undef } : v.stale ? { status: 'stale', why: v.stale } : valueCell(v.n, v.from ?? v.desc);
    if (v.cpu !== undefined) c.cpu = v.cpu;
    return c;
  }

  /** Machine location for a C lvalue/rvalue path (`vmcs12->guest_pdptr0`, `svm->nested.ctl.int_ctl`). */
  protected locate(text: string, base: string): { loc?: string; ptr?: string } {
    const baseVal = base ? this.frame().locals.get(base) : undefined;
    const bptr = baseVal?.ptr && baseVal.ptr !== 'ctx' ? baseVal.ptr : '';
    const vmcb = this.m.currentVmcb();
    let perText = locateCache.get(text);
    if (!perText) {
      if (locateCache.size > 20000) locateCache.clear();
      perText = new Map();
      locateCache.set(text, perText);
    }
    const key = bptr ? `${bptr}|${vmcb}` : vmcb;
    const hit = perText.get(key);
    if (hit) return hit;
    const r = this.locateUncached(bptr ? bptr + text.slice(base.length) : text);
    perText.set(key, r);
    return r;
  }

  private locateUncached(t: string): { loc?: string; ptr?: string } {
    // Pointers to whole objects.
    const objOf = (s: string): string | undefined => {
      if (/^(vmcs12|shadow_vmcs12|get_(shadow_)?vmcs12\(.*\))$/.test(s)) return 'vmcs12';
      if (/^vmcs0[12]$/.test(s)) return s;
      const k = vmcbRole(s);
      if (k === 'vmcb12-cache' || k === 'vmcb12') return 'vmcb12';
      if (k === 'vmcb01' || k === 'vmcb02') return k;
      if (k === 'vmcb' && /(^|->|\.)vmcb(\.ptr)?$/.test(s)) return this.m.currentVmcb();
      return undefined;
    };
    const area = /^(.*?)(?:->|\.)(control|save)\.(\w+)(?:\.(\w+))?$/.exec(t);
    if (area) {
      const o = objOf(area[1]);
      if (o && o.startsWith('vmcb')) return { loc: area[2] === 'control' ? `${o}.${area[3]}` : `${o}.save.${area[3]}${area[4] ? `.${area[4]}` : ''}` };
    }
    const cache = /^(.*nested\.(ctl|save))\.(\w+)$/.exec(t);
    if (cache) return { loc: cache[2] === 'ctl' ? `vmcb12.${cache[3]}` : `vmcb12.save.${cache[3]}` };
    const member = /^(.*?)->(\w+)$/.exec(t);
    if (member && objOf(member[1]) === 'vmcs12') {
      const f = vmcsFieldByMember(member[2]);
      return { loc: f ? `vmcs12.${f.name}` : `vmcs12.${member[2]}` };
    }
    const whole = objOf(t);
    if (whole) return { ptr: whole };
    return {};
  }

  protected frame(): Frame {
    return this.frames[this.frames.length - 1];
  }

  protected store(target: Expr, v: Val): void {
    if (this.sym) this.sym.effects++;
    if (target.k === 'id') {
      const f = this.frame();
      if (f.locals.has(target.name) || !this.c.unit.globals.has(target.name)) f.locals.set(target.name, v);
      else this.m.set(`sw.${target.name}`, this.cellOf(v));
      return;
    }
    if (target.k === 'path') {
      const f = this.frame();
      if (f.locals.has(target.text) || /^\w+\.\w+$/.test(target.text) && f.locals.has(target.base)) { f.locals.set(target.text, v); return; }
      const { loc } = this.locate(target.text, target.base);
      if (loc) { this.storeLoc(loc, v); return; }
      // KVM software state (host copies, caches): remember it by its C path.
      if (/^\w+\.\w+$/.test(target.text)) { f.locals.set(target.text, v); return; }
      this.m.set(`sw.${target.text}`, this.cellOf(v));
      return;
    }
    if (target.k === 'index') {
      this.m.set(`sw.${target.text}`, this.cellOf(v));
      return;
    }
    if (target.k === 'un' && target.op === '*') this.store(target.e, v);
  }

  protected storeLoc(loc: string, v: Val): void {
    const disp = displayLocation(loc);
    this.flow(`${disp} <- ${describe(v)}`);
    const isMachine = /^(vmcs0[12]|vmcs12|vmcb0[12]|vmcb12)\./.test(loc);
    if (isMachine && v.undef) {
      this.find('warning', 'undefined-value-copied', disp,
        `${disp} receives ${v.from ?? 'a value'}, which is undefined here (${v.undef}) [${Machine.source('pdptr-exit')}]`);
    }
    if (loc === 'vmcb12.int_ctl') this.checkIntCtlCopy(v);
    if (/^vmcs12\.GUEST_PDPTR[0-3]$/.test(loc) && !v.undef && !(this.needed('nested_ept') && this.needed('pae_paging'))) {
      this.find('info', 'vmcs12-pdptr-unneeded', disp,
        `${disp} is written although its value is undefined for L1 after this exit (vmcs12 EPT off or L2 not in PAE paging): the copy is unnecessary [${Machine.source('pdptr-exit')}]`);
    }
    this.m.set(loc, this.cellOf(v));
    const path = this.pathText();
    this.lastStore.set(loc, path ? { val: v, line: this.line, path } : { val: v, line: this.line });
  }

  /** The machine fields this run wrote, as the engine's abstract values with provenance (engine/values.ts). */
  fieldValues(): SimFieldValue[] {
    const out: SimFieldValue[] = [];
    for (const [loc, st] of this.lastStore) {
      if (!/^(vmcs0[12]|vmcs12|vmcb0[12]|vmcb12|shadow)\./.test(loc)) continue;
      const cell = this.m.get(loc);
      const f: SimFieldValue = { location: displayLocation(loc), status: statusOf(cell, true), line: st.line, by: describe(st.val) };
      if (st.path) f.path = st.path;
      out.push(f);
    }
    return out.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  }

  private checkIntCtlCopy(v: Val): void {
    // Bits the stored value already carried from vmcb02 were checked where they were copied (`x &= ~MASK` re-stores them).
    const before = (this.lastStore.get('vmcb12.int_ctl')?.val.src ?? []).filter((s) => s.loc === 'vmcb02.int_ctl').reduce((acc, s) => acc | s.mask, 0n);
    for (const s of v.src ?? []) {
      if (s.loc !== 'vmcb02.int_ctl') continue;
      for (const name of intCtlBitNames()) {
        const mask = intCtlMask(name);
        if (!(s.mask & mask & ~before) || mask === 0n) continue;
        // Who owns the bit depends on these configuration variables: the sweep must vary them.
        for (const k of OWNER_VARS[name] ?? []) this.reader.get(k);
        const owner = this.m.intCtlOwnerAtExit(name);
        const bit = name.replace(/_MASK$/, '');
        if (owner === 'L0') {
          // Without V_INTR_MASKING the leak is the theoretical one of seed 002 (harmless in practice): info.
          const theoretical = (name === 'V_TPR_MASK' || name === 'V_IRQ_MASK') && !this.m.cfg.vIntrMasking && !(name === 'V_IRQ_MASK' && this.m.cfg.l0IrqWindow);
          this.find(theoretical ? 'info' : 'warning', 'int-ctl-l0-leak', `vmcb12.int_ctl.${bit}`,
            `vmcb12.int_ctl.${bit} receives vmcb02's ${bit}, which holds L0's own state in this configuration (${this.ownerWhy(name)}) [${Machine.INTCTL_OWNER_SOURCE}]`);
        } else if (owner === 'none') {
          const ic = this.m.get('vmcb02.int_ctl').n ?? 0n;
          if (!intCtlWrittenBack(name, ic)) {
            this.find('warning', 'int-ctl-not-written-back', `vmcb12.int_ctl.${bit}`,
              `vmcb12.int_ctl.${bit} is copied from vmcb02, but the processor never writes ${bit} back on #VMEXIT: vmcb12 receives L0's setting [${Machine.INTCTL_OWNER_SOURCE}]`);
          }
        }
      }
    }
  }

  private ownerWhy(name: string): string {
    const c = this.m.cfg;
    switch (name) {
      case 'V_TPR_MASK': return 'vmcb12 does not set V_INTR_MASKING: L2\'s TPR is L1\'s TPR, which L0 virtualizes';
      case 'V_IRQ_MASK': return c.l0IrqWindow && !c.l1InterceptVintr ? 'L0, not L1, intercepts VINTR: L0 set V_IRQ for its own interrupt window' : 'vmcb12 does not set V_INTR_MASKING: V_IRQ is not L1\'s to see';
      case 'V_GIF_MASK': return 'nested vGIF is off: V_GIF is L1\'s GIF, managed by L0';
      default: return 'nested vNMI is off';
    }
  }

  /** A change of the current VMCS/VMCB (engine/control.ts): vmx_switch_vmcs, loaded_vmcs, vmcs_load, svm_switch_vmcb. */
  protected applySwitch(sw: ControlSwitch, what: string): void {
    if (this.sym) this.sym.effects++;
    if (sw.pendingVmcs) this.loadedPtr = sw.pendingVmcs;
    if (sw.vmcs) {
      if (sw.vmcs !== 'shadow') this.loadedPtr = sw.vmcs;
      this.m.loadVmcs(sw.vmcs);
      this.flow(`current VMCS <- ${sw.vmcs} (${what})`);
    }
    if (sw.loadPending) {
      const cur = this.m.currentVmcs();
      const v = this.loadedPtr ?? (cur === 'shadow' ? 'vmcs01' : cur);
      this.m.loadVmcs(v);
      this.flow(`current VMCS <- ${v} (${what}: loaded_vmcs)`);
    }
    if (sw.vmcb) {
      this.m.switchVmcb(sw.vmcb);
      this.flow(`svm->vmcb <- ${sw.vmcb} (${what})`);
    }
  }

  protected flushMachineFindings(): void {
    const saved = this.line;
    for (const f of this.m.findings) {
      const at = f.subject ? this.hostWrites.get(f.subject) : undefined;
      if (at !== undefined) this.line = at;
      this.find(f.severity, f.rule, f.subject ?? f.rule, f.source ? `${f.message} [${f.source}]` : f.message);
      this.line = saved;
    }
    this.m.findings = [];
  }
}

const locateCache = new Map<string, Map<string, { loc?: string; ptr?: string }>>();

/** Configuration variables the owner of an int_ctl bit at #VMEXIT depends on (Machine.intCtlOwnerAtExit). */
const OWNER_VARS: Readonly<Record<string, readonly string[]>> = {
  V_TPR_MASK: ['v_intr_masking'], V_IRQ_MASK: ['v_intr_masking', 'l0_irq_window', 'l1_intercept_vintr'],
  V_GIF_MASK: ['nested_vgif'], V_NMI_PENDING_MASK: ['nested_vnmi'], V_NMI_BLOCKING_MASK: ['nested_vnmi'],
};

export class BudgetError extends Error {
  constructor() { super('interpretation budget exhausted'); }
}
