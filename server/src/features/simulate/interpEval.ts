// Expression evaluation of the C interpreter (c.ts): values of identifiers, arithmetic on tracked bits, conditions,
// and calls (VMCS accessors, MSR and segment saves, VMSAVE/VMLOAD, model predicates, functions of the document).
import { CALL_PREDICATES, GATED_HELPERS, IDENT_PREDICATES, MEMBER_PREDICATES } from '../../analysis/engine/facts';
import { switchOfAssignment, switchOfCall, type ControlSwitch } from '../../analysis/engine/control';
import { entityForIdentifier } from '../../model/index';
import { Machine, hostLifetime, hwMsrName, vmcsField, vmwriteError } from '../../model/machine/index';
import type { CFunction, Expr } from './cir';
import { posFormulas } from './compiled';
import { ALL, UNKNOWN, describe, exprText, known, maskSrc, mergeSrc, type Val } from './values';
import { BudgetError, InterpState, type Frame } from './interpState';
import { SymbolicAbort, TAINT, type SymbolicTrace } from './symbolic';
import { predicatesOf, type Formula } from '../../analysis/conditions';

/** The switch of the loaded VMCS/VMCB an assignment makes (engine/control.ts), worked out once per expression. */
const switches = new WeakMap<Expr, ControlSwitch | null>();
function assignmentSwitch(e: Extract<Expr, { k: 'assign' }>): ControlSwitch | undefined {
  let sw = switches.get(e);
  if (sw === undefined) {
    sw = switchOfAssignment(exprText(e.l), exprText(e.r)) ?? null;
    switches.set(e, sw);
  }
  return sw ?? undefined;
}

/** The interpreter's expressions and calls; statements and function invocation are in Interp (c.ts). */
export abstract class InterpEval extends InterpState {
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
          if (pred) return this.predVal(pred);
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
        const sw = e.op === '=' ? assignmentSwitch(e) : undefined;
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

  /**
   * The value of a model predicate in an expression. An open variable of a symbolic run (symbolic.ts) is TAINT outside
   * a condition: a value computed from it would stand for both arms at once.
   */
  private predVal(key: string): Val {
    const b = this.predicate(key);
    return b === undefined && this.sym?.open.has(key) && !this.sym.probing ? TAINT : this.boolVal(b);
  }

  /** Host state saved or restored by hand (rdmsr/wrmsr, segments, LDT): for the whole-run check against VMSAVE. */
  private handSave(what: string, restore: boolean): void {
    this.sym?.guard(this.pc, 'a hand save of host state');
    this.handSaves.push({ what, line: this.line, restore });
  }

