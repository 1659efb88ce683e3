// Open documents with incremental sync: LSP content changes are applied to the text, to the line index (patched,
// not rebuilt) and, as tree-sitter edits, to the previous tree, so a one-character edit costs an incremental
// re-parse plus a rescan of the declarations the edit touched (analysis/incremental.ts) rather than a full one.
//
// The re-parse is lazy: change() only records the edits; the first analysis() (or memo()) of the new version parses
// and analyses it. Keystrokes that arrive while the server is busy therefore cost one parse together, not one each.
import type { Point, Tree } from 'web-tree-sitter';
import { positionIn, type DocumentAnalysis } from './document';
import { composeEnvelope, fullAnalysis, incrementalAnalysis, lineStartsOf, newCaches, patchLineStarts, type AnalysisCaches, type Envelope } from './incremental';
import { parseC } from './parser';
import { maskToggles, parseMask, updateMask, type Mask } from './parseMask';

export interface ContentChange {
  range?: { start: { line: number; character: number }; end: { line: number; character: number } };
  text: string;
}

interface Entry {
  languageId: string;
  version: number;
  text: string;
  /** Line starts of `text`. */
  starts: number[];
  tree: Tree;
  /** What the parser read in place of `text` for `tree` (parseMask.ts). */
  mask: Mask;
  analysis: DocumentAnalysis;
  caches: AnalysisCaches;
  /** Memo for derived results of this version (e.g. diagnostics); cleared on change. */
  memo: Map<string, unknown>;
  /** Edits not analysed yet: `tree` has been edited (tree.edit) by `env` but not re-parsed; full = parse from scratch. */
  pending?: { env?: Envelope; full: boolean };
}

/** Documents larger than this are kept but not analysed (answers stay empty rather than slow). */
export const MAX_ANALYSED_CHARS = 8 * 1024 * 1024;

export type ChangeOutcome = 'applied' | 'unknown-document' | 'stale-version';

export class DocumentStore {
  private readonly docs = new Map<string, Entry>();

  open(uri: string, languageId: string, version: number, text: string): void {
    const old = this.docs.get(uri);
    old?.tree.delete();
    const caches = newCaches();
    const starts = lineStartsOf(text);
    const big = text.length > MAX_ANALYSED_CHARS;
    const mask = big ? [] : parseMask(text);
    const tree = parseC(big ? '' : text, undefined, mask);
    const analysis = big ? fullAnalysis('', uri, tree, caches) : fullAnalysis(text, uri, tree, caches, starts);
    this.docs.set(uri, { languageId, version, text, starts, tree, mask, analysis, caches, memo: new Map() });
  }

  /**
   * Apply LSP content changes. Changes for unopened documents and versions older than the current one are
   * ignored (the outcome says which), so a confused client cannot corrupt the text.
   */
  change(uri: string, version: number, changes: ContentChange[]): ChangeOutcome {
    const e = this.docs.get(uri);
    if (!e) return 'unknown-document';
    if (typeof version === 'number' && version < e.version) return 'stale-version';
    const wasBig = e.text.length > MAX_ANALYSED_CHARS;
    let text = e.text;
    let starts = e.starts;
    const tree: Tree | undefined = wasBig ? undefined : e.tree;
    let env = e.pending?.env;
    let full = wasBig || (e.pending?.full ?? false);
    let edited = false;
    for (const c of changes) {
      if (!c || typeof c.text !== 'string') continue;
      edited = true;
      if (!c.range) {
        text = c.text;
        starts = lineStartsOf(text);
        full = true;
        continue;
      }
      const start = offsetIn(starts, text.length, c.range.start);
      const oldEnd = Math.max(start, offsetIn(starts, text.length, c.range.end));
      const newEnd = start + c.text.length;
      if (!full && tree) {
        const startPoint = pointOf(starts, start);
        tree.edit({
          startIndex: start, oldEndIndex: oldEnd, newEndIndex: newEnd,
          startPosition: startPoint, oldEndPosition: pointOf(starts, oldEnd), newEndPosition: advance(startPoint, c.text),
        });
        env = composeEnvelope(env, { start, oldEnd, newEnd });
      }
      text = text.slice(0, start) + c.text + text.slice(oldEnd);
      starts = patchLineStarts(starts, start, oldEnd, c.text);
    }
    e.version = typeof version === 'number' ? version : e.version + 1;
    if (!edited) return 'applied';
    e.text = text;
    e.starts = starts;
    e.pending = { env, full };
    e.memo = new Map();
    return 'applied';
  }

