// Interpretation of KVM C functions on the machine (model/machine), path by path: the engine (analysis/engine) decides
// which arms of a branch are feasible under the configuration and the model's implications, each arm runs on its own
// copy of the state under its path condition, and states join after the branch with the condition kept in the
// reasons of the values that differ. Calls into functions of the document are followed; configuration-gated helpers
// run only under their configuration; KVM's switches of the current VMCS/VMCB are tracked (engine/control.ts).
import { and, pred, type Formula } from '../../analysis/conditions';
import { branchArms, describePath, joinMaps } from '../../analysis/engine/paths';
import { Machine, hwMsrName, intCtlBit, intCtlMask, intCtlWrittenBack, valueCell, vmsaveMsrs, type Cell } from '../../model/machine/index';
import type { CFunction, Expr, Stmt } from './cir';
import { posFormulas } from './compiled';
import { condPos, defaultParam, exprText, joinVal, sameVal, type Val } from './values';
import { InterpEval } from './interpEval';
import { BudgetError, type Exit, type Frame, type PathState, type Signal } from './interpState';
import { isTaint, joinOpen, mergeKeepingTaint, sameKeepingTaint, TAINT } from './symbolic';

// The interpreter is split in layers: interpState.ts (state, locations, findings), interpEval.ts (expressions and
// calls), and here statements, forks and joins of paths, function invocation and the whole-run checks.
export { BudgetError, InterpState, type RunFinding, type RunOptions } from './interpState';
export { InterpEval } from './interpEval';

/** An invocation in progress: enter() → exec of the body → leave() → exitCall(). */
export interface Call { fn: CFunction; frame: Frame; followed: boolean; callLine: number; pc0: Formula }

/** The interpreter: statements, forks and joins at undecided branches, calls into the document, whole-run checks. */
export class Interp extends InterpEval {
  override invoke(fn: CFunction, args: Val[]): Val {
    const call = this.enter(fn, args);
    try {
      this.leave(call, this.exec(fn.body));
    } finally {
      this.exitCall(call);
    }
    return call.frame.ret ?? {};
  }

  /**
   * The first half of invoke(): the callee's frame with its parameters. With leave() and exitCall() it lets the sweep
   * run the simulated function's body one top-level statement at a time (resume.ts) exactly as invoke() runs it.
   */
  enter(fn: CFunction, args: Val[]): Call {
    if (this.sym) this.sym.effects++;
    const frame: Frame = { locals: new Map(), exits: [] };
    fn.params.forEach((p, i) => {
      if (!p) return;
      const v = args[i] ?? defaultParam(p);
      frame.locals.set(p, v.ptr || v.n !== undefined || v.arr ? v : { ...v, ...defaultParam(p) });
    });
    // A call from the function being simulated (not its own start): steps inside name it and the call's line.
    const followed = this.frames.length > 0;
    const call: Call = { fn, frame, followed, callLine: this.line, pc0: this.pc };
    if (followed) this.calls.push({ fn: fn.name, line: call.callLine });
    this.frames.push(frame);
    this.frameOf.set(fn, frame);
    return call;
  }

  /** The body ran with signal `sig`: every path that left the function (returns, and the fall-through) joins at its end. */
  leave(call: Call, sig: Signal): void {
    const { frame, pc0 } = call;
    // A lone fall-through leaves the state as it is.
    const exits = sig === 'return' ? frame.exits : frame.exits.length ? [...frame.exits, { state: this.saveState(), pc: this.pc, ret: frame.ret }] : [];
    if (exits.length) {
      let acc = exits[0];
      for (const x of exits.slice(1)) acc = { state: this.joinStates(acc, x), pc: pc0, ret: acc.ret || x.ret ? this.joinRet(acc, x) : undefined };
      this.restoreState(acc.state);
      frame.ret = acc.ret;
    }
  }

  /** Back in the caller (also when the body threw). */
  exitCall(call: Call): void {
    this.frames.pop();
    this.frameOf.delete(call.fn);
    if (call.followed) this.calls.pop();
    // Back in the caller: what its statement does next is on the call's line, not the callee's last one.
    if (call.followed) this.line = call.callLine;
    this.pc = call.pc0;
  }

  /** What exec() of a block does before its first statement (resume.ts runs a body's statements one by one). */
  enterBlock(): void {
    if (--this.budget < 0) throw new BudgetError();
  }

  // -- paths: forks at undecided conditions, joins after them (analysis/engine/paths.ts)

