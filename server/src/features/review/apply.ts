// Apply hunks to a text in memory, like `patch` with fuzz: each hunk is looked for at its stated line (shifted by
// what earlier hunks moved), then nearest-first anywhere after the previous hunk; exact lines first, then lines
// compared without whitespace differences (mail damage), then with up to 2 outer context lines dropped (fuzz).
// A hunk the reviewer's reply interrupted is tried whole, then segment by segment. Never touches a file.
import { normLine, type Hunk, type HunkLine } from './patch';

export interface Placement {
  /** 1-based index of the hunk in its file. */
  index: number;
  header: string;
  /** 1-based line in the old text where the hunk's old lines start (pure insertions: the line they go before). */
  at: number;
  /** Lines away from where the `@@` line said (0 for fragments without one). */
  offset: number;
  fuzz: number;
  /** Matched only with whitespace differences ignored. */
  whitespace: boolean;
  /** Applied segment by segment (a quoted hunk interrupted by reply text). */
  segments: number;
}

export interface ApplyResult {
  text: string;
  placements: Placement[];
  /** 1-based lines of the old text that the hunks removed, and of the new text that they added. */
  removed: number[];
  added: number[];
  /** 1-based old-text lines next to which lines were inserted without removing any (a pure insertion point). */
  insertedAt: number[];
}

export class HunkError extends Error {
  constructor(readonly index: number, readonly count: number, readonly hunk: Hunk, readonly detail: string) {
    super(`hunk ${index} of ${count} (${hunk.header}, input line ${hunk.inputLine}) does not apply: ${detail}`);
  }
}

interface Edit { pos: number; oldLen: number; lines: HunkLine[]; damaged: boolean }

/** GNU patch's default fuzz factor. */
export const DEFAULT_FUZZ = 2;

function splitLines(text: string): { lines: string[]; eol: boolean } {
  if (text === '') return { lines: [], eol: false };
  const eol = text.endsWith('\n');
  const lines = (eol ? text.slice(0, -1) : text).split('\n');
  return { lines, eol };
}

