// Interpretation of KVM C functions on the machine (model/machine), path by path: the engine (analysis/engine) decides
// which arms of a branch are feasible under the configuration and the model's implications, each arm runs on its own
// copy of the state under its path condition, and states join after the branch with the condition kept in the
// reasons of the values that differ. Calls into functions of the document are followed; configuration-gated helpers
// run only under their configuration; KVM's switches of the current VMCS/VMCB are tracked (engine/control.ts).
import { and, evaluate, predicatesOf, TRUE, type Formula } from '../../analysis/conditions';
import { CALL_PREDICATES, GATED_HELPERS, IDENT_PREDICATES, MEMBER_PREDICATES } from '../../analysis/engine/facts';
import { switchOfAssignment, switchOfCall, type ControlSwitch, type VmcsObject } from '../../analysis/engine/control';
import { branchArms, describePath, joinMaps } from '../../analysis/engine/paths';
import { vmcbRole } from '../../analysis/masks';
import { entityForIdentifier } from '../../model/index';
import {
  Machine, displayLocation, hex, hostLifetime, hwMsrName, intCtlBit, intCtlBitNames, intCtlMask,
  intCtlWrittenBack, valueCell, vmcsField, vmcsFieldByMember, vmsaveMsrs, vmwriteError,
  type Cell, type MachineConfig, type MachineSnapshot,
} from '../../model/machine/index';
import type { Actor, SimFieldValue, SimFinding, SimStep } from '../../protocol/simulation';
import { statusOf } from '../../analysis/engine/values';
import type { CFunction, Expr, Stmt } from './cir';
import { posFormulas, type Compiled } from './compiled';
import { ConfigReader, predicateValue, type VarValue } from './predicates';
import {
  ALL, UNKNOWN, condPos, describe, exprText, joinVal, known, maskSrc, mergeSrc, sameVal, defaultParam, type Src, type Val,
} from './values';

// ---- interpreter ------------------------------------------------------------------------------------------------

type Signal = 'normal' | 'break' | 'continue' | 'return';

interface PathState {
  machine: MachineSnapshot;
  locals: Map<string, Val>;
  lastStore: Map<string, { val: Val; line: number; path?: string }>;
  loadedPtr?: VmcsObject;
}

/** A path that left the function (return/goto), with its state and condition. */
interface Exit { state: PathState; pc: Formula; ret?: Val }

interface Frame { locals: Map<string, Val>; ret?: Val; exits: Exit[] }

export interface RunOptions {
  record: boolean;
  region?: { start: number; end: number };
}

export interface RunFinding extends SimFinding { subject: string; path?: string }

export class Interp {
  readonly m: Machine;
  readonly reader: ConfigReader;
  readonly findings: RunFinding[] = [];
  readonly flows: string[] = [];
  readonly steps: SimStep[] = [];
  private frames: Frame[] = [];
  /** Path condition of the path being interpreted (engine/paths.ts). */
  pc: Formula = TRUE;
  /** The `loaded_vmcs` pointer: what vmcs_load(vmx->loaded_vmcs->vmcs) / vmx_vcpu_load_vmcs load. */
  private loadedPtr?: VmcsObject;
  private budget = 20000;
  private depth = 0;
  /** Last store into a machine location, with the value's taint (for int_ctl write-back checks). */
  lastStore = new Map<string, { val: Val; line: number; path?: string }>();
  readonly handSaves: Array<{ what: string; line: number; restore: boolean }> = [];
  readonly vmsaves: Array<{ line: number; load: boolean }> = [];
  readonly hostWrites = new Map<string, number>();
  private line = 0;

  /** Line that events (prelude/postlude steps, machine findings) are attributed to. */
  at(line: number): void {
    this.line = line;
  }

  constructor(readonly c: Compiled, cfg: MachineConfig, assignment: ReadonlyMap<string, VarValue>, readonly opts: RunOptions) {
    this.m = new Machine(cfg);
    this.m.recordChanges = opts.record;
    this.reader = new ConfigReader(cfg, assignment);
  }