  private saveState(): PathState {
    return { machine: this.m.snapshot(), locals: new Map(this.frame().locals), lastStore: new Map(this.lastStore), loadedPtr: this.loadedPtr };
  }

  private restoreState(s: PathState): void {
    this.m.restore(s.machine);
    this.frame().locals = new Map(s.locals);
    this.lastStore = new Map(s.lastStore);
    this.loadedPtr = s.loadedPtr;
  }

  /**
   * A fork's own handling of states, without copies (they were most of a symbolic sweep's run time): takeState() hands
   * over the live state, which must be replaced with adoptState() before the path goes on; an adopted state is not
   * used again by whoever gave it.
   */
  private takeState(): PathState {
    return { machine: this.m.take(), locals: this.frame().locals, lastStore: this.lastStore, loadedPtr: this.loadedPtr };
  }

  private adoptState(s: PathState): void {
    this.m.adopt(s.machine);
    this.frame().locals = s.locals;
    this.lastStore = s.lastStore;
    this.loadedPtr = s.loadedPtr;
  }

  private condText(pc: Formula): string {
    return pc.kind === 'true' ? '' : describePath(pc, this.fixedFor(pc));
  }

  /** Join two paths' states: equal values stay, differing ones become "one or the other" (undefined if either is). */
  private joinStates(a: Exit, b: Exit): PathState {
    const sym = this.sym;
    if (sym && (sym.mentions(a.pc) || sym.mentions(b.pc))) return joinOpen(a, b);
    const ca = this.condText(a.pc);
    const cb = this.condText(b.pc);
    // (A symbolic run keeps TAINT: symbolic.ts.)
    const same = <V>(eq: (x: V, y: V) => boolean) => (sym ? sameKeepingTaint(eq) : eq);
    const merge = <V, R>(join: (x: V | undefined, y: V | undefined, k: string) => R) => (sym ? mergeKeepingTaint(join) : join);
    const cells = joinMaps(a.state.machine.cells, b.state.machine.cells, same(sameCell),
      merge((x: Cell | undefined, y: Cell | undefined, k: string) => joinCell(x ?? this.m.defaultFor(k), y ?? this.m.defaultFor(k), ca, cb)));
    const machine = { ...a.state.machine, cells };
    const locals = joinMaps(a.state.locals, b.state.locals, same(sameVal), merge((x: Val | undefined, y: Val | undefined) => joinVal(x, y, ca, cb)));
    // A store on both arms: one or the other, on the joined path; on one arm only: that arm's store and condition.
    type Store = PathState['lastStore'] extends Map<string, infer S> ? S : never;
    const lastStore = joinMaps(a.state.lastStore, b.state.lastStore, (x, y) => x === y,
      merge((x: Store | undefined, y: Store | undefined) => (x && y ? { val: joinVal(x.val, y.val, ca, cb), line: Math.max(x.line, y.line) } : x ?? y)));
    return { machine, locals, lastStore, loadedPtr: a.state.loadedPtr ?? b.state.loadedPtr };
  }

  /** The value two exits of a function return. */
  private joinRet(a: Exit, b: Exit): Val {
    if (this.sym && (this.sym.mentions(a.pc) || this.sym.mentions(b.pc))) return a.ret === b.ret ? a.ret! : TAINT;
    if (this.sym && (isTaint(a.ret) || isTaint(b.ret))) return TAINT;
    return joinVal(a.ret, b.ret, this.condText(a.pc), this.condText(b.pc));
  }

  protected splitOn(key: string, on: () => Val, off: () => Val): Val {
    let a: Val | undefined;
    let b: Val | undefined;
    this.fork(pred(key), () => { a = on(); return 'normal'; }, () => { b = off(); return 'normal'; });
    return a && b ? TAINT : a ?? b ?? {};
  }

  /**
   * An undecided branch: each feasible arm runs on its own copy of the state under its path condition; a
   * configuration-decided or infeasible arm does not run. Arms that return are kept for the function's end.
   */
  private fork(cond: Formula, runThen: () => Signal, runElse?: () => Signal): Signal {
    const pc0 = this.pc;
    const arms = branchArms(pc0, cond, this.fixedFor(and(pc0, cond)));
    if (!arms.then && !arms.else) return 'normal';
    if (!arms.then || !arms.else) {
      this.pc = arms.then ?? arms.else!;
      const sig = arms.then ? runThen() : runElse ? runElse() : 'normal';
      if (sig !== 'return') this.pc = pc0;
      return sig;
    }
    this.sym?.forkedOn(cond);
    const s0 = this.saveState();
    this.pc = arms.then;
    const sigT = runThen();
    const sT = this.takeState();
    this.adoptState(s0);
    this.pc = arms.else;
    const sigE = runElse ? runElse() : 'normal';
    if (sigT === 'return' && sigE === 'return') return 'return';
    if (sigT === 'return') return sigE;
    if (sigE === 'return') {
      this.adoptState(sT);
      this.pc = arms.then;
      return 'normal';
    }
    // (joinStates builds new maps: the joined state owns them)
    this.adoptState(this.joinStates({ state: sT, pc: arms.then }, { state: this.takeState(), pc: arms.else }));
    this.pc = pc0;
    return sigT === sigE ? sigT : 'normal';
  }

