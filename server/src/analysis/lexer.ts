// Lexical classification of C text for the reference scan (refs.ts): which offsets are in comments or string/char
// literals, found by a linear, lazy scan from the start of the text (no tree needed for plain names).

export const LEX_CODE = 0;
export const LEX_COMMENT = 1;
export const LEX_STRING = 2;

/**
 * One lexer per text, shared by the segment scans of an incremental update. Lexing always starts at offset 0, so an
 * unterminated comment opened before a rescanned segment is seen the same way a full analysis sees it.
 */
let lastLexer: { text: string; lexer: Lexer } | undefined;
export function lexerFor(text: string): Lexer {
  if (lastLexer && lastLexer.text === text) return lastLexer.lexer;
  const lexer = new Lexer(text, 0);
  lastLexer = { text, lexer };
  return lexer;
}

/**
 * The lexer of `text`, an edit of `prevText` (whose [0, start) it shares): the previous text's lexer, if it is the one
 * kept, cut before the edit and continued on the new text — the ranges before the edit are the same, so an edit near
 * the end of a large file does not lex it again from the start. From scratch if an unterminated `/*` lies before the
 * cut (a `*\/` the edit adds after it would make it a comment).
 */
export function lexerAfterEdit(prevText: string, text: string, start: number): Lexer {
  if (lastLexer && lastLexer.text === text) return lastLexer.lexer;
  const old = lastLexer?.text === prevText ? lastLexer.lexer : undefined;
  const lexer = old ? old.continuedOn(text, start) : new Lexer(text, 0);
  lastLexer = { text, lexer };
  return lexer;
}

/** Incremental lexer over C text: records comment and literal ranges up to the furthest offset asked about. */
export class Lexer {
  private pos: number;
  /** Sorted, non-overlapping [start, end, kind] of comments and literals seen so far. */
  readonly ranges: number[] = [];
  /** Where the first `/*` without a closing `*\/` was seen (-1: none so far). */
  private unterminatedAt = -1;
  constructor(private readonly text: string, start: number) {
    this.pos = start;
  }

  /** A lexer for `text`, which equals this lexer's text before `start`: the ranges before `start` kept. */
  continuedOn(text: string, start: number): Lexer {
    if (this.unterminatedAt >= 0 && this.unterminatedAt < start) return new Lexer(text, 0);
    let cut = Math.min(start, this.pos);
    const r = this.ranges;
    let k = 0;
    while (k < r.length && r[k + 1] <= cut) k += 3;
    // A range the cut falls inside is lexed again from its start.
    if (k < r.length && r[k] < cut) cut = r[k];
    const next = new Lexer(text, cut);
    for (let i = 0; i < k; i++) next.ranges.push(r[i]);
    return next;
  }

  /** Scan until `until` (exclusive), extending the ranges. */
  advance(until: number): void {
    const t = this.text;
    let i = this.pos;
    const n = t.length;
    while (i < until && i < n) {
      const c = t.charCodeAt(i);
      if (c === 47 /* / */ && i + 1 < n) {
        const d = t.charCodeAt(i + 1);
        if (d === 47) { // line comment, continued by backslash-newline
          let e = i + 2;
          while (e < n) {
            const x = t.charCodeAt(e);
            if (x === 10 && t.charCodeAt(e - 1) !== 92 && !(t.charCodeAt(e - 1) === 13 && t.charCodeAt(e - 2) === 92)) break;
            e++;
          }
          this.ranges.push(i, e, LEX_COMMENT);
          i = e;
          continue;
        }
        if (d === 42) { // block comment; an unterminated one is not a comment for tree-sitter either
          const close = t.indexOf('*/', i + 2);
          if (close < 0) {
            if (this.unterminatedAt < 0) this.unterminatedAt = i;
            i += 2;
            continue;
          }
          const e = close + 2;
          this.ranges.push(i, e, LEX_COMMENT);
          i = e;
          continue;
        }
      }
      if (c === 34 /* " */ || c === 39 /* ' */) {
        let e = i + 1;
        while (e < n) {
          const x = t.charCodeAt(e);
          if (x === 92) { e += 2; continue; }
          if (x === c) { e++; break; }
          if (x === 10) break; // unterminated literal ends at the line end
          e++;
        }
        // `#include <...>` and apostrophes in #error lines are rare; a literal never spans lines here.
        this.ranges.push(i, e, LEX_STRING);
        i = e;
        continue;
      }
      i++;
    }
    this.pos = Math.max(this.pos, i);
  }

  get scanned(): number {
    return this.pos;
  }
}

/** LEX_CODE, LEX_COMMENT or LEX_STRING at `offset`. */
export function lexKindAt(lx: Lexer, offset: number): number {
  if (offset >= lx.scanned) lx.advance(offset + 1);
  const r = lx.ranges;
  // Binary search over triples.
  let lo = 0;
  let hi = r.length / 3 - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = r[mid * 3];
    const e = r[mid * 3 + 1];
    if (e <= offset) lo = mid + 1;
    else if (s > offset) hi = mid - 1;
    else return r[mid * 3 + 2];
  }
  return LEX_CODE;
}
