// Guards: the regions of a function body a syntax node makes conditional (if/else, &&/||, ?:, loops, switch cases,
// early exits) and what local definitions say about variables. Used by analysis/conditions.ts, which re-exports the types.
import type { Node } from 'web-tree-sitter';
import type { DocumentAnalysis, FunctionInfo } from './document';
import { FALSE, TRUE, and, not, or, type Formula } from './engine/formula';
import { EXIT_CONST, NOT_EXIT_SUBJECT, namedKids, operatorOf, predAt, stripParens, unknownAt, type LocalDef } from './conditionMap';

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

export interface RawGuard {
  kind: GuardKind;
  start: number;
  end: number;
  cond: Node;
  /** Formula builder run after local definitions are known. */
  build: (map: (n: Node) => Formula) => Formula;
}

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
    case 'expression_statement':
      return isExitCall(stmt);
    case 'labeled_statement':
      return exits(lastNamedKid(stmt), depth + 1);
    default:
      return false;
  }
}

/**
 * The condition under which a statement leaves its block instead of falling through (return, goto, break, continue, or
 * BUG()), over the conditions of the ifs on the way — the join of the statement's paths that the engine would compute
 * (analysis/engine/paths.ts): `if (a) { f(); if (b) return; }` leaves when a ∧ b. Undefined: never leaves. Loops and
 * switches count as never leaving (a break inside them ends them, and a return there is not followed).
 */
function exitCondition(stmt: Node | null | undefined, map: (c: Node) => Formula, depth = 0): Formula | undefined {
  if (!stmt || depth > 32) return undefined;
  switch (stmt.type) {
    case 'compound_statement': {
      // A statement after one that always leaves is unreachable; otherwise the block leaves if any statement does.
      const parts: Formula[] = [];
      for (const s of namedKids(stmt)) {
        if (exits(s, depth + 1)) { parts.push(TRUE); break; }
        const e = exitCondition(s, map, depth + 1);
        if (e) parts.push(e);
      }
      return parts.length ? or(...parts) : undefined;
    }
    case 'if_statement': {
      if (exits(stmt, depth)) return TRUE;
      const cond = stmt.childForFieldName('condition');
      if (!cond) return undefined;
      const cons = stmt.childForFieldName('consequence');
      const alt = stmt.childForFieldName('alternative');
      const t = exits(cons, depth + 1) ? TRUE : exitCondition(cons, map, depth + 1);
      const e = alt ? (exits(elseBody(alt), depth + 1) ? TRUE : exitCondition(elseBody(alt), map, depth + 1)) : undefined;
      if (!t && !e) return undefined;
      const c = map(cond);
      return or(...(t ? [and(c, t)] : []), ...(e ? [and(not(c), e)] : []));
    }
    case 'labeled_statement':
      return exitCondition(lastNamedKid(stmt), map, depth + 1);
    default:
      return exits(stmt, depth) ? TRUE : undefined;
  }
}

/** An expression statement that never returns: `BUG();`, `panic(...)`, `unreachable()`. */
export function isExitCall(stmt: Node): boolean {
  const e = namedKids(stmt)[0];
  if (e?.type !== 'call_expression') return false;
  const name = e.childForFieldName('function')?.text;
  return name === 'BUG' || name === 'panic' || name === 'unreachable' || name === '__builtin_unreachable';
}

/** The statement of an `else` clause (an alternative that is not a clause is its own statement). */
export function elseBody(alt: Node): Node | null {
  if (alt.type !== 'else_clause') return alt;
  let c = alt.firstNamedChild;
  while (c && c.type === 'comment') c = c.nextNamedSibling;
  return c;
}

/** The last named child that is not a comment (namedKids(n).at(-1) without marshalling every child). */
export function lastNamedKid(n: Node): Node | null {
  let c = n.lastNamedChild;
  while (c && c.type === 'comment') c = c.previousNamedSibling;
  return c;
}

/** Statements of a block-like node: compound statement children, or the statements after a case label. */
export function blockStatements(n: Node): Node[] {
  const kids = namedKids(n);
  if (n.type === 'case_statement') {
    const value = n.childForFieldName('value');
    return value ? kids.filter((k) => k.id !== value.id) : kids;
  }
  return kids;
}

/**
 * The guards a node of one of the COLLECT_TYPES (other than blocks, local definitions and gotos) produces, in the
 * order `collect` pushes them. `&&`/`||` guards come from a binary expression's operator tokens.
 */