  // -- statements

  private inRegion(s: Stmt): 'in' | 'out' | 'partial' {
    const r = this.frames.length === 1 ? this.opts.region : undefined;
    if (!r) return 'in';
    if (s.end < r.start || s.line > r.end) return 'out';
    if (s.line >= r.start && s.end <= r.end) return 'in';
    return 'partial';
  }

  exec(s: Stmt): Signal {
    if (--this.budget < 0) throw new BudgetError();
    const where = this.inRegion(s);
    if (where === 'out' && s.k !== 'decl' && s.k !== 'block') return 'normal';
    switch (s.k) {
      case 'block':
        for (const x of s.body) {
          const sig = this.exec(x);
          if (sig !== 'normal') return sig;
        }
        return 'normal';
      case 'decl':
        this.line = s.line;
        for (const it of s.items) {
          const v = it.init ? this.eval(it.init) : {};
          this.frame().locals.set(it.name, v);
        }
        return 'normal';
      case 'expr':
        this.line = s.line;
        this.stepBegin();
        this.eval(s.e);
        this.flushMachineFindings();
        if (this.opts.record) this.stepEnd(s.text.trim().replace(/\s+/g, ' ').slice(0, 120));
        return 'normal';
      case 'if': {
        this.line = s.line;
        const t = this.condition(s.cond, condPos(s.cond));
        if (t === true) return this.exec(s.then);
        if (t === false) return s.else ? this.exec(s.else) : 'normal';
        const els = s.else;
        return this.fork(this.formulaOf(s.cond, s.condText), () => this.exec(s.then), els ? () => this.exec(els) : undefined);
      }
      case 'loop': {
        if (s.init) this.exec(s.init);
        for (let i = 0; i < 64; i++) {
          if (!s.doWhile || i > 0) {
            if (!s.cond) { if (i > 0) break; } else {
              const t = this.condition(s.cond, condPos(s.cond));
              if (t === false) break;
              if (t === undefined) {
                const sig = this.fork(this.formulaOf(s.cond, 'loop condition'), () => { const b = this.exec(s.body); return b === 'return' ? b : 'normal'; });
                if (sig === 'return') return sig;
                break;
              }
            }
          }
          const sig = this.exec(s.body);
          if (sig === 'break') break;
          if (sig === 'return') return sig;
          if (s.update) this.eval(s.update);
        }
        return 'normal';
      }
      case 'return': {
        this.line = s.line;
        const ret = s.e ? this.eval(s.e) : undefined;
        if (ret) this.frame().ret = ret;
        this.frame().exits.push({ state: this.saveState(), pc: this.pc, ret });
        return 'return';
      }
      case 'break': return 'break';
      case 'continue': return 'continue';
      case 'goto':
        // The label's code is not followed: the path leaves here (as a return would).
        this.frame().exits.push({ state: this.saveState(), pc: this.pc });
        return 'return';
      case 'switch': {
        const v = this.eval(s.e);
        const subject = exprText(s.e);
        return this.fork({ kind: 'unknown', key: `?switch:${subject}`, text: `switch (${subject}) takes a case`, start: -1, end: -1 },
          () => { const sig = this.exec(s.body); void v; return sig === 'return' ? sig : 'normal'; });
      }
      default: return 'normal';
    }
  }

  /** Formula of an if/loop condition: the shared mapping when it has one, else an unknown named by its text. */
  private formulaOf(e: Expr, text: string): Formula {
    const pos = condPos(e);
    const f = pos ? posFormulas.get(this.c)?.get(pos) : undefined;
    if (f) return f;
    const t = text.replace(/\s+/g, ' ').trim();
    return { kind: 'unknown', key: `?${t.slice(0, 120)}`, text: t, start: -1, end: -1 };
  }

  /** Checks that need the whole run (hand saves next to VMSAVE, lost int_ctl write-back). */
  finish(): void {
    if (this.handSaves.length && this.vmsaves.length) this.redundantHandSaves();
    this.lostIntCtlWriteBack();
  }

