// Path conditions: for an offset inside a function, the condition under which control reaches it, as a formula
// over model predicates (enable_ept, nested_ept, pae_paging, long_mode, exit_reason=..., intercept:..., ...).
//
// Built lazily per function, cached per DocumentAnalysis and, for open documents, per function text across versions
// (analysis/incremental.ts cachedFunctionValue). The node walk runs inside the wasm runtime and the
// expression mapper is depth-capped, so deeply nested or misparsed code (tree-sitter ERROR nodes around kernel
// macros) degrades to `unknown` instead of throwing; an exception is still reported to onConditionError(). An
// unmapped C condition is `unknown`, never assumed true.
//
// Predicate keys (the strings used in assignments and returned by predicatesOf):
//   enable_ept, nested_ept, pae_paging, paging (is_paging), cr4_pae (is_pae), long_mode, guest_mode, vgif, nested_vgif, vmwrite_any_field,
//   exit_reason=<C constant>            e.g. exit_reason=EXIT_REASON_EPT_VIOLATION, exit_reason=SVM_EXIT_VINTR
//   intercept:<X>[@<object>]            svm_is_intercept(svm, INTERCEPT_X) → intercept:X (the current VMCB);
//                                       vmcb12_is_intercept(&svm->nested.ctl, ...) → intercept:X@vmcb12-cache
//   int_ctl:<V_X>[@<object>]            (svm->nested.ctl.int_ctl & V_X_MASK) → int_ctl:V_X@vmcb12-cache;
//                                       (svm->vmcb->control.int_ctl & V_X_MASK) → int_ctl:V_X
// `@object` is omitted when the object is the current VMCB (`svm->vmcb`); objects are those of classifyVmcbObject.
import type { Node } from 'web-tree-sitter';
import { functionAt, nodesAt, type DocumentAnalysis, type FunctionInfo } from './document';
import { cachedFunctionValue } from './incremental';
import { classifyVmcbObject } from './refs';
import { CALL_PREDICATES, IDENT_PREDICATES, MEMBER_PREDICATES } from './engine/facts';

// ---------------------------------------------------------------------------------------------------------------
// Internal errors: the analysis degrades to `unknown` but reports what went wrong (the server logs it; `kvm-lens
// stats` counts it) through this sink — the analysis-layer counterpart of features/diagnostics.ts onInternalError.

export type ConditionErrorSink = (where: string, error: unknown) => void;
let errorSink: ConditionErrorSink | undefined;
/** Install (or remove, with undefined) the receiver of exceptions the condition analysis recovered from. */
export function onConditionError(s: ConditionErrorSink | undefined): ConditionErrorSink | undefined {
  const prev = errorSink;
  errorSink = s;
  return prev;
}
function reportError(where: string, e: unknown): void {
  if (!errorSink) return;
  try { errorSink(where, e); } catch { /* a failing sink must not break the analysis */ }
}

// ---------------------------------------------------------------------------------------------------------------
// Formulas live in the engine (analysis/engine/formula.ts); re-exported here so rules keep their imports.

import {
  FALSE, TRUE, and, evaluate, mayBeTrue, mayHold, mustBeTrue, mustHold, not, or, pred, predicateNodesOf, predicatesOf,
  satisfiable, formulaToString, type Formula, type PredFormula, type UnknownFormula,
} from './engine/formula';
export {
  FALSE, TRUE, and, evaluate, mayBeTrue, mayHold, mustBeTrue, mustHold, not, or, pred, predicateNodesOf, predicatesOf,
  satisfiable, formulaToString, type Formula, type PredFormula, type UnknownFormula,
};

function predAt(name: string, node: Node, object?: string): PredFormula {
  const key = object && object !== 'vmcb' ? `${name}@${object}` : name;
  return { kind: 'pred', name, object, key, start: node.startIndex, end: node.endIndex, text: node.text };
}

function unknownAt(node: Node, text?: string): UnknownFormula {
  const t = (text ?? node.text).replace(/\s+/g, ' ').trim();
  return { kind: 'unknown', key: `?${t.length > 120 ? t.slice(0, 120) : t}`, text: t, start: node.startIndex, end: node.endIndex };
}


// ---------------------------------------------------------------------------------------------------------------
// Mapping C conditions onto model predicates