  // -- findings / steps

  find(severity: SimFinding['severity'], rule: string, subject: string, message: string): void {
    const path = this.pathText();
    const f: RunFinding = { line: this.line, severity, rule, subject, message: message + (path ? ` (on the path where ${path})` : '') };
    if (path) f.path = path;
    this.findings.push(f);
  }

  /** The current path condition, minus what the configuration decides. */
  pathText(): string {
    return this.pc.kind === 'true' ? '' : describePath(this.pc, this.fixedFor(this.pc));
  }

  /** Values the configuration gives the predicates of `f`. */
  private fixedFor(f: Formula): Map<string, boolean> {
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
    this.steps.push(s);
  }

  event(op: string, fn: () => void, explanation?: string, source?: string, actor: Actor = 'HW'): void {
    this.stepBegin();
    fn();
    this.flushMachineFindings();
    this.stepEnd(op, actor, explanation, source, true);
  }

  // -- config-backed predicates

  private machineBit(key: string): boolean | undefined {
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

  private predicate(key: string): boolean | undefined {
    return predicateValue(key, this.reader, (k) => this.machineBit(k));
  }

  private evalFormula(f: Formula): boolean | undefined {
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

  private touchBitDeps(v: Val, mask: bigint): void {
    for (const [bits, keys] of v.bitDeps ?? []) if (bits & mask) for (const k of keys) this.reader.get(k);
  }

  // -- machine locations

  private readCell(loc: string): Val {
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

  private cellOf(v: Val): Cell {
    const c: Cell = v.undef ? { status: 'undefined', why: v.undef } : v.stale ? { status: 'stale', why: v.stale } : valueCell(v.n, v.from ?? v.desc);
    if (v.cpu !== undefined) c.cpu = v.cpu;
    return c;
  }

  /** Machine location for a C lvalue/rvalue path (`vmcs12->guest_pdptr0`, `svm->nested.ctl.int_ctl`). */
  private locate(text: string, base: string): { loc?: string; ptr?: string } {
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

  private frame(): Frame {
    return this.frames[this.frames.length - 1];
  }

  private store(target: Expr, v: Val): void {
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

  private storeLoc(loc: string, v: Val): void {
    const disp = displayLocation(loc);
    this.flows.push(`${disp} <- ${describe(v)}`);
    const isMachine = /^(vmcs0[12]|vmcs12|vmcb0[12]|vmcb12)\./.test(loc);
    if (isMachine && v.undef) {
      this.find('warning', 'undefined-value-copied', disp,
        `${disp} receives ${v.from ?? 'a value'}, which is undefined here (${v.undef}) [${Machine.source('pdptr-exit')}]`);
    }
    if (loc === 'vmcb12.int_ctl') this.checkIntCtlCopy(v);
    if (/^vmcs12\.GUEST_PDPTR[0-3]$/.test(loc) && !v.undef && !(this.predicate('nested_ept') && this.predicate('pae_paging'))) {
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

  // -- expressions

  eval(e: Expr): Val {
    if (--this.budget < 0) throw new BudgetError();
    switch (e.k) {
      case 'num': return { n: e.v };
      case 'str': return { desc: e.v };
      case 'id': return this.ident(e.name);
      case 'path': {
        const f = this.frame();
        const local = f.locals.get(e.text);
        if (local) return local;
        const { loc, ptr } = this.locate(e.text, e.base);
        if (ptr) return { ptr };
        if (loc) return this.readCell(loc);
        const sw = `sw.${e.text}`;
        if (this.m.has(sw)) return this.readCell(sw);
        if (e.base && f.locals.get(e.base)?.ptr === 'ctx' || !e.base || !f.locals.has(e.base)) {
          const last = e.text.replace(/^.*(?:->|\.)/, '');
          const pred = MEMBER_PREDICATES[last] ?? IDENT_PREDICATES[last];
          if (pred) return this.boolVal(this.predicate(pred));
        }
        return { desc: e.text, ptr: /(vcpu|vmx|svm|kvm)$/.test(e.text) ? 'ctx' : undefined };
      }
      case 'index': {
        const o = this.eval(e.obj);
        const i = this.eval(e.idx);
        if (o.arr && known(i) && i.n < BigInt(o.arr.length)) return o.arr[Number(i.n)];
        const sw = `sw.${e.text}`;
        if (this.m.has(sw)) return this.readCell(sw);
        return { desc: e.text };
      }
      case 'call': return this.call(e);
      case 'bin': return this.binary(e.op, e.l, e.r);
      case 'un': {
        if (e.op === '&') {
          const v = this.eval(e.e);
          return { ...v, desc: v.desc ?? 'address' };
        }
        const v = this.eval(e.e);
        if (e.op === '!') { const t = this.truth(v); return t === undefined ? {} : { n: t ? 0n : 1n }; }
        if (!known(v)) return { undef: v.undef, src: v.src };
        if (e.op === '~') return { n: ~v.n & ALL, src: v.src };
        if (e.op === '-') return { n: -v.n };
        return v;
      }
      case 'assign': {
        const sw = e.op === '=' ? switchOfAssignment(exprText(e.l), exprText(e.r)) : undefined;
        if (sw) this.applySwitch(sw, `${exprText(e.l)} = ${exprText(e.r)}`);
        let v = this.eval(e.r);
        if (e.op !== '=') {
          const cur = this.eval(e.l);
          v = this.arith(e.op.slice(0, -1), cur, v);
        }
        this.store(e.l, v);
        return v;
      }
      case 'cond': {
        const t = this.truth(this.eval(e.c));
        if (t === true) return this.eval(e.t);
        if (t === false) return this.eval(e.f);
        const a = this.eval(e.t);
        this.eval(e.f);
        return { ...a, n: undefined };
      }
      case 'comma': this.eval(e.l); return this.eval(e.r);
      case 'update': {
        const v = this.eval(e.e);
        if (known(v)) this.store(e.e, { n: e.op === '++' ? v.n + 1n : v.n - 1n });
        return v;
      }
      case 'asm': {
        const m = /\b(vmsave|vmload|vmrun|stgi|clgi)\b/.exec(e.text);
        if (m) this.insn(m[1]);
        return {};
      }
      case 'init': return { arr: e.items.map((x) => this.eval(x)) };
      case 'opaque': return { desc: e.text };
    }
  }

  private boolVal(b: boolean | undefined): Val {
    return b === undefined ? {} : { n: b ? 1n : 0n };
  }

  private ident(name: string): Val {
    const f = this.frame();
    const local = f.locals.get(name);
    if (local) return local;
    const pred = IDENT_PREDICATES[name];
    if (pred) return this.boolVal(this.predicate(pred));
    const ent = entityForIdentifier(name);
    if (ent) {
      switch (ent.kind) {
        case 'intctl': return { n: BigInt(ent.mask >>> 0), sym: name };
        case 'msr': return { n: BigInt(ent.index), sym: ent.name, desc: ent.name };
        case 'vmcs': return { n: BigInt(ent.encoding), sym: ent.name };
        case 'exit-reason': return { n: BigInt(ent.code), sym: name };
        case 'symbol': return /^(0x[0-9a-f]+|\d+)$/i.test(ent.value) ? { n: BigInt(ent.value), sym: name } : { sym: name };
        default: return { sym: name };
      }
    }
    const def = this.c.unit.defines.get(name);
    if (def && this.depth < 8) {
      this.depth++;
      try { return { ...this.eval(def), sym: name }; } finally { this.depth--; }
    }
    if (this.c.unit.globals.has(name)) {
      if (this.m.has(`sw.${name}`)) return this.readCell(`sw.${name}`);
      const init = this.c.unit.globals.get(name);
      if (init && this.depth < 8) {
        this.depth++;
        try { return { ...this.eval(init), desc: name }; } finally { this.depth--; }
      }
      return { desc: `${name} (global, the same on every CPU)`, from: name };
    }
    if (/^(vcpu|vmx|svm|kvm|sd)$/.test(name)) return { ptr: 'ctx', desc: name };
    return { sym: name, desc: name };
  }

  private truth(v: Val): boolean | undefined {
    if (v.undef) {
      this.find('warning', 'undefined-value-used', v.from ?? 'value', `a condition tests ${describe(v)}`);
      return undefined;
    }
    if (v.ptr) return true;
    if (known(v)) return v.n !== 0n;
    return undefined;
  }

  private arith(op: string, a: Val, b: Val): Val {
    const undef = a.undef ?? b.undef;
    if (op === '&') {
      const src = mergeSrc(known(b) ? maskSrc(a.src, b.n) : a.src, known(a) ? maskSrc(b.src, a.n) : b.src);
      const deps = [...(a.bitDeps ?? []), ...(b.bitDeps ?? [])];
      const r: Val = { src, from: a.from ?? b.from };
      if (deps.length) r.bitDeps = deps.map(([m, k]) => [known(b) ? m & b.n : known(a) ? m & a.n : m, k] as [bigint, string[]]).filter(([m]) => m !== 0n);
      if (undef) r.undef = undef;
      if (known(a) && known(b)) r.n = a.n & b.n;
      else if ((known(a) && a.n === 0n) || (known(b) && b.n === 0n)) r.n = 0n;
      return r;
    }
    if (op === '|' || op === '^' || op === '+') {
      const r: Val = { src: mergeSrc(a.src, b.src), from: a.from ?? b.from };
      const deps = [...(a.bitDeps ?? []), ...(b.bitDeps ?? [])];
      if (deps.length) r.bitDeps = deps;
      if (undef) r.undef = undef;
      if (a.cpu !== undefined || b.cpu !== undefined) r.cpu = a.cpu ?? b.cpu;
      if (known(a) && known(b)) r.n = op === '|' ? a.n | b.n : op === '^' ? a.n ^ b.n : a.n + b.n;
      return r;
    }
    const r: Val = {};
    if (undef) r.undef = undef;
    if (a.cpu !== undefined || b.cpu !== undefined) r.cpu = a.cpu ?? b.cpu;
    if (!known(a) || !known(b)) return r;
    switch (op) {
      case '-': r.n = a.n - b.n; break;
      case '*': r.n = a.n * b.n; break;
      case '/': r.n = b.n ? a.n / b.n : undefined; break;
      case '%': r.n = b.n ? a.n % b.n : undefined; break;
      case '<<': r.n = (a.n << b.n) & ALL; break;
      case '>>': r.n = a.n >> b.n; break;
      case '<': r.n = a.n < b.n ? 1n : 0n; break;
      case '>': r.n = a.n > b.n ? 1n : 0n; break;
      case '<=': r.n = a.n <= b.n ? 1n : 0n; break;
      case '>=': r.n = a.n >= b.n ? 1n : 0n; break;
      case '==': r.n = a.n === b.n ? 1n : 0n; break;
      case '!=': r.n = a.n !== b.n ? 1n : 0n; break;
    }
    return r;
  }

  private binary(op: string, l: Expr, r: Expr): Val {
    if (op === '&&' || op === '||') {
      const a = this.truth(this.eval(l));
      if (op === '&&' && a === false) return { n: 0n };
      if (op === '||' && a === true) return { n: 1n };
      const b = this.truth(this.eval(r));
      if (a === undefined || b === undefined) {
        if (op === '&&' && b === false) return { n: 0n };
        if (op === '||' && b === true) return { n: 1n };
        return {};
      }
      return { n: b ? 1n : 0n };
    }
    return this.arith(op, this.eval(l), this.eval(r));
  }

  /** Condition of an if/loop: the shared mapping first, then the value of the expression. */
  private condition(e: Expr, pos: string | undefined): boolean | undefined {
    const f = pos ? posFormulas.get(this.c)?.get(pos) : undefined;
    if (f && f.kind !== 'unknown') {
      const b = this.evalFormula(f);
      if (b !== undefined) return b;
    }
    const v = this.eval(e);
    if (v.bitDeps && known(v)) this.touchBitDeps(v, v.n === 0n ? ALL : v.n);
    if (v.bitDeps && !known(v)) this.touchBitDeps(v, ALL);
    return this.truth(v);
  }

  // -- calls

  private fieldArg(e: Expr | undefined): string | undefined {
    if (!e) return undefined;
    if (e.k === 'id' && vmcsField(e.name)) return e.name;
    const v = this.eval(e);
    return v.sym && vmcsField(v.sym) ? v.sym : undefined;
  }

  private call(e: Extract<Expr, { k: 'call' }>): Val {
    const fn = e.fn;
    const a = e.args;
    const sw = switchOfCall(fn, a.map(exprText));
    // The switch takes effect here; a definition in the document is still followed below (it may do more).
    if (sw) this.applySwitch(sw, `${fn}()`);
    const acc = /^vmcs_(read|write)(16|32|64|l)$/.exec(fn);
    if (acc) {
      const field = this.fieldArg(a[0]);
      const vmcs = this.m.currentVmcs();
      if (!field) return {};
      if (acc[1] === 'read') return this.readCell(`${vmcs}.${field}`);
      const v = a[1] ? this.eval(a[1]) : UNKNOWN;
      this.vmcsWrite(vmcs, field, v);
      return {};
    }
    if (fn === 'vmcs_set_bits' || fn === 'vmcs_clear_bits') {
      const field = this.fieldArg(a[0]);
      if (field) {
        const cur = this.readCell(`${this.m.currentVmcs()}.${field}`);
        const b = a[1] ? this.eval(a[1]) : UNKNOWN;
        this.vmcsWrite(this.m.currentVmcs(), field, fn === 'vmcs_set_bits' ? this.arith('|', cur, b) : this.arith('&', cur, known(b) ? { n: ~b.n & ALL } : {}));
      }
      return {};
    }
    if (/^(rdmsrl|rdmsrq|rdmsrl_safe|rdmsrq_safe|rdmsr|rdmsr_safe|native_read_msr)$/.test(fn)) {
      const msr = a[0] ? this.eval(a[0]) : UNKNOWN;
      const name = known(msr) ? hwMsrName(Number(msr.n)) : msr.desc ?? '?';
      this.handSaves.push({ what: name, line: this.line, restore: false });
      const v: Val = { from: `host ${name}`, desc: `host ${name} (read by hand)` };
      if (a[1]) this.store(a[1].k === 'un' && a[1].op === '&' ? a[1].e : a[1], v);
      this.flows.push(`${a[1] ? exprText(a[1]) : 'value'} <- host MSR ${name} (rdmsr)`);
      return v;
    }
    if (/^(wrmsrl|wrmsrq|wrmsr|wrmsrl_safe|wrmsrq_safe|wrmsrns)$/.test(fn)) {
      const msr = a[0] ? this.eval(a[0]) : UNKNOWN;
      const name = known(msr) ? hwMsrName(Number(msr.n)) : msr.desc ?? '?';
      this.handSaves.push({ what: name, line: this.line, restore: true });
      this.flows.push(`host MSR ${name} <- ${a[1] ? describe(this.eval(a[1])) : 'value'} (wrmsr)`);
      return {};
    }
    if (fn === 'savesegment' || fn === 'loadsegment') {
      const seg = a[0]?.k === 'id' ? a[0].name.toUpperCase() : '?';
      this.handSaves.push({ what: seg, line: this.line, restore: fn === 'loadsegment' });
      if (fn === 'savesegment' && a[1]) this.store(a[1], { desc: `host ${seg} selector` });
      return {};
    }
    if (fn === 'kvm_read_ldt' || fn === 'kvm_load_ldt') {
      this.handSaves.push({ what: 'LDTR', line: this.line, restore: fn === 'kvm_load_ldt' });
      return { desc: 'host LDT selector' };
    }
    if (/^(__svm_)?(vmsave|vmload)$|^svm_(vmsave|vmload)/.test(fn)) {
      this.insn(/vmload/.test(fn) ? 'vmload' : 'vmsave');
      return {};
    }
    if (fn === 'stgi' || fn === 'clgi') { this.insn(fn); return {}; }
    if (fn === 'store_idt' || fn === 'native_store_idt') {
      if (a[0]) this.store(a[0].k === 'un' && a[0].op === '&' ? { k: 'path', text: `${exprText(a[0].e)}.address`, base: exprText(a[0].e) } : a[0],
        { desc: 'host IDT base (one IDT for every CPU after boot)', from: 'host IDT base' });
      return {};
    }
    if (/^(get_current_gdt_ro|get_current_gdt_rw|get_current_gdt_ro_vaddr|this_cpu_ptr|raw_cpu_ptr|per_cpu_ptr|per_cpu|this_cpu_read|__this_cpu_read|get_cpu_entry_area|smp_processor_id|raw_smp_processor_id|get_cpu|cpu_entry_stack)$/.test(fn)) {
      for (const x of a) this.eval(x);
      return { cpu: this.m.cpu, n: /processor_id|get_cpu$/.test(fn) ? BigInt(this.m.cpu) : undefined, desc: `${fn}() on CPU ${this.m.cpu}`, from: `${fn}() (per-CPU, CPU ${this.m.cpu})` };
    }
    if (fn === 'BIT' || fn === 'BIT_ULL') {
      const v = a[0] ? this.eval(a[0]) : UNKNOWN;
      return known(v) ? { n: 1n << v.n } : {};
    }
    if (fn === 'ARRAY_SIZE') {
      const v = a[0] ? this.eval(a[0]) : UNKNOWN;
      return v.arr ? { n: BigInt(v.arr.length) } : {};
    }
    if (fn === 'to_vmx' || fn === 'to_svm' || fn === 'to_kvm_svm' || fn === 'to_kvm_vmx') return { ptr: 'ctx', desc: fn };
    if (fn === 'get_vmcs12' || fn === 'get_shadow_vmcs12') return { ptr: 'vmcs12' };
    if (fn === 'kvm_make_request') {
      this.flows.push(`request ${a[0] ? exprText(a[0]) : '?'}`);
      return {};
    }
    if (/^(likely|unlikely|WARN_ON|WARN_ON_ONCE|__builtin_expect)$/.test(fn) && a[0]) return this.eval(a[0]);
    // Model predicates (the engine's one table, analysis/engine/facts.ts).
    const pk = CALL_PREDICATES[fn];
    if (pk) return this.boolVal(this.predicate(pk));
    if (fn === 'svm_is_intercept' || fn === 'vmcb12_is_intercept' || fn === 'vmcb_is_intercept') {
      const bit = a[1] ? exprText(a[1]).replace(/^INTERCEPT_/, '') : '';
      const obj = fn === 'vmcb12_is_intercept' ? '@vmcb12-cache' : '';
      return this.boolVal(this.machineBit(`intercept:${bit}${obj}`));
    }
    // Helpers whose effect exists only under a configuration run only under it (engine/facts.ts GATED_HELPERS).
    const gate = GATED_HELPERS[fn];
    if (gate && this.predicate(gate) !== true) {
      this.flows.push(`${fn}() not run: ${gate} off in this configuration`);
      return { desc: `${fn}() (not run: ${gate} off)` };
    }
    // Functions of the same document: interpret them.
    const callee = this.c.unit.functions.get(fn);
    if (callee && this.frames.length < 6 && !this.frames.some((f) => f === this.frameOf.get(callee))) {
      return this.invoke(callee, a.map((x) => this.eval(x)));
    }
    for (const x of a) this.eval(x);
    return { desc: `${fn}()`, from: `${fn}()` };
  }
  private frameOf = new WeakMap<CFunction, Frame>();

  private vmcsWrite(vmcs: string, field: string, v: Val): void {
    const f = vmcsField(field);
    const disp = `${vmcs}.${field}`;
    if (f?.type === 'host-state') {
      this.flows.push(`${disp} <- ${describe(v)}`);
      this.hostWrites.set(field, this.line);
      const life = hostLifetime(field);
      const c = this.cellOf(v);
      if (life !== 'per-cpu' && v.cpu === undefined) delete c.cpu;
      this.m.writeHostField(vmcs, field, c);
      return;
    }
    const err = vmwriteError(field, this.m.cfg.vmwriteAnyField);
    if (err) {
      this.find('warning', 'vmwrite-fails', field, `VMWRITE ${field} fails with VM-instruction error ${err}${err === 13 ? ' (read-only field; IA32_VMX_MISC[29] not set)' : ''} [${Machine.source('vmwrite')}]`);
      return;
    }
    this.storeLoc(`${vmcs}.${field}`, v);
  }

  private insn(name: string): void {
    const line = this.line;
    if (name === 'vmsave' || name === 'vmload') {
      this.vmsaves.push({ line, load: name === 'vmload' });
      if (name === 'vmsave') this.m.vmsave('host_save_area');
      else this.m.vmload('host_save_area');
      this.flows.push(name === 'vmsave' ? 'host save area <- FS, GS, TR, LDTR, KernelGsBase, STAR, LSTAR, CSTAR, SFMASK, SYSENTER_CS/ESP/EIP (VMSAVE)' : 'FS, GS, TR, LDTR, KernelGsBase, STAR, LSTAR, CSTAR, SFMASK, SYSENTER_* <- host save area (VMLOAD)');
    } else if (name === 'stgi') this.m.stgi();
    else if (name === 'clgi') this.m.clgi();
  }

  invoke(fn: CFunction, args: Val[]): Val {
    const frame: Frame = { locals: new Map(), exits: [] };
    fn.params.forEach((p, i) => {
      if (!p) return;
      const v = args[i] ?? defaultParam(p);
      frame.locals.set(p, v.ptr || v.n !== undefined || v.arr ? v : { ...v, ...defaultParam(p) });
    });
    this.frames.push(frame);
    this.frameOf.set(fn, frame);
    const pc0 = this.pc;
    try {
      const sig = this.exec(fn.body);
      // Every path that left the function (returns, and the fall-through) joins at its end.
      const exits = sig === 'return' ? frame.exits : [...frame.exits, { state: this.saveState(), pc: this.pc, ret: frame.ret }];
      if (exits.length) {
        let acc = exits[0];
        for (const x of exits.slice(1)) acc = { state: this.joinStates(acc, x), pc: pc0, ret: acc.ret || x.ret ? joinVal(acc.ret, x.ret, this.condText(acc.pc), this.condText(x.pc)) : undefined };
        this.restoreState(acc.state);
        frame.ret = acc.ret;
      }
    } finally {
      this.frames.pop();
      this.frameOf.delete(fn);
      this.pc = pc0;
    }
    return frame.ret ?? {};
  }

  // -- paths: forks at undecided conditions, joins after them (analysis/engine/paths.ts)

  private saveState(): PathState {
    return { machine: this.m.snapshot(), locals: new Map(this.frame().locals), lastStore: new Map(this.lastStore), loadedPtr: this.loadedPtr };
  }

  private restoreState(s: PathState): void {
    this.m.restore(s.machine);
    const f = this.frame();
    f.locals.clear();
    for (const [k, v] of s.locals) f.locals.set(k, v);
    this.lastStore = new Map(s.lastStore);
    this.loadedPtr = s.loadedPtr;
  }

  private condText(pc: Formula): string {
    return pc.kind === 'true' ? '' : describePath(pc, this.fixedFor(pc));
  }

  /** Join two paths' states: equal values stay, differing ones become "one or the other" (undefined if either is). */
  private joinStates(a: Exit, b: Exit): PathState {
    const ca = this.condText(a.pc);
    const cb = this.condText(b.pc);
    const cells = joinMaps(a.state.machine.cells, b.state.machine.cells, sameCell,
      (x, y, k) => joinCell(x ?? this.m.defaultFor(k), y ?? this.m.defaultFor(k), ca, cb));
    const machine = { ...a.state.machine, cells };
    const locals = joinMaps(a.state.locals, b.state.locals, sameVal, (x, y) => joinVal(x, y, ca, cb));
    // A store on both arms: one or the other, on the joined path; on one arm only: that arm's store and condition.
    const lastStore = joinMaps(a.state.lastStore, b.state.lastStore, (x, y) => x === y,
      (x, y) => (x && y ? { val: joinVal(x.val, y.val, ca, cb), line: Math.max(x.line, y.line) } : x ?? y));
    return { machine, locals, lastStore, loadedPtr: a.state.loadedPtr ?? b.state.loadedPtr };
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
    const s0 = this.saveState();
    this.pc = arms.then;
    const sigT = runThen();
    const sT = this.saveState();
    this.restoreState(s0);
    this.pc = arms.else;
    const sigE = runElse ? runElse() : 'normal';
    if (sigT === 'return' && sigE === 'return') return 'return';
    if (sigT === 'return') return sigE;
    if (sigE === 'return') {
      this.restoreState(sT);
      this.pc = arms.then;
      return 'normal';
    }
    const joined = this.joinStates({ state: sT, pc: arms.then }, { state: this.saveState(), pc: arms.else });
    this.restoreState(joined);
    this.pc = pc0;
    return sigT === sigE ? sigT : 'normal';
  }

  /** A change of the current VMCS/VMCB (engine/control.ts): vmx_switch_vmcs, loaded_vmcs, vmcs_load, svm_switch_vmcb. */
  private applySwitch(sw: ControlSwitch, what: string): void {
    if (sw.pendingVmcs) this.loadedPtr = sw.pendingVmcs;
    if (sw.vmcs) {
      if (sw.vmcs !== 'shadow') this.loadedPtr = sw.vmcs;
      this.m.loadVmcs(sw.vmcs);
      this.flows.push(`current VMCS <- ${sw.vmcs} (${what})`);
    }
    if (sw.loadPending) {
      const cur = this.m.currentVmcs();
      const v = this.loadedPtr ?? (cur === 'shadow' ? 'vmcs01' : cur);
      this.m.loadVmcs(v);
      this.flows.push(`current VMCS <- ${v} (${what}: loaded_vmcs)`);
    }
    if (sw.vmcb) {
      this.m.switchVmcb(sw.vmcb);
      this.flows.push(`svm->vmcb <- ${sw.vmcb} (${what})`);
    }
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

  private flushMachineFindings(): void {
    const saved = this.line;
    for (const f of this.m.findings) {
      const at = f.subject ? this.hostWrites.get(f.subject) : undefined;
      if (at !== undefined) this.line = at;
      this.find(f.severity, f.rule, f.subject ?? f.rule, f.source ? `${f.message} [${f.source}]` : f.message);
      this.line = saved;
    }
    this.m.findings = [];
  }

  /** Checks that need the whole run (hand saves next to VMSAVE, lost int_ctl write-back). */
  finish(): void {
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

const locateCache = new Map<string, Map<string, { loc?: string; ptr?: string }>>();

/** Configuration variables the owner of an int_ctl bit at #VMEXIT depends on (Machine.intCtlOwnerAtExit). */
const OWNER_VARS: Readonly<Record<string, readonly string[]>> = {
  V_TPR_MASK: ['v_intr_masking'], V_IRQ_MASK: ['v_intr_masking', 'l0_irq_window', 'l1_intercept_vintr'],
  V_GIF_MASK: ['nested_vgif'], V_NMI_PENDING_MASK: ['nested_vnmi'], V_NMI_BLOCKING_MASK: ['nested_vnmi'],
};

export class BudgetError extends Error {
  constructor() { super('interpretation budget exhausted'); }
}


function sameCell(a: Cell, b: Cell): boolean {
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
