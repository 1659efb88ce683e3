// Incremental analysis of an open document. After an edit, only the field references of the top-level
// declarations (functions) that the edit or the re-parse touched are recomputed; the references of every other
// function are kept and shifted. The line index is patched rather than rebuilt, and the parse-error count is
// computed only when someone asks for it.
//
// Analyses and rules keep per-function results across versions with cachedFunctionValue() / cachedPerFunction():
// entries are keyed by position and moved through the edit envelopes, so a function the edit did not touch is
// never recomputed, and no text is hashed or compared to find it. segmentsOf() cuts the document into functions and
// the gaps between them for whole-document scans; docMemo.ts splices whole lists of per-function values, scans and
// substring counts through the edits in one pass; previousValue() / rememberValue() hand a whole-document result to
// the next version, for analyses that can check it still holds.
//
// Invariant (checked by test/unit/incremental.test.ts): incrementalAnalysis(prev, ...) has the same refs and
// functions as a full analysis of the same text and tree.
import type { Node, Range as TsRange, Tree } from 'web-tree-sitter';
import { LineIndex, assembleFunctions, glued, treeFunctions, treeFunctionsIn, type DocumentAnalysis, type FunctionInfo } from './document';
import { findRefs, type FieldRef } from './refs';
import { lexerAfterEdit } from './lexer';
import type { Finding } from '../features/findings';
import { detachStrings, detached } from './detach';

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
  if (lo === hi && !inserted.includes('\n')) {
    // The usual keystroke: no line added or removed; one copy of the array, the starts after the edit moved.
    const same = starts.slice();
    if (d !== 0) for (let k = hi; k < same.length; k++) same[k] += d;
    return same;
  }
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
  /** Generation of the newest analysis (one per version analysed). */
  generation: number;
  /** Generation → the envelope of the edits from the previous generation to it (undefined: not known). */
  edits: Map<number, Envelope | undefined>;
  /** Text of the newest analysis (to diff against when a version is analysed from scratch). */
  lastText?: string;
  /** Text of the analysis before the newest (docMemo.ts docHas patches its counts over the last edit). */
  prevText?: string;
  /** Whether the newest analysis's tree had syntax errors (error recovery can reshape unchanged text). */
  lastHadErrors?: boolean;
  /** Per-function memo (cachedFunctionValue): key → entries by function start, valid in generation `gen`. */
  perFunction: Map<string, MemoSlot>;
  /** Whole-document values handed from one version to the next (rememberValue / previousValue). */
  carried: Map<string, unknown>;
  /** docMemo.ts: per-function values spliced through the edits, and substring counts, by key. */
  spliced: Map<string, unknown>;
  counts: Map<string, { gen: number; n: number }>;
}

/**
 * `byStart`: the entries valid in generation `gen`. `touched`: those the edit into `gen` fell inside, as they were in
 * generation gen - 1 (previousFunctionValue).
 */
interface MemoSlot { gen: number; byStart: Map<number, MemoEntry>; touched?: Map<number, MemoEntry> }
/** A value computed for the function [at, at + len) of some earlier version, now starting at its map key. */
interface MemoEntry { len: number; at: number; value: unknown }

/** Generations of edit history kept; a memo slot idle for longer starts over. */
const MAX_HISTORY = 64;

export function newCaches(): AnalysisCaches {
  return { generation: 0, edits: new Map(), perFunction: new Map(), carried: new Map(), spliced: new Map(), counts: new Map() };
}

const cachesOf = new WeakMap<DocumentAnalysis, AnalysisCaches>();
const generationOf = new WeakMap<DocumentAnalysis, number>();

/**
 * The definitions tree-sitter found in a version (document.ts treeFunctions, names detached) and which are glued():
 * the next version reuses those the edit did not touch (document.ts assembleFunctions makes doc.functions of them).
 */
interface TreeFunctions { fns: FunctionInfo[]; glued: boolean[] }
const treeFunctionsOf = new WeakMap<DocumentAnalysis, TreeFunctions>();

function treeFunctionsFrom(text: string, fns: FunctionInfo[]): TreeFunctions {
  for (const f of fns) f.name = detached(f.name);
  return { fns, glued: fns.map((f) => glued(text, f)) };
}

/**
 * The tree's definitions after an edit: the previous version's outside the re-scanned region [rs, re) (old coordinates
 * [rs, oldRe)), shifted after it, and those the tree now has inside it. Undefined if the previous list does not
 * split cleanly at the region's ends (then everything is looked at again).
 */