/** Lines that say nothing about where they are: braces, blank, `return x;`, `break;`, `else`, `#endif`, comment ends. */
const GENERIC = /^(?:[{}();,\s]*|return(?: [\w-]+)?;|break;|continue;|else|} else {|#\s*(?:endif|else)\b.*|\*\/|\/\*|\*)$/;

function significant(lines: readonly string[]): number {
  return lines.filter((l) => l.length > 3 && !GENERIC.test(l)).length;
}

/** Positions where `old` matches `file` (from `min`), nearest to `expected` first. */
function findAll(file: string[], fileNorm: string[], old: string[], oldNorm: string[], min: number, expected: number, ws: boolean): number[] {
  const out: number[] = [];
  const a = ws ? fileNorm : file;
  const b = ws ? oldNorm : old;
  const last = a.length - b.length;
  for (let p = Math.max(0, min); p <= last; p++) {
    let ok = true;
    for (let i = 0; i < b.length && ok; i++) ok = a[p + i] === b[i];
    if (ok) out.push(p);
  }
  return out.sort((x, y) => Math.abs(x - expected) - Math.abs(y - expected) || x - y);
}

interface Located {
  pos: number;
  oldLen: number;
  lines: HunkLine[];
  fuzz: number;
  whitespace: boolean;
  ambiguous: boolean;
  /** Leading context lines fuzz dropped: the hunk as written starts this many lines above `pos`. */
  lead: number;
}

/** Locate one run of hunk lines. */
function locate(file: string[], fileNorm: string[], lines: HunkLine[], min: number, expected: number | undefined, maxFuzz: number): Located | undefined {
  const isOld = (l: HunkLine): boolean => l.kind !== '+';
  for (let fuzz = 0; fuzz <= maxFuzz; fuzz++) {
    // Drop up to `fuzz` leading and trailing context lines (only context: never a removed line).
    let lo = 0;
    let hi = lines.length;
    for (let i = 0; i < fuzz && lo < hi && lines[lo].kind === ' '; i++) lo++;
    for (let i = 0; i < fuzz && hi > lo && lines[hi - 1].kind === ' '; i++) hi--;
    if (fuzz > 0 && lo === 0 && hi === lines.length) break; // nothing more to drop
    const part = lines.slice(lo, hi);
    const old = part.filter(isOld).map((l) => l.text);
    if (old.length === 0) {
      if (fuzz > 0 || expected === undefined) return undefined;
      const pos = Math.min(Math.max(expected, min), file.length);
      return { pos, oldLen: 0, lines: part, fuzz, whitespace: false, ambiguous: false, lead: 0 };
    }
    const oldNorm = old.map(normLine);
    // What is left must still say where it belongs: a fragment of braces and `return true;` matches anywhere. Fuzz
    // may drop context only while at least 2 telling lines (or all the hunk has, if fewer) remain.
    const telling = significant(oldNorm);
    if (telling === 0 && (expected === undefined || fuzz > 0)) return undefined;
    if (fuzz > 0 && telling < Math.min(2, significant(lines.filter(isOld).map((l) => normLine(l.text))))) return undefined;
    for (const ws of [false, true]) {
      const hits = findAll(file, fileNorm, old, oldNorm, min, (expected ?? min) + lo, ws);
      if (hits.length) {
        return { pos: hits[0], oldLen: old.length, lines: part, fuzz, whitespace: ws, ambiguous: expected === undefined && hits.length > 1, lead: lo };
      }
    }
  }
  return undefined;
}

/**
 * Why a run of lines does not match: the alignment (nearest the expected line) where most non-blank old lines agree,
 * and the first old line that differs there.
 */
function explain(file: string[], fileNorm: string[], lines: HunkLine[], min: number, expected: number | undefined): string {
  const old = lines.filter((l) => l.kind !== '+').map((l) => l.text);
  const oldNorm = old.map(normLine);
  const want = expected ?? min;
  const tells = oldNorm.map((l) => l.length > 3 && !GENERIC.test(l));
  let best = { pos: -1, score: 0 };
  for (let p = Math.max(0, min) - old.length; p < file.length; p++) {
    let score = 0;
    for (let i = 0; i < oldNorm.length; i++) if (tells[i] && fileNorm[p + i] === oldNorm[i]) score++;
    if (score > best.score || (score === best.score && score > 0 && Math.abs(p - want) < Math.abs(best.pos - want))) best = { pos: p, score };
  }
  const total = tells.filter(Boolean).length;
  const first = old[tells.indexOf(true)] ?? old[0] ?? '';
  if (best.score === 0) return `none of its old lines is in the file${min > 0 ? ` after line ${min}` : ''} (e.g. '${clip(first)}')`;
  const bad = oldNorm.findIndex((l, i) => fileNorm[best.pos + i] !== l);
  const got = file[best.pos + bad];
  return `best match at line ${best.pos + bad + 1} agrees on ${best.score} of ${total} telling old lines; there the patch expects '${clip(old[bad])}' but the file has ${got === undefined ? 'its end' : `'${clip(got)}'`}`;
}

function clip(s: string): string {
  const t = s.trim();
  return t.length > 60 ? `${t.slice(0, 57)}...` : t;
}

function segmentsOf(h: Hunk): HunkLine[][] {
  const cuts = [0, ...h.breaks, h.lines.length];
  const out: HunkLine[][] = [];
  for (let i = 0; i + 1 < cuts.length; i++) if (cuts[i + 1] > cuts[i]) out.push(h.lines.slice(cuts[i], cuts[i + 1]));
  return out;
}

export interface ApplyOptions {
  /** Outer context lines that may be ignored (default 2, like patch -F2). */
  fuzz?: number;
  /** Called for a hunk that cannot be placed, which is then skipped; without it the HunkError is thrown. */
  onReject?: (e: HunkError) => void;
}

/**
 * Apply `hunks` to `text`. Throws HunkError naming the first hunk that cannot be placed (unless `onReject`). Hunks
 * without `@@` numbers (fragments of a quoted reply) are searched in the whole file and must match exactly one place.
 */
export function applyHunks(text: string, hunks: readonly Hunk[], opts: ApplyOptions = {}): ApplyResult {
  const fuzzMax = Math.max(0, opts.fuzz ?? DEFAULT_FUZZ);
  const { lines: file, eol } = splitLines(text);
  const fileNorm = file.map(normLine);
  const edits: Edit[] = [];
  const placements: Placement[] = [];
  let min = 0;
  let delta = 0;
  hunks.forEach((h, i) => {
    try {
      placeOne(h, i);
    } catch (e) {
      if (e instanceof HunkError && opts.onReject) opts.onReject(e);
      else throw e;
    }
  });
  return build(file, eol, edits, placements);

  function placeOne(h: Hunk, i: number): void {
    const expected = h.oldStart > 0 ? Math.max(0, (h.oldCount === 0 ? h.oldStart : h.oldStart - 1) + delta) : undefined;
    const fail = (detail: string): never => { throw new HunkError(i + 1, hunks.length, h, detail); };
    let parts: Located[] = [];
    const whole = locate(file, fileNorm, h.lines, min, expected, fuzzMax);
    if (whole && !whole.ambiguous) parts = [whole];
    else if (whole?.ambiguous) fail('its lines occur more than once in the file and the fragment has no line numbers to choose');
    else if (h.breaks.length) {
      let segMin = min;
      let segExpected = expected;
      const segs = segmentsOf(h);
      for (const [k, seg] of segs.entries()) {
        const hasOld = seg.some((l) => l.kind !== '+');
        const at = hasOld ? locate(file, fileNorm, seg, segMin, segExpected, fuzzMax) : parts.length ? locate(file, fileNorm, seg, segMin, segMin, fuzzMax) : undefined;
        if (!at || at.ambiguous) fail(`part ${k + 1} of ${segs.length} (the reply's text splits the hunk) ${at ? 'matches more than one place' : 'is not in the file'}${at ? '' : `: ${explain(file, fileNorm, seg, segMin, segExpected)}`}`);
        parts.push(at!);
        segMin = at!.pos + at!.oldLen;
        segExpected = segMin;
      }
    } else fail(explain(file, fileNorm, h.lines, min, expected));
    for (const p of parts) {
      edits.push({ pos: p.pos, oldLen: p.oldLen, lines: p.lines, damaged: h.damaged || p.whitespace });
      min = p.pos + p.oldLen;
    }
    const first = parts[0];
    const start = Math.max(0, first.pos - first.lead);
    placements.push({
      index: i + 1, header: h.header, at: start + 1,
      offset: expected === undefined ? 0 : start - expected,
      fuzz: Math.max(...parts.map((p) => p.fuzz)), whitespace: parts.some((p) => p.whitespace), segments: parts.length,
    });
    // Later hunks are looked for shifted like this one (GNU patch's "last offset").
    if (expected !== undefined) delta += start - expected;
  }
}

function indentOf(s: string | undefined): string {
  return s === undefined ? '' : (/^[ \t]*/.exec(s)?.[0] ?? '');
}

function build(file: string[], eol: boolean, edits: Edit[], placements: Placement[]): ApplyResult {
  const out: string[] = [];
  const removed: number[] = [];
  const added: number[] = [];
  const insertedAt: number[] = [];
  let cur = 0;
  for (const e of edits) {
    while (cur < e.pos) out.push(file[cur++]);
    let k = e.pos;
    let lastOld: string | undefined = file[e.pos - 1];
    let removedHere = false;
    for (const l of e.lines) {
      if (l.kind === ' ') { lastOld = file[k]; out.push(file[k++]); continue; }
      if (l.kind === '-') { removed.push(k + 1); removedHere = true; lastOld = file[k]; k++; continue; }
      // Added line: a damaged mail lost its indentation; borrow the neighbour's so the result reads like C.
      const t = e.damaged ? indentOf(lastOld ?? file[k]) + l.text.trim() : l.text;
      out.push(t);
      added.push(out.length);
    }
    if (!removedHere) insertedAt.push(e.pos + 1);
    cur = k;
  }
  while (cur < file.length) out.push(file[cur++]);
  const text = out.length ? out.join('\n') + (eol || file.length === 0 ? '\n' : '') : '';
  return { text, placements, removed, added, insertedAt };
}

/** The hunks that undo `hunks` (new ↔ old): for reconstructing the old text from the new one. */
export function reverseHunks(hunks: readonly Hunk[]): Hunk[] {
  return hunks.map((h) => ({
    ...h,
    oldStart: h.newStart, oldCount: h.newCount, newStart: h.oldStart, newCount: h.oldCount,
    lines: h.lines.map((l) => ({ kind: l.kind === '+' ? '-' : l.kind === '-' ? '+' : ' ', text: l.text })),
  }));
}
