// Mask-value folding and int_ctl copy patterns.
//
// KVM builds the set of VMCB int_ctl bits it moves between VMCBs in a local variable:
//   u32 mask = V_IRQ_MASK | V_TPR_MASK;
//   if (svm_is_intercept(svm, INTERCEPT_VINTR) && ...) mask &= ~V_IRQ_MASK;
//   if (nested_vgif_enabled(svm)) mask |= V_GIF_MASK;
//   svm->nested.ctl.int_ctl &= ~mask;
//   svm->nested.ctl.int_ctl |= svm->vmcb->control.int_ctl & mask;
// This module walks a function body in order, keeps for every mask variable and every int_ctl bit the condition
// (a Formula over path predicates) under which the bit is in the mask, and reports each int_ctl copy: which bits
// move from which VMCB to which, under which condition. Path conditions come from if/else, early return/goto,
// &&/||/! and switch cases; C conditions are mapped onto named predicates (analysis/conditions.ts).
import type { Node } from 'web-tree-sitter';
import { INT_CTL_BITS, entityForIdentifier } from '../model/index';
import { FALSE, TRUE, and, conditionAt, not, or, type Formula } from './conditions';
import type { DocumentAnalysis, FunctionInfo } from './document';
import { classifyVmcbObject, type VmcbObject } from './refs';

/** int_ctl bit names without the _MASK suffix (V_IRQ, V_TPR, V_GIF, ...), from the model. */
export const INT_CTL_BIT_NAMES: readonly string[] = INT_CTL_BITS.filter((b) => b.register === 'int_ctl')
  .map((b) => b.name.replace(/_MASK$/, ''));
const BIT_BY_MASK = new Map(INT_CTL_BITS.filter((b) => b.register === 'int_ctl').map((b) => [b.mask, b.name.replace(/_MASK$/, '')]));

/** For each int_ctl bit, the condition under which it is set; `opaque` for contributions we cannot decode. */
export type MaskValue = Map<string, Formula>;

export function emptyMask(): MaskValue {
  return new Map(INT_CTL_BIT_NAMES.map((b) => [b, FALSE]));
}
function constMask(bits: Iterable<string>): MaskValue {
  const m = emptyMask();
  for (const b of bits) m.set(b, TRUE);
  return m;
}
function mapMask(a: MaskValue, f: (x: Formula, bit: string) => Formula): MaskValue {
  const out: MaskValue = new Map();
  for (const [bit, x] of a) out.set(bit, f(x, bit));
  return out;
}
function zipMask(a: MaskValue, b: MaskValue, f: (x: Formula, y: Formula) => Formula): MaskValue {
  const out: MaskValue = new Map();
  for (const bit of new Set([...a.keys(), ...b.keys()])) out.set(bit, f(a.get(bit) ?? FALSE, b.get(bit) ?? FALSE));
  return out;
}

// -------------------------------------------------------------------------------------------------------------
// Helpers

function stripParens(n: Node): Node {
  let x = n;
  for (let i = 0; i < 64 && (x.type === 'parenthesized_expression' || x.type === 'cast_expression'); i++) {
    const inner = x.type === 'cast_expression' ? x.childForFieldName('value') : x.namedChildren.find((k) => !!k && k.type !== 'comment');
    if (!inner) break;
    x = inner;
  }
  return x;
}

function norm(text: string): string {
  return text.replace(/\s+/g, '');
}

function opOf(n: Node): string {
  return n.childForFieldName('operator')?.text ?? '';
}

/** An unknown (free) condition: used for mask contributions whose bits cannot be decoded. */
function unknown(key: string, n?: Node): Formula {
  return { kind: 'unknown', key: `?${key}`, text: key, start: n?.startIndex ?? -1, end: n?.endIndex ?? -1 };
}

/** Which VMCB an object expression like `svm->vmcb->control` / `vmcb02->control` / `svm->nested.ctl` names. */
export function vmcbRole(objectText: string): VmcbObject {
  const t = norm(objectText).replace(/(->|\.)(control|save)$/, '');
  if (/(^|->|\.)nested_vmcb$/.test(t)) return 'vmcb12';
  if (/hsave$/.test(t)) return 'vmcb01';
  if (/nested\.ctl$/.test(t) || /^ctl$/.test(t)) return 'vmcb12-cache';
  return classifyVmcbObject(t);
}

