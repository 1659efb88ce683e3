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
import { exploreFunction, statementAt, type FunctionReach } from './reach';
import { reusedReach } from './reachReuse';
import { mapCondition, reportError, type LocalDef, type MapContext } from './conditionMap';
import {
  blockStatements, earlyExitAt, earlyExitGuards, functionNode, logicalRhsGuard, nodeGuards, noteDefinition, toGuard,
  type GotoSite, type Guard, type RawGuard,
} from './guards';

// The mapping of C conditions is in conditionMap.ts and the guards syntax nodes produce in guards.ts (re-exported
// here); this file computes a function's guards, all at once (functionConditions) or per offset (guardsAt).
export { mapCondition, onConditionError, type ConditionErrorSink, type LocalDef, type MapContext } from './conditionMap';
export type { Guard, GuardKind } from './guards';

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

export interface FunctionConditions {
  fn: FunctionInfo;
  guards: Guard[];
}

const cache = new WeakMap<DocumentAnalysis, Map<number, FunctionConditions>>();

/** Node types `collect` looks at; `&&`/`||` are found through their operator tokens (see below). */
const COLLECT_TYPES = [
  'if_statement', 'while_statement', 'for_statement', 'conditional_expression', 'switch_statement', 'init_declarator',
  'assignment_expression', 'update_expression', 'pointer_expression', 'compound_statement', 'case_statement',
  'goto_statement', '&&', '||',
];

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
      const g = logicalRhsGuard(p, type);
      if (g) raw.push(g);
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
export function shiftFormula(f: Formula, d: number, seen: Map<Formula, Formula> = new Map(), from = -Infinity): Formula {
  if (d === 0) return f;
  const done = seen.get(f);
  if (done) return done;
  let out: Formula;
  switch (f.kind) {
    case 'true': case 'false': return f;
    case 'pred': case 'unknown':
      // Offsets at or after `from` move (all of them, by default); -1 marks a formula of no place in the text.
      out = f.start < 0 || f.end < from ? f : { ...f, start: f.start >= from ? f.start + d : f.start, end: f.end + d };
      break;
    case 'not':
      out = { kind: 'not', arg: shiftFormula(f.arg, d, seen, from) };
      break;
    default:
      out = { kind: f.kind, args: f.args.map((a) => shiftFormula(a, d, seen, from)) };
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

/**
 * The condition under which `offset` is reached from the start of its function (TRUE outside functions): the path
 * condition the engine's forward exploration (reach.ts) records on entry to the innermost statement containing it,
 * conjoined with the guards inside that statement (`&&`, `||`, `?:`, and whatever the exploration did not enter: a
 * statement expression, an ERROR node). FALSE where no path arrives. Functions the exploration cannot follow (nested
 * deeper than it goes) fall back to the syntactic guards alone (syntacticConditionAt).
 */
export function conditionAt(doc: DocumentAnalysis, offset: number): Formula {
  const fn = functionAt(doc, offset);
  if (!fn) return TRUE;
  const reach = functionReach(doc, fn);
  const s = reach && statementAt(reach, offset);
  if (!s) return syntacticConditionAt(doc, offset);
  if (s.pc.kind === 'false') return FALSE;
  if (!MAY_GUARD_INSIDE.test(doc.text.slice(s.start, s.end))) return s.pc;
  const inner = guardsAt(doc, offset).filter((g) => g.start >= s.start && g.end <= s.end && (g.start > s.start || g.end < s.end));
  return inner.length ? and(s.pc, ...inner.map((g) => g.formula)) : s.pc;
}

/**
 * What can make a guard region inside one explored statement: `&&`, `||`, `?:`, or control flow the exploration did
 * not enter (a statement expression, an ERROR node). A statement with none of them is answered by its recorded
 * condition alone.
 */
const MAY_GUARD_INSIDE = /&&|\|\||\?|\(\{|\b(?:if|else|switch|case|default|while|for|do|return|goto|break|continue|BUG|panic)\b/;

/** The conjunction of the syntactic guards whose region contains `offset` (guards.ts): no paths followed. */
export function syntacticConditionAt(doc: DocumentAnalysis, offset: number): Formula {
  return and(...guardsAt(doc, offset).map((g) => g.formula));
}

const reachCache = new WeakMap<DocumentAnalysis, Map<number, FunctionReach | null>>();

/**
 * The forward exploration of `fn` (reach.ts), once per function and document, and reused across versions of an
 * open document while the function's text is unchanged. Null when the function cannot be explored.
 */
export function functionReach(doc: DocumentAnalysis, fn: FunctionInfo): FunctionReach | null {
  let perDoc = reachCache.get(doc);
  if (!perDoc) { perDoc = new Map(); reachCache.set(doc, perDoc); }
  let r = perDoc.get(fn.start);
  if (r === undefined) {
    r = cachedFunctionValue(doc, 'reach', fn, () => carriedReach(doc, fn) ?? computeReach(doc, fn), shiftReach);
    perDoc.set(fn.start, r);
  }
  return r;
}

/** The previous version's exploration carried over (reachReuse.ts); a failure there only means exploring afresh. */
function carriedReach(doc: DocumentAnalysis, fn: FunctionInfo): FunctionReach | undefined {
  try {
    return reusedReach(doc, fn, shiftFormula);
  } catch (e) {
    reportError(`reuse of the path exploration of ${fn.name}()`, e);
    return undefined;
  }
}

function computeReach(doc: DocumentAnalysis, fn: FunctionInfo): FunctionReach | null {
  try {
    const lc = lazyConditions(doc, fn);
    return lc.body ? exploreFunction(lc.body, lc.map) ?? null : null;
  } catch (e) {
    reportError(`path exploration of ${fn.name}()`, e);
    return null;
  }
}

function shiftReach(r: FunctionReach | null, d: number): FunctionReach | null {
  if (!r || d === 0) return r;
  const seen = new Map<Formula, Formula>();
  return { parent: r.parent, statements: r.statements.map((s) => ({ ...s, start: s.start + d, end: s.end + d, pc: shiftFormula(s.pc, d, seen) })) };
}