function spliceTreeFunctions(prev: TreeFunctions, text: string, tree: Tree, rs: number, re: number, oldRe: number): TreeFunctions | undefined {
  const mid = treeFunctionsFrom(text, treeFunctionsIn(tree, rs, re));
  const out: TreeFunctions = { fns: [], glued: [] };
  const d = re - oldRe;
  let i = 0;
  for (; i < prev.fns.length && prev.fns[i].start < rs; i++) {
    if (prev.fns[i].end > rs) return undefined;
    out.fns.push(prev.fns[i]);
    out.glued.push(prev.glued[i]);
  }
  out.fns.push(...mid.fns);
  out.glued.push(...mid.glued);
  for (; i < prev.fns.length; i++) {
    const f = prev.fns[i];
    if (f.start < oldRe) {
      if (f.end > oldRe) return undefined;
      continue;
    }
    out.fns.push(d === 0 ? f : { name: f.name, start: f.start + d, end: f.end + d, bodyStart: f.bodyStart + d, bodyEnd: f.bodyEnd + d });
    out.glued.push(prev.glued[i]);
  }
  return out;
}

function makeAnalysis(uri: string, text: string, tree: Tree, lines: LineIndex, treeFns: TreeFunctions, refs: FieldRef[], caches: AnalysisCaches, env: Envelope | undefined): DocumentAnalysis {
  let parseErrors: number | undefined;
  const functions = assembleFunctions(text, tree, treeFns.fns, treeFns.glued);
  const doc = { uri, text, tree, lines, functions, refs } as DocumentAnalysis;
  treeFunctionsOf.set(doc, treeFns);
  Object.defineProperty(doc, 'parseErrors', {
    enumerable: true,
    get: () => (parseErrors ??= countParseErrors(tree)),
    set: (v: number) => { parseErrors = v; },
  });
  const gen = ++caches.generation;
  caches.edits.set(gen, env);
  caches.edits.delete(gen - MAX_HISTORY);
  caches.prevText = caches.lastText;
  caches.lastText = text;
  caches.lastHadErrors = tree.rootNode.hasError;
  cachesOf.set(doc, caches);
  generationOf.set(doc, gen);
  return doc;
}

/** The envelope of the difference between two texts (common prefix and suffix), or undefined if they are equal. */
export function diffEnvelope(a: string, b: string): Envelope {
  const n = Math.min(a.length, b.length);
  let p = 0;
  while (p < n && a.charCodeAt(p) === b.charCodeAt(p)) p++;
  let q = 0;
  while (q < n - p && a.charCodeAt(a.length - 1 - q) === b.charCodeAt(b.length - 1 - q)) q++;
  return { start: p, oldEnd: a.length - q, newEnd: b.length - q };
}

