// Reachability: the engine's forward path exploration of a function body, which is where the rules' path conditions
// (conditions.ts conditionAt) come from. One pass over the statements carries a path condition; each branch is split
// with the engine's branchArms (engine/paths.ts: an arm that cannot run under the model's implications is not
// explored), return/goto/break/continue/BUG() leave with the condition they were reached under, a goto's condition
// rejoins the paths at its label, and the condition at every statement is recorded — FALSE where no path arrives
// (after an unconditional exit, in an arm that cannot run).
//
// Loops and switches are explored once, as the rules' syntactic view has them: a loop body runs under the loop
// condition, a case under its labels (with fall-through), and control continues after either under the condition it
// entered with; a goto out of one still arrives at its label. Expressions are not explored: what `&&`, `||` and `?:`
// add inside a statement is conjoined by conditionAt from the guards of those operators (guards.ts).
import type { Node } from 'web-tree-sitter';
import { FALSE, TRUE, and, forgetting, not, or, satisfiable, type Formula } from './engine/formula';
import { branchArms } from './engine/paths';
import { namedKids } from './conditionMap';
import { blockStatements, elseBody, isExitCall, lastNamedKid, nodeGuards, toGuard, type RawGuard } from './guards';

/** The path condition on entry to one statement (or `else` clause) of the function. */
export interface StatementReach {
  start: number;
  end: number;
  pc: Formula;
  /**
   * An expression statement without syntax errors: when its text, too, cannot change the exploration of the rest of
   * the function but through the assignment target it names (leafText, asked only when it is edited), an edit inside
   * it that leaves it one leaves every other statement's condition as it was (reachReuse.ts).
   */
  leaf?: true;
}

export interface FunctionReach {
  /** Statements in source pre-order (start ascending; an enclosing statement before those inside it). */
  statements: StatementReach[];
  /** Index of the innermost recorded statement enclosing each one (-1: none). */
  parent: number[];
}

type Leave = { kind: 'return' | 'break' | 'continue' | 'goto'; label?: string; pc: Formula };
interface Out { normal: Formula; left: Leave[] }

const NO_FIX = new Map<string, boolean>();
/** Deeper statement nesting than this is not explored: the caller falls back to the syntactic guards. */
const MAX_DEPTH = 60;

class TooDeep extends Error {}

/**
 * A statement that starts with a label spelled by a macro, `NAME(args):` — which tree-sitter parses as an ERROR node,
 * or as the start of a declaration when a call follows it on the line.
 */
const MACRO_LABEL = /^[A-Za-z_]\w*\s*\([^;{}()]*(?:\([^;{}()]*\)[^;{}()]*)*\)\s*:(?!:)/;
const MACRO_LABEL_HOSTS = new Set(['ERROR', 'declaration', 'expression_statement']);

function conjuncts(f: Formula): readonly Formula[] {
  return f.kind === 'and' ? f.args : [f];
}

/**
 * Join of the path conditions of the paths meeting at one point: the conjuncts all of them share stay as they are;
 * the rest is or-ed, and dropped when it always holds (the two arms of an if with neither leaving).
 */
export function joinPaths(pcs: readonly Formula[]): Formula {
  const live = pcs.filter((p) => p.kind !== 'false');
  if (!live.length) return FALSE;
  if (live.length === 1) return live[0];
  const parts = live.map(conjuncts);
  const common = parts[0].filter((c) => parts.every((ps) => ps.includes(c)));
  const rests = parts.map((ps) => ps.filter((c) => !common.includes(c)));
  if (rests.some((r) => r.length === 0)) return and(...common);
  // `c` and `!c` (the two arms of one condition): their disjunction always holds.
  if (rests.length === 2 && rests[0].length === 1 && rests[1].length === 1 && complementary(rests[0][0], rests[1][0])) return and(...common);
  const rest = or(...rests.map((r) => and(...r)));
  return satisfiable(not(rest)) ? and(...common, rest) : and(...common);
}

function complementary(a: Formula, b: Formula): boolean {
  return (a.kind === 'not' && a.arg === b) || (b.kind === 'not' && b.arg === a);
}

/**
 * The path condition after an expression statement: what it said about an lvalue the statement assigns
 * (`loaded_vmcs->shadow_vmcs = alloc_vmcs(true);` after `if (... loaded_vmcs->shadow_vmcs) return`) no longer holds.
 */
