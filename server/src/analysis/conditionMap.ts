// Mapping C conditions onto the engine's formulas over model predicates (mapCondition), with the sink for
// exceptions the condition analysis recovers from (onConditionError). Part of analysis/conditions.ts, which re-exports it.
import type { Node } from 'web-tree-sitter';
import { classifyVmcbObject } from './refs';
import { CALL_PREDICATES, GUEST_FEATURE_CALLS, HOST_FEATURE_CALLS, IDENT_PREDICATES, MEMBER_PREDICATES, VMCS12_CONTROL_CALLS, VMX_CONTROL_BIT } from './engine/facts';
import { FALSE, TRUE, and, not, or, predicatesOf, type Formula, type PredFormula, type UnknownFormula } from './engine/formula';

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
export function reportError(where: string, e: unknown): void {
  if (!errorSink) return;
  try { errorSink(where, e); } catch { /* a failing sink must not break the analysis */ }
}

export function predAt(name: string, node: Node, object?: string): PredFormula {
  const key = object && object !== 'vmcb' ? `${name}@${object}` : name;
  return { kind: 'pred', name, object, key, start: node.startIndex, end: node.endIndex, text: node.text };
}

export function unknownAt(node: Node, text?: string): UnknownFormula {
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
  VMX_EXIT_REASONS_FAILED_VMENTRY: 'failed_vmentry',
};
export const EXIT_CONST = /^(EXIT_REASON_[A-Z0-9_]+|SVM_EXIT_[A-Z0-9_]+)$/;
/** Expressions that hold the hardware exit reason of the current VMCS/VMCB (not vmcs12's or a TDX/#VE copy). */
const EXIT_SUBJECT = /(exit_reason|exit_code|\bbasic\b|\breason\b)/;
export const NOT_EXIT_SUBJECT = /(vmcs12|ve_info|vp_enter_ret|vmcb12)/;

const MAX_EXPR_DEPTH = 48;

export interface LocalDef { count: number; value?: Node; tainted: boolean }

export interface MapContext {
  defs: Map<string, LocalDef>;
  /** Local variables being expanded (cycle guard). */
  expanding: Set<string>;
  /** When set, consulted instead of `defs` (definitions looked up on demand). */
  lookup?: (name: string) => LocalDef | undefined;
}

export function namedKids(n: Node): Node[] {
  const out: Node[] = [];
  for (const c of n.namedChildren) if (c && c.type !== 'comment') out.push(c);
  return out;
}

export function stripParens(n: Node): Node {
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

export function operatorOf(n: Node): string {
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
      const feature = argv.length ? /^X86_FEATURE_([A-Z0-9_]+)$/.exec(argv[argv.length - 1].text.trim()) : null;
      if (feature && GUEST_FEATURE_CALLS.has(name)) return predAt(`guest_feature:${feature[1]}`, n);
      if (feature && HOST_FEATURE_CALLS.has(name)) return predAt(`host_feature:${feature[1]}`, n);
      if (VMCS12_CONTROL_CALLS.has(name) && argv.length === 2 && /vmcs12/.test(argv[0].text)) {
        const bit = argv[1].text.trim();
        if (VMX_CONTROL_BIT.test(bit)) return predAt(`vmcs12_ctl:${bit}`, n);
      }
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
  // A control bit of L1's vmcs12 (`vmcs12->vm_exit_controls & VM_EXIT_SAVE_DEBUG_CONTROLS`).
  if (VMX_CONTROL_BIT.test(m.text) && /vmcs12\s*->\s*[a-z_]*controls?\b/.test(stripParens(value).text)) return predAt(`vmcs12_ctl:${m.text}`, whole);
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
