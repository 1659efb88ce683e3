// Incremental analysis of an open document. After an edit, only the field references of the top-level
// declarations (functions) that the edit or the re-parse touched are recomputed; the references of every other
// function are kept and shifted. The line index is patched rather than rebuilt, and the parse-error count is
// computed only when someone asks for it. Rules can cache their per-function results with cachedPerFunction().
//
// Invariant (checked by test/unit/incremental.test.ts): incrementalAnalysis(prev, ...) has the same refs and
// functions as a full analysis of the same text and tree.
import type { Node, Range as TsRange, Tree } from 'web-tree-sitter';
import { LineIndex, findFunctions, type DocumentAnalysis, type FunctionInfo } from './document';
import { findRefs, type FieldRef } from './refs';
import type { Finding } from '../features/findings';

/** One replacement, in the coordinates of the text it is applied to: [start, oldEnd) becomes [start, newEnd). */
export interface Edit { start: number; oldEnd: number; newEnd: number }

/**
 * The union of a sequence of edits: the old text and the new text agree on [0, start) and on the suffixes
 * old[oldEnd..] == new[newEnd..].
 */
export type Envelope = Edit;

export function composeEnvelope(env: Envelope | undefined, e: Edit): Envelope {
  if (!env) return { ...e };
  const d = e.newEnd - e.oldEnd;
  const cut = Math.max(env.newEnd, e.oldEnd);
  return { start: Math.min(env.start, e.start), newEnd: cut + d, oldEnd: env.oldEnd + (cut - env.newEnd) };
}

/** A LineIndex over precomputed line starts (same class as document.ts builds, without rescanning the text). */
export function lineIndexFromStarts(starts: number[]): LineIndex {
  return Object.create(LineIndex.prototype, { starts: { value: starts, enumerable: true } }) as LineIndex;
}

export function lineStartsOf(text: string): number[] {
  const starts = [0];
  let i = text.indexOf('\n');
  while (i >= 0) {
    starts.push(i + 1);
    i = text.indexOf('\n', i + 1);
  }
  return starts;
}

/** Line starts after replacing [start, oldEnd) of the old text with `inserted`. O(lines) with a tiny constant. */
export function patchLineStarts(starts: number[], start: number, oldEnd: number, inserted: string): number[] {
  const lo = upperBound(starts, start); // first line start > start
  const hi = upperBound(starts, oldEnd); // first line start > oldEnd
  const d = inserted.length - (oldEnd - start);
  const out = starts.slice(0, lo);
  let i = inserted.indexOf('\n');
  while (i >= 0) {
    out.push(start + i + 1);
    i = inserted.indexOf('\n', i + 1);
  }
  for (let k = hi; k < starts.length; k++) out.push(starts[k] + d);
  return out;
}