  /** Hand saves/restores of state that VMSAVE/VMLOAD in the same run already save/restore. */
  private redundantHandSaves(): void {
    const vmsaveLines = this.vmsaves.filter((v) => !v.load).map((v) => v.line);
    const vmloadLines = this.vmsaves.filter((v) => v.load).map((v) => v.line);
    const covered = new Set([...vmsaveMsrs().map((m) => hwMsrName(m.index)), 'FS', 'GS', 'TR', 'LDTR']);
    const byLine = new Map<string, { line: number; restore: boolean; what: string[] }>();
    for (const h of this.handSaves) {
      const lines = h.restore ? vmloadLines : vmsaveLines;
      if (!lines.length || !covered.has(h.what)) continue;
      const key = `${h.line}|${h.restore}`;
      const e = byLine.get(key) ?? { line: h.line, restore: h.restore, what: [] };
      if (!e.what.includes(h.what)) e.what.push(h.what);
      byLine.set(key, e);
    }
    for (const e of byLine.values()) {
      const lines = e.restore ? vmloadLines : vmsaveLines;
      this.line = e.line;
      const many = e.what.length > 1;
      this.find('warning', e.restore ? 'vmload-redundant-restore' : 'vmsave-redundant-save', e.what.join(', '),
        `${e.what.join(', ')} ${many ? 'are' : 'is'} ${e.restore ? 'restored' : 'saved'} by hand although ${e.restore ? 'VMLOAD' : 'VMSAVE'} at line ${lines[0]} already ${e.restore ? 'loads' : 'stores'} ${many ? 'them' : 'it'} ${e.restore ? 'from' : 'in'} the host save area [${Machine.source('vmsave')}]`);
    }
  }

  /** int_ctl bits the processor wrote back into vmcb02 that belong to L2 but never reach vmcb12. */
  private lostIntCtlWriteBack(): void {
    const st = this.lastStore.get('vmcb12.int_ctl');
    if (st) {
      const ic02 = this.m.get('vmcb02.int_ctl').n ?? 0n;
      const from02 = (st.val.src ?? []).filter((s) => s.loc === 'vmcb02.int_ctl').reduce((acc, s) => acc | s.mask, 0n);
      for (const name of ['V_TPR_MASK', 'V_IRQ_MASK', 'V_GIF_MASK', 'V_NMI_PENDING_MASK', 'V_NMI_BLOCKING_MASK']) {
        if (!intCtlBit(name)) continue;
        const mask = intCtlMask(name);
        if (!intCtlWrittenBack(name, ic02) || this.m.intCtlOwnerAtExit(name) !== 'L1' || (from02 & mask)) continue;
        if (st.val.n !== undefined && (st.val.n & mask) === (ic02 & mask)) continue;
        this.line = st.line;
        const bit = name.replace(/_MASK$/, '');
        this.find('warning', 'int-ctl-writeback-lost', `vmcb12.int_ctl.${bit}`,
          `the processor wrote ${bit} back into vmcb02 on #VMEXIT and it belongs to L2 in this configuration, but it is not copied to vmcb12: L1 sees a stale ${bit} [${Machine.INTCTL_OWNER_SOURCE}]`);
      }
    }
  }
}


export function sameCell(a: Cell, b: Cell): boolean {
  return a === b || (a.status === b.status && a.n === b.n && a.desc === b.desc && a.why === b.why && a.cpu === b.cpu && a.cleared === b.cleared);
}

/** Join of a machine cell on two paths (`ca`/`cb`: the paths' conditions). */
function joinCell(a: Cell, b: Cell, ca: string, cb: string): Cell {
  if (a.status === 'undefined' || b.status === 'undefined') {
    const u = a.status === 'undefined' ? a : b;
    const cond = a.status === 'undefined' ? ca : cb;
    return { ...u, why: cond ? `${u.why ?? 'undefined'}, on the path where ${cond}` : u.why };
  }
  if (a.status === 'stale' || b.status === 'stale') return a.status === 'stale' ? a : b;
  const c: Cell = valueCell(a.n !== undefined && a.n === b.n ? a.n : undefined,
    a.desc === b.desc ? a.desc : `${a.desc ?? 'value'} or ${b.desc ?? 'value'}`);
  if (a.cpu !== undefined && a.cpu === b.cpu) c.cpu = a.cpu;
  if (a.deps || b.deps) c.deps = [...new Set([...(a.deps ?? []), ...(b.deps ?? [])])];
  return c;
}
