// The symbolic sweep: one interpretation run for many configurations, with sweep variables left open, instead of one
// run per configuration. The variables that do not change the machine (predicates.ts machineVar: nested_run_pending,
// guest_mode, nested_vid, ...) are open; so are the boolean machine variables until the model reads one of their
// configuration fields or needs one's value (guardedConfig, InterpState.needed: the sweep then splits on it). Where a
// condition tests an open variable the interpreter forks as it does on any unknown condition (c.ts fork), and every
// flow and finding is recorded with the path condition it was produced under. A configuration's run is then read off
// the trace: the flows and findings whose path condition the configuration satisfies, with the path described as its
// own run would describe it (projection below).
//
// That is exact only while nothing observes a value that depends on which arm ran. So where paths that differ on an
// open variable join, every location whose values differ becomes TAINT, and reading TAINT (any property of it)
// throws SymbolicAbort; so do the few effects that live outside the forked state (hand saves, VMSAVE/VMLOAD, host
// fields, current VMCS/VMCB that differ between arms). Aborted configurations are swept run by run as before
// (sweep.ts). test/unit/sim-symbolic.test.ts checks that both ways give the same simulation of every fixture function.
import { predicatesOf, type Formula } from '../../analysis/conditions';
import { describePath, feasible, joinMaps } from '../../analysis/engine/paths';
import type { Exit, PathState, RunFinding } from './interpState';
import { sameCell } from './c';
import { sameVal } from './values';
import { machineVar, VARS, type VarValue } from './predicates';
import type { MachineConfig } from '../../model/machine/index';
import { KEPT_CONFIGS } from '../../model/machine/machineCore';

/** The symbolic run observed a value that depends on an open variable: its result would not be exact. */
export class SymbolicAbort extends Error {
  /** `consulted`: the open machine variable whose value the model needed (the sweep then splits on it and retries). */
  constructor(why: string, readonly consulted?: string) { super(`symbolic sweep aborted: ${why}`); }
}

/** The model needs the value of open variable `k`: the run cannot stand for its configurations (the sweep splits on k). */
export function consulted(k: string): never {
  throw new SymbolicAbort(`the model consults ${k}`, k);
}

/**
 * The machine configuration of a symbolic run that leaves machine variables open (sweep.ts opens the boolean ones):
 * any read of a field they set throws SymbolicAbort naming the variable — the model depends on its value there, so the
 * configurations must be run apart on it.
 */
export function guardedConfig(cfg: MachineConfig, open: ReadonlySet<string>): MachineConfig {
  const varOfField = new Map<string, string>();
  for (const k of open) if (machineVar(k)) for (const f of fieldsOf(k)) varOfField.set(f, k);
  if (!varOfField.size) return cfg;
  const guarded = new Proxy({ ...cfg }, {
    get(t, p, r) {
      const k = typeof p === 'string' ? varOfField.get(p) : undefined;
      if (k) consulted(k);
      return Reflect.get(t, p, r);
    },
  });
  KEPT_CONFIGS.add(guarded);
  return guarded;
}

/** The machine configuration fields a sweep variable sets (predicates.ts VARS apply). */
function fieldsOf(k: string): string[] {
  const probe = {} as MachineConfig;
  VARS[k].apply(probe, VARS[k].domain[0]);
  return Object.keys(probe);
}

const abort = (): never => { throw new SymbolicAbort('a value joined over an open variable was read'); };

/** A value (cell, local, stored value) that differs between arms forked on an open variable: reading it aborts. */
export const TAINT: never = new Proxy(Object.create(null), {
  get: abort, has: abort, ownKeys: abort, getOwnPropertyDescriptor: abort, set: abort, deleteProperty: abort, defineProperty: abort,
}) as never;

export function isTaint(v: unknown): boolean {
  return v === TAINT;
}

