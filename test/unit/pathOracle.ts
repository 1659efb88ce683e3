// A reference for the rules' path conditions (analysis/conditions.ts conditionAt), computed the other way round: a
// forward explorer over a function's statements that carries a path condition, splits it at each branch with the
// engine's branchArms (infeasible arms do not run), lets return/goto/break/BUG() paths leave, brings gotos back at
// their label, and joins the paths that reach a statement. The rules compute the same conditions as an intersection
// of syntactic regions (guards.ts); test/unit/guards-oracle.test.ts and scripts/guards-check.mjs compare the two.
// Conditions are taken from the rules' own mapping (the guard of each branch), so what is compared is the path logic.
import type { Node } from 'web-tree-sitter';
import type { DocumentAnalysis, FunctionInfo } from '../../server/src/analysis/document';
import { guardsAt } from '../../server/src/analysis/conditions';
import { functionNode } from '../../server/src/analysis/guards';
import { FALSE, TRUE, and, not, or, predicatesOf, satisfiable, unknownKeysOf, type Formula } from '../../server/src/analysis/engine/formula';
import { branchArms } from '../../server/src/analysis/engine/paths';

type Leave = { kind: 'return' | 'break' | 'continue' } | { kind: 'goto'; label: string };
interface Out { normal: Formula; left: Array<{ how: Leave; pc: Formula }> }

const NONE = new Map<string, boolean>();

/** Join of path conditions: conjuncts common to all stay; the rest is or-ed (dropped when it always holds). */
export function join(pcs: Formula[]): Formula {
  const live = pcs.filter((p) => p.kind !== 'false');
  if (!live.length) return FALSE;
  if (live.length === 1) return live[0];
  const parts = live.map((p) => (p.kind === 'and' ? p.args : [p]));
  const common = parts[0].filter((c) => parts.every((ps) => ps.includes(c)));
  const rest = or(...parts.map((ps) => and(...ps.filter((c) => !common.includes(c)))));
  return satisfiable(not(rest)) ? and(...common, rest) : and(...common);
}

export interface Reached { node: Node; pc: Formula }

/**
 * Every statement of `fn` the explorer reaches, with the join of the path conditions that reach it. Undefined when
 * a condition has no guard to take its formula from.
 */