/** Wrappers whose truth value is their first argument's. */
const PASS_THROUGH = new Set(['likely', 'unlikely', 'WARN_ON', 'WARN_ON_ONCE', 'WARN', 'WARN_ONCE', 'KVM_BUG_ON', '__builtin_expect']);
const MASK_PREDICATES: Readonly<Record<string, string>> = {
  VM_ENTRY_IA32E_MODE: 'long_mode',
  EFER_LMA: 'long_mode',
  VMX_MISC_VMWRITE_SHADOW_RO_FIELDS: 'vmwrite_any_field',
  MSR_IA32_VMX_MISC_VMWRITE_SHADOW_RO_FIELDS: 'vmwrite_any_field',
};
const EXIT_CONST = /^(EXIT_REASON_[A-Z0-9_]+|SVM_EXIT_[A-Z0-9_]+)$/;
/** Expressions that hold the hardware exit reason of the current VMCS/VMCB (not vmcs12's or a TDX/#VE copy). */
const EXIT_SUBJECT = /(exit_reason|exit_code|\bbasic\b|\breason\b)/;
const NOT_EXIT_SUBJECT = /(vmcs12|ve_info|vp_enter_ret|vmcb12)/;

const MAX_EXPR_DEPTH = 48;

export interface LocalDef { count: number; value?: Node; tainted: boolean }

export interface MapContext {
  defs: Map<string, LocalDef>;
  /** Local variables being expanded (cycle guard). */
  expanding: Set<string>;
  /** When set, consulted instead of `defs` (definitions looked up on demand). */
  lookup?: (name: string) => LocalDef | undefined;
}

function namedKids(n: Node): Node[] {
  const out: Node[] = [];
  for (const c of n.namedChildren) if (c && c.type !== 'comment') out.push(c);
  return out;
}

function stripParens(n: Node): Node {
  let cur = n;
  for (let i = 0; i < 64 && (cur.type === 'parenthesized_expression' || cur.type === 'cast_expression'); i++) {
    const next = cur.type === 'cast_expression' ? cur.childForFieldName('value') : namedKids(cur)[0];
    if (!next) break;
    cur = next;
  }
  return cur;
}

function isZero(n: Node): boolean {
  const s = stripParens(n);
  return (s.type === 'number_literal' && /^0+[uUlL]*$|^0x0+[uUlL]*$/.test(s.text)) || s.text === 'NULL' || s.type === 'false';
}

function operatorOf(n: Node): string {
  return n.childForFieldName('operator')?.type ?? '';
}

/** Map a C expression used as a condition onto a formula. Never throws; depth-capped. */
export function mapCondition(node: Node, ctx: MapContext = { defs: new Map(), expanding: new Set() }, depth = 0): Formula {
  try {
    return mapExpr(node, ctx, depth);
  } catch (e) {
    // Degrade to "unknown" (never assumed true), but let the internal-error channel count it.
    reportError('mapping a C condition', e);
    return unknownAt(node);
  }
}

