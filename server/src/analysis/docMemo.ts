// Whole-document results of an open document kept across its versions with work proportional to the edit rather than
// to the document (a one-character edit in vmx/nested.c must not make fifteen rules walk its ~300 functions' text):
//
// - perFunctionValues(): a value per function (a rule's findings in it), recomputed only for the functions the edit
//   envelope touches; the others are spliced in from the previous version, shifted. One pass of integer compares
//   over the function list, where cachedFunctionValue() costs a map operation per function and per key.
// - docHas(): does the text contain a substring — an occurrence count patched over the edited window of the last
//   version (caches.prevText), instead of a search of the whole text per rule and per version.
//
// Both follow incremental.ts's invariant: outside a DocumentStore, or for an older version, they just compute, and
// the result is the same as computing from scratch (test/unit/docMemo.test.ts checks it over random edits).
import type { DocumentAnalysis, FunctionInfo } from './document';
import { detachStrings } from './detach';
import { envelopeBetween, memoContext, segmentsOf, shiftFinding } from './incremental';
import type { Finding } from '../features/findings';

/** A function and its (non-empty) value. */
export interface FnValue<T> { fn: FunctionInfo; value: T }

/** What perFunctionValues keeps of a version: its function list (as numbers) and the non-empty values. */
interface Spliced {
  gen: number;
  starts: number[];
  lens: number[];
  vals: Array<{ start: number; len: number; value: unknown }>;
}

/**
 * `compute(fn)` for every function of the document, in order, keeping only the values `empty` rejects; for an open
 * document, only the functions the edits since the previous call touched are computed. `key` must name everything
 * the value depends on besides the function's own text and tree (as with cachedFunctionValue); `shift` moves a
 * value's offsets by `d` (the function's displacement).
 */
export function perFunctionValues<T>(doc: DocumentAnalysis, key: string, compute: (fn: FunctionInfo) => T, empty: (v: T) => boolean, shift: (v: T, d: number, fn: FunctionInfo) => T): Array<FnValue<T>> {
  return spliceValues(doc, key, doc.functions, compute, empty, shift);
}

/** perFunctionValues over any sorted, non-overlapping ranges of the document that an edit cannot span (segmentsOf). */
function spliceValues<T>(doc: DocumentAnalysis, key: string, fns: readonly FunctionInfo[], compute: (fn: FunctionInfo) => T, empty: (v: T) => boolean, shift: (v: T, d: number, fn: FunctionInfo) => T): Array<FnValue<T>> {
  const out: Array<FnValue<T>> = [];
  const ctx = memoContext(doc);
  if (!ctx) {
    for (const fn of fns) {
      const v = compute(fn);
      if (!empty(v)) out.push({ fn, value: v });
    }
    return out;
  }
  const { caches, gen } = ctx;
  const prev = caches.spliced.get(key) as Spliced | undefined;
  const env = prev && prev.gen < gen ? envelopeBetween(caches, prev.gen, gen) : undefined;
  const same = prev?.gen === gen;
  const d = env ? env.newEnd - env.oldEnd : 0;
  const next: Spliced = { gen, starts: new Array<number>(fns.length), lens: new Array<number>(fns.length), vals: [] };
  let j = 0;
  let k = 0;
  for (let i = 0; i < fns.length; i++) {
    const fn = fns[i];
    const len = fn.end - fn.start;
    next.starts[i] = fn.start;
    next.lens[i] = len;
    // Where this function's text was in the previous version, if the edits left it alone.
    let at = -1;
    if (same) at = fn.start;
    else if (env) {
      if (fn.end <= env.start) at = fn.start;
      else if (fn.start >= env.newEnd) at = fn.start - d;
    }
    let value: T | undefined;
    let known = false;
    if (at >= 0 && prev) {
      while (j < prev.starts.length && prev.starts[j] < at) j++;
      if (j < prev.starts.length && prev.starts[j] === at && prev.lens[j] === len) {
        known = true;
        while (k < prev.vals.length && prev.vals[k].start < at) k++;
        const v = prev.vals[k];
        if (v && v.start === at && v.len === len) value = fn.start === at ? v.value as T : shift(v.value as T, fn.start - at, fn);
      }
    }
    if (!known) {
      const v = compute(fn);
      if (!empty(v)) value = detachStrings(v);
    }
    if (value !== undefined) {
      out.push({ fn, value });
      next.vals.push({ start: fn.start, len, value });
    }
  }
  caches.spliced.set(key, next);
  return out;
}

/** Occurrences of `needle` starting at an index in [from, to) of `text`. */
function countStarts(text: string, needle: string, from: number, to: number): number {
  const a = Math.max(0, from);
  if (to <= a) return 0;
  // Searched in the window only: indexOf on the whole text would run to its end whenever the needle is absent.
  const w = a === 0 && to >= text.length ? text : text.slice(a, to + needle.length - 1);
  let n = 0;
  for (let i = w.indexOf(needle); i >= 0 && i < to - a; i = w.indexOf(needle, i + 1)) n++;
  return n;
}

