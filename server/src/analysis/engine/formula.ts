// The engine's formulas: path conditions over model predicates (enable_ept, nested_ept, pae_paging, evmcs, ...),
// three-valued evaluation and satisfiability under the model's implications (engine/facts.ts). Pure: no parser.
import { consistentAssignment } from './facts';
// ---------------------------------------------------------------------------------------------------------------
// Formulas

export interface PredFormula {
  kind: 'pred';
  /** Predicate name without object: `enable_ept`, `exit_reason=EXIT_REASON_HLT`, `int_ctl:V_IRQ`. */
  name: string;
  /** VMCB object for intercept/int_ctl predicates (`vmcb12-cache`, `vmcb01`, ...). */
  object?: string;
  /** Assignment key: name, plus `@object` when the object is not the current VMCB. */
  key: string;
  /** Where the C expression that produced it is (for related information). */
  start: number;
  end: number;
  text: string;
}

export interface UnknownFormula {
  kind: 'unknown';
  /** `?` + normalised C text: two occurrences of the same text are the same unknown. */
  key: string;
  text: string;
  start: number;
  end: number;
}

export type Formula =
  | { kind: 'true' }
  | { kind: 'false' }
  | PredFormula
  | UnknownFormula
  | { kind: 'not'; arg: Formula }
  | { kind: 'and'; args: Formula[] }
  | { kind: 'or'; args: Formula[] };

export const TRUE: Formula = { kind: 'true' };
export const FALSE: Formula = { kind: 'false' };

export function not(f: Formula): Formula {
  switch (f.kind) {
    case 'true': return FALSE;
    case 'false': return TRUE;
    case 'not': return f.arg;
    default: return { kind: 'not', arg: f };
  }
}

export function and(...fs: Formula[]): Formula {
  const args: Formula[] = [];
  for (const f of fs) {
    if (f.kind === 'true') continue;
    if (f.kind === 'false') return FALSE;
    if (f.kind === 'and') args.push(...f.args);
    else args.push(f);
  }
  if (args.length === 0) return TRUE;
  if (args.length === 1) return args[0];
  return { kind: 'and', args };
}

export function or(...fs: Formula[]): Formula {
  const args: Formula[] = [];
  for (const f of fs) {
    if (f.kind === 'false') continue;
    if (f.kind === 'true') return TRUE;
    if (f.kind === 'or') args.push(...f.args);
    else args.push(f);
  }
  if (args.length === 0) return FALSE;
  if (args.length === 1) return args[0];
  return { kind: 'or', args };
}

/** A model predicate not tied to source text (for requirements built by rules). */
export function pred(key: string): PredFormula {
  const at = key.indexOf('@');
  const name = at >= 0 ? key.slice(0, at) : key;
  const object = at >= 0 ? key.slice(at + 1) : undefined;
  return { kind: 'pred', name, object, key, start: -1, end: -1, text: key };
}

/** Iterative post-order traversal helper: calls `visit` on every node of the formula (no recursion). */
function forEachNode(f: Formula, visit: (n: Formula) => void): void {
  const stack: Formula[] = [f];
  while (stack.length) {
    const n = stack.pop()!;
    visit(n);
    if (n.kind === 'not') stack.push(n.arg);
    else if (n.kind === 'and' || n.kind === 'or') for (const a of n.args) stack.push(a);
  }
}

/**
 * `f` without what it says about some C lvalue: the conjuncts with a predicate or unknown whose C text `mentions`
 * accepts are dropped (a weakening: `f` implies the result). For a path condition after that lvalue is assigned.
 */
export function forgetting(f: Formula, mentions: (text: string) => boolean): Formula {
  const about = (g: Formula): boolean => {
    let hit = false;
    forEachNode(g, (n) => { if (!hit && (n.kind === 'pred' || n.kind === 'unknown') && mentions(n.text)) hit = true; });
    return hit;
  };
  if (f.kind !== 'and') return about(f) ? TRUE : f;
  const keep = f.args.filter((a) => !about(a));
  return keep.length === f.args.length ? f : and(...keep);
}

/** Model predicate keys mentioned by the formula (unknowns excluded), sorted. */
export function predicatesOf(f: Formula): string[] {
  const out = new Set<string>();
  forEachNode(f, (n) => { if (n.kind === 'pred') out.add(n.key); });
  return [...out].sort();
}

/** The predicate nodes (with their source ranges) of a formula. */
export function predicateNodesOf(f: Formula): PredFormula[] {
  const out: PredFormula[] = [];
  forEachNode(f, (n) => { if (n.kind === 'pred') out.push(n); });
  return out;
}

export function unknownKeysOf(f: Formula): string[] {
  const out = new Set<string>();
  forEachNode(f, (n) => { if (n.kind === 'unknown') out.add(n.key); });
  return [...out];
}

/**
 * Three-valued (Kleene) evaluation. A predicate or unknown whose key is not in `assignment` is undefined.
 * Iterative, so arbitrarily deep formulas are fine.
 */