/**
 * The statements of a function body in textual order (expression statements and declarations, at any depth).
 * With `range` [from, to) (offsets of characters inside the block), only those that end after `from` and start before
 * `to` — the others may be left out.
 */
function statementsOf(block: Node, text: string, range?: { from: number; to: number }): Node[] {
  // Fast path: one walk inside the wasm runtime. Statements below an expression are left out (the walk below does not
  // enter expressions); without GNU statement expressions `({ ... })` or parse errors, the only statements found
  // inside another one are parts of it, so dropping those nested in the previous hit gives the same list.
  if (!block.hasError && !/\(\s*\{/.test(text.slice(block.startIndex, block.endIndex))) {
    const out: Node[] = [];
    let coveredEnd = -1;
    // The walk skips subtrees ending at or before the start point and stops at the first node starting at or after
    // the end point: the points of the innermost nodes at `from` and at `to - 1` bound exactly the statements wanted.
    const first = range ? block.descendantForIndex(range.from, range.from + 1) : undefined;
    const last = range ? block.descendantForIndex(range.to - 1, range.to) : undefined;
    const found = first && last
      ? block.descendantsOfType(['expression_statement', 'declaration'], first.startPosition, last.endPosition)
      : block.descendantsOfType(['expression_statement', 'declaration']);
    for (const n of found) {
      if (!n || n.startIndex < coveredEnd) continue;
      out.push(n);
      coveredEnd = n.endIndex;
    }
    return out;
  }
  const out: Node[] = [];
  const stack: Node[] = [block];
  while (stack.length) {
    const n = stack.pop()!;
    if (n.type === 'expression_statement' || n.type === 'declaration') { out.push(n); continue; }
    const kids = n.namedChildren;
    for (let i = kids.length - 1; i >= 0; i--) {
      const k = kids[i];
      if (k && k.type !== 'comment' && !k.type.endsWith('_expression') && k.type !== 'identifier') stack.push(k);
    }
  }
  out.sort((a, b) => a.startIndex - b.startIndex);
  return out;
}

/** The outermost expression statement or declaration below `block` containing the character at `offset`. */
function statementAt(block: Node, offset: number): Node | undefined {
  let found: Node | undefined;
  for (let n: Node | null = block.descendantForIndex(offset, offset + 1); n && n.id !== block.id; n = n.parent) {
    if (n.type === 'expression_statement' || n.type === 'declaration') found = n;
  }
  return found;
}

/** Names a statement may add to or change in the mask environment: declared names, assigned identifiers. */
function assignedNames(n: Node, out: Set<string>): void {
  if (n.type === 'declaration') {
    for (const d of n.namedChildren) {
      if (!d) continue;
      if (d.type === 'init_declarator') {
        const name = d.childForFieldName('declarator');
        if (name?.type === 'identifier') out.add(name.text);
      } else if (d.type === 'identifier') out.add(d.text);
    }
    return;
  }
  const visit = (x: Node): void => {
    const e = stripParens(x);
    if (e.type === 'comma_expression') {
      for (const k of e.namedChildren) if (k) visit(k);
      return;
    }
    if (e.type !== 'assignment_expression') return;
    const left = e.childForFieldName('left');
    if (left?.type === 'identifier') out.add(left.text);
  };
  for (const k of n.namedChildren) if (k) visit(k);
}

/**
 * The statements of `range` in `block` that analyzeMasks can act on when only copies matter, in textual order — the
 * others are no-ops there: those holding `int_ctl` or `mask` (any case), which include every one that declares or
 * first assigns a mask variable, and those naming a variable such a statement declares or assigns (a later assignment
 * to a mask variable names it). Found from the text occurrences, each mapped to its outermost statement, instead of
 * walking the whole body. Undefined when statementsOf's fast path does not apply (there statements may nest).
 */
function copyStatements(block: Node, text: string, range: { from: number; to: number }): Node[] | undefined {
  const blockText = text.slice(block.startIndex, block.endIndex);
  if (block.hasError || /\(\s*\{/.test(blockText)) return undefined;
  const from = range.from - block.startIndex;
  const to = range.to - block.startIndex;
  const found = new Map<number, Node>();
  const add = (offset: number): void => {
    for (const n of found.values()) if (n.startIndex <= offset && offset < n.endIndex) return;
    const n = statementAt(block, offset);
    if (n) found.set(n.startIndex, n);
  };
  const offsets: number[] = [];
  for (let i = blockText.indexOf('int_ctl', from); i >= 0 && i < to; i = blockText.indexOf('int_ctl', i + 1)) offsets.push(i);
  const re = /mask/gi;
  re.lastIndex = from;
  for (let m = re.exec(blockText); m && m.index < to; m = re.exec(blockText)) offsets.push(m.index);
  offsets.sort((a, b) => a - b);
  for (const o of offsets) add(block.startIndex + o);
  const names = new Set<string>();
  for (const n of found.values()) assignedNames(n, names);
  for (const v of names) {
    for (let i = blockText.indexOf(v, from); i >= 0 && i < to; i = blockText.indexOf(v, i + 1)) {
      const before = i > 0 ? blockText.charCodeAt(i - 1) : 32;
      const after = blockText.charCodeAt(i + v.length);
      if (isIdentChar(before) || isIdentChar(after)) continue;
      add(block.startIndex + i);
    }
  }
  return [...found.values()].sort((a, b) => a.startIndex - b.startIndex);
}

function isIdentChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

// -------------------------------------------------------------------------------------------------------------
// Mask folding

export interface MaskEnv {
  vars: Map<string, MaskValue>;
}

/** Bits of an expression, with mask variables resolved in `env`. Unknown operands give an opaque atom per bit. */
export function maskOf(n: Node, env: MaskEnv): MaskValue {
  const e = stripParens(n);
  switch (e.type) {
    case 'identifier': {
      const v = env.vars.get(e.text);
      if (v) return v;
      const ent = entityForIdentifier(e.text);
      if (ent && ent.kind === 'intctl' && ent.register === 'int_ctl') {
        // A multi-bit mask like V_TPR_MASK covers one named field; fields are keyed by their base name.
        return constMask([ent.name.replace(/_MASK$/, '')]);
      }
      return opaque(e.text);
    }
    case 'number_literal': {
      const v = Number(e.text.replace(/[uUlL]+$/, ''));
      if (!Number.isFinite(v)) return opaque(e.text);
      if (v === 0) return emptyMask();
      const bits: string[] = [];
      let rest = v >>> 0;
      for (const [mask, name] of BIT_BY_MASK) {
        if ((rest & mask) === mask) { bits.push(name); rest = (rest & ~mask) >>> 0; }
      }
      return rest === 0 ? constMask(bits) : opaque(e.text);
    }
    case 'unary_expression': {
      const arg = e.childForFieldName('argument');
      if (opOf(e) === '~' && arg) return mapMask(maskOf(arg, env), (x) => not(x));
      return opaque(e.text);
    }
    case 'binary_expression': {
      const l = e.childForFieldName('left');
      const r = e.childForFieldName('right');
      const op = opOf(e);
      if (l && r && op === '|') return zipMask(maskOf(l, env), maskOf(r, env), (x, y) => or(x, y));
      if (l && r && op === '&') return zipMask(maskOf(l, env), maskOf(r, env), (x, y) => and(x, y));
      return opaque(e.text);
    }
    case 'call_expression': {
      const fn = e.childForFieldName('function')?.text;
      const args = e.childForFieldName('arguments')?.namedChildren ?? [];
      if (fn === 'BIT' && args[0]) {
        const v = Number(args[0].text);
        const name = Number.isInteger(v) ? BIT_BY_MASK.get((2 ** v) >>> 0) : undefined;
        return name ? constMask([name]) : opaque(e.text);
      }
      return opaque(e.text);
    }
    default:
      return opaque(e.text);
  }
}

function opaque(text: string): MaskValue {
  const a = unknown(`opaque:${norm(text)}`);
  return new Map(INT_CTL_BIT_NAMES.map((b) => [b, a]));
}

/** Apply `lhs op= rhs` under path condition `cond` to the mask variable value `cur`. */
export function foldAssign(cur: MaskValue, op: string, rhs: MaskValue, cond: Formula): MaskValue {
  switch (op) {
    case '=': return zipMask(cur, rhs, (old, nw) => or(and(cond, nw), and(not(cond), old)));
    case '|=': return zipMask(cur, rhs, (old, nw) => or(old, and(cond, nw)));
    case '&=': return zipMask(cur, rhs, (old, nw) => and(old, or(not(cond), nw)));
    default: return mapMask(cur, (old, bit) => or(and(not(cond), old), and(cond, unknown(`opaque:${op}:${bit}`))));
  }
}

// -------------------------------------------------------------------------------------------------------------
// int_ctl copies

/** One int_ctl transfer from the VMCB the CPU ran (source) into another VMCB (destination). */
export interface IntCtlCopy {
  /** The assignment expression. */
  start: number;
  end: number;
  /** The destination member name range (for the diagnostic). */
  targetStart: number;
  targetEnd: number;
  destination: VmcbObject;
  destinationText: string;
  source: VmcbObject;
  sourceText: string;
  /** For each int_ctl bit: the condition under which this statement copies it from the source. */
  copied: MaskValue;
  /** The whole register is copied (`dst.int_ctl = src.int_ctl`). */
  whole: boolean;
  /** The path condition of the statement. */
  cond: Formula;
}

export interface MaskAnalysis {
  fn: FunctionInfo;
  /** Final value of every mask variable at the end of the function. */
  masks: Map<string, MaskValue>;
  copies: IntCtlCopy[];
}

/** `X->control.int_ctl` / `svm->nested.ctl.int_ctl`: the object text (`X->control`, `svm->nested.ctl`), if it is one. */
function intCtlObject(n: Node): string | undefined {
  const e = stripParens(n);
  if (e.type !== 'field_expression' || e.childForFieldName('field')?.text !== 'int_ctl') return undefined;
  return e.childForFieldName('argument')?.text;
}

/** Find `SRC.int_ctl & M` terms inside `rhs` (excluding terms reading the destination itself). */
function sourceTerms(rhs: Node, dstObj: string, env: MaskEnv): Array<{ src: string; mask: MaskValue; whole: boolean }> {
  const out: Array<{ src: string; mask: MaskValue; whole: boolean }> = [];
  const visit = (n: Node): void => {
    const e = stripParens(n);
    const direct = intCtlObject(e);
    if (direct !== undefined) {
      if (norm(direct) !== norm(dstObj)) out.push({ src: direct, mask: constMask(INT_CTL_BIT_NAMES), whole: true });
      return;
    }
    if (e.type === 'binary_expression') {
      const l = e.childForFieldName('left');
      const r = e.childForFieldName('right');
      const op = opOf(e);
      if (l && r && op === '&') {
        const lo = intCtlObject(l);
        const ro = intCtlObject(r);
        if (lo !== undefined || ro !== undefined) {
          const obj = (lo ?? ro)!;
          if (norm(obj) === norm(dstObj)) return; // dst & ~mask: the bits kept
          out.push({ src: obj, mask: maskOf(lo !== undefined ? r : l, env), whole: false });
          return;
        }
      }
      if (l && r && (op === '|' || op === '&')) { visit(l); visit(r); }
    }
  };
  visit(rhs);
  return out;
}

/**
 * Fold the masks of `fn` and collect its int_ctl copies. With `copiesOnly`, statements after the last `int_ctl` are
 * not looked at (they cannot copy int_ctl bits): the copies are the same, `masks` are the values at that point.
 */
export function analyzeMasks(doc: DocumentAnalysis, fn: FunctionInfo, opts: { copiesOnly?: boolean } = {}): MaskAnalysis {
  const result: MaskAnalysis = { fn, masks: new Map(), copies: [] };
  const body = doc.tree.rootNode.descendantForIndex(fn.bodyStart, fn.bodyStart + 1);
  const block = body && body.type === '{' ? body.parent : body;
  if (!block || block.type !== 'compound_statement') return result;
  if (!/int_ctl|_MASK/.test(doc.text.slice(fn.bodyStart, fn.bodyEnd))) return result;
  // Statements before the first `int_ctl` / `mask` (any case) change nothing: with no mask variable yet, a statement
  // matters only if it names one of those (see the filters below).
  const blockText = doc.text.slice(block.startIndex, block.endIndex);
  const lastIntCtl = blockText.lastIndexOf('int_ctl');
  if (opts.copiesOnly && lastIntCtl < 0) return result;
  const firstMask = blockText.search(/mask/i);
  const firstIntCtl = blockText.indexOf('int_ctl');
  const first = firstMask < 0 ? firstIntCtl : firstIntCtl < 0 ? firstMask : Math.min(firstMask, firstIntCtl);
  const range = first < 0 ? undefined : {
    from: block.startIndex + first,
    to: opts.copiesOnly ? block.startIndex + lastIntCtl + 'int_ctl'.length : block.endIndex,
  };
  const env: MaskEnv = { vars: new Map() };
  const isMaskVar = (name: string): boolean => env.vars.has(name);

  // The path condition of a statement is needed only when it assigns a mask variable or copies int_ctl bits.
  const handleExpr = (n: Node, cond: () => Formula): void => {
    const e = stripParens(n);
    if (e.type === 'comma_expression') {
      for (const k of e.namedChildren) if (k) handleExpr(k, cond);
      return;
    }
    if (e.type !== 'assignment_expression') return;
    const left = e.childForFieldName('left');
    const right = e.childForFieldName('right');
    const op = opOf(e) || e.children[1]?.text || '=';
    if (!left || !right) return;
    if (left.type === 'identifier' && (isMaskVar(left.text) || looksLikeMaskExpr(right))) {
      const cur = env.vars.get(left.text) ?? emptyMask();
      env.vars.set(left.text, foldAssign(cur, op, maskOf(right, env), cond()));
      return;
    }
    const dstObj = intCtlObject(left);
    if (dstObj === undefined) return;
    const field = stripParens(left).childForFieldName('field');
    const terms = sourceTerms(right, dstObj, env);
    for (const t of terms) {
      const c = cond();
      result.copies.push({
        start: e.startIndex, end: e.endIndex, targetStart: field?.startIndex ?? left.startIndex, targetEnd: field?.endIndex ?? left.endIndex,
        destination: vmcbRole(dstObj), destinationText: dstObj, source: vmcbRole(t.src), sourceText: t.src,
        copied: mapMask(t.mask, (x) => and(c, x)), whole: t.whole, cond: c,
      });
    }
  };

  const stmts = opts.copiesOnly && range ? copyStatements(block, doc.text, range) ?? statementsOf(block, doc.text, range)
    : statementsOf(block, doc.text, range);
  for (const n of stmts) {
    // Text filters (exact): a declaration matters only if it names or builds a mask; an expression statement only if
    // it assigns (`=`) an int_ctl member, a mask built from V_*_MASK, or a known mask variable.
    const text = doc.text.slice(n.startIndex, n.endIndex);
    if (n.type === 'declaration') {
      if (!/mask/i.test(text)) continue;
      for (const d of n.namedChildren) {
        if (!d) continue;
        if (d.type === 'init_declarator') {
          const name = d.childForFieldName('declarator');
          const value = d.childForFieldName('value');
          if (name?.type === 'identifier' && value && (looksLikeMaskExpr(value) || /mask/i.test(name.text))) {
            env.vars.set(name.text, foldAssign(emptyMask(), '=', maskOf(value, env), TRUE));
          }
        } else if (d.type === 'identifier' && /mask/i.test(d.text) && !env.vars.has(d.text)) {
          // `u32 mask;` declares a mask variable without a value.
          env.vars.set(d.text, emptyMask());
        }
      }
      continue;
    }
    if (!text.includes('=')) continue;
    if (!text.includes('int_ctl') && !text.includes('_MASK') && ![...env.vars.keys()].some((v) => text.includes(v))) continue;
    let cond: Formula | undefined;
    const condOf = (): Formula => (cond ??= conditionAt(doc, n.startIndex));
    for (const k of n.namedChildren) if (k) handleExpr(k, condOf);
  }
  result.masks = env.vars;
  return result;
}

/** Does the expression contain an int_ctl mask macro (V_*_MASK) — i.e. is it building an int_ctl mask? */
function looksLikeMaskExpr(n: Node): boolean {
  const text = n.text;
  const re = /\b[A-Z][A-Z0-9_]*_MASK\b/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    const ent = entityForIdentifier(m[0]);
    if (ent && ent.kind === 'intctl') return true;
  }
  return false;
}
