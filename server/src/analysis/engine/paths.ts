// Path exploration: the part of the engine that decides, at a branch, which arms are feasible and under which path
// condition each runs. A path condition is a Formula over model predicates and unknowns (analysis/engine/formula.ts);
// an arm is explored only if its condition is satisfiable under the configuration and the model's implications
// (engine/facts.ts). Both arms of an undecided branch run on separate copies of the state, which are joined after the
// branch with the condition kept symbolically (features/simulate joins machine cells this way; the rules read the
// same conditions through analysis/conditions.ts).
import {
  FALSE, TRUE, and, evaluate, formulaToString, not, predicatesOf, satisfiable, type Formula,
} from './formula';

/** The feasible arms of a branch: each arm's path condition, or undefined when the arm cannot run. */
export interface Arms {
  then?: Formula;
  else?: Formula;
  /** The condition was decided by the configuration alone (no fork). */
  decided: boolean;
}

/**
 * Arms of `if (cond)` reached under path condition `pc`, with the configuration's predicate values `fixed`.
 * A condition the configuration decides takes one arm; otherwise each arm whose condition is satisfiable runs.
 */
export function branchArms(pc: Formula, cond: Formula, fixed: ReadonlyMap<string, boolean>): Arms {
  const v = evaluate(cond, fixed);
  if (v === true) return { then: pc, decided: true };
  if (v === false) return { else: pc, decided: true };
  const t = and(pc, cond);
  const e = and(pc, not(cond));
  const out: Arms = { decided: false };
  if (feasible(t, fixed)) out.then = t;
  if (feasible(e, fixed)) out.else = e;
  return out;
}

/** Can a path with this condition run under the configuration (and the model's implications)? */
export function feasible(pc: Formula, fixed: ReadonlyMap<string, boolean>): boolean {
  if (pc.kind === 'true') return true;
  if (pc.kind === 'false') return false;
  return satisfiable(pc, fixed);
}

/** Path condition for display: the part the configuration does not already decide. */
export function describePath(pc: Formula, fixed: ReadonlyMap<string, boolean> = new Map()): string {
  const residual = simplify(pc, fixed);
  return residual.kind === 'true' ? '' : formulaToString(residual, 160);
}

/** `f` with the predicates `fixed` decides replaced by their values (conjuncts that hold dropped). */
export function simplify(f: Formula, fixed: ReadonlyMap<string, boolean>): Formula {
  if (!fixed.size || !predicatesOf(f).some((k) => fixed.has(k))) return f;
  const v = evaluate(f, fixed);
  if (v === true) return TRUE;
  if (v === false) return FALSE;
  if (f.kind === 'and') return and(...f.args.map((a) => simplify(a, fixed)));
  return f;
}

/**
 * Join two maps of per-location values after a branch: locations with the same value keep it; the others get
 * `merge(thenValue, elseValue)` (either may be missing: the location was not written on that arm).
 */
export function joinMaps<V>(a: ReadonlyMap<string, V>, b: ReadonlyMap<string, V>, same: (x: V, y: V) => boolean,
  merge: (x: V | undefined, y: V | undefined, key: string) => V | undefined): Map<string, V> {
  // (forEach, not for-of: no [key, value] pair per entry before V8 optimizes this; joins run at every fork)
  const out = new Map<string, V>();
  a.forEach((x, k) => {
    const y = b.get(k);
    if (y !== undefined && (x === y || same(x, y))) { out.set(k, x); return; }
    const m = merge(x, y, k);
    if (m !== undefined) out.set(k, m);
  });
  b.forEach((y, k) => {
    if (a.has(k)) return;
    const m = merge(undefined, y, k);
    if (m !== undefined) out.set(k, m);
  });
  return out;
}