export function evaluate(f: Formula, assignment: ReadonlyMap<string, boolean>): boolean | undefined {
  // Post-order with an explicit stack; results keyed by node object.
  const results = new Map<Formula, boolean | undefined>();
  const stack: Array<{ n: Formula; expanded: boolean }> = [{ n: f, expanded: false }];
  while (stack.length) {
    const top = stack[stack.length - 1];
    const n = top.n;
    if (n.kind === 'true') { results.set(n, true); stack.pop(); continue; }
    if (n.kind === 'false') { results.set(n, false); stack.pop(); continue; }
    if (n.kind === 'pred' || n.kind === 'unknown') { results.set(n, assignment.get(n.key)); stack.pop(); continue; }
    const kids = n.kind === 'not' ? [n.arg] : n.args;
    if (!top.expanded) {
      top.expanded = true;
      for (const k of kids) if (!results.has(k)) stack.push({ n: k, expanded: false });
      continue;
    }
    stack.pop();
    if (n.kind === 'not') {
      const v = results.get(n.arg);
      results.set(n, v === undefined ? undefined : !v);
    } else if (n.kind === 'and') {
      let r: boolean | undefined = true;
      for (const k of kids) {
        const v = results.get(k);
        if (v === false) { r = false; break; }
        if (v === undefined) r = undefined;
      }
      results.set(n, r);
    } else {
      let r: boolean | undefined = false;
      for (const k of kids) {
        const v = results.get(k);
        if (v === true) { r = true; break; }
        if (v === undefined) r = undefined;
      }
      results.set(n, r);
    }
  }
  return results.get(f);
}

/** The model's implications between predicates (engine/facts.ts): a partial assignment that breaks one has no completion. */
const consistent = consistentAssignment;

/** Enumerate when a formula has at most this many free variables; beyond, fall back to Kleene evaluation. */
const MAX_ENUMERATED = 12;

/**
 * Is there a completion of `fixed` (free predicates and unknowns chosen freely, subject to the background facts)
 * under which `f` is true? Sound fallback for very large formulas: Kleene evaluation of `f` under `fixed`.
 */
export function satisfiable(f: Formula, fixed: ReadonlyMap<string, boolean> = new Map()): boolean {
  if (!consistent(fixed)) return false;
  const vars = [...predicatesOf(f), ...unknownKeysOf(f)].filter((k) => !fixed.has(k));
  // Background facts involve these keys even if f does not mention them.
  if (vars.length > MAX_ENUMERATED) return evaluate(f, fixed) !== false;
  // Depth-first over the free variables. Both Kleene evaluation and the background facts are monotone (fixing
  // more variables never turns a definite false into anything else), so a partial assignment under which `f` is
  // already false, or which already breaks a background fact, has no completion worth enumerating: the answer is
  // the same as trying all 2^n completions, usually after far fewer.
  const a = new Map(fixed);
  const search = (i: number): boolean => {
    const v = evaluate(f, a);
    if (v === false || !consistent(a)) return false;
    if (i === vars.length) return v === true;
    const k = vars[i];
    a.set(k, false);
    if (search(i + 1)) return true;
    a.set(k, true);
    if (search(i + 1)) return true;
    a.delete(k);
    return false;
  };
  return search(0);
}

/** Can `f` hold while predicate `key` has `value`? */
export function mayBeTrue(f: Formula, key: string, value: boolean): boolean {
  return satisfiable(f, new Map([[key, value]]));
}

/** Does `f` force predicate `key` to `value` (no completion of f with the opposite value)? */
export function mustBeTrue(f: Formula, key: string, value: boolean): boolean {
  return !satisfiable(f, new Map([[key, !value]]));
}

/** Can `f` and `g` hold together? */
export function mayHold(f: Formula, g: Formula): boolean {
  return satisfiable(and(f, g));
}

/** Does `f` imply `g`? */
export function mustHold(f: Formula, g: Formula): boolean {
  return !satisfiable(and(f, not(g)));
}

/** Readable form: `(enable_ept && !pae_paging && ?(x->y))`. Depth-capped; long formulas are abbreviated. */
export function formulaToString(f: Formula, max = 400): string {
  const s = show(f, 0);
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

function show(f: Formula, depth: number): string {
  if (depth > 40) return '…';
  switch (f.kind) {
    case 'true': return 'true';
    case 'false': return 'false';
    case 'pred': return f.key;
    case 'unknown': return `?(${f.text.length > 60 ? `${f.text.slice(0, 60)}…` : f.text})`;
    case 'not': return `!${show(f.arg, depth + 1)}`;
    default: {
      const parts = f.args.slice(0, 24).map((a) => show(a, depth + 1));
      if (f.args.length > 24) parts.push('…');
      return `(${parts.join(f.kind === 'and' ? ' && ' : ' || ')})`;
    }
  }
}