/** `doc.text.includes(needle)`, by an occurrence count kept up to date through the edits of an open document. */
export function docHas(doc: DocumentAnalysis, needle: string): boolean {
  const ctx = memoContext(doc);
  if (!ctx || !needle) return doc.text.includes(needle);
  const { caches, gen } = ctx;
  const st = caches.counts.get(needle);
  if (st?.gen === gen) return st.n > 0;
  let n: number;
  const env = caches.edits.get(gen);
  if (st && st.gen === gen - 1 && env && caches.prevText !== undefined) {
    // An occurrence the edit did not touch starts before env.start - L + 1 or at/after the edited part's end.
    const from = env.start - needle.length + 1;
    n = st.n - countStarts(caches.prevText, needle, from, env.oldEnd) + countStarts(doc.text, needle, from, env.newEnd);
  } else {
    n = countStarts(doc.text, needle, 0, doc.text.length);
  }
  caches.counts.set(needle, { gen, n });
  return n > 0;
}

/** perFunctionValues for a rule's findings: all of them, in function order (the key is prefixed to stay apart). */
export function perFunctionFindings(doc: DocumentAnalysis, key: string, compute: (fn: FunctionInfo) => Finding[]): Finding[] {
  const out: Finding[] = [];
  for (const { value } of perFunctionValues(doc, `findings:${key}`, compute, isEmptyList, shiftFindings)) for (const f of value) out.push(f);
  return out;
}

/**
 * The functions for which `test(fn, body)` holds (`body`: the text between the braces), in order; for an open
 * document, asked again only of the functions an edit touched. `test` must depend on nothing but the function's text.
 */
export function functionsWhere(doc: DocumentAnalysis, key: string, test: (fn: FunctionInfo, body: string) => boolean): FunctionInfo[] {
  return perFunctionValues(doc, `where:${key}`, (fn) => test(fn, doc.text.slice(fn.bodyStart, fn.bodyEnd)), (v) => !v, keep).map((x) => x.fn);
}

/** For perFunctionValues over findings: no findings, and findings moved by `d`. */
export const isEmptyList = (v: readonly unknown[]): boolean => v.length === 0;
const keep = <T>(v: T): T => v;
export const shiftFindings = (v: Finding[], d: number): Finding[] => v.map((f) => shiftFinding(f, d));

/**
 * Matches of `scan(text, from, to)` (which returns items with absolute offsets `index` in [from, to)) over the whole
 * document, in text order; for an open document only the segments (segmentsOf: functions and the gaps between them)
 * an edit touched are rescanned, the others' matches are spliced in, shifted.
 */
export function scanSegments<T extends { index: number }>(doc: DocumentAnalysis, key: string, scan: (text: string, from: number, to: number) => T[]): T[] {
  const out: T[] = [];
  for (const { value } of spliceValues(doc, `scan:${key}`, segmentsOf(doc), (seg) => scan(doc.text, seg.start, seg.end), isEmptyList,
    (v, d) => v.map((m) => ({ ...m, index: m.index + d })))) for (const m of value) out.push(m);
  return out;
}

/** What spliceDetail keeps of a version: every item's range and value. */
interface Detailed { gen: number; starts: number[]; lens: number[]; values: unknown[] }

/** spliceDetail's answer: a value per item, which items were computed afresh, and the previous values they replaced. */
export interface SpliceDetail<T> {
  values: T[];
  /** Indices (into values) computed in this call. */
  recomputed: number[];
  /** Values of the previous version not reused, in order; undefined when there was no usable previous version. */
  dropped?: T[];
  /** The generation of that previous version (the last call for this key), and of this one. */
  since?: number;
  gen?: number;
}

/**
 * A value for each of `items` (doc.functions, or segmentsOf(doc)), reused across versions like perFunctionValues —
 * values are kept as they are (no offsets in them) — with what changed: which items were computed afresh and which
 * previous values they replaced. `recomputed` empty and `dropped` empty means: the same values as the last call.
 */
export function spliceDetail<T>(doc: DocumentAnalysis, key: string, items: readonly FunctionInfo[], compute: (item: FunctionInfo) => T): SpliceDetail<T> {
  const n = items.length;
  const values = new Array<T>(n);
  const recomputed: number[] = [];
  const ctx = memoContext(doc);
  const prev = ctx ? ctx.caches.spliced.get(key) as Detailed | undefined : undefined;
  const env = ctx && prev && prev.gen < ctx.gen ? envelopeBetween(ctx.caches, prev.gen, ctx.gen) : undefined;
  const same = !!ctx && prev?.gen === ctx.gen;
  const usable = !!prev && (same || !!env);
  const d = env ? env.newEnd - env.oldEnd : 0;
  const reused = usable ? new Uint8Array(prev!.starts.length) : undefined;
  let j = 0;
  for (let i = 0; i < n; i++) {
    const it = items[i];
    const len = it.end - it.start;
    let at = -1;
    if (same) at = it.start;
    else if (env) {
      if (it.end <= env.start) at = it.start;
      else if (it.start >= env.newEnd) at = it.start - d;
    }
    if (at >= 0 && prev) {
      while (j < prev.starts.length && prev.starts[j] < at) j++;
      if (j < prev.starts.length && prev.starts[j] === at && prev.lens[j] === len && !reused![j]) {
        reused![j] = 1;
        values[i] = prev.values[j] as T;
        continue;
      }
    }
    values[i] = detachStrings(compute(it));
    recomputed.push(i);
  }
  let dropped: T[] | undefined;
  if (usable) {
    dropped = [];
    for (let k = 0; k < prev!.starts.length; k++) if (!reused![k]) dropped.push(prev!.values[k] as T);
  }
  if (ctx) ctx.caches.spliced.set(key, { gen: ctx.gen, starts: items.map((x) => x.start), lens: items.map((x) => x.end - x.start), values });
  return { values, recomputed, dropped, since: usable ? prev!.gen : undefined, gen: ctx?.gen };
}
