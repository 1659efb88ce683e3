// Interpretation of a selected C function/region of KVM code on the machine, under every configuration of the
// predicates the region depends on. The region is compiled once (cir.ts) from the shared analysis tree; path
// conditions are mapped onto model predicates by the shared analysis/conditions.ts.
import type { Node } from 'web-tree-sitter';
import { mapCondition, predicatesOf, evaluate, type Formula } from '../../analysis/conditions';
import type { DocumentAnalysis } from '../../analysis/document';
import { parseC } from '../../analysis/parser';
import { classifyVmcbObject } from '../../analysis/refs';
import { roleOfFunction, type Role } from '../../analysis/roles';
import { entityForIdentifier } from '../../model/index';
import {
  Machine, displayLocation, hex, hostLifetime, hwMsrName, intCtlBit, intCtlBitNames, intCtlMask,
  intCtlWrittenBack, valueCell, vmcsField, vmcsFieldByMember, vmsaveMsrs, vmwriteError,
  type Cell, type MachineConfig,
} from '../../model/machine/index';
import type { Actor, SimConfiguration, SimFinding, SimStep, SimulationResult } from '../../protocol/simulation';
import { compileFunction, compileStmt, compileUnit, type CFunction, type CompiledUnit, type Expr, type Stmt } from './cir';
import {
  ConfigReader, EXTRA_CALL_PREDICATES, EXTRA_IDENT_PREDICATES, VARS, configFor, feasible, predicateValue, type VarValue,
} from './predicates';

// ---- values -----------------------------------------------------------------------------------------------------

interface Src { loc: string; mask: bigint }
interface Val {
  n?: bigint;
  /** Pointer to a machine object (`vmcs12`, `vmcb02`, ...) or a KVM context struct (`ctx`). */
  ptr?: string;
  arr?: Val[];
  /** The value is undefined (why). */
  undef?: string;
  stale?: string;
  /** Machine locations whose bits the value carries. */
  src?: Src[];
  /** Per-CPU value: which CPU it describes. */
  cpu?: number;
  /** Where it was read from (display form), for flow descriptions. */
  from?: string;
  desc?: string;
  /** Field name (for VMCS enum constants) / symbol. */
  sym?: string;
  /** Configuration variables individual bits depend on (int_ctl values built from the configuration). */
  bitDeps?: Array<[bigint, string[]]>;
}

const ALL = (1n << 64n) - 1n;
const UNKNOWN: Val = {};

function known(v: Val): v is Val & { n: bigint } {
  return v.n !== undefined;
}

function describe(v: Val): string {
  if (v.undef) return `${v.from ?? 'value'} (undefined: ${v.undef})`;
  if (v.stale) return `${v.from ?? 'value'} (stale: ${v.stale})`;
  let s = v.from ?? '';
  if (v.n !== undefined) s = s ? `${s} ${hex(v.n)}` : hex(v.n);
  if (!v.from && v.desc) s = s ? `${s} ${v.desc}` : v.desc;
  if (v.cpu !== undefined) s += ` (CPU ${v.cpu})`;
  return s || 'value';
}

function maskSrc(src: Src[] | undefined, mask: bigint): Src[] | undefined {
  if (!src) return undefined;
  const out = src.map((s) => ({ loc: s.loc, mask: s.mask & mask })).filter((s) => s.mask !== 0n);
  return out.length ? out : undefined;
}

function mergeSrc(a?: Src[], b?: Src[]): Src[] | undefined {
  if (!a) return b;
  if (!b) return a;
  const m = new Map<string, bigint>();
  for (const s of [...a, ...b]) m.set(s.loc, (m.get(s.loc) ?? 0n) | s.mask);
  return [...m].map(([loc, mask]) => ({ loc, mask }));
}

// ---- the compiled document --------------------------------------------------------------------------------------

interface Compiled {
  unit: CompiledUnit;
}

const compiledCache = new WeakMap<DocumentAnalysis, Compiled>();