/** A whole-document analysis (same facts as document.ts fromTree, with a lazy parse-error count). */
export function fullAnalysis(text: string, uri: string, tree: Tree, caches: AnalysisCaches = newCaches(), starts?: number[]): DocumentAnalysis {
  const lines = lineIndexFromStarts(starts ?? lineStartsOf(text));
  // Re-analysed from scratch (opened, or replaced as a whole): the per-function memo still applies to the functions
  // outside the part that differs from the previous version.
  // Error recovery can parse unchanged text differently (an unterminated comment or #if before it): with errors in
  // either tree, everything from the first difference on counts as changed.
  let env = caches.lastText !== undefined ? diffEnvelope(caches.lastText, text) : undefined;
  if (env && (caches.lastHadErrors || tree.rootNode.hasError)) env = { start: env.start, oldEnd: caches.lastText!.length, newEnd: text.length };
  return makeAnalysis(uri, text, tree, lines, treeFunctionsFrom(text, treeFunctions(tree)), detachRefs(findRefs(text, tree)), caches, env);
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
  // References are found again in the statements around the edit (the whole top-level node where that is not safe).
  const [ns, ne] = refRescanRange(tree, prev, text, Math.max(0, ds - TEXT_MARGIN), Math.min(text.length, de + TEXT_MARGIN), rs, re, d);
  const old = prev.refs;
  let i = 0;
  while (i < old.length && old[i].start < ns) i++;
  const before = i;
  // The lexer (comments and literals, scanned from the start of the text) continues the previous text's up to the edit.
  lexerAfterEdit(prev.text, text, env.start);
  const found = detachRefs(findRefs(text, tree, { start: ns, end: ne }));
  while (i < old.length && old[i].start < ne - d) i++;
  // One array of the final length (pushing would grow it by copies, garbage on every keystroke).
  const refs = new Array<FieldRef>(before + found.length + (old.length - i));
  let k = 0;
  for (; k < before; k++) refs[k] = old[k];
  for (const r of found) refs[k++] = r;
  for (; i < old.length; i++) refs[k++] = d === 0 ? old[i] : shiftRef(old[i], d);
  // The per-function memos follow this envelope: it covers the edit and every range whose syntax changed, so a
  // function whose text is unchanged but whose tree is not (error recovery after an unterminated comment, an
  // unbalanced brace or #if) is recomputed. Widening keeps the envelope valid: old and new still agree outside it.
  // Inside a top-level node with syntax errors, error recovery can reshape parts that tree-sitter's changed ranges do
  // not report (an edit in one function of a run of brace-broken ones re-recovers them all): such a node counts as
  // changed as a whole.
  const broken = erroneousSpan(tree, Math.min(env.start, ds), Math.max(env.newEnd, de));
  const mStart = Math.min(env.start, ds, broken ? broken[0] : Infinity);
  const newEnd = Math.max(env.newEnd, de, broken ? broken[1] : -Infinity);
  const memoEnv: Envelope = { start: mStart, newEnd, oldEnd: newEnd - d };
  const prevFns = treeFunctionsOf.get(prev);
  const treeFns = (prevFns && spliceTreeFunctions(prevFns, text, tree, rs, re, oldRe)) ?? treeFunctionsFrom(text, treeFunctions(tree));
  return makeAnalysis(prev.uri, text, tree, lineIndexFromStarts(starts), treeFns, refs, caches, memoEnv);
}

/** References are reused by later versions: their strings must not keep this version's text alive (detach.ts). */
function detachRefs(refs: FieldRef[]): FieldRef[] {
  for (const r of refs) {
    // Every string field (name, objectText, subMember, structType, ...); entities and accessors are model objects.
    const o = r as unknown as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      const v = o[k];
      if (typeof v === 'string') o[k] = detached(v);
    }
  }
  return refs;
}

function shiftRef(r: FieldRef, d: number): FieldRef {
  const c: FieldRef = { ...r, start: r.start + d, end: r.end + d };
  if (r.callStart !== undefined) c.callStart = r.callStart + d;
  if (r.callEnd !== undefined) c.callEnd = r.callEnd + d;
  return c;
}

/**
 * Where references must be found again after an edit whose changed syntax and reading margin is [a, b] (inside the
 * top-level nodes [rs, re)): the statements of the innermost block holding [a, b] that overlap it, on whole lines. A
 * reference is read from its statement, the tree (unchanged outside the changed ranges) and the text within
 * TEXT_MARGIN of it, so the others are as they were. Not narrowed — [rs, re) — when the top-level node has syntax
 * errors in either version (error recovery may reshape what the changed ranges do not report), or when the rescanned
 * text names a `struct` in either version (a `struct T *p` declaration types every later `p->` reference).
 */
function refRescanRange(tree: Tree, prev: DocumentAnalysis, text: string, a: number, b: number, rs: number, re: number, d: number): [number, number] {
  try {
    return narrowed(tree, prev, text, a, b, rs, re, d) ?? [rs, re];
  } catch {
    return [rs, re]; // narrowing is an optimisation: on any surprise, rescan the whole top-level node
  }
}