function mapExpr(node: Node, ctx: MapContext, depth: number): Formula {
  if (depth > MAX_EXPR_DEPTH || node.hasError || node.isMissing) return unknownAt(node);
  const n = stripParens(node);
  switch (n.type) {
    case 'true': return TRUE;
    case 'false': return FALSE;
    case 'number_literal': return isZero(n) ? FALSE : /^[0-9]/.test(n.text) ? TRUE : unknownAt(n);
    case 'identifier': {
      const p = IDENT_PREDICATES[n.text];
      if (p) return predAt(p, n);
      if (n.text === 'NULL') return FALSE;
      const def = ctx.lookup ? ctx.lookup(n.text) : ctx.defs.get(n.text);
      if (def && def.count === 1 && !def.tainted && def.value && !ctx.expanding.has(n.text)) {
        ctx.expanding.add(n.text);
        const f = mapExpr(def.value, ctx, depth + 1);
        ctx.expanding.delete(n.text);
        // Only substitute when it tells us something about the model.
        if (predicatesOf(f).length) return f;
      }
      return unknownAt(n);
    }
    case 'field_expression': {
      const member = n.childForFieldName('field')?.text;
      const p = member ? MEMBER_PREDICATES[member] : undefined;
      return p ? predAt(p, n) : unknownAt(n);
    }
    case 'unary_expression': {
      const op = operatorOf(n) || n.child(0)?.type || '';
      const arg = n.childForFieldName('argument');
      if (op === '!' && arg) return not(mapExpr(arg, ctx, depth + 1));
      return unknownAt(n);
    }
    case 'binary_expression': {
      const op = operatorOf(n);
      const l = n.childForFieldName('left');
      const r = n.childForFieldName('right');
      if (!l || !r) return unknownAt(n);
      if (op === '&&') return and(mapExpr(l, ctx, depth + 1), mapExpr(r, ctx, depth + 1));
      if (op === '||') return or(mapExpr(l, ctx, depth + 1), mapExpr(r, ctx, depth + 1));
      if (op === '==' || op === '!=') {
        const neg = op === '!=';
        if (isZero(r)) return neg ? mapExpr(l, ctx, depth + 1) : not(mapExpr(l, ctx, depth + 1));
        if (isZero(l)) return neg ? mapExpr(r, ctx, depth + 1) : not(mapExpr(r, ctx, depth + 1));
        const f = exitReasonComparison(n, l, r) ?? exitReasonComparison(n, r, l);
        if (f) return neg ? not(f) : f;
        // `a != b` is the negation of the unknown `a == b`: a path that tested one knows the other.
        const eq = unknownAt(n, `${l.text} == ${r.text}`);
        return neg ? not(eq) : eq;
      }
      if (op === '&') return maskTest(n, l, r) ?? maskTest(n, r, l) ?? unknownAt(n);
      return unknownAt(n);
    }
    case 'call_expression': {
      const fn = n.childForFieldName('function');
      const args = n.childForFieldName('arguments');
      const name = fn?.type === 'identifier' ? fn.text : '';
      const argv = args ? namedKids(args) : [];
      if (PASS_THROUGH.has(name) && argv[0]) return mapExpr(argv[0], ctx, depth + 1);
      const p = CALL_PREDICATES[name];
      if (p) return predAt(p, n);
      if (name === 'svm_is_intercept' || name === 'vmcb_is_intercept' || name === 'vmcb12_is_intercept') {
        const bit = argv[1]?.text.trim();
        if (bit && /^INTERCEPT_[A-Z0-9_]+$/.test(bit)) {
          const object = name === 'svm_is_intercept' ? 'vmcb'
            : name === 'vmcb12_is_intercept' ? 'vmcb12-cache'
              : argv[0] ? objectOfControl(argv[0].text) : 'unknown';
          if (object !== 'unknown') return predAt(`intercept:${bit.slice('INTERCEPT_'.length)}`, n, object);
        }
      }
      if (name === 'test_bit' || name === '__test_bit' || name === 'variable_test_bit') {
        // The open-coded form of vmcb12_is_intercept() (Linux 6.4-6.19 nested_sync_control_from_vmcb02):
        // test_bit(INTERCEPT_X, (unsigned long *)svm->nested.ctl.intercepts).
        const bit = argv[0]?.text.trim();
        const arr = argv[1]?.text.replace(/\s+/g, '').replace(/^\((?:const)?(?:unsigned)?long\*\)/, '').replace(/^&/, '');
        const m = arr ? /^(.*?)(?:->|\.)intercepts$/.exec(arr) : null;
        if (bit && /^INTERCEPT_[A-Z0-9_]+$/.test(bit) && m) {
          const object = objectOfControl(m[1]);
          if (object !== 'unknown') return predAt(`intercept:${bit.slice('INTERCEPT_'.length)}`, n, object);
        }
      }
      return unknownAt(n);
    }
    default:
      return unknownAt(n);
  }
}

/** `&svm->nested.ctl` → vmcb12-cache, `&svm->vmcb01.ptr->control` → vmcb01, `&svm->vmcb->control` → vmcb. */
function objectOfControl(text: string): string {
  const t = text.replace(/\s+/g, '').replace(/^&/, '').replace(/(->|\.)control$/, '');
  return classifyVmcbObject(t);
}

function exitReasonComparison(_whole: Node, subject: Node, constant: Node): Formula | undefined {
  const c = stripParens(constant);
  if (c.type !== 'identifier' || !EXIT_CONST.test(c.text)) return undefined;
  const s = subject.text;
  if (!EXIT_SUBJECT.test(s) || NOT_EXIT_SUBJECT.test(s)) return undefined;
  return predAt(`exit_reason=${c.text}`, _whole);
}