function afterAssignments(s: Node, pc: Formula): Formula {
  if (pc.kind === 'true') return pc;
  const targets: string[] = [];
  const visit = (e: Node | null | undefined): void => {
    if (!e) return;
    if (e.type === 'assignment_expression') targets.push(e.childForFieldName('left')?.text ?? '');
    else if (e.type === 'update_expression') targets.push(e.childForFieldName('argument')?.text ?? '');
    else if (e.type === 'comma_expression' || e.type === 'parenthesized_expression') for (const k of namedKids(e)) visit(k);
  };
  visit(namedKids(s)[0]);
  let out: Formula = pc;
  for (const t of targets) {
    const lv = t.replace(/\s+/g, '');
    if (!lv) continue;
    out = forgetting(out, (text) => mentionsLvalue(text.replace(/\s+/g, ''), lv));
  }
  return out;
}

/** Whether C text (whitespace removed) mentions the lvalue `lv` as a whole operand (`x` is not in `vmx->x`). */
function mentionsLvalue(text: string, lv: string): boolean {
  for (let i = text.indexOf(lv); i >= 0; i = text.indexOf(lv, i + 1)) {
    const before = text[i - 1] ?? '';
    const after = text[i + lv.length] ?? '';
    if (/[\w.>]/.test(before) || /\w/.test(after)) continue;
    return true;
  }
  return false;
}

/**
 * Explore `body` (a function's compound statement). `map` gives the formula of a C condition (conditionMap.ts, with
 * the function's local definitions). Undefined when the body nests deeper than the explorer follows.
 */
