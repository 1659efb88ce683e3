// What the parser reads in place of a few kernel-C constructs tree-sitter's C grammar cannot parse. Each is replaced
// by as many spaces (offsets, lines and columns stay the same; the analysis still reads the real text, and so does
// Node.text — parser.ts hands the tree the unmasked reader once it is parsed):
//
// - conditional directives inside an expression (`msrs->exit_ctls_high &=\n#ifdef CONFIG_X86_64\n\tVM_EXIT_HOST_...
//   |\n#endif\n\tVM_EXIT_LOAD_IA32_PAT ...;` in vmx/nested.c): the grammar accepts #if/#ifdef only where statements,
//   declarations, fields or enumerators go. Masked, the expression parses with the guarded terms included;
// - attribute-like macros that expand to compiler attributes or to nothing (`static noinstr void`, `__init`,
//   `void __user *`): before a declarator tree-sitter takes them for a type name and fails on the real one;
// - a top-level all-caps macro invocation line without a semicolon that generates definitions
//   (`BUILD_NVMX_MSR_INTERCEPT_HELPER(read)`): tree-sitter glues it to the next function.
//
// Every ERROR region is parsed again, with error recovery, on each incremental re-parse; on Linux 7.1.5 vmx/nested.c
// one #ifdef inside an expression made the last 340 lines (11 127 characters) one ERROR node, and a one-character
// edit anywhere cost 2.8 ms of re-parse instead of 0.5 ms. The mask is computed from the text alone; the document
// store re-parses a line whose masking changed without its text changing (analysis/store.ts).

/** Sorted, non-overlapping ranges as a flat list: start0, end0, start1, end1, ... */
export type Mask = number[];

const ATTRIBUTE = /\b(?:noinstr|noinline|__always_inline|__init|__exit|__initdata|__initconst|__user|__iomem|__percpu|__rcu|__must_check|__maybe_unused|__always_unused|__cold|__ro_after_init|__read_mostly|__visible|asmlinkage|__noreturn|notrace)\b/g;
const MACRO_LINE = /^[A-Z][A-Z0-9_]*\([^;{}()\n]*(?:\([^;{}()\n]*\)[^;{}()\n]*)*\)[ \t]*$/gm;

/** Characters that leave an expression open at the end of a line (a directive after it is inside the expression). */
const OPEN_EXPRESSION = new Set(['|', '&', '+', '-', '*', '/', ',', '(', '=', '?', '<', '>', '!', '~', '^', '%']);

export function parseMask(text: string): Mask {
  return scanMask(text, 0, text.length);
}

const DIRECTIVE_AT = /#[ \t]*(?:if|ifdef|ifndef|elif|else|endif)\b[^\n]*/y;

/** The mask ranges of the whole lines in [from, to) (line boundaries); directives are judged on the whole text. */
function scanMask(text: string, from: number, to: number): Mask {
  const ranges: Array<[number, number]> = [];
  // Conditional directives: '#' first (a character search, much cheaper than a line-anchored regex over the text).
  for (let i = text.indexOf('#', from); i >= 0 && i < to; i = text.indexOf('#', i + 1)) {
    let ls = i;
    while (ls > 0 && (text.charCodeAt(ls - 1) === 32 || text.charCodeAt(ls - 1) === 9)) ls--;
    if (ls > 0 && text.charCodeAt(ls - 1) !== 10) continue;
    DIRECTIVE_AT.lastIndex = i;
    const m = DIRECTIVE_AT.exec(text);
    if (m && insideExpression(text, ls)) ranges.push([ls, lineEnd(text, ls, i + m[0].length)]);
  }
  const part = from === 0 && to === text.length ? text : text.slice(from, to);
  ATTRIBUTE.lastIndex = 0;
  let a: RegExpExecArray | null;
  while ((a = ATTRIBUTE.exec(part)) !== null) ranges.push([from + a.index, from + a.index + a[0].length]);
  MACRO_LINE.lastIndex = 0;
  while ((a = MACRO_LINE.exec(part)) !== null) {
    // Not the head of a definition (`DEFINE_X(name)\n{`), not a continued macro body or a multi-line call.
    const start = from + a.index;
    const end = start + a[0].length;
    if (nextCodeChar(text, end) === '{' || lastCodeChar(text, start) === '\\' || lastCodeChar(text, start) === ',') continue;
    ranges.push([start, lineEnd(text, start, end)]);
  }
  ranges.sort((x, y) => x[0] - y[0]);
  const out: Mask = [];
  for (const [s, e] of ranges) {
    if (e <= s) continue;
    if (out.length && s < out[out.length - 1]) continue; // overlapping (an attribute on a masked line): keep the first
    out.push(s, e);
  }
  return out;
}

/**
 * The mask of `text` from the mask `old` of the text before an edit (its envelope [start, oldEnd) became
 * [start, newEnd)): the lines whose masking may depend on the edited text are scanned again — from the line of the
 * last code character before the edit to the first line of code after it (directives in between look back to it) —
 * and the rest of `old` is kept, shifted. Equal to parseMask(text) (test/unit/parseMask.test.ts).
 */