/** refRescanRange's narrowed range; undefined where it must not narrow. */
function narrowed(tree: Tree, prev: DocumentAnalysis, text: string, a: number, b: number, rs: number, re: number, d: number): [number, number] | undefined {
  const root = tree.rootNode;
  let block: Node | null = root.descendantForIndex(a, b);
  while (block && !(block.type === 'compound_statement' && block.startIndex < a && b < block.endIndex)) block = block.parent;
  if (!block) return undefined;
  const top = root.childWithDescendant(block);
  if (!top || top.hasError || top.startIndex < rs || top.endIndex > re) return undefined;
  // The previous tree, edited to this text's offsets, around the same place.
  const oldTop = topLevelAt(prev.tree.rootNode, a);
  if (!oldTop || oldTop.hasError) return undefined;
  const childAt = (o: number): Node | undefined => {
    let n: Node | null = root.descendantForIndex(o, o);
    while (n && n.parent && n.parent.id !== block!.id) n = n.parent;
    return n && n.parent?.id === block!.id ? n : undefined;
  };
  let ns = Math.min(a, childAt(a)?.startIndex ?? a);
  let ne = Math.max(b, childAt(b)?.endIndex ?? b);
  ns = text.lastIndexOf('\n', ns - 1) + 1;
  const nl = text.indexOf('\n', ne);
  ne = nl < 0 ? text.length : nl + 1;
  ns = Math.max(ns, rs);
  ne = Math.min(ne, re);
  if (STRUCT.test(text.slice(ns, ne)) || STRUCT.test(prev.text.slice(ns, ne - d))) return undefined;
  return [ns, ne];
}
const STRUCT = /\bstruct\b/;

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

/** The span of the top-level nodes with syntax errors that overlap [from, to] (the edit), if any. */
function erroneousSpan(tree: Tree, from: number, to: number): [number, number] | undefined {
  const root = tree.rootNode;
  if (!root.hasError) return undefined;
  let span: [number, number] | undefined;
  let n = root.firstChildForIndex(from);
  for (let k = 0; n && n.startIndex <= to && k < 4096; k++, n = n.nextSibling) {
    if (n.endIndex < from || !n.hasError) continue;
    span = span ? [Math.min(span[0], n.startIndex), Math.max(span[1], n.endIndex)] : [n.startIndex, n.endIndex];
  }
  return span;
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
  return cachedFunctionValue(doc, `findings:${key}`, fn, compute, (found, d) => (d === 0 ? found.slice() : found.map((f) => shiftFinding(f, d))));
}

/**
 * Per-function memo for analyses and rules (path conditions, roles' per-function facts, findings): `compute()` runs
 * only for functions whose text changed since it last ran; otherwise the earlier value is reused through
 * `shift(value, d, fn)`, which moves its offsets by `d` (the function's displacement, often 0) and rebinds it to
 * `fn`. `key` must name everything the value depends on besides the function's text. Entries follow the edits: one
 * that lies wholly before or after the edited part moves with its text, one that overlaps it is dropped — so no text
 * is compared or hashed. Documents analysed outside a DocumentStore (or an older version of one) just compute.
 */
export function cachedFunctionValue<T>(doc: DocumentAnalysis, key: string, fn: FunctionInfo, compute: () => T, shift: (value: T, d: number, fn: FunctionInfo) => T): T {
  const caches = cachesOf.get(doc);
  const gen = generationOf.get(doc);
  if (!caches || gen !== caches.generation) return compute();
  const slot = memoSlot(caches, key, gen);
  const len = fn.end - fn.start;
  const hit = slot.byStart.get(fn.start);
  if (hit && hit.len === len) return shift(hit.value as T, fn.start - hit.at, fn);
  // Detached: the entry outlives this version, and must not keep its text alive (see detach.ts).
  const value = detachStrings(compute());
  slot.byStart.set(fn.start, { len, at: fn.start, value });
  return value;
}

/**
 * The value cachedFunctionValue last stored under `key` for `fn` as it was before the newest edit, when that edit
 * fell inside it (and the value was current in the version before): what an analysis that can carry its value over
 * such an edit starts from (reachReuse.ts). `at` is the function's start in the value's own coordinates, `len` its
 * length in the previous version. Undefined otherwise, and outside a DocumentStore.
 */
export function previousFunctionValue<T>(doc: DocumentAnalysis, key: string, fn: FunctionInfo): { value: T; at: number; len: number } | undefined {
  const ctx = memoContext(doc);
  if (!ctx) return undefined;
  const e = memoSlot(ctx.caches, key, ctx.gen).touched?.get(fn.start);
  return e && { value: e.value as T, at: e.at, len: e.len };
}

/** The caches and generation of `doc` if it is the newest analysis of a DocumentStore document, else undefined. */
export function memoContext(doc: DocumentAnalysis): { caches: AnalysisCaches; gen: number } | undefined {
  const caches = cachesOf.get(doc);
  const gen = generationOf.get(doc);
  return caches && gen !== undefined && gen === caches.generation ? { caches, gen } : undefined;
}

