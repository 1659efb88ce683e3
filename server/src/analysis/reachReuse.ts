// The path exploration of a function (reach.ts) after an edit inside one of its leaf statements or comments, from the
// previous version's, without exploring again.
//
// Typing in a large function (prepare_vmcs02, copy_enlightened_to_vmcs12) changes its text, so the per-function memo
// drops its exploration, and the first rule asking for a path condition there explored the whole function again on
// every keystroke. Many keystrokes land inside an expression statement that cannot change what the exploration sees
// elsewhere — no exit call, goto, label, block or local definition, and at most one assignment whose target the edit
// leaves as it was (leafText / leafTarget in reach.ts) — or inside a comment between statements. Then every statement
// keeps its condition; only the offsets after the edit move. Conditions are exactly those of a fresh exploration of
// the same tree (test/unit/reachReuse.test.ts).
//
// noteReach keeps the latest exploration of every function explored so far, carried through later edits that leave
// the function alone; the ones the newest edit fell inside are what reusedReach starts from. That edit is the memo
// envelope of the newest generation, which also covers every range whose syntax changed, so a statement or comment
// that contains it has the same tree around it in both versions.
import type { Node } from 'web-tree-sitter';
import type { Formula } from './engine/formula';
import type { DocumentAnalysis, FunctionInfo } from './document';
import { memoContext, type AnalysisCaches } from './incremental';
import { isLeaf, leafTarget, leafText, type FunctionReach, type StatementReach } from './reach';

/** Generations an unused store of explorations is carried through; one idle for longer starts over. */
const MAX_STEPS = 64;

type Shift = (f: Formula, d: number, seen: Map<Formula, Formula>, from: number) => Formula;

/** An exploration of the function [at, at + len) of the version it was made for, now starting at its map key. */
interface Kept { len: number; at: number; reach: FunctionReach }
/**
 * The latest exploration of each function explored so far, valid in generation `gen`, by start; `touched`: those the
 * edit into `gen` fell inside, as they were in generation gen - 1.
 */
interface Recent { gen: number; byStart: Map<number, Kept>; touched: Map<number, Kept> }

const recent = new WeakMap<AnalysisCaches, Recent>();

/** How often an exploration was asked of the previous version's, and given (for tests and measurements). */
export const reachReuseStats = { asked: 0, reused: 0 };

/** The explorations kept for `caches`, moved to generation `gen` through the edits since they were last used. */
function recentOf(caches: AnalysisCaches, gen: number): Recent {
  let rec = recent.get(caches);
  if (!rec) {
    rec = { gen, byStart: new Map(), touched: new Map() };
    recent.set(caches, rec);
  }
  if (rec.gen === gen) return rec;
  // One edit at a time: what an earlier edit fell inside is dropped, what the last one fell inside is `touched`.
  let kept = rec.byStart;
  let touched = new Map<number, Kept>();
  for (let g = rec.gen + 1; g <= gen && kept.size; g++) {
    const env = gen - rec.gen <= MAX_STEPS ? caches.edits.get(g) : undefined;
    const moved = new Map<number, Kept>();
    touched = new Map<number, Kept>();
    if (env) {
      const d = env.newEnd - env.oldEnd;
      for (const [start, e] of kept) {
        if (start + e.len <= env.start) moved.set(start, e);
        else if (start >= env.oldEnd) moved.set(start + d, e);
        else touched.set(start, e);
      }
    }
    kept = moved;
  }
  rec.gen = gen;
  rec.byStart = kept;
  rec.touched = touched;
  return rec;
}

/** Keep the exploration of `fn` in the newest version of an open document, for the next version. */
export function noteReach(doc: DocumentAnalysis, fn: FunctionInfo, reach: FunctionReach | null): void {
  const ctx = memoContext(doc);
  if (!ctx || !reach) return;
  recentOf(ctx.caches, ctx.gen).byStart.set(fn.start, { len: fn.end - fn.start, at: fn.start, reach });
}

/**
 * The exploration of `fn` from the previous version's, when the one edit since then lies inside a leaf statement
 * that is still one (same extent, no syntax error, same assignment target) or inside a comment between statements;
 * undefined otherwise.
 */