/** What a symbolic run records besides the interpreter's own state. */
export class SymbolicTrace {
  /** Path condition of each entry of the run's flows. */
  readonly flowPcs: Formula[] = [];
  /** Path condition and message (without the path) of each finding. */
  readonly findingPcs = new WeakMap<RunFinding, { pc: Formula; base: string }>();
  /** What the configuration decided about each recorded path condition's other predicates, when it was recorded. */
  readonly fixedAt = new Map<Formula, Map<string, boolean>>();
  /** > 0 while a condition is evaluated to see whether it can be decided (interpEval.ts condition). */
  probing = 0;
  /** Effects (flows, findings, stores, calls followed) so far: a probe must have none. */
  effects = 0;
  /** Open variables read while probing. */
  readonly touched = new Set<string>();
  /** Open variables the run has forked on (both arms ran). */
  readonly forked = new Set<string>();
  private readonly mentionsMemo = new WeakMap<Formula, boolean>();

  constructor(readonly open: ReadonlySet<string>) {}

  /** Does the path condition mention an open variable? */
  mentions(pc: Formula): boolean {
    if (pc.kind === 'true') return false;
    let m = this.mentionsMemo.get(pc);
    if (m === undefined) {
      m = predicatesOf(pc).some((k) => this.open.has(k));
      this.mentionsMemo.set(pc, m);
    }
    return m;
  }

  /** Both arms of a condition run: note the open variables it names. */
  forkedOn(cond: Formula): void {
    for (const k of predicatesOf(cond)) if (this.open.has(k)) this.forked.add(k);
  }

  /** Effects that live outside the forked state may not happen on a path that depends on an open variable. */
  guard(pc: Formula, what: string): void {
    if (this.mentions(pc)) throw new SymbolicAbort(`${what} on a path that depends on an open variable`);
  }
}

/**
 * The join of two paths of a symbolic run that differ on an open variable (their conditions name one): every location
 * whose values differ becomes TAINT, and the paths must agree on the level, CPU and current VMCS/VMCB.
 */
export function joinOpen(a: Exit, b: Exit): PathState {
  const ma = a.state.machine;
  const mb = b.state.machine;
  if (ma.level !== mb.level || ma.cpu !== mb.cpu || ma.exitedFromL2 !== mb.exitedFromL2 || ma.loadedVmcs !== mb.loadedVmcs || ma.vmcbPtr !== mb.vmcbPtr
    || a.state.loadedPtr !== b.state.loadedPtr) throw new SymbolicAbort('the level, CPU or current VMCS/VMCB depends on an open variable');
  const taint = (): never => TAINT;
  return {
    machine: { ...ma, cells: joinMaps(ma.cells, mb.cells, sameKeepingTaint(sameCell), taint) },
    locals: joinMaps(a.state.locals, b.state.locals, sameKeepingTaint(sameVal), taint),
    lastStore: joinMaps(a.state.lastStore, b.state.lastStore, (x, y) => x === y, taint),
    loadedPtr: a.state.loadedPtr,
  };
}

/** Other joins of a symbolic run: TAINT on either side stays TAINT (its value is not known, so neither is the join's). */
export function sameKeepingTaint<V>(eq: (x: V, y: V) => boolean): (x: V, y: V) => boolean {
  return (x, y) => x === y || (!isTaint(x) && !isTaint(y) && eq(x, y));
}

export function mergeKeepingTaint<V, R>(join: (x: V | undefined, y: V | undefined, k: string) => R): (x: V | undefined, y: V | undefined, k: string) => R {
  return (x, y, k) => (isTaint(x) || isTaint(y) ? TAINT : join(x, y, k));
}

/** A configuration's flows and findings, read off a symbolic run's trace. */
export interface Projection { flows: string[]; findings: RunFinding[] }

/**
 * Reads configurations off one symbolic run: a flow or finding belongs to a configuration iff its path condition is
 * feasible once the configuration's open variables are fixed (what the configuration's own run decides at each fork).
 */
export class Projector {
  readonly open: readonly string[];
  /** The run's flows in stretches recorded under one path condition (`pc` undefined: one that names no open variable). */
  private readonly stretches: Array<{ pc: PcVerdicts | undefined; flows: readonly string[] }> = [];
  private readonly pcs = new Map<Formula, PcVerdicts>();