function maskTest(whole: Node, value: Node, mask: Node): Formula | undefined {
  const m = stripParens(mask);
  if (m.type !== 'identifier') return undefined;
  const simple = MASK_PREDICATES[m.text];
  if (simple) return predAt(simple, whole);
  const vm = /^(V_[A-Z0-9_]+)_MASK$/.exec(m.text);
  if (vm) {
    const v = stripParens(value).text.replace(/\s+/g, '');
    const im = /^(.*?)(?:->|\.)int_ctl$/.exec(v);
    if (!im) return undefined;
    const object = objectOfControl(im[1]);
    if (object === 'unknown') return undefined;
    return predAt(`int_ctl:${vm[1]}`, whole, object);
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Guards: regions of a function body with the condition that holds inside them

export type GuardKind =
  | 'if' | 'else' | 'and-rhs' | 'or-rhs' | 'ternary-then' | 'ternary-else' | 'case' | 'default' | 'loop' | 'early-exit';

export interface Guard {
  kind: GuardKind;
  /** Region of the function where the condition holds. */
  start: number;
  end: number;
  /** The C condition (or `case` label) this guard comes from. */
  condStart: number;
  condEnd: number;
  condText: string;
  formula: Formula;
}

interface RawGuard {
  kind: GuardKind;
  start: number;
  end: number;
  cond: Node;
  /** Formula builder run after local definitions are known. */
  build: (map: (n: Node) => Formula) => Formula;
}

export interface FunctionConditions {
  fn: FunctionInfo;
  guards: Guard[];
}

const cache = new WeakMap<DocumentAnalysis, Map<number, FunctionConditions>>();

/** Exits of a statement: control never falls through to the next statement. */
function exits(stmt: Node | null | undefined, depth = 0): boolean {
  if (!stmt || depth > 32) return false;
  switch (stmt.type) {
    case 'return_statement': case 'goto_statement': case 'break_statement': case 'continue_statement':
      return true;
    case 'compound_statement': {
      const last = lastNamedKid(stmt);
      return !!last && exits(last, depth + 1);
    }
    case 'if_statement': {
      const alt = stmt.childForFieldName('alternative');
      return !!alt && exits(stmt.childForFieldName('consequence'), depth + 1) && exits(elseBody(alt), depth + 1);
    }
    case 'expression_statement': {
      const e = namedKids(stmt)[0];
      if (e?.type !== 'call_expression') return false;
      const name = e.childForFieldName('function')?.text;
      return name === 'BUG' || name === 'panic' || name === 'unreachable' || name === '__builtin_unreachable';
    }
    case 'labeled_statement':
      return exits(lastNamedKid(stmt), depth + 1);
    default:
      return false;
  }
}

function elseBody(alt: Node): Node | null {
  if (alt.type !== 'else_clause') return alt;
  let c = alt.firstNamedChild;
  while (c && c.type === 'comment') c = c.nextNamedSibling;
  return c;
}

/** The last named child that is not a comment (namedKids(n).at(-1) without marshalling every child). */
function lastNamedKid(n: Node): Node | null {
  let c = n.lastNamedChild;
  while (c && c.type === 'comment') c = c.previousNamedSibling;
  return c;
}

/** Statements of a block-like node: compound statement children, or the statements after a case label. */
function blockStatements(n: Node): Node[] {
  const kids = namedKids(n);
  if (n.type === 'case_statement') {
    const value = n.childForFieldName('value');
    return value ? kids.filter((k) => k.id !== value.id) : kids;
  }
  return kids;
}

/** Node types `collect` looks at; `&&`/`||` are found through their operator tokens (see below). */
const COLLECT_TYPES = [
  'if_statement', 'while_statement', 'for_statement', 'conditional_expression', 'switch_statement', 'init_declarator',
  'assignment_expression', 'update_expression', 'pointer_expression', 'compound_statement', 'case_statement',
  'goto_statement', '&&', '||',
];

/**
 * The guards a node of one of the COLLECT_TYPES (other than blocks, local definitions and gotos) produces, in the
 * order `collect` pushes them. `&&`/`||` guards come from a binary expression's operator tokens.
 */
function nodeGuards(n: Node, raw: RawGuard[]): void {
  switch (n.type) {
    case 'binary_expression': {
      // As for each `&&`/`||` token whose parent is this binary expression.
      for (const tok of n.children) {
        if (!tok) continue;
        const type = tok.type;
        if (type !== '&&' && type !== '||') continue;
        const l = n.childForFieldName('left');
        const r = n.childForFieldName('right');
        if (l && r) {
          raw.push(type === '&&'
            ? { kind: 'and-rhs', start: r.startIndex, end: r.endIndex, cond: l, build: (m) => m(l) }
            : { kind: 'or-rhs', start: r.startIndex, end: r.endIndex, cond: l, build: (m) => not(m(l)) });
        }
      }
      break;
    }
    case 'if_statement': {
      const cond = n.childForFieldName('condition');
      const cons = n.childForFieldName('consequence');
      const alt = n.childForFieldName('alternative');
      if (cond && cons) raw.push({ kind: 'if', start: cons.startIndex, end: cons.endIndex, cond, build: (m) => m(cond) });
      if (cond && alt) raw.push({ kind: 'else', start: alt.startIndex, end: alt.endIndex, cond, build: (m) => not(m(cond)) });
      break;
    }
    case 'while_statement': case 'for_statement': {
      const cond = n.childForFieldName('condition');
      const body = n.childForFieldName('body');
      if (cond && body) raw.push({ kind: 'loop', start: body.startIndex, end: body.endIndex, cond, build: (m) => m(cond) });
      break;
    }
    case 'conditional_expression': {
      const c = n.childForFieldName('condition');
      const t = n.childForFieldName('consequence');
      const e = n.childForFieldName('alternative');
      if (c && t) raw.push({ kind: 'ternary-then', start: t.startIndex, end: t.endIndex, cond: c, build: (m) => m(c) });
      if (c && e) raw.push({ kind: 'ternary-else', start: e.startIndex, end: e.endIndex, cond: c, build: (m) => not(m(c)) });
      break;
    }
    case 'switch_statement': {
      const subject = n.childForFieldName('condition');
      const body = n.childForFieldName('body');
      if (subject && body) switchGuards(subject, body, raw);
      break;
    }
    default:
      break;
  }
}

/** Record what a local-definition node (init_declarator, assignment, ++/--, address-of) says about its variable. */
function noteDefinition(n: Node, def: (name: string) => LocalDef): void {
  switch (n.type) {
    case 'init_declarator': {
      const d = n.childForFieldName('declarator');
      const v = n.childForFieldName('value');
      if (d?.type === 'identifier') {
        const e = def(d.text);
        e.count++;
        if (v) e.value = v;
      }
      break;
    }
    case 'assignment_expression': {
      const l = n.childForFieldName('left');
      if (l?.type === 'identifier') {
        const e = def(l.text);
        e.count++;
        const op = operatorOf(n) || n.child(1)?.type;
        const r = n.childForFieldName('right');
        if (op === '=' && r) e.value = r;
        else e.tainted = true;
      }
      break;
    }
    case 'update_expression': {
      const a = n.childForFieldName('argument');
      if (a?.type === 'identifier') def(a.text).tainted = true;
      break;
    }
    case 'pointer_expression': {
      const a = n.childForFieldName('argument');
      if (operatorOf(n) === '&' && a?.type === 'identifier') def(a.text).tainted = true;
      break;
    }
    default:
      break;
  }
}

function toGuard(g: RawGuard, map: (n: Node) => Formula): Guard {
  const text = g.cond.text;
  return {
    kind: g.kind, start: g.start, end: g.end, condStart: g.cond.startIndex, condEnd: g.cond.endIndex,
    condText: text.length > 200 ? `${text.slice(0, 200)}…` : text, formula: g.build(map),
  };
}

function collect(fnNode: Node, fn: FunctionInfo): FunctionConditions {
  const raw: RawGuard[] = [];
  const defs = new Map<string, LocalDef>();
  const def = (name: string): LocalDef => {
    let d = defs.get(name);
    if (!d) { d = { count: 0, tainted: false }; defs.set(name, d); }
    return d;
  };
  const blocks: Node[] = [];
  const gotos: GotoSite[] = [];
  // One walk inside the wasm runtime returns just the nodes of interest, in source (pre-)order; walking every node
  // through JS Node objects cost ten times more. A binary expression matters only for `&&`/`||`: asking for those
  // operator tokens (and taking their parent) skips the many `&`, `+`, `==` expressions. Nothing inside comments or
  // string literals has one of these types.
  for (const hit of fnNode.descendantsOfType(COLLECT_TYPES)) {
    if (!hit) continue;
    const type = hit.type;
    if (type === '&&' || type === '||') {
      const p = hit.parent;
      if (!p || p.type !== 'binary_expression') continue;
      const l = p.childForFieldName('left');
      const r = p.childForFieldName('right');
      if (l && r) {
        raw.push(type === '&&'
          ? { kind: 'and-rhs', start: r.startIndex, end: r.endIndex, cond: l, build: (m) => m(l) }
          : { kind: 'or-rhs', start: r.startIndex, end: r.endIndex, cond: l, build: (m) => not(m(l)) });
      }
      continue;
    }
    switch (type) {
      case 'init_declarator': case 'assignment_expression': case 'update_expression': case 'pointer_expression':
        noteDefinition(hit, def);
        break;
      case 'compound_statement': case 'case_statement':
        blocks.push(hit);
        break;
      case 'goto_statement': {
        const label = hit.childForFieldName('label');
        if (label) gotos.push({ label: label.text, at: hit.startIndex });
        break;
      }
      default:
        nodeGuards(hit, raw);
        break;
    }
  }
  for (const b of blocks) earlyExitGuards(b, raw, () => gotos);
  const ctx: MapContext = { defs, expanding: new Set() };
  const memo = new Map<number, Formula>();
  const map = (c: Node): Formula => {
    let f = memo.get(c.id);
    if (!f) { f = mapCondition(c, ctx); memo.set(c.id, f); }
    return f;
  };
  const guards: Guard[] = raw.map((g) => toGuard(g, map));
  guards.sort((a, b) => a.start - b.start || b.end - a.end);
  return { fn, guards };
}

interface GotoSite { label: string; at: number }

/**
 * `if (C) return;` (or goto/break/continue): the rest of the block runs under !C, up to the first label that a
 * goto from outside that stretch can jump to (where another path joins).
 */
function earlyExitGuards(block: Node, raw: RawGuard[], gotosOf: () => readonly GotoSite[]): void {
  const stmts = blockStatements(block);
  for (let i = 0; i < stmts.length; i++) {
    const g = earlyExitAt(stmts, i, block.endIndex, gotosOf);
    if (g) raw.push(g);
  }
}

/** The early-exit guard statement `stmts[i]` of a block ending at `blockEnd` produces, if any. */
function earlyExitAt(stmts: readonly Node[], i: number, blockEnd: number, gotosOf: () => readonly GotoSite[]): RawGuard | undefined {
  const s = stmts[i];
  if (s.type !== 'if_statement') return undefined;
  const cond = s.childForFieldName('condition');
  if (!cond) return undefined;
  const cons = s.childForFieldName('consequence');
  const alt = s.childForFieldName('alternative');
  const consExits = exits(cons);
  const altExits = alt ? exits(elseBody(alt)) : false;
  if (consExits === altExits) return undefined;
  let end = blockEnd;
  for (let j = i + 1; j < stmts.length; j++) {
    const st = stmts[j];
    if (st.type !== 'labeled_statement') continue;
    const label = st.childForFieldName('label')?.text;
    const from = s.endIndex;
    const joins = gotosOf().some((g) => g.label === label && (g.at < from || g.at >= st.startIndex));
    if (joins) { end = st.startIndex; break; }
  }
  if (end <= s.endIndex) return undefined;
  return consExits
    ? { kind: 'early-exit', start: s.endIndex, end, cond, build: (m) => not(m(cond)) }
    : { kind: 'early-exit', start: s.endIndex, end, cond, build: (m) => m(cond) };
}

/** `switch (reason) { case A: case B: ...; break; default: ... }`: each case body runs under its labels (with fall-through). */
function switchGuards(subject: Node, body: Node, raw: RawGuard[]): void {
  const cases = namedKids(body).filter((k) => k.type === 'case_statement');
  const labels: Array<Node | undefined> = cases.map((c) => c.childForFieldName('value') ?? undefined);
  const labelFormula = (v: Node): Formula => {
    const c = stripParens(v);
    if (c.type === 'identifier' && EXIT_CONST.test(c.text) && !NOT_EXIT_SUBJECT.test(subject.text)) return predAt(`exit_reason=${c.text}`, v);
    return unknownAt(v, `${subject.text} == ${v.text}`);
  };
  // Carried condition from cases that fall through into the next one.
  let carried: Array<Node | 'default'> = [];
  for (let i = 0; i < cases.length; i++) {
    const c = cases[i];
    const v = labels[i];
    const own: Array<Node | 'default'> = [...carried, v ?? 'default'];
    const stmts = blockStatements(c);
    const cond = v ?? c;
    raw.push({
      kind: v ? 'case' : 'default', start: c.startIndex, end: c.endIndex, cond,
      build: () => or(...own.map((x) => (x === 'default'
        ? not(or(...labels.filter((l): l is Node => !!l).map(labelFormula)))
        : labelFormula(x)))),
    });
    const fallsThrough = stmts.length === 0 || !exits(stmts[stmts.length - 1]);
    carried = fallsThrough ? own : [];
  }
}

function functionNode(doc: DocumentAnalysis, fn: FunctionInfo): Node | undefined {
  const n = doc.tree.rootNode.descendantForIndex(fn.bodyStart, fn.bodyStart + 1);
  let cur: Node | null = n;
  for (let i = 0; cur && i < 64; i++, cur = cur.parent) {
    if (cur.type === 'compound_statement' && cur.startIndex === fn.bodyStart) return cur;
  }
  return undefined;
}

/**
 * Guards of a function: computed once per function and document, and reused across versions of an open document
 * while the function's text is unchanged (shifted when the function moved; see cachedFunctionValue).
 */
export function functionConditions(doc: DocumentAnalysis, fn: FunctionInfo): FunctionConditions {
  let perDoc = cache.get(doc);
  if (!perDoc) { perDoc = new Map(); cache.set(doc, perDoc); }
  let fc = perDoc.get(fn.start);
  if (!fc) {
    fc = cachedFunctionValue(doc, 'conditions', fn, () => computeConditions(doc, fn), shiftConditions);
    perDoc.set(fn.start, fc);
  }
  return fc;
}

function computeConditions(doc: DocumentAnalysis, fn: FunctionInfo): FunctionConditions {
  try {
    const body = functionNode(doc, fn);
    return body ? collect(body, fn) : { fn, guards: [] };
  } catch (e) {
    reportError(`path conditions of ${fn.name}()`, e);
    return { fn, guards: [] };
  }
}

/** The same conditions for `fn` moved by `d` (the function text is identical). */
function shiftConditions(fc: FunctionConditions, d: number, fn: FunctionInfo): FunctionConditions {
  if (d === 0) return fc.fn === fn ? fc : { fn, guards: fc.guards };
  const seen = new Map<Formula, Formula>();
  return {
    fn,
    guards: fc.guards.map((g) => ({
      ...g, start: g.start + d, end: g.end + d, condStart: g.condStart + d, condEnd: g.condEnd + d, formula: shiftFormula(g.formula, d, seen),
    })),
  };
}

/** A copy of `f` with the source ranges of its predicates and unknowns moved by `d` (sharing preserved). */
export function shiftFormula(f: Formula, d: number, seen: Map<Formula, Formula> = new Map()): Formula {
  if (d === 0) return f;
  const done = seen.get(f);
  if (done) return done;
  let out: Formula;
  switch (f.kind) {
    case 'true': case 'false': return f;
    case 'pred': case 'unknown':
      out = f.start < 0 ? f : { ...f, start: f.start + d, end: f.end + d };
      break;
    case 'not':
      out = { kind: 'not', arg: shiftFormula(f.arg, d, seen) };
      break;
    default:
      out = { kind: f.kind, args: f.args.map((a) => shiftFormula(a, d, seen)) };
  }
  seen.set(f, out);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Guards at one offset, computed lazily: only the nodes on the path from the function body down to the offset can
// have a guard region containing it (a region always lies inside the node that produces it), so instead of
// collecting every guard of the function, walk that path and build the guards of its nodes. Local definitions are
// looked up per variable (only for identifiers a mapped condition mentions) and gotos only when an early exit has a
// label after it. The result is exactly `functionConditions(doc, fn).guards` filtered to the offset, in the same
// order (checked by test/unit/conditions.test.ts).

/** Node types whose guards `nodeGuards` builds. */
const GUARD_NODE_TYPES = new Set(['if_statement', 'while_statement', 'for_statement', 'conditional_expression', 'switch_statement', 'binary_expression']);
const DEF_FIELDS: Readonly<Record<string, string>> = {
  init_declarator: 'declarator', assignment_expression: 'left', update_expression: 'argument', pointer_expression: 'argument',
};

interface LazyConditions {
  fn: FunctionInfo;
  body: Node | undefined;
  ctx: MapContext;
  map: (c: Node) => Formula;
  gotos?: GotoSite[];
  /** All guards a node (by id) produces, unfiltered, and those built so far. */
  nodeGuards: Map<number, { raw: RawGuard[]; built: Guard[] }>;
  /** Statements of a block (by id) and the early-exit guard each starts (null: none; unset: not computed yet). */
  blocks: Map<number, { stmts: Node[]; guards: Array<RawGuard | null | undefined>; built: Guard[] }>;
  /** Answers per offset; shared with later versions of an open document while the function text is unchanged. */
  answers: Map<number, Guard[]>;
}

const lazyCache = new WeakMap<DocumentAnalysis, Map<number, LazyConditions>>();

function isWordChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

/** What the function body's definitions say about local `name` (as `collect` gathers them for every variable). */
function lookupDef(doc: DocumentAnalysis, body: Node, name: string): LocalDef | undefined {
  const text = doc.text;
  const root = doc.tree.rootNode;
  const to = body.endIndex;
  let out: LocalDef | undefined;
  const def = (): LocalDef => (out ??= { count: 0, tainted: false });
  for (let at = text.indexOf(name, body.startIndex); at >= 0 && at + name.length <= to; at = text.indexOf(name, at + 1)) {
    const end = at + name.length;
    if ((at > 0 && isWordChar(text.charCodeAt(at - 1))) || (end < text.length && isWordChar(text.charCodeAt(end)))) continue;
    const id = root.descendantForIndex(at, end);
    if (!id || id.type !== 'identifier' || id.startIndex !== at || id.endIndex !== end) continue;
    const p = id.parent;
    const field = p ? DEF_FIELDS[p.type] : undefined;
    if (!p || !field) continue;
    const f = p.childForFieldName(field);
    if (!f || f.id !== id.id || f.startIndex !== at) continue;
    noteDefinition(p, def);
  }
  return out;
}

function lazyConditions(doc: DocumentAnalysis, fn: FunctionInfo): LazyConditions {
  let perDoc = lazyCache.get(doc);
  if (!perDoc) { perDoc = new Map(); lazyCache.set(doc, perDoc); }
  let lc = perDoc.get(fn.start);
  if (lc) return lc;
  const body = functionNode(doc, fn);
  const defs = new Map<string, LocalDef | undefined>();
  const ctx: MapContext = {
    defs: new Map(),
    expanding: new Set(),
    lookup: (name) => {
      if (defs.has(name)) return defs.get(name);
      const d = body ? lookupDef(doc, body, name) : undefined;
      defs.set(name, d);
      return d;
    },
  };
  const memo = new Map<number, Formula>();
  const map = (c: Node): Formula => {
    let f = memo.get(c.id);
    if (!f) { f = mapCondition(c, ctx); memo.set(c.id, f); }
    return f;
  };
  const answers = cachedFunctionValue(doc, 'conditions-at', fn, () => new Map<number, Guard[]>(), shiftAnswers);
  lc = { fn, body, ctx, map, nodeGuards: new Map(), blocks: new Map(), answers };
  perDoc.set(fn.start, lc);
  return lc;
}

function shiftAnswers(m: Map<number, Guard[]>, d: number): Map<number, Guard[]> {
  if (d === 0) return m;
  const seen = new Map<Formula, Formula>();
  const shifted = new Map<Guard, Guard>();
  const out = new Map<number, Guard[]>();
  for (const [at, gs] of m) {
    out.set(at + d, gs.map((g) => {
      let s = shifted.get(g);
      if (!s) {
        s = { ...g, start: g.start + d, end: g.end + d, condStart: g.condStart + d, condEnd: g.condEnd + d, formula: shiftFormula(g.formula, d, seen) };
        shifted.set(g, s);
      }
      return s;
    }));
  }
  return out;
}

function computeGuardsAt(doc: DocumentAnalysis, lc: LazyConditions, offset: number): Guard[] {
  const body = lc.body;
  if (!body || offset < body.startIndex || offset >= body.endIndex) return [];
  // The nodes containing the character at `offset`, innermost first, up to the body.
  // (root-first, walked down with a cursor: climbing with Node.parent is quadratic in the depth)
  const chain: Node[] = nodesAt(body, offset);
  const out: Guard[] = [];
  for (const n of chain) {
    if (!GUARD_NODE_TYPES.has(n.type)) continue;
    let ng = lc.nodeGuards.get(n.id);
    if (!ng) {
      const raw: RawGuard[] = [];
      nodeGuards(n, raw);
      ng = { raw, built: [] };
      lc.nodeGuards.set(n.id, ng);
    }
    // Formulas are built only for the guards containing the offset (a switch has one per case).
    for (let i = 0; i < ng.raw.length; i++) {
      const r = ng.raw[i];
      if (r.start <= offset && offset < r.end) out.push(ng.built[i] ??= toGuard(r, lc.map));
    }
  }
  for (const n of chain) {
    if (n.type !== 'compound_statement' && n.type !== 'case_statement') continue;
    // Only statements that end before the offset can start an early-exit region containing it.
    let b = lc.blocks.get(n.id);
    if (!b) { b = { stmts: blockStatements(n), guards: [], built: [] }; lc.blocks.set(n.id, b); }
    const { stmts, guards } = b;
    for (let i = 0; i < stmts.length && stmts[i].endIndex <= offset; i++) {
      let g = guards[i];
      if (g === undefined) {
        g = earlyExitAt(stmts, i, n.endIndex, () => (lc.gotos ??= gotosIn(body))) ?? null;
        guards[i] = g;
      }
      if (g && g.start <= offset && offset < g.end) out.push((b.built[i] ??= toGuard(g, lc.map)));
    }
  }
  out.sort((a, b) => a.start - b.start || b.end - a.end);
  return out;
}

function gotosIn(body: Node): GotoSite[] {
  const out: GotoSite[] = [];
  for (const n of body.descendantsOfType('goto_statement')) {
    const label = n?.childForFieldName('label');
    if (n && label) out.push({ label: label.text, at: n.startIndex });
  }
  return out;
}

/** The guards whose region contains `offset`, outermost first. */
export function guardsAt(doc: DocumentAnalysis, offset: number): Guard[] {
  const fn = functionAt(doc, offset);
  if (!fn) return [];
  const lc = lazyConditions(doc, fn);
  let gs = lc.answers.get(offset);
  if (!gs) {
    try {
      gs = computeGuardsAt(doc, lc, offset);
    } catch (e) {
      reportError(`path conditions of ${fn.name}()`, e);
      gs = [];
    }
    lc.answers.set(offset, gs);
  }
  return gs.slice();
}

/** The condition under which `offset` is reached from the start of its function (TRUE outside functions). */
export function conditionAt(doc: DocumentAnalysis, offset: number): Formula {
  return and(...guardsAt(doc, offset).map((g) => g.formula));
}