function upperBound(a: number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** ERROR and MISSING nodes, walking only into subtrees that contain errors. Iterative. */
export function countParseErrors(tree: Tree): number {
  const root = tree.rootNode;
  if (!root.hasError) return 0;
  let n = 0;
  const cursor = tree.walk();
  try {
    for (;;) {
      const node = cursor.currentNode;
      if (node.type === 'ERROR' || node.isMissing) n++;
      if (node.hasError && cursor.gotoFirstChild()) continue;
      while (!cursor.gotoNextSibling()) {
        if (!cursor.gotoParent()) return n;
      }
    }
  } finally {
    cursor.delete();
  }
}

/** Shared per-URI state that survives from one version of a document to the next. */
export interface AnalysisCaches {
  /** rule/key → function text → findings relative to the function start. Two generations are kept. */
  perFunction: Map<string, { gen: number; cur: Map<string, Finding[]>; prev: Map<string, Finding[]> }>;
  generation: number;
}

export function newCaches(): AnalysisCaches {
  return { perFunction: new Map(), generation: 0 };
}

const cachesOf = new WeakMap<DocumentAnalysis, AnalysisCaches>();

function makeAnalysis(uri: string, text: string, tree: Tree, lines: LineIndex, functions: FunctionInfo[], refs: FieldRef[], caches: AnalysisCaches): DocumentAnalysis {
  let parseErrors: number | undefined;
  const doc = { uri, text, tree, lines, functions, refs } as DocumentAnalysis;
  Object.defineProperty(doc, 'parseErrors', {
    enumerable: true,
    get: () => (parseErrors ??= countParseErrors(tree)),
    set: (v: number) => { parseErrors = v; },
  });
  caches.generation++;
  cachesOf.set(doc, caches);
  return doc;
}

/** A whole-document analysis (same facts as document.ts fromTree, with a lazy parse-error count). */
export function fullAnalysis(text: string, uri: string, tree: Tree, caches: AnalysisCaches = newCaches(), starts?: number[]): DocumentAnalysis {
  const lines = lineIndexFromStarts(starts ?? lineStartsOf(text));
  return makeAnalysis(uri, text, tree, lines, findFunctions(tree), findRefs(text, tree), caches);
}

/** Context the reference classifier reads around a name without looking at the tree (text fallbacks). */
const TEXT_MARGIN = 128;

/**
 * The analysis of `text` (parsed as `tree`, reusing `prev.tree` edited by `env`) from the previous analysis:
 * refs outside the dirty region are reused (shifted); the dirty region — the edit, the ranges whose syntax
 * changed, widened to whole top-level declarations — is rescanned.
 */
export function incrementalAnalysis(prev: DocumentAnalysis, text: string, tree: Tree, starts: number[], env: Envelope, changed: TsRange[]): DocumentAnalysis {
  const caches = cachesOf.get(prev) ?? newCaches();
  let ds = env.start;
  let de = env.newEnd;
  for (const r of changed) {
    ds = Math.min(ds, r.startIndex);
    de = Math.max(de, r.endIndex);
  }
  const [rs, re] = widenToTopLevel(tree, Math.max(0, ds - TEXT_MARGIN), Math.min(text.length, de + TEXT_MARGIN), text.length);
  const d = env.newEnd - env.oldEnd;
  const oldRe = re - d; // old-text coordinate of re (re ≥ env.newEnd, so it lies in the common suffix)
  const refs: FieldRef[] = [];
  const old = prev.refs;
  let i = 0;
  while (i < old.length && old[i].start < rs) refs.push(old[i++]);
  for (const r of findRefs(text, tree, { start: rs, end: re })) refs.push(r);
  while (i < old.length && old[i].start < oldRe) i++;
  for (; i < old.length; i++) refs.push(d === 0 ? old[i] : shiftRef(old[i], d));
  return makeAnalysis(prev.uri, text, tree, lineIndexFromStarts(starts), findFunctions(tree), refs, caches);
}

function shiftRef(r: FieldRef, d: number): FieldRef {
  const c: FieldRef = { ...r, start: r.start + d, end: r.end + d };
  if (r.callStart !== undefined) c.callStart = r.callStart + d;
  if (r.callEnd !== undefined) c.callEnd = r.callEnd + d;
  return c;
}

/** [from, to) widened to the boundaries of the top-level nodes it overlaps (root children). */
function widenToTopLevel(tree: Tree, from: number, to: number, length: number): [number, number] {
  const root = tree.rootNode;
  let a = from;
  let b = to;
  const first = topLevelAt(root, from);
  if (first) a = Math.min(a, first.startIndex);
  const last = topLevelAt(root, Math.max(from, to - 1));
  if (last) b = Math.max(b, last.endIndex);
  // Snap to line boundaries too: identifiers never span lines, and it keeps the scan away from mid-token starts.
  return [Math.max(0, a), Math.min(length, b)];
}

function topLevelAt(root: Node, offset: number): Node | null {
  const n = root.descendantForIndex(offset, offset);
  if (!n) return null;
  if (n.id === root.id) return null;
  return root.childWithDescendant(n) ?? n;
}

/**
 * Per-function memo for rules: `compute()` runs only for functions whose text changed since the previous
 * version of this document; other functions reuse their findings, shifted. `key` must name everything the
 * result depends on besides the function's own text (rule id, settings, file-level facts the rule reads).
 */
export function cachedPerFunction(doc: DocumentAnalysis, key: string, fn: FunctionInfo, compute: () => Finding[]): Finding[] {
  const caches = cachesOf.get(doc);
  if (!caches) return compute();
  let slot = caches.perFunction.get(key);
  if (!slot) {
    slot = { gen: caches.generation, cur: new Map(), prev: new Map() };
    caches.perFunction.set(key, slot);
  } else if (slot.gen !== caches.generation) {
    slot.prev = slot.cur;
    slot.cur = new Map();
    slot.gen = caches.generation;
  }
  const body = doc.text.slice(fn.start, fn.end);
  const hit = slot.cur.get(body) ?? slot.prev.get(body);
  if (hit) {
    slot.cur.set(body, hit);
    return hit.map((f) => shiftFinding(f, fn.start));
  }
  const found = compute();
  slot.cur.set(body, found.map((f) => shiftFinding(f, -fn.start)));
  return found;
}

export function shiftFinding(f: Finding, d: number): Finding {
  const c: Finding = { ...f, start: f.start + d, end: f.end + d };
  if (f.related) c.related = f.related.map((r) => ({ ...r, start: r.start + d, end: r.end + d }));
  if (f.fix) c.fix = { title: f.fix.title, edits: f.fix.edits.map((e) => ({ ...e, start: e.start + d, end: e.end + d })) };
  return c;
}