  /** `flows`: the run's, one per entry of trace.flowPcs; at most 30 open variables (sweep.ts sweeps at most 12). */
  constructor(private readonly trace: SymbolicTrace, flows: readonly string[], private readonly findings: readonly RunFinding[]) {
    this.open = [...trace.open];
    for (let i = 0; i < flows.length;) {
      const pc = trace.mentions(trace.flowPcs[i]) ? trace.flowPcs[i] : undefined;
      let j = i + 1;
      while (j < flows.length && (trace.mentions(trace.flowPcs[j]) ? trace.flowPcs[j] : undefined) === pc) j++;
      this.stretches.push({ pc: pc && this.verdictsOf(pc), flows: flows.slice(i, j) });
      i = j;
    }
  }

  // (Indexed loops, one concat per configuration, and projected findings shared between configurations: a sweep
  // projects up to 4096 configurations in its first call, before V8 optimizes this code.)
  /** `bits`, when the caller has them: bit i set iff open[i] is true in `a`. */
  project(a: ReadonlyMap<string, VarValue>, bits?: number): Projection {
    // (Open variables are boolean variables that are their own predicates: predicates.ts FREE_BOOLS.)
    if (bits === undefined) {
      bits = 0;
      for (let i = 0; i < this.open.length; i++) if (a.get(this.open[i]) === true) bits |= 1 << i;
    }
    const on: Array<readonly string[]> = [];
    for (let i = 0; i < this.stretches.length; i++) {
      const s = this.stretches[i];
      if (!s.pc || this.verdict(s.pc, bits).on) on.push(s.flows);
    }
    const flows = ([] as string[]).concat(...on);
    const findings: RunFinding[] = [];
    for (let i = 0; i < this.findings.length; i++) {
      const f = this.findings[i];
      const at = this.trace.findingPcs.get(f);
      if (!at || !this.trace.mentions(at.pc)) { findings.push(f); continue; }
      const v = this.verdict(this.verdictsOf(at.pc), bits);
      if (!v.on) continue;
      let g = v.findings.get(f);
      if (!g) {
        g = { line: f.line, severity: f.severity, rule: f.rule, subject: f.subject, message: at.base + (v.path ? ` (on the path where ${v.path})` : '') };
        if (v.path) g.path = v.path;
        v.findings.set(f, g);
      }
      findings.push(g);
    }
    return { flows, findings };
  }

  private verdictsOf(pc: Formula): PcVerdicts {
    let p = this.pcs.get(pc);
    if (!p) {
      const named = predicatesOf(pc);
      let mask = 0;
      this.open.forEach((k, i) => { if (named.includes(k)) mask |= 1 << i; });
      this.pcs.set(pc, p = { pc, mask, byBits: new Map() });
    }
    return p;
  }

  /**
   * Does a configuration (`bits`: its open variables' values) run the path with condition `p.pc`, and how does its own
   * run describe that path? Its run decides each fork with what it says about the fork's predicates.
   */
  private verdict(p: PcVerdicts, bits: number): Verdict {
    const key = bits & p.mask;
    let v = p.byBits.get(key);
    if (!v) {
      const fixed = new Map(this.trace.fixedAt.get(p.pc));
      this.open.forEach((k, i) => { if (p.mask & (1 << i)) fixed.set(k, (key & (1 << i)) !== 0); });
      const on = feasible(p.pc, fixed);
      v = { on, path: on ? describePath(p.pc, fixed) : '', findings: new Map() };
      p.byBits.set(key, v);
    }
    return v;
  }
}

/** A path condition of the run: the open variables it names (bit mask over the open ones), its verdicts by their values. */
interface PcVerdicts { pc: Formula; mask: number; byBits: Map<number, Verdict> }

/** Whether the configurations with some values of a path condition's open variables run it; their findings there. */
interface Verdict { on: boolean; path: string; findings: Map<RunFinding, RunFinding> }

