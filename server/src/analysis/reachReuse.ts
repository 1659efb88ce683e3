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
// The per-function memo keeps, for one generation, the exploration the newest edit fell inside
// (incremental.ts previousFunctionValue); that edit is the memo envelope of the newest generation, which also covers
// every range whose syntax changed, so a statement or comment that contains it has the same tree around it in both
// versions.
import type { Node } from 'web-tree-sitter';
import type { Formula } from './engine/formula';
import type { DocumentAnalysis, FunctionInfo } from './document';
import { memoContext, previousFunctionValue } from './incremental';
import { isLeaf, leafTarget, leafText, type FunctionReach, type StatementReach } from './reach';

type Shift = (f: Formula, d: number, seen: Map<Formula, Formula>, from: number) => Formula;

/** How often an exploration was asked of the previous version's, and given (for tests and measurements). */
export const reachReuseStats = { asked: 0, reused: 0 };

/**
 * The exploration of `fn` from the previous version's, when the one edit since then lies inside a leaf statement
 * that is still one (same extent, no syntax error, same assignment target) or inside a comment between statements;
 * undefined otherwise.
 */
export function reusedReach(doc: DocumentAnalysis, fn: FunctionInfo, shift: Shift): FunctionReach | undefined {
  const ctx = memoContext(doc);
  if (!ctx) return undefined;
  const prev = previousFunctionValue<FunctionReach | null>(doc, 'reach', fn);
  reachReuseStats.asked++;
  const env = ctx.caches.edits.get(ctx.gen);
  const prevText = ctx.caches.prevText;
  if (!prev?.value || !env || prevText === undefined) return undefined;
  const reach = prev.value;
  const d = env.newEnd - env.oldEnd;
  if (prev.len + d !== fn.end - fn.start) return undefined;
  // The kept exploration, in the coordinates of the previous version (it may come from an earlier one).
  const d0 = fn.start - prev.at;
  const ss = d0 === 0 ? reach.statements : reach.statements.map((x) => ({ ...x, start: x.start + d0, end: x.end + d0 }));
  // The innermost statement holding the edit strictly inside it (an edit at its first or last character may move it).
  let at = -1;
  for (let lo = 0, hi = ss.length - 1; lo <= hi;) {
    const mid = (lo + hi) >> 1;
    if (ss[mid].start < env.start) { at = mid; lo = mid + 1; } else hi = mid - 1;
  }
  while (at >= 0 && !(env.oldEnd < ss[at].end)) at = reach.parent[at];
  const leaf = at >= 0 && ss[at].leaf ? ss[at] : undefined;
  if (!(leaf ? sameLeaf(doc, leaf, d, prevText) : inBlockComment(doc, env, prevText))) return undefined;
  reachReuseStats.reused++;
  const seen0 = new Map<Formula, Formula>();
  const seen = new Map<Formula, Formula>();
  const moved = (o: number): number => (o >= env.oldEnd ? o + d : o);
  return {
    parent: reach.parent,
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