export function reusedReach(doc: DocumentAnalysis, fn: FunctionInfo, shift: Shift): FunctionReach | undefined {
  const ctx = memoContext(doc);
  if (!ctx) return undefined;
  const prev = recentOf(ctx.caches, ctx.gen).touched.get(fn.start);
  reachReuseStats.asked++;
  const env = ctx.caches.edits.get(ctx.gen);
  const prevText = ctx.caches.prevText;
  if (!prev || !env || prevText === undefined) return undefined;
  const d = env.newEnd - env.oldEnd;
  if (prev.len + d !== fn.end - fn.start) return undefined;
  // The kept exploration, in the coordinates of the previous version (it may come from an earlier one).
  const d0 = fn.start - prev.at;
  const ss = d0 === 0 ? prev.reach.statements : prev.reach.statements.map((x) => ({ ...x, start: x.start + d0, end: x.end + d0 }));
  // The innermost statement holding the edit strictly inside it (an edit at its first or last character may move it).
  let at = -1;
  for (let lo = 0, hi = ss.length - 1; lo <= hi;) {
    const mid = (lo + hi) >> 1;
    if (ss[mid].start < env.start) { at = mid; lo = mid + 1; } else hi = mid - 1;
  }
  while (at >= 0 && !(env.oldEnd < ss[at].end)) at = prev.reach.parent[at];
  const leaf = at >= 0 && ss[at].leaf ? ss[at] : undefined;
  if (!(leaf ? sameLeaf(doc, leaf, d, prevText) : inBlockComment(doc, env, prevText))) return undefined;
  reachReuseStats.reused++;
  const seen0 = new Map<Formula, Formula>();
  const seen = new Map<Formula, Formula>();
  const moved = (o: number): number => (o >= env.oldEnd ? o + d : o);
  return {
    parent: prev.reach.parent,
    statements: ss.map((x) => ({ ...x, start: moved(x.start), end: moved(x.end), pc: shift(d0 === 0 ? x.pc : shift(x.pc, d0, seen0, -Infinity), d, seen, env.oldEnd) })),
  };
}

/** Is the leaf statement `s` (previous version) still one, with the same assignment target, after the edit? */
function sameLeaf(doc: DocumentAnalysis, s: StatementReach, d: number, prevText: string): boolean {
  const before = prevText.slice(s.start, s.end);
  if (!leafText(before)) return false;
  const node = nodeSpanning(doc, s.start, s.end + d);
  return !!node && isLeaf(node) && leafTarget(node.text) === leafTarget(before);
}

/**
 * Does the edit lie strictly inside a comment between a block's statements, which was the same kind of comment
 * before it? Comments are no statements to the exploration (namedKids skips them) and name nothing it reads.
 */
function inBlockComment(doc: DocumentAnalysis, env: { start: number; oldEnd: number; newEnd: number }, prevText: string): boolean {
  const n = doc.tree.rootNode.descendantForIndex(env.start, Math.max(env.start, env.newEnd - 1));
  if (!n || n.type !== 'comment' || n.parent?.type !== 'compound_statement' || !(n.startIndex < env.start && env.newEnd < n.endIndex)) return false;
  const d = env.newEnd - env.oldEnd;
  const now = n.text;
  const before = prevText.slice(n.startIndex, n.endIndex - d);
  return commentShape(now) !== undefined && commentShape(now) === commentShape(before);
}

/** '/*' for a block comment that ends where the text does, '//' for a one-line comment, else undefined. */
function commentShape(text: string): string | undefined {
  if (text.startsWith('/*')) return text.length >= 4 && text.indexOf('*/', 2) === text.length - 2 ? '/*' : undefined;
  if (text.startsWith('//')) return text.includes('\n') ? undefined : '//';
  return undefined;
}

/** The outermost node spanning exactly [start, end) in the document's tree, if there is one. */
function nodeSpanning(doc: DocumentAnalysis, start: number, end: number): Node | undefined {
  let found: Node | undefined;
  for (let n = doc.tree.rootNode.descendantForIndex(start, Math.max(start, end - 1)); n; n = n.parent) {
    if (n.startIndex < start || n.endIndex > end) break;
    if (n.startIndex === start && n.endIndex === end) found = n;
  }
  return found;
}