export function updateMask(old: Mask, text: string, env: { start: number; oldEnd: number; newEnd: number }): Mask {
  let p = Math.min(env.start, text.length) - 1;
  while (p >= 0 && isBlank(text.charCodeAt(p))) p--;
  const ws = p < 0 ? 0 : text.lastIndexOf('\n', p) + 1;
  // Forward: the rest of the edited line, then lines a directive would look back across, then one line of code.
  let we = text.indexOf('\n', Math.max(env.newEnd, ws));
  we = we < 0 ? text.length : we + 1;
  for (let n = 0; we < text.length; n++) {
    if (n > 64) return parseMask(text);
    const nl = text.indexOf('\n', we);
    const lineEndAt = nl < 0 ? text.length : nl + 1;
    const line = text.slice(we, lineEndAt);
    const prev = text.slice(text.lastIndexOf('\n', we - 2) + 1, we - 1);
    we = lineEndAt;
    if (!skippedBack(codeOf(line), prev)) break;
  }
  const d = env.newEnd - env.oldEnd;
  const oldWe = we - d;
  const out: Mask = [];
  for (let i = 0; i < old.length && old[i + 1] <= ws; i += 2) out.push(old[i], old[i + 1]);
  out.push(...scanMask(text, ws, we));
  for (let i = 0; i < old.length; i += 2) if (old[i] >= oldWe) out.push(old[i] + d, old[i + 1] + d);
  return out;
}

function isBlank(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

/** A line without its one-line comments and trailing blanks. */
function codeOf(line: string): string {
  return line.replace(/\/\*.*?\*\//g, '').replace(/\/\/.*$/, '').trimEnd();
}

/**
 * Would insideExpression() look past this line (given the line before it) for the code line before a directive?
 * `code` is codeOf(line).
 */
function skippedBack(code: string, prevLine: string): boolean {
  const lead = code.trimStart();
  return !lead || lead.startsWith('#') || prevLine.trimEnd().endsWith('\\') || lead.startsWith('*') || lead.startsWith('/*') || code.endsWith('*/');
}

/** The end of a line's text, before a `\r` of a CRLF ending. */
function lineEnd(text: string, start: number, end: number): number {
  return end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end;
}

/** The first character of code after `at` (blanks skipped), or ''. */
function nextCodeChar(text: string, at: number): string {
  for (let i = at; i < text.length; i++) {
    const c = text[i];
    if (c !== ' ' && c !== '\t' && c !== '\n' && c !== '\r') return c;
  }
  return '';
}

/** The last character of the line before `lineStart` (trailing blanks skipped), or ''. */
function lastCodeChar(text: string, lineStart: number): string {
  for (let i = lineStart - 1; i >= 0; i--) {
    const c = text[i];
    if (c === '\n' && i === lineStart - 1) continue;
    if (c === '\n') return '';
    if (c !== ' ' && c !== '\t' && c !== '\r') return c;
  }
  return '';
}

/**
 * Is the directive line at `lineStart` inside an expression: does the last line of code before it end with an
 * operator, a comma or an open parenthesis? Blank lines, comment lines, other preprocessor lines (and the lines a
 * backslash continues) are skipped; a trailing comment is ignored.
 */
function insideExpression(text: string, lineStart: number): boolean {
  let end = lineStart - 1; // the newline ending the previous line
  for (let guard = 0; guard < 64 && end > 0; guard++) {
    const start = text.lastIndexOf('\n', end - 1) + 1;
    const line = text.slice(start, end);
    const prevLine = start > 0 ? text.slice(text.lastIndexOf('\n', start - 2) + 1, start - 1) : '';
    end = start - 1;
    const code = codeOf(line);
    if (skippedBack(code, prevLine)) continue;
    return OPEN_EXPRESSION.has(code[code.length - 1]);
  }
  return false;
}

/** The ranges of `mask` that lie in [from, to) (the mask is sorted): index of the first pair ending after `from`. */
export function firstRangeAfter(mask: Mask, from: number): number {
  let lo = 0;
  let hi = mask.length / 2;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (mask[2 * mid + 1] <= from) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** `chunk` (the text at [at, at + chunk.length)) with the masked characters replaced by spaces. */
export function applyMask(chunk: string, at: number, mask: Mask): string {
  if (!mask.length) return chunk;
  const end = at + chunk.length;
  let k = firstRangeAfter(mask, at);
  if (k >= mask.length / 2 || mask[2 * k] >= end) return chunk;
  let out = '';
  let pos = at;
  for (; k < mask.length / 2 && mask[2 * k] < end; k++) {
    const s = Math.max(at, mask[2 * k]);
    const e = Math.min(end, mask[2 * k + 1]);
    out += chunk.slice(pos - at, s - at) + ' '.repeat(e - s);
    pos = e;
  }
  return out + chunk.slice(pos - at);
}

/**
 * The ranges whose masking differs between `old` (for the text before an edit, its envelope [start, oldEnd) becoming
 * [start, newEnd)) and `cur` (after it), outside the edit: lines the parser must read again although their text did
 * not change. In the new text's coordinates.
 */
export function maskToggles(old: Mask, cur: Mask, env: { start: number; oldEnd: number; newEnd: number }): Array<[number, number]> {
  const d = env.newEnd - env.oldEnd;
  const key = (s: number, e: number): string => `${s}:${e}`;
  const out: Array<[number, number]> = [];
  const before = new Set<string>();
  for (let i = 0; i < old.length; i += 2) {
    const s = old[i];
    const e = old[i + 1];
    if (e <= env.start) before.add(key(s, e));
    else if (s >= env.oldEnd) before.add(key(s + d, e + d));
    else if (s < env.start || e > env.oldEnd) out.push([Math.min(s, env.start), Math.max(env.newEnd, e + d)]); // straddles the edit
  }
  const now = new Set<string>();
  for (let i = 0; i < cur.length; i += 2) {
    const s = cur[i];
    const e = cur[i + 1];
    if (e <= env.start || s >= env.newEnd) {
      now.add(key(s, e));
      if (!before.has(key(s, e))) out.push([s, e]);
    } else if (s < env.start || e > env.newEnd) out.push([s, e]);
  }
  for (const k of before) {
    if (now.has(k)) continue;
    const [s, e] = k.split(':').map(Number);
    out.push([s, e]);
  }
  return out;
}