export function exploreFunction(body: Node, map: (cond: Node) => Formula): FunctionReach | undefined {
  const statements: StatementReach[] = [];
  // Labels that something other than a goto statement may jump to: every label when the function has an `asm goto`
  // (asm_volatile_goto(... : fault) in kvm_cpu_vmxon), else those no goto names (computed gotos, jumps inside macros).
  // Paths the explorer does not see arrive there; nothing is known about them.
  const text = body.text;
  const asmGoto = /\basm\w*\s*(?:volatile\s*)?goto\b|\basm_\w*goto\w*\s*\(/.test(text);
  const named = new Set([...text.matchAll(/\bgoto\s+([A-Za-z_]\w*)/g)].map((m) => m[1]));
  const enteredFromElsewhere = (label: string | undefined): boolean => asmGoto || !label || !named.has(label);
  const record = (n: Node, pc: Formula): void => {
    statements.push(n.type === 'expression_statement' && !n.hasError ? { start: n.startIndex, end: n.endIndex, pc, leaf: true } : { start: n.startIndex, end: n.endIndex, pc });
  };

  // Entry condition of each switch being explored, innermost last: a case label found outside switchStatement's own
  // loop (inside `#ifdef` in the switch body) is entered by fall-through or by the switch's jump.
  const switches: Formula[] = [];
  const stmt = (s: Node, pc: Formula, depth: number): Out => {
    if (depth > MAX_DEPTH) throw new TooDeep();
    if (s.type === 'case_statement' && switches.length) pc = joinPaths([pc, switches[switches.length - 1]]);
    record(s, pc);
    if (pc.kind === 'false') return { normal: FALSE, left: [] };
    switch (s.type) {
      case 'compound_statement': return block(blockStatements(s), pc, depth);
      case 'expression_statement':
        return isExitCall(s) ? { normal: FALSE, left: [{ kind: 'return', pc }] } : { normal: afterAssignments(s, pc), left: [] };
      case 'return_statement': return { normal: FALSE, left: [{ kind: 'return', pc }] };
      case 'break_statement': return { normal: FALSE, left: [{ kind: 'break', pc }] };
      case 'continue_statement': return { normal: FALSE, left: [{ kind: 'continue', pc }] };
      case 'goto_statement':
        return { normal: FALSE, left: [{ kind: 'goto', label: s.childForFieldName('label')?.text ?? '', pc }] };
      case 'labeled_statement': {
        const inner = lastNamedKid(s);
        return inner && inner.type !== 'statement_identifier' ? stmt(inner, pc, depth + 1) : { normal: pc, left: [] };
      }
      case 'if_statement': return ifStatement(s, pc, depth);
      case 'while_statement': case 'for_statement': case 'do_statement': {
        const b = s.childForFieldName('body');
        const cond = s.childForFieldName('condition');
        if (!b) return { normal: pc, left: [] };
        const inBody = s.type === 'do_statement' || !cond ? pc : and(pc, map(cond));
        const o = stmt(b, satisfiable(inBody) ? inBody : FALSE, depth + 1);
        return { normal: pc, left: o.left.filter((l) => l.kind === 'goto') };
      }
      case 'switch_statement': return switchStatement(s, pc, depth);
      case 'case_statement': {
        // Only outside switchStatement's own loop (a case inside `#ifdef` in a switch body): no label formula.
        return block(blockStatements(s), pc, depth + 1);
      }
      case 'preproc_if': case 'preproc_ifdef': case 'preproc_elif': case 'preproc_elifdef': case 'preproc_else': {
        // `#ifdef CONFIG_X86_64 ... #else ... #endif` in a body: either part may be compiled in; both are explored
        // from the same condition, and the paths that fall out of them join.
        const alt = s.childForFieldName('alternative');
        const skip = new Set([s.childForFieldName('name')?.id, s.childForFieldName('condition')?.id, alt?.id]);
        const here = block(namedKids(s).filter((k) => !skip.has(k.id)), pc, depth + 1);
        const other = alt ? stmt(alt, pc, depth + 1) : { normal: pc, left: [] };
        return { normal: joinPaths([here.normal, other.normal]), left: [...here.left, ...other.left] };
      }
      default:
        return { normal: pc, left: [] };
    }
  };

  const ifStatement = (s: Node, pc: Formula, depth: number): Out => {
    const cond = s.childForFieldName('condition');
    const cons = s.childForFieldName('consequence');
    const alt = s.childForFieldName('alternative');
    if (!cond || !cons) return { normal: pc, left: [] };
    const arms = branchArms(pc, map(cond), NO_FIX);
    const t = stmt(cons, arms.then ?? FALSE, depth + 1);
    let e: Out = { normal: arms.else ?? FALSE, left: [] };
    if (alt) {
      record(alt, arms.else ?? FALSE);
      const b = elseBody(alt);
      if (b) e = stmt(b, arms.else ?? FALSE, depth + 1);
    }
    return { normal: joinPaths([t.normal, e.normal]), left: [...t.left, ...e.left] };
  };

  const switchStatement = (s: Node, pc: Formula, depth: number): Out => {
    const b = s.childForFieldName('body');
    if (!b) return { normal: pc, left: [] };
    record(b, pc);
    // Case guards as the syntactic view builds them (labels carried through fall-through).
    const raw: RawGuard[] = [];
    nodeGuards(s, raw);
    const byStart = new Map(raw.filter((r) => r.kind === 'case' || r.kind === 'default').map((r) => [r.start, r]));
    const left: Leave[] = [];
    switches.push(pc);
    for (const k of namedKids(b)) {
      if (k.type !== 'case_statement') {
        // `#ifdef CONFIG_X86_64 case MSR_FS_BASE: ... #endif`: cases the syntactic view has no label formula for run
        // under the switch's own condition (case_statement below), as do statements before the first case.
        left.push(...stmt(k, pc, depth + 1).left.filter((l) => l.kind === 'goto'));
        continue;
      }
      const r = byStart.get(k.startIndex);
      const inCase = and(pc, r ? toGuard(r, map).formula : TRUE);
      const live = satisfiable(inCase) ? inCase : FALSE;
      record(k, live);
      const o = block(blockStatements(k), live, depth + 1);
      left.push(...o.left.filter((l) => l.kind === 'goto'));
    }
    switches.pop();
    return { normal: pc, left };
  };

  const block = (stmts: readonly Node[], pc: Formula, depth: number): Out => {
    let cur = pc;
    const left: Leave[] = [];
    for (const s of stmts) {
      if (s.type === 'labeled_statement') {
        // Gotos from earlier in this block, or from blocks inside it, arrive here.
        const label = s.childForFieldName('label')?.text;
        const arriving = left.filter((l) => l.kind === 'goto' && l.label === label);
        if (arriving.length) {
          cur = joinPaths([cur, ...arriving.map((l) => l.pc)]);
          for (const a of arriving) left.splice(left.indexOf(a), 1);
        }
        if (enteredFromElsewhere(label)) cur = TRUE;
      } else if (MACRO_LABEL_HOSTS.has(s.type) && MACRO_LABEL.test(s.text)) {
        // `VMCS12_CASE64(TSC_MULTIPLIER):` (vmcs12.c): a case label spelled by a macro, which tree-sitter cannot
        // parse; the switch jumps here (outside a switch, some jump we do not see does).
        cur = joinPaths([cur, switches.length ? switches[switches.length - 1] : TRUE]);
      }
      const o = stmt(s, cur, depth + 1);
      cur = o.normal;
      left.push(...o.left);
    }
    return { normal: cur, left };
  };

  try {
    stmt(body, TRUE, 0);
  } catch (e) {
    if (e instanceof TooDeep) return undefined;
    throw e;
  }
  // Pre-order already (statements are recorded on entry); the sort only settles equal starts, outer first.
  statements.sort((a, b) => a.start - b.start || b.end - a.end);
  const parent: number[] = [];
  const open: number[] = [];
  statements.forEach((s, i) => {
    while (open.length && statements[open[open.length - 1]].end <= s.start) open.pop();
    parent.push(open.length ? open[open.length - 1] : -1);
    open.push(i);
  });
  return { statements, parent };
}

/** Whether a statement node is a leaf (see StatementReach.leaf). */
export function isLeaf(n: Node): boolean {
  return n.type === 'expression_statement' && !n.hasError && leafText(n.text);
}

/**
 * Can an expression statement with this text affect the exploration (or the conditions' local definitions) other than
 * through the target of its one assignment (leafTarget)? Not when it has no exit call, goto, asm, label, block,
 * increment, or address taken of a local (`&x`; `&vmx->vcpu` is fine), and at most one assignment, to a member or
 * element (`vmx->x = ...`, which afterAssignments forgets by its text; a local's value would be a definition
 * conditions read).
 */
export function leafText(text: string): boolean {
  if (!text.endsWith(';') || NOT_LEAF.test(text) || MACRO_LABEL.test(text)) return false;
  const ops = assignmentOps(text);
  return ops.length === 0 || (ops.length === 1 && MEMBER_TARGET.test(text.slice(0, ops[0]).trim()));
}

/** The assignment target of a leaf statement's text, blanks removed ('' without an assignment). */
export function leafTarget(text: string): string {
  const ops = assignmentOps(text);
  return ops.length ? text.slice(0, ops[0]).replace(/\s+/g, '') : '';
}

const NOT_LEAF = /\+\+|--|[{}]|&\s*[A-Za-z_]\w*(?!\w|\s*(?:->|\.|\[|\())|\b(?:goto|asm\w*|BUG|panic|unreachable|__builtin_unreachable)\b/;
const MEMBER_TARGET = /^[A-Za-z_]\w*(?:\s*(?:->|\.)\s*[A-Za-z_]\w*|\s*\[[^\]=]*\])+$/;

/** Offsets of the assignment operators (`=`, `|=`, `<<=`, ... but not `==`, `!=`, `<=`, `>=`) in C text. */
function assignmentOps(text: string): number[] {
  const out: number[] = [];
  for (let i = text.indexOf('='); i >= 0; i = text.indexOf('=', i + 1)) {
    if (text[i + 1] === '=') { i++; continue; }
    const p = text[i - 1];
    if (p === '!' || p === '=') continue;
    if ((p === '<' || p === '>') && text[i - 2] !== p) continue; // <= and >=, but <<= and >>= assign
    let at = i;
    while (at > 0 && '+-*/%&|^<>'.includes(text[at - 1])) at--;
    out.push(at);
  }
  return out;
}

/** The innermost recorded statement containing `offset`, or undefined. */
export function statementAt(r: FunctionReach, offset: number): StatementReach | undefined {
  const ss = r.statements;
  let lo = 0;
  let hi = ss.length - 1;
  let at = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (ss[mid].start <= offset) { at = mid; lo = mid + 1; } else hi = mid - 1;
  }
  for (let i = at; i >= 0; i = r.parent[i]) if (offset < ss[i].end) return ss[i];
  return undefined;
}