/** The right operand of `l && r` runs where l holds; of `l || r`, where l does not. */
export function logicalRhsGuard(n: Node, op: '&&' | '||'): RawGuard | undefined {
  const l = n.childForFieldName('left');
  const r = n.childForFieldName('right');
  if (!l || !r) return undefined;
  return op === '&&'
    ? { kind: 'and-rhs', start: r.startIndex, end: r.endIndex, cond: l, build: (m) => m(l) }
    : { kind: 'or-rhs', start: r.startIndex, end: r.endIndex, cond: l, build: (m) => not(m(l)) };
}

export function nodeGuards(n: Node, raw: RawGuard[]): void {
  switch (n.type) {
    case 'binary_expression': {
      // As for each `&&`/`||` token whose parent is this binary expression.
      for (const tok of n.children) {
        if (!tok) continue;
        const type = tok.type;
        if (type !== '&&' && type !== '||') continue;
        const g = logicalRhsGuard(n, type);
        if (g) raw.push(g);
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
export function noteDefinition(n: Node, def: (name: string) => LocalDef): void {
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

export function toGuard(g: RawGuard, map: (n: Node) => Formula): Guard {
  const text = g.cond.text;
  return {
    kind: g.kind, start: g.start, end: g.end, condStart: g.cond.startIndex, condEnd: g.cond.endIndex,
    condText: text.length > 200 ? `${text.slice(0, 200)}…` : text, formula: g.build(map),
  };
}

export interface GotoSite { label: string; at: number }

/**
 * `if (C) return;` (or goto/break/continue): the rest of the block runs under !C, up to the first label that a
 * goto from outside that stretch can jump to (where another path joins).
 */
export function earlyExitGuards(block: Node, raw: RawGuard[], gotosOf: () => readonly GotoSite[]): void {
  const stmts = blockStatements(block);
  for (let i = 0; i < stmts.length; i++) {
    const g = earlyExitAt(stmts, i, block.endIndex, gotosOf);
    if (g) raw.push(g);
  }
}

/** The early-exit guard statement `stmts[i]` of a block ending at `blockEnd` produces, if any. */
/** Cheap pre-check: does an if statement contain a return/goto/break/continue/BUG() anywhere (not in a loop/switch)? */
function hasNestedExit(s: Node): boolean {
  return /\b(return|goto|break|continue|BUG|panic)\b/.test(s.text) && exitConditionShape(s, 0);
}

function exitConditionShape(n: Node | null, depth: number): boolean {
  if (!n || depth > 32) return false;
  if (exits(n, depth)) return true;
  if (n.type === 'if_statement') {
    const alt = n.childForFieldName('alternative');
    return exitConditionShape(n.childForFieldName('consequence'), depth + 1) || (!!alt && exitConditionShape(elseBody(alt), depth + 1));
  }
  if (n.type === 'compound_statement' || n.type === 'labeled_statement') return namedKids(n).some((k) => exitConditionShape(k, depth + 1));
  return false;
}

export function earlyExitAt(stmts: readonly Node[], i: number, blockEnd: number, gotosOf: () => readonly GotoSite[]): RawGuard | undefined {
  const s = stmts[i];
  if (s.type !== 'if_statement') return undefined;
  const cond = s.childForFieldName('condition');
  if (!cond) return undefined;
  const cons = s.childForFieldName('consequence');
  const alt = s.childForFieldName('alternative');
  const consExits = exits(cons);
  const altExits = alt ? exits(elseBody(alt)) : false;
  if (consExits && altExits) return undefined;
  // An arm that does not leave as a whole may still leave from inside (`if (a) { f(); if (b) return; }`): then the
  // statements after run where no exit was taken, ¬exitCondition. Otherwise the guard is the condition (or its negation).
  const nested = consExits ? exitConditionShape(alt ? elseBody(alt) : null, 0)
    : altExits ? exitConditionShape(cons, 0) : hasNestedExit(s);
  if (!consExits && !altExits && !nested) return undefined;
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
  if (nested) return { kind: 'early-exit', start: s.endIndex, end, cond, build: (m) => not(exitCondition(s, m) ?? FALSE) };
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

export function functionNode(doc: DocumentAnalysis, fn: FunctionInfo): Node | undefined {
  const n = doc.tree.rootNode.descendantForIndex(fn.bodyStart, fn.bodyStart + 1);
  let cur: Node | null = n;
  for (let i = 0; cur && i < 64; i++, cur = cur.parent) {
    if (cur.type === 'compound_statement' && cur.startIndex === fn.bodyStart) return cur;
  }
  return undefined;
}