  private ident(name: string): Val {
    const f = this.frame();
    const local = f.locals.get(name);
    if (local) return local;
    const pred = IDENT_PREDICATES[name];
    if (pred) return this.predVal(pred);
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
  protected condition(e: Expr, pos: string | undefined): boolean | undefined {
    const f = pos ? posFormulas.get(this.c)?.get(pos) : undefined;
    if (f && f.kind !== 'unknown') {
      const b = this.evalFormula(f);
      if (b !== undefined) return b;
    }
    const sym = this.sym;
    if (sym) return this.probe(e, f, sym);
    return this.conditionValue(e);
  }

  private conditionValue(e: Expr): boolean | undefined {
    const v = this.eval(e);
    if (v.bitDeps && known(v)) this.touchBitDeps(v, v.n === 0n ? ALL : v.n);
    if (v.bitDeps && !known(v)) this.touchBitDeps(v, ALL);
    return this.truth(v);
  }

  /**
   * A condition in a symbolic run that the configuration does not decide. Where it depends on an open variable, a
   * configuration's own run may not evaluate it at all (its formula decided) or evaluate less of it (`&&`, `?:`): it is
   * evaluated with the open variables unknown, and must have no effect. Where neither its formula nor its evaluation
   * involves one, every configuration's run evaluates it just so, effects included. Undecided because of an open
   * variable, the fork must be on a formula that names it.
   */
  private probe(e: Expr, f: Formula | undefined, sym: SymbolicTrace): boolean | undefined {
    const effects = sym.effects;
    sym.touched.clear();
    sym.probing++;
    let t: boolean | undefined;
    try {
      t = this.conditionValue(e);
    } finally {
      sym.probing--;
    }
    if (sym.effects !== effects && (sym.touched.size || (f && sym.mentions(f)))) throw new SymbolicAbort('a condition that tests an open variable has effects');
    if (t === undefined && sym.touched.size) {
      const named = f ? predicatesOf(f) : [];
      if (![...sym.touched].every((k) => named.includes(k))) throw new SymbolicAbort('a condition tests an open variable its formula does not name');
    }
    return t;
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
      this.handSave(name, false);
      const v: Val = { from: `host ${name}`, desc: `host ${name} (read by hand)` };
      if (a[1]) this.store(a[1].k === 'un' && a[1].op === '&' ? a[1].e : a[1], v);
      this.flow(`${a[1] ? exprText(a[1]) : 'value'} <- host MSR ${name} (rdmsr)`);
      return v;
    }
    if (/^(wrmsrl|wrmsrq|wrmsr|wrmsrl_safe|wrmsrq_safe|wrmsrns)$/.test(fn)) {
      const msr = a[0] ? this.eval(a[0]) : UNKNOWN;
      const name = known(msr) ? hwMsrName(Number(msr.n)) : msr.desc ?? '?';
      this.handSave(name, true);
      this.flow(`host MSR ${name} <- ${a[1] ? describe(this.eval(a[1])) : 'value'} (wrmsr)`);
      return {};
    }
    if (fn === 'savesegment' || fn === 'loadsegment') {
      const seg = a[0]?.k === 'id' ? a[0].name.toUpperCase() : '?';
      this.handSave(seg, fn === 'loadsegment');
      if (fn === 'savesegment' && a[1]) this.store(a[1], { desc: `host ${seg} selector` });
      return {};
    }
    if (fn === 'kvm_read_ldt' || fn === 'kvm_load_ldt') {
      this.handSave('LDTR', fn === 'kvm_load_ldt');
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
      this.flow(`request ${a[0] ? exprText(a[0]) : '?'}`);
      return {};
    }
    if (/^(likely|unlikely|WARN_ON|WARN_ON_ONCE|__builtin_expect)$/.test(fn) && a[0]) return this.eval(a[0]);
    // Model predicates (the engine's one table, analysis/engine/facts.ts).
    const pk = CALL_PREDICATES[fn];
    if (pk) return this.predVal(pk);
    if (fn === 'svm_is_intercept' || fn === 'vmcb12_is_intercept' || fn === 'vmcb_is_intercept') {
      const bit = a[1] ? exprText(a[1]).replace(/^INTERCEPT_/, '') : '';
      const obj = fn === 'vmcb12_is_intercept' ? '@vmcb12-cache' : '';
      return this.boolVal(this.machineBit(`intercept:${bit}${obj}`));
    }
    // Helpers whose effect exists only under a configuration run only under it (engine/facts.ts GATED_HELPERS).
    const gate = GATED_HELPERS[fn];
    if (gate) {
      const on = this.predicate(gate);
      if (on === undefined && this.sym?.open.has(gate)) {
        if (this.sym.probing) throw new SymbolicAbort(`a condition calls ${fn}(), which runs only under ${gate}`);
        return this.splitOn(gate, () => this.callFollowed(e), () => this.gatedOff(fn, gate));
      }
      if (on !== true) return this.gatedOff(fn, gate);
    }
    return this.callFollowed(e);
  }

  private gatedOff(fn: string, gate: string): Val {
    this.flow(`${fn}() not run: ${gate} off in this configuration`);
    return { desc: `${fn}() (not run: ${gate} off)` };
  }

  /** A call of a function of the document (interpreted), else of an opaque function (its arguments evaluated). */
  private callFollowed(e: Extract<Expr, { k: 'call' }>): Val {
    const fn = e.fn;
    const a = e.args;
    // Functions of the same document: interpret them.
    const callee = this.c.unit.functions.get(fn);
    if (callee && this.frames.length < 6 && !this.frames.some((f) => f === this.frameOf.get(callee))) {
      return this.invoke(callee, a.map((x) => this.eval(x)));
    }
    for (const x of a) this.eval(x);
    return { desc: `${fn}()`, from: `${fn}()` };
  }
  protected frameOf = new WeakMap<CFunction, Frame>();

  private vmcsWrite(vmcs: string, field: string, v: Val): void {
    const f = vmcsField(field);
    const disp = `${vmcs}.${field}`;
    if (f?.type === 'host-state') {
      this.sym?.guard(this.pc, 'a host-state VMWRITE');
      this.flow(`${disp} <- ${describe(v)}`);
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
    this.sym?.guard(this.pc, name.toUpperCase());
    const line = this.line;
    if (name === 'vmsave' || name === 'vmload') {
      this.vmsaves.push({ line, load: name === 'vmload' });
      if (name === 'vmsave') this.m.vmsave('host_save_area');
      else this.m.vmload('host_save_area');
      this.flow(name === 'vmsave' ? 'host save area <- FS, GS, TR, LDTR, KernelGsBase, STAR, LSTAR, CSTAR, SFMASK, SYSENTER_CS/ESP/EIP (VMSAVE)' : 'FS, GS, TR, LDTR, KernelGsBase, STAR, LSTAR, CSTAR, SFMASK, SYSENTER_* <- host save area (VMLOAD)');
    } else if (name === 'stgi') this.m.stgi();
    else if (name === 'clgi') this.m.clgi();
  }

  /** Interpret a function of the document with these arguments (c.ts). */
  abstract invoke(fn: CFunction, args: Val[]): Val;

  /** Symbolic run: `on()` on the path where open variable `key` holds, `off()` on the other (c.ts). */
  protected abstract splitOn(key: string, on: () => Val, off: () => Val): Val;
}