export function explore(doc: DocumentAnalysis, fn: FunctionInfo): Reached[] | undefined {
  const body = functionNode(doc, fn);
  if (!body) return undefined;
  const reached = new Map<number, { node: Node; pcs: Formula[] }>();
  let missing = false;
  const guard = (at: number, kind: string, condStart: number): Formula | undefined => {
    const g = guardsAt(doc, at).find((x) => x.kind === kind && x.condStart === condStart);
    if (!g) missing = true;
    return g?.formula;
  };
  const note = (n: Node, pc: Formula): void => {
    if (pc.kind === 'false') return;
    const r = reached.get(n.id) ?? { node: n, pcs: [] };
    r.pcs.push(pc);
    reached.set(n.id, r);
  };
  const isExitCall = (s: Node): boolean => {
    const e = s.namedChildren.find((k) => k && k.type !== 'comment');
    return e?.type === 'call_expression' && /^(BUG|panic|unreachable|__builtin_unreachable)$/.test(e.childForFieldName('function')?.text ?? '');
  };

  const stmt = (s: Node, pc: Formula, depth: number): Out => {
    if (pc.kind === 'false' || depth > 40) return { normal: pc, left: [] };
    switch (s.type) {
      case 'compound_statement': return block(s.namedChildren.filter((k): k is Node => !!k), pc, depth);
      case 'expression_statement': case 'declaration':
        note(s, pc);
        if (s.type === 'expression_statement' && isExitCall(s)) return { normal: FALSE, left: [{ how: { kind: 'return' }, pc }] };
        return { normal: pc, left: [] };
      case 'return_statement': note(s, pc); return { normal: FALSE, left: [{ how: { kind: 'return' }, pc }] };
      case 'break_statement': return { normal: FALSE, left: [{ how: { kind: 'break' }, pc }] };
      case 'continue_statement': return { normal: FALSE, left: [{ how: { kind: 'continue' }, pc }] };
      case 'goto_statement': {
        note(s, pc);
        return { normal: FALSE, left: [{ how: { kind: 'goto', label: s.childForFieldName('label')?.text ?? '' }, pc }] };
      }
      case 'labeled_statement': {
        const inner = s.namedChildren.filter((k): k is Node => !!k && k.type !== 'statement_identifier' && k.type !== 'comment').at(-1);
        return inner ? stmt(inner, pc, depth + 1) : { normal: pc, left: [] };
      }
      case 'if_statement': {
        const cond = s.childForFieldName('condition');
        const cons = s.childForFieldName('consequence');
        const alt = s.childForFieldName('alternative');
        if (!cond || !cons) return { normal: pc, left: [] };
        const c = guard(cons.startIndex, 'if', cond.startIndex) ?? TRUE;
        const arms = branchArms(pc, c, NONE);
        const t = arms.then ? stmt(cons, arms.then, depth + 1) : { normal: FALSE, left: [] };
        const elseBody = alt?.type === 'else_clause' ? alt.namedChildren.find((k) => k && k.type !== 'comment') ?? undefined : alt ?? undefined;
        const e = arms.else ? (elseBody ? stmt(elseBody, arms.else, depth + 1) : { normal: arms.else, left: [] }) : { normal: FALSE, left: [] };
        return { normal: join([t.normal, e.normal]), left: [...t.left, ...e.left] };
      }
      case 'while_statement': case 'for_statement': case 'do_statement': {
        // As the rules see loops: the body runs under the loop condition; the loop never leaves the function.
        const b = s.childForFieldName('body');
        const cond = s.childForFieldName('condition');
        if (b) {
          const c = s.type === 'do_statement' || !cond ? TRUE : guard(b.startIndex, 'loop', cond.startIndex) ?? TRUE;
          stmt(b, and(pc, c), depth + 1);
        }
        return { normal: pc, left: [] };
      }
      case 'switch_statement': {
        // Each case's statements under the case's guard (labels and fall-through); the switch never leaves.
        const b = s.childForFieldName('body');
        for (const k of b?.namedChildren ?? []) {
          if (!k || k.type !== 'case_statement') continue;
          const value = k.childForFieldName('value');
          const g = guardsAt(doc, k.startIndex + 1).find((x) => (x.kind === 'case' || x.kind === 'default') && x.start === k.startIndex);
          if (!g) { missing = true; continue; }
          block(k.namedChildren.filter((x): x is Node => !!x && x.id !== value?.id), and(pc, g.formula), depth + 1);
        }
        return { normal: pc, left: [] };
      }
      default:
        return { normal: pc, left: [] };
    }
  };

  const block = (stmts: Node[], pc: Formula, depth: number): Out => {
    let cur = pc;
    const left: Out['left'] = [];
    for (const s of stmts) {
      if (s.type === 'labeled_statement') {
        // Gotos from earlier in this block (or from blocks inside it) arrive here.
        const label = s.childForFieldName('label')?.text;
        const arriving = left.filter((l) => l.how.kind === 'goto' && l.how.label === label);
        if (arriving.length) {
          cur = join([cur, ...arriving.map((l) => l.pc)]);
          for (const a of arriving) left.splice(left.indexOf(a), 1);
        }
      }
      if (cur.kind === 'false') continue;
      const o = stmt(s, cur, depth + 1);
      cur = o.normal;
      left.push(...o.left);
    }
    return { normal: cur, left };
  };

  stmt(body, TRUE, 0);
  if (missing) return undefined;
  return [...reached.values()].map(({ node, pcs }) => ({ node, pc: join(pcs) }));
}

/** A formula written out in full (unknowns by key): equal keys, same formula. */
function keyOf(f: Formula): string {
  switch (f.kind) {
    case 'true': case 'false': return f.kind;
    case 'pred': case 'unknown': return f.key;
    case 'not': return `!${keyOf(f.arg)}`;
    default: return `${f.kind}(${f.args.map(keyOf).join(',')})`;
  }
}

/**
 * Are two path conditions equivalent (each implies the other, under the model's implications)? Conjuncts both share
 * are set aside first; 'undecided' when what is left has more free variables than satisfiable() enumerates.
 */
export function equivalent(a: Formula, b: Formula): boolean | 'undecided' {
  const ca = a.kind === 'and' ? a.args : [a];
  const cb = b.kind === 'and' ? b.args : [b];
  const kb = new Set(cb.map(keyOf));
  const ka = new Set(ca.map(keyOf));
  const ra = and(...ca.filter((c) => !kb.has(keyOf(c))));
  const rb = and(...cb.filter((c) => !ka.has(keyOf(c))));
  if (keyOf(ra) === keyOf(rb)) return true;
  const vars = new Set([...predicatesOf(ra), ...unknownKeysOf(ra), ...predicatesOf(rb), ...unknownKeysOf(rb)]);
  if (vars.size > 12) return 'undecided';
  return !satisfiable(and(ra, not(rb))) && !satisfiable(and(rb, not(ra)));
}