/**
 * The envelope of the edits from generation `from` to `to` (> from): old (generation `from`) and new text agree
 * outside it. Undefined when it is not known (too old, or a version analysed without one).
 */
export function envelopeBetween(caches: AnalysisCaches, from: number, to: number): Envelope | undefined {
  if (to - from > MAX_HISTORY) return undefined;
  let env: Envelope | undefined;
  for (let g = from + 1; g <= to; g++) {
    const e = caches.edits.get(g);
    if (!e) return undefined;
    env = composeEnvelope(env, e);
  }
  return env;
}

/** The memo slot for `key`, its entries moved to generation `gen` through the edits since it was last used. */
function memoSlot(caches: AnalysisCaches, key: string, gen: number): MemoSlot {
  let slot = caches.perFunction.get(key);
  if (!slot) {
    slot = { gen, byStart: new Map() };
    caches.perFunction.set(key, slot);
    return slot;
  }
  if (slot.gen === gen) return slot;
  const env = envelopeBetween(caches, slot.gen, gen);
  const moved = new Map<number, MemoEntry>();
  let touched: Map<number, MemoEntry> | undefined;
  if (env) {
    const d = env.newEnd - env.oldEnd;
    // The edits before the newest one, and the newest: what lies inside the newest only is kept aside as it was.
    const last = caches.edits.get(gen);
    const prior = slot.gen === gen - 1 ? undefined : envelopeBetween(caches, slot.gen, gen - 1);
    for (const [start, e] of slot.byStart) {
      if (start + e.len <= env.start) moved.set(start, e);
      else if (start >= env.oldEnd) moved.set(start + d, e);
      else if (last) {
        let at = start;
        if (slot.gen !== gen - 1) {
          if (!prior) continue;
          if (start >= prior.oldEnd) at = start + prior.newEnd - prior.oldEnd;
          else if (start + e.len > prior.start) continue;
        }
        if (at + e.len > last.start && at < last.oldEnd) (touched ??= new Map()).set(at, e);
      }
    }
  }
  slot.gen = gen;
  slot.byStart = moved;
  slot.touched = touched;
  return slot;
}

/**
 * A value an analysis stored for an earlier version of this document (with rememberValue), for analyses that can
 * tell from their inputs whether it still holds. Undefined outside a DocumentStore or for an older version.
 */
export function previousValue<T>(doc: DocumentAnalysis, key: string): T | undefined {
  const caches = cachesOf.get(doc);
  if (!caches || generationOf.get(doc) !== caches.generation) return undefined;
  return caches.carried.get(key) as T | undefined;
}

/** Store a whole-document value of the newest version for the next one (see previousValue). */
export function rememberValue(doc: DocumentAnalysis, key: string, value: unknown): void {
  const caches = cachesOf.get(doc);
  if (caches && generationOf.get(doc) === caches.generation) caches.carried.set(key, value);
}

const segmentCache = new WeakMap<DocumentAnalysis, FunctionInfo[]>();

/**
 * The document cut into its functions and the gaps between them (gaps have an empty name), in text order, covering
 * the whole text. With cachedFunctionValue this gives per-segment memos for whole-document scans: only the segments
 * an edit touched are rescanned. Segment boundaries are top-level: nothing a scan looks for (an identifier, a call,
 * a table entry) spans two segments.
 */
export function segmentsOf(doc: DocumentAnalysis): FunctionInfo[] {
  let segs = segmentCache.get(doc);
  if (segs) return segs;
  segs = [];
  let at = 0;
  for (const fn of doc.functions) {
    if (fn.start < at) continue; // overlaps the previous one (not expected): its text stays in the gaps
    if (fn.start > at) segs.push({ name: '', start: at, end: fn.start, bodyStart: at, bodyEnd: fn.start });
    segs.push(fn);
    at = fn.end;
  }
  if (at < doc.text.length) segs.push({ name: '', start: at, end: doc.text.length, bodyStart: at, bodyEnd: doc.text.length });
  segmentCache.set(doc, segs);
  return segs;
}

export function shiftFinding(f: Finding, d: number): Finding {
  const c: Finding = { ...f, start: f.start + d, end: f.end + d };
  if (f.related) c.related = f.related.map((r) => ({ ...r, start: r.start + d, end: r.end + d }));
  if (f.fix) c.fix = { title: f.fix.title, edits: f.fix.edits.map((e) => ({ ...e, start: e.start + d, end: e.end + d })) };
  return c;
}