/** Parameter names from a signature's text: the last identifier of each comma-separated declaration. */
function paramsFromSignature(sig: string): string[] {
  const open = sig.lastIndexOf('(', sig.lastIndexOf(')'));
  if (open < 0) return [];
  const inner = sig.slice(open + 1, sig.lastIndexOf(')'));
  return inner.split(',').map((p) => /([A-Za-z_][A-Za-z0-9_]*)\s*(?:\[[^\]]*\])?\s*$/.exec(p.trim())?.[1] ?? '').filter((p) => p && p !== 'void');
}

function compileDoc(doc: DocumentAnalysis): Compiled {
  const hit = compiledCache.get(doc);
  if (hit) return hit;
  const unit = compileUnit(doc.tree.rootNode, (text) => {
    try {
      const t = parseC(`long __kvm_lens_def = (${text});`);
      const decl = t.rootNode.namedChildren[0];
      return decl?.descendantsOfType('init_declarator')[0]?.childForFieldName('value') ?? undefined;
    } catch {
      return undefined;
    }
  });
  // The shared analysis is the authority on where functions are (it looks inside ERROR nodes and preprocessor
  // blocks, and splits definitions tree-sitter glued together); compile each from the node that spans exactly it.
  for (const fi of doc.functions) {
    const line = doc.lines.positionAt(fi.start).line + 1;
    const end = doc.lines.positionAt(fi.end).line + 1;
    const have = unit.functions.get(fi.name);
    if (have && have.end === end) continue;
    let n: Node | null = doc.tree.rootNode.descendantForIndex(fi.bodyStart, Math.max(fi.bodyStart, fi.bodyEnd - 1));
    for (let i = 0; n && i < 64 && !(n.startIndex <= fi.bodyStart && n.endIndex >= fi.bodyEnd); i++) n = n.parent;
    let f: CFunction | undefined;
    if (n && n.type === 'function_definition' && n.endIndex === fi.end) f = compileFunction(n);
    else if (n && n.type === 'compound_statement' && n.startIndex === fi.bodyStart && n.endIndex === fi.bodyEnd) {
      f = { name: fi.name, params: paramsFromSignature(doc.text.slice(fi.start, fi.bodyStart)), body: compileStmt(n), line, end };
    }
    if (!f) {
      // No node spans exactly this function (tree-sitter glued it to a neighbour): parse its text on its own, padded
      // with newlines so line numbers stay those of the document.
      const t = parseC('\n'.repeat(line - 1) + doc.text.slice(fi.start, fi.end));
      try {
        const def = t.rootNode.descendantsOfType('function_definition')[0];
        f = def ? compileFunction(def) : undefined;
      } finally {
        t.delete();
      }
    }
    if (f) unit.functions.set(fi.name, { ...f, name: fi.name });
    else if (have) unit.functions.delete(fi.name); // the tree's version spans more than the function: do not guess
  }
  // Attach the shared condition mapping to every if/loop condition and predicate-like call.
  const attach = (root: Node): void => {
    const want = ['if_statement', 'while_statement', 'for_statement', 'do_statement', 'conditional_expression'];
    for (const n of root.descendantsOfType(want)) {
      if (!n) continue;
      const c = n.childForFieldName('condition');
      if (!c) continue;
      condFormulaByPos.set(`${c.startIndex}:${c.endIndex}`, mapCondition(c));
    }
  };
  const condFormulaByPos = new Map<string, Formula>();
  attach(doc.tree.rootNode);
  const c: Compiled = { unit };
  posFormulas.set(c, condFormulaByPos);
  compiledCache.set(doc, c);
  return c;
}
const posFormulas = new WeakMap<Compiled, Map<string, Formula>>();

// ---- interpreter ------------------------------------------------------------------------------------------------

type Signal = 'normal' | 'break' | 'continue' | 'return';

interface Frame { locals: Map<string, Val>; ret?: Val }

export interface RunOptions {
  record: boolean;
  region?: { start: number; end: number };
}