  /** Parse and analyse the edits change() recorded (once per version, on first use). */
  private refresh(uri: string, e: Entry): void {
    const p = e.pending;
    if (!p) return;
    e.pending = undefined;
    const text = e.text;
    const big = text.length > MAX_ANALYSED_CHARS;
    const old = e.tree;
    let next: Tree;
    let analysis: DocumentAnalysis;
    let mask: Mask = [];
    if (big) {
      next = parseC('', undefined, mask);
      analysis = fullAnalysis('', uri, next, e.caches);
    } else if (p.full || !p.env) {
      mask = parseMask(text);
      next = parseC(text, undefined, mask);
      analysis = fullAnalysis(text, uri, next, e.caches, e.starts);
    } else {
      // Lines whose masking changed although their text did not (the code line before a directive was edited) are
      // edits for the parser: it must read them again.
      mask = updateMask(e.mask, text, p.env);
      for (const [s, t] of maskToggles(e.mask, mask, p.env)) {
        const at = pointOf(e.starts, s);
        const to = pointOf(e.starts, t);
        old.edit({ startIndex: s, oldEndIndex: t, newEndIndex: t, startPosition: at, oldEndPosition: to, newEndPosition: to });
      }
      next = parseC(text, old, mask);
      analysis = incrementalAnalysis(e.analysis, text, next, e.starts, p.env, old.getChangedRanges(next));
    }
    e.mask = mask;
    if (next !== old) old.delete();
    e.tree = next;
    e.analysis = analysis;
  }

  /** Whether the current version has edits that are not parsed yet (the next analysis() parses them). */
  isPending(uri: string): boolean {
    return !!this.docs.get(uri)?.pending;
  }

  close(uri: string): void {
    const e = this.docs.get(uri);
    e?.tree.delete();
    this.docs.delete(uri);
  }

  has(uri: string): boolean {
    return this.docs.has(uri);
  }

  analysis(uri: string): DocumentAnalysis | undefined {
    const e = this.docs.get(uri);
    if (!e) return undefined;
    this.refresh(uri, e);
    return e.analysis;
  }

  /** The memo value of the current version for `key`, if one was computed (see memo); never computes. */
  peekMemo<T>(uri: string, key: string): T | undefined {
    return this.docs.get(uri)?.memo.get(key) as T | undefined;
  }

  /** Store a value derived from the current version (see memo). */
  setMemo(uri: string, key: string, value: unknown): void {
    this.docs.get(uri)?.memo.set(key, value);
  }

  /** A value derived from the current version, computed once per version (and per key). */
  memo<T>(uri: string, key: string, compute: (doc: DocumentAnalysis) => T): T | undefined {
    const e = this.docs.get(uri);
    if (!e) return undefined;
    if (e.memo.has(key)) return e.memo.get(key) as T;
    this.refresh(uri, e);
    const v = compute(e.analysis);
    e.memo.set(key, v);
    return v;
  }

  version(uri: string): number | undefined {
    return this.docs.get(uri)?.version;
  }

  languageId(uri: string): string | undefined {
    return this.docs.get(uri)?.languageId;
  }

  text(uri: string): string | undefined {
    return this.docs.get(uri)?.text;
  }

  uris(): string[] {
    return [...this.docs.keys()];
  }

  size(): number {
    return this.docs.size;
  }
}

/** LSP position → offset, clamped to the document (a position past the end of a line means the line end). */
export function offsetIn(starts: number[], length: number, p: { line: number; character: number } | undefined): number {
  if (!p) return 0;
  const line = Number.isFinite(p.line) ? Math.trunc(p.line) : 0;
  if (line < 0) return 0;
  if (line >= starts.length) return length;
  const lineStart = starts[line];
  const lineEnd = line + 1 < starts.length ? starts[line + 1] - 1 : length;
  const ch = Number.isFinite(p.character) ? Math.trunc(p.character) : 0;
  return Math.max(lineStart, Math.min(lineStart + Math.max(0, ch), lineEnd));
}

function pointOf(starts: number[], offset: number): Point {
  const p = positionIn(starts, offset);
  return { row: p.line, column: p.character };
}

function advance(p: Point, inserted: string): Point {
  const nl = inserted.lastIndexOf('\n');
  if (nl < 0) return { row: p.row, column: p.column + inserted.length };
  let rows = 0;
  for (let i = 0; i < inserted.length; i++) if (inserted.charCodeAt(i) === 10) rows++;
  return { row: p.row + rows, column: inserted.length - nl - 1 };
}
