// Open documents with incremental sync: LSP content changes are applied to the text and, as tree-sitter edits,
// to the previous tree, so a one-character edit costs an incremental re-parse rather than a full one.
import type { Point, Tree } from 'web-tree-sitter';
import { LineIndex, fromTree, type DocumentAnalysis } from './document';
import { parseC } from './parser';

export interface ContentChange {
  range?: { start: { line: number; character: number }; end: { line: number; character: number } };
  text: string;
}

interface Entry {
  languageId: string;
  version: number;
  text: string;
  tree: Tree;
  analysis?: DocumentAnalysis;
}

/** Documents larger than this are kept but not analysed (answers stay empty rather than slow). */
export const MAX_ANALYSED_CHARS = 8 * 1024 * 1024;

export class DocumentStore {
  private readonly docs = new Map<string, Entry>();

  open(uri: string, languageId: string, version: number, text: string): void {
    const old = this.docs.get(uri);
    old?.tree.delete();
    this.docs.set(uri, { languageId, version, text, tree: parseC(text.length > MAX_ANALYSED_CHARS ? '' : text) });
  }

  change(uri: string, version: number, changes: ContentChange[]): void {
    const e = this.docs.get(uri);
    if (!e) return; // change for an unopened document: ignore
    if (version < e.version) return; // stale
    let text = e.text;
    let tree: Tree | undefined = e.tree;
    for (const c of changes) {
      if (!c.range) {
        text = c.text;
        tree?.delete();
        tree = undefined;
        continue;
      }
      const lines = new LineIndex(text);
      const start = clamp(lines.offsetAt(c.range.start), text.length);
      const oldEnd = Math.max(start, clamp(lines.offsetAt(c.range.end), text.length));
      const newText = text.slice(0, start) + c.text + text.slice(oldEnd);
      if (tree) {
        const startPoint = point(lines, start);
        const oldEndPoint = point(lines, oldEnd);
        const newEndPoint = advance(startPoint, c.text);
        tree.edit({ startIndex: start, oldEndIndex: oldEnd, newEndIndex: start + c.text.length, startPosition: startPoint, oldEndPosition: oldEndPoint, newEndPosition: newEndPoint });
      }
      text = newText;
    }
    const big = text.length > MAX_ANALYSED_CHARS;
    const next = parseC(big ? '' : text, big ? undefined : tree);
    if (tree && tree !== next) tree.delete();
    e.text = text;
    e.tree = next;
    e.version = version;
    e.analysis = undefined;
  }

  close(uri: string): void {
    const e = this.docs.get(uri);
    e?.tree.delete();
    this.docs.delete(uri);
  }

  analysis(uri: string): DocumentAnalysis | undefined {
    const e = this.docs.get(uri);
    if (!e) return undefined;
    if (!e.analysis) e.analysis = fromTree(e.text.length > MAX_ANALYSED_CHARS ? '' : e.text, uri, e.tree);
    return e.analysis;
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
}

function clamp(n: number, max: number): number {
  return Math.max(0, Math.min(n, max));
}

function point(lines: LineIndex, offset: number): Point {
  const p = lines.positionAt(offset);
  return { row: p.line, column: p.character };
}

function advance(p: Point, inserted: string): Point {
  const nl = inserted.lastIndexOf('\n');
  if (nl < 0) return { row: p.row, column: p.column + inserted.length };
  let rows = 0;
  for (let i = 0; i < inserted.length; i++) if (inserted.charCodeAt(i) === 10) rows++;
  return { row: p.row + rows, column: inserted.length - nl - 1 };
}