interface RunFinding extends SimFinding { subject: string }

class Interp {
  readonly m: Machine;
  readonly reader: ConfigReader;
  readonly findings: RunFinding[] = [];
  readonly flows: string[] = [];
  readonly steps: SimStep[] = [];
  private frames: Frame[] = [];
  private may = 0;
  private mayConds: string[] = [];
  private budget = 20000;
  private depth = 0;
  /** Last store into a machine location, with the value's taint (for int_ctl write-back checks). */
  readonly lastStore = new Map<string, { val: Val; line: number }>();
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
    const cond = this.may && this.mayConds.length ? ` (on the path where ${this.mayConds.join(' and ')})` : '';
    this.findings.push({ line: this.line, severity, rule, subject, message: message + cond });
  }

  stepBegin(): void {
    if (this.opts.record) this.m.begin(this.steps.length + 1);
  }

  stepEnd(op: string, actor: Actor = 'KVM', explanation?: string, source?: string, force = false): void {
    if (!this.opts.record) return;
    const changes = this.m.changes.map((c) => ({ ...c, location: displayLocation(c.location) }));
    if (!changes.length && !force) return;
    const s: SimStep = { index: this.steps.length + 1, line: this.line, actor, op, simulated: true, changes, level: this.m.level };
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
    const keys = predicatesOf(f);
    if (!keys.length) return undefined;
    const a = new Map<string, boolean>();
    for (const k of keys) {
      const v = this.predicate(k);
      if (v !== undefined) a.set(k, v);
    }
    return evaluate(f, a);
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
    if (loc.endsWith('int_ctl')) v.src = [{ loc, mask: ALL }];
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
      const k = classifyVmcbObject(s);
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
    this.lastStore.set(loc, { val: v, line: this.line });
  }

  private checkIntCtlCopy(v: Val): void {
    for (const s of v.src ?? []) {
      if (s.loc !== 'vmcb02.int_ctl') continue;
      for (const name of intCtlBitNames()) {
        const mask = intCtlMask(name);
        if (!(s.mask & mask) || mask === 0n) continue;
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
      case 'V_IRQ_MASK': return c.l0IrqWindow && !c.vIntrMasking ? 'L0 set V_IRQ for its own interrupt window' : 'vmcb12 does not set V_INTR_MASKING: V_IRQ is not L1\'s to see';
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
          const pred = EXTRA_IDENT_PREDICATES[e.text.replace(/^.*(?:->|\.)/, '')];
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
    const pred = EXTRA_IDENT_PREDICATES[name] ?? (name === 'enable_ept' ? 'enable_ept' : undefined);
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
    // Model predicates (shared mapping, then the ones it does not know yet).
    const pk = EXTRA_CALL_PREDICATES[fn];
    if (pk) return this.boolVal(this.predicate(pk));
    const shared = SHARED_CALL_PREDICATES[fn];
    if (shared) return this.boolVal(this.predicate(shared));
    if (fn === 'svm_is_intercept' || fn === 'vmcb12_is_intercept' || fn === 'vmcb_is_intercept') {
      const bit = a[1] ? exprText(a[1]).replace(/^INTERCEPT_/, '') : '';
      const obj = fn === 'vmcb12_is_intercept' ? '@vmcb12-cache' : '';
      return this.boolVal(this.machineBit(`intercept:${bit}${obj}`));
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
    const frame: Frame = { locals: new Map() };
    fn.params.forEach((p, i) => {
      if (!p) return;
      const v = args[i] ?? defaultParam(p);
      frame.locals.set(p, v.ptr || v.n !== undefined || v.arr ? v : { ...v, ...defaultParam(p) });
    });
    this.frames.push(frame);
    this.frameOf.set(fn, frame);
    const savedMay = this.may;
    try {
      this.exec(fn.body);
    } finally {
      this.frames.pop();
      this.frameOf.delete(fn);
      this.may = savedMay;
    }
    return frame.ret ?? {};
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
        this.mayBranch(s.condText, () => this.exec(s.then));
        if (s.else) this.mayBranch(`!(${s.condText})`, () => this.exec(s.else!));
        return 'normal';
      }
      case 'loop': {
        if (s.init) this.exec(s.init);
        for (let i = 0; i < 64; i++) {
          if (!s.doWhile || i > 0) {
            if (!s.cond) { if (i > 0) break; } else {
              const t = this.condition(s.cond, condPos(s.cond));
              if (t === false) break;
              if (t === undefined) { this.mayBranch('loop condition', () => this.exec(s.body)); break; }
            }
          }
          const sig = this.exec(s.body);
          if (sig === 'break') break;
          if (sig === 'return') return sig;
          if (s.update) this.eval(s.update);
        }
        return 'normal';
      }
      case 'return':
        this.line = s.line;
        if (s.e) this.frame().ret = this.eval(s.e);
        return this.may ? 'normal' : 'return';
      case 'break': return 'break';
      case 'continue': return 'continue';
      case 'goto': return this.may ? 'normal' : 'return';
      case 'switch':
        this.eval(s.e);
        this.mayBranch('switch case', () => { this.exec(s.body); });
        return 'normal';
      default: return 'normal';
    }
  }

  private mayBranch(cond: string, fn: () => unknown): void {
    this.may++;
    this.mayConds.push(cond.length > 60 ? `${cond.slice(0, 57)}...` : cond);
    try {
      const sig = fn();
      void sig;
    } finally {
      this.may--;
      this.mayConds.pop();
    }
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

class BudgetError extends Error {
  constructor() { super('interpretation budget exhausted'); }
}

const SHARED_CALL_PREDICATES: Readonly<Record<string, string>> = {
  nested_cpu_has_ept: 'nested_ept', is_pae_paging: 'pae_paging', is_long_mode: 'long_mode', is_paging: 'paging', is_pae: 'cr4_pae',
  nested_vgif_enabled: 'nested_vgif', is_guest_mode: 'guest_mode', nested_cpu_has_vmwrite_any_field: 'vmwrite_any_field',
};

function defaultParam(name: string): Val {
  if (/^(shadow_)?vmcs12$/.test(name)) return { ptr: 'vmcs12' };
  if (/^vmcb12$/.test(name)) return { ptr: 'vmcb12' };
  if (/^vmcb0[12]$/.test(name)) return { ptr: name };
  return { ptr: 'ctx', desc: name };
}

function exprText(e: Expr): string {
  switch (e.k) {
    case 'id': return e.name;
    case 'path': case 'index': return e.text;
    case 'call': return e.text;
    case 'un': return `${e.op}${exprText(e.e)}`;
    case 'num': return e.v.toString();
    default: return '…';
  }
}

/** Conditions are attached by source position; the IR keeps no positions, so conditions are matched by identity. */
function condPos(_e: Expr): string | undefined {
  return (_e as { pos?: string }).pos;
}

// ---- roles: the hardware event that leads into the function, and what follows it ----------------------------------

type Vendor = 'vmx' | 'svm';

function vendorOf(fn: CFunction, text: string): Vendor {
  if (/svm|vmcb/.test(fn.name) || /\bvmcb\w*|svm->|\bvmsave\b|\bvmload\b/.test(text)) return 'svm';
  return 'vmx';
}

function guessRole(fn: CFunction, text: string, doc: DocumentAnalysis): Role | undefined {
  const r = roleOfFunction(doc, fn.name);
  if (r) return r;
  if (/vmcs12->guest_\w+\s*=\s*vmcs_read/.test(text) || /vmcb12->control\.int_ctl|nested\.ctl\.int_ctl\s*(\||&)?=/.test(text)) return { kind: 'after-l2-exit', label: 'after a VM exit from L2' };
  if (/vmcs_write\w*\(\s*HOST_/.test(text)) return { kind: 'constant-host-setup', label: 'host state setup' };
  if (/\bvmsave\b/.test(text)) return { kind: 'vcpu-run', label: 'before VMRUN (host state save)' };
  return undefined;
}

function baseConfig(vendor: Vendor, role: Role | undefined): Partial<MachineConfig> {
  const nested = role?.kind === 'after-l2-exit' || role?.kind === 'nested-entry';
  return { vendor, nested };
}

function prelude(it: Interp, role: Role | undefined, vendor: Vendor, fnName: string): void {
  const m = it.m;
  switch (role?.kind) {
    case 'after-l2-exit':
      if (vendor === 'vmx') {
        it.event('VM entry into L2 (vmcs02)', () => m.vmxEntry('L2'), 'L2 runs on vmcs02', Machine.source('vmentry'));
        it.event(`VM exit from L2 (the hardware event that leads into ${fnName})`, () => m.vmxExit(), 'guest state saved into vmcs02 (PDPTRs only with EPT and PAE paging); host state loaded', Machine.source('vmexit'));
      } else {
        it.event('nested VMRUN: nested_vmcb02_prepare_control + VMRUN into L2 (vmcb02)', () => m.svmVmrun('L2'), 'vmcb02.int_ctl = vmcb12 bits for L2 | vmcb01 bits for L0', Machine.source('vmrun'));
        it.event(`#VMEXIT from L2 (the hardware event that leads into ${fnName})`, () => m.svmVmexit(), 'V_TPR, V_IRQ written back (V_GIF only with vGIF, V_NMI_* only with vNMI); GIF cleared', Machine.source('vmexit-svm'));
        if (!/sync_(int_ctl|control)_from_vmcb02/.test(fnName)) {
          it.event('svm_vcpu_run: nested_sync_control_from_vmcb02() (KVM summary)', () => m.nestedSyncControlFromVmcb02(), 'int_ctl bits the processor wrote back are copied into the cached vmcb12 control', Machine.source('vmexit-svm'), 'KVM');
        }
      }
      return;
    case 'nested-entry':
      if (vendor === 'vmx') {
        m.level = 'L1';
        it.event('L1 executes VMLAUNCH/VMRESUME → VM exit to L0', () => m.vmxExit(20), 'KVM emulates the nested entry', Machine.source('vmexit'));
      } else {
        m.level = 'L1';
        it.event('L1 executes VMRUN → #VMEXIT to L0', () => m.svmVmexit(0x80), 'KVM emulates the nested VMRUN', Machine.source('vmexit-svm'));
      }
      return;
    case 'after-vmexit': case 'exit-handler':
      if (vendor === 'vmx') { it.event('VM entry into L1', () => m.vmxEntry('L1')); it.event('VM exit from L1', () => m.vmxExit(), undefined, Machine.source('vmexit')); } else { it.event('VMRUN into L1', () => m.svmVmrun('L1')); it.event('#VMEXIT from L1', () => m.svmVmexit(), undefined, Machine.source('vmexit-svm')); }
      return;
    default:
      m.level = 'L0';
  }
}

function postlude(it: Interp, role: Role | undefined, vendor: Vendor, unit: CompiledUnit, selected: CFunction): void {
  const m = it.m;
  if (role?.kind === 'constant-host-setup' || role?.kind === 'per-cpu-load') {
    if (role.kind === 'constant-host-setup') {
      it.event('vCPU migrates to another physical CPU', () => m.migrate(), 'per-CPU host-state values written for the old CPU go stale', Machine.source('migrate'), 'KVM');
      const load = ['vmx_vcpu_load_vmcs', 'vmx_vcpu_load'].map((n) => unit.functions.get(n)).find((f) => f && f !== selected);
      if (load) {
        it.event(`${load.name}() on the new CPU (from this document)`, () => { it.invoke(load, []); }, undefined, undefined, 'KVM');
      }
    }
    if (vendor === 'vmx') {
      it.event('VM entry into L1', () => m.vmxEntry('L1'), undefined, Machine.source('vmentry'));
      it.event('VM exit: host state loaded from vmcs01', () => m.vmxExit(), 'per-CPU host fields must describe the current CPU', Machine.source('vmexit'));
    }
  }
  if (role?.kind === 'vcpu-run' && vendor === 'svm') {
    it.event('VMRUN into L1', () => m.svmVmrun('L1'), undefined, Machine.source('vmrun'));
    it.event('#VMEXIT', () => m.svmVmexit(), 'host state not covered by VMRUN is restored by VMLOAD of the host save area later', Machine.source('vmexit-svm'));
  }
}

// ---- sweep ------------------------------------------------------------------------------------------------------

export interface SimulateCOptions { functionName?: string; startLine?: number; endLine?: number }

interface RunResult { it: Interp; assignment: Map<string, VarValue>; read: Set<string>; error?: string }

const MAX_VARS = 12;
const MAX_CONFIGS = 4096;

function runOnce(c: Compiled, fn: CFunction, role: Role | undefined, vendor: Vendor, a: Map<string, VarValue>, opts: RunOptions): RunResult {
  const base = baseConfig(vendor, role);
  const cfg = configFor(base, a);
  const it = new Interp(c, cfg, a, opts);
  it.at(fn.line);
  let error: string | undefined;
  try {
    prelude(it, role, vendor, fn.name);
    it.invoke(fn, fn.params.map(defaultParam));
    it.at(fn.end);
    postlude(it, role, vendor, c.unit, fn);
    it.finish();
  } catch (e) {
    error = e instanceof BudgetError ? 'interpretation budget exhausted (very long or looping region); results are partial' : `internal error: ${(e as Error).message}`;
  }
  return { it, assignment: a, read: new Set(it.reader.read), error };
}

function* combos(vars: string[]): Generator<Map<string, VarValue>> {
  const doms = vars.map((k) => VARS[k]?.domain ?? [false, true]);
  const idx = vars.map(() => 0);
  while (true) {
    yield new Map(vars.map((k, i) => [k, doms[i][idx[i]]]));
    let i = vars.length - 1;
    while (i >= 0 && ++idx[i] >= doms[i].length) { idx[i] = 0; i--; }
    if (i < 0) return;
  }
}

function fmtAssign(a: ReadonlyMap<string, VarValue>): string {
  return [...a].map(([k, v]) => `${k}=${v}`).join(', ');
}

/** Verb agreement for a summary subject: `x..3` / lists are plural, a single field takes the singular. */
function agree(phrase: string, subject: string): string {
  const plural = /\.\.|,| and /.test(subject);
  if (plural) return phrase;
  return phrase.replace(/^receive /, 'receives ').replace(/^miss /, 'misses ').replace(/^hold /, 'holds ');
}

const PHRASE: Record<string, string> = {
  'undefined-value-copied': 'receive undefined values',
  'int-ctl-l0-leak': 'receive L0-owned int_ctl state from vmcb02',
  'int-ctl-not-written-back': 'receive int_ctl bits the processor never writes back',
  'int-ctl-writeback-lost': 'miss a bit the processor wrote back',
  'host-state-stale': 'hold a per-CPU value of another CPU after migration (stale)',
  'vmsave-redundant-save': 'saved by hand although VMSAVE saves them',
  'vmload-redundant-restore': 'restored by hand although VMLOAD restores them',
  'vmcs12-pdptr-unneeded': 'written although undefined for L1 (unnecessary copy)',
  'vmwrite-fails': 'VMWRITE fails',
  'undefined-value-used': 'tested while undefined',
};

/** Interpret a function (or the lines of one) of an analysed C document under every relevant configuration. */
export function simulateCDocument(doc: DocumentAnalysis, opts: SimulateCOptions): SimulationResult {
  const c = compileDoc(doc);
  attachConditionPositions(c, doc);
  let fn: CFunction | undefined;
  if (opts.functionName) fn = c.unit.functions.get(opts.functionName);
  else if (opts.startLine !== undefined) {
    const s = opts.startLine;
    const e = opts.endLine ?? s;
    const hits = [...c.unit.functions.values()].filter((f) => f.end >= s && f.line <= e);
    fn = hits.find((f) => roleOfFunction(doc, f.name)) ?? hits[0];
  } else fn = [...c.unit.functions.values()][0];
  if (!fn) {
    const line = opts.startLine ?? 1;
    return {
      kind: 'c', title: opts.functionName ?? 'C region', steps: [], markdown: '', summary: ['nothing to simulate: no function found in the selection'],
      findings: [{ line, severity: 'warning', rule: 'simulate-no-function', message: opts.functionName ? `function ${opts.functionName} not found in this document` : 'the selection contains no function definition' }],
    };
  }
  const text = doc.text.split('\n').slice(fn.line - 1, fn.end).join('\n');
  const role = guessRole(fn, text, doc);
  const vendor = vendorOf(fn, text);
  const region = opts.startLine !== undefined && !opts.functionName && !(opts.startLine <= fn.line && (opts.endLine ?? fn.end) >= fn.end)
    ? { start: opts.startLine, end: opts.endLine ?? opts.startLine } : undefined;
  const runOpts: RunOptions = region ? { record: false, region } : { record: false };

  // Discover the variables the region reads, then sweep them to a fixpoint.
  let vars: string[] = [];
  const first = runOnce(c, fn, role, vendor, new Map(), runOpts);
  for (const k of first.read) if (VARS[k] && !vars.includes(k)) vars.push(k);
  let results: RunResult[] = [];
  let infeasible = 0;
  let capped = false;
  for (let round = 0; round < 6; round++) {
    if (vars.length > MAX_VARS) { vars = vars.slice(0, MAX_VARS); capped = true; }
    results = [];
    infeasible = 0;
    const added: string[] = [];
    for (const a of combos(vars)) {
      if (!feasible(a)) { infeasible++; continue; }
      const r = runOnce(c, fn, role, vendor, a, runOpts);
      results.push(r);
      for (const k of r.read) if (VARS[k] && !vars.includes(k) && !added.includes(k)) added.push(k);
      if (results.length >= MAX_CONFIGS) { capped = true; break; }
    }
    if (!added.length || capped) break;
    vars = [...vars, ...added];
  }
  if (!results.length) results = [first];

  // Configurations, findings, summary.
  const configurations: SimConfiguration[] = results.map((r) => {
    const preds: Record<string, boolean | string> = {};
    for (const k of vars) preds[k] = r.assignment.get(k) ?? VARS[k].dflt(r.it.m.cfg);
    const fs = dedupe(r.it.findings).map(({ subject: _s, ...f }) => f);
    if (r.error) fs.push({ line: fn!.line, severity: 'info', rule: 'simulate-partial', message: r.error });
    return { predicates: preds, findings: fs, flows: r.it.flows };
  });
  const total = results.length;
  const agg = new Map<string, { f: RunFinding; configs: number[] }>();
  results.forEach((r, i) => {
    for (const f of dedupe(r.it.findings)) {
      const key = `${f.line}|${f.rule}|${f.subject}`;
      const e = agg.get(key);
      if (e) { if (e.configs[e.configs.length - 1] !== i) e.configs.push(i); } else agg.set(key, { f, configs: [i] });
    }
  });
  const findings: SimFinding[] = [...agg.values()].map(({ f, configs }) => ({
    line: f.line, severity: f.severity, rule: f.rule,
    message: total > 1 ? `${f.message} — in ${configs.length} of ${total} configurations${configs.length < total ? ` (e.g. ${fmtAssign(results[configs[0]].assignment)})` : ''}` : f.message,
  }));
  findings.sort((a, b) => a.line - b.line || a.rule.localeCompare(b.rule));

  const summary: string[] = [];
  const bySubject = new Map<string, { rule: string; subjects: Set<string>; configs: Set<number> }>();
  for (const { f, configs } of agg.values()) {
    const group = `${f.rule}|${f.subject.replace(/\d+$/, '')}`;
    const e = bySubject.get(group) ?? { rule: f.rule, subjects: new Set(), configs: new Set() };
    e.subjects.add(f.subject);
    for (const i of configs) e.configs.add(i);
    bySubject.set(group, e);
  }
  for (const e of bySubject.values()) {
    const subs = [...e.subjects].sort();
    const label = subs.length > 1 && subs.every((s) => /\d$/.test(s)) ? `${subs[0]}..${subs[subs.length - 1].replace(/^.*?(\d+)$/, '$1')}` : subs.join(', ');
    summary.push(`in ${e.configs.size} of ${total} configurations ${label} ${agree(PHRASE[e.rule] ?? `(${e.rule})`, label)}`);
  }
  const roleText = role ? `${role.label}${role.kind === 'after-l2-exit' ? ` (${vendor === 'vmx' ? 'VM exit' : '#VMEXIT'} from L2 first)` : role.kind === 'constant-host-setup' ? ' (followed by a migration to another CPU and a VM entry/exit)' : ''}` : 'no known role: interpreted as is';
  summary.unshift(`${fn.name}: ${roleText}; ${vendor.toUpperCase()}; ${total} configuration${total === 1 ? '' : 's'} over ${vars.length ? vars.join(', ') : 'no predicates'}${infeasible ? ` (${infeasible} infeasible combinations skipped)` : ''}${capped ? ' (sweep capped)' : ''}`);
  if (!agg.size) summary.push(`no undefined or wrong values in any of the ${total} configurations`);

  // Steps: one representative configuration (the first with findings), recorded.
  const rep = results.find((r) => r.it.findings.some((f) => f.severity === 'warning' || f.severity === 'error')) ?? results[0];
  const shown = runOnce(c, fn, role, vendor, rep.assignment, region ? { record: true, region } : { record: true });
  const steps = shown.it.steps;
  if (steps.length) summary.push(`steps shown for ${rep.assignment.size ? fmtAssign(rep.assignment) : 'the default configuration'}`);
  return { kind: 'c', title: `${fn.name}${region ? ` (lines ${region.start}-${region.end})` : ''}`, steps, findings, configurations, summary, markdown: '' };
}

function dedupe(fs: RunFinding[]): RunFinding[] {
  const seen = new Set<string>();
  const out: RunFinding[] = [];
  for (const f of fs) {
    const k = `${f.line}|${f.rule}|${f.subject}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(f);
  }
  return out;
}

/** Give every compiled if/loop condition the shared formula of its source position. */
function attachConditionPositions(c: Compiled, doc: DocumentAnalysis): void {
  if (attached.has(c)) return;
  attached.add(c);
  const byPos = posFormulas.get(c);
  if (!byPos) return;
  // Walk the tree and the IR in parallel is fragile; match by (line, condition text) instead.
  const byLineText = new Map<string, string>();
  for (const n of doc.tree.rootNode.descendantsOfType(['if_statement', 'while_statement', 'for_statement', 'do_statement'])) {
    const cn = n?.childForFieldName('condition');
    if (!cn || !n) continue;
    byLineText.set(`${n.startPosition.row + 1}|${cn.text.replace(/^\(|\)$/g, '').replace(/\s+/g, ' ').trim()}`, `${cn.startIndex}:${cn.endIndex}`);
  }
  const visit = (s: Stmt): void => {
    switch (s.k) {
      case 'block': s.body.forEach(visit); break;
      case 'if': {
        const pos = byLineText.get(`${s.line}|${s.condText}`);
        if (pos) (s.cond as { pos?: string }).pos = pos;
        visit(s.then);
        if (s.else) visit(s.else);
        break;
      }
      case 'loop': if (s.init) visit(s.init); visit(s.body); break;
      case 'switch': visit(s.body); break;
      default: break;
    }
  };
  for (const f of c.unit.functions.values()) visit(f.body);
}
const attached = new WeakSet<Compiled>();

