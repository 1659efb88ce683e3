// Patches as reviewers meet them → hunks. Pure text processing: no I/O, no analysis.
//
// Dialects: `git diff` / `diff -u`; `git format-patch` mails and mbox series (one patch per `From <sha> <date>`
// line, and a file patched again after its hunks ended starts a new patch); mail text as LKML archive pages show it:
// headers, `> `-quoted replies (the diff may sit at any quote depth, interrupted by the reviewer's lines), tabs turned
// into spaces and leading whitespace lost (a context line that lost its leading space is still context while the
// hunk's line counts say the hunk goes on). A quoted reply may also carry hunk fragments without any file header, or
// without any `@@` line at all; those come back as `headerless` file patches, to be located in the tree by content.

export type LineKind = ' ' | '-' | '+';
export interface HunkLine { kind: LineKind; text: string }

export interface Hunk {
  /** 1-based starts and counts from the `@@` line (fragments without one: 0). */
  oldStart: number;
  oldCount: number;
  newStart: number;
  newCount: number;
  /** The `@@ … @@ fn` line, or a description of the fragment. */
  header: string;
  /** 1-based line of the hunk in the input, for messages. */
  inputLine: number;
  lines: HunkLine[];
  /** The reviewer's text interrupted the quoted hunk here: indexes into `lines` where a new segment starts. */
  breaks: number[];
  /** False when the input ended (or the quote ended) before the counts of the `@@` line were reached. */
  complete: boolean;
  /** Leading whitespace was lost or tabs were turned into spaces (context lines without their leading space). */
  damaged: boolean;
}

export interface FilePatch {
  /** Repository-relative paths with a/ b/ stripped; null for /dev/null (new or deleted file). */
  oldPath: string | null;
  newPath: string | null;
  hunks: Hunk[];
  /** No file header: the file is found by content. */
  headerless: boolean;
}

export interface Patch {
  subject?: string;
  files: FilePatch[];
}

export interface ParsedPatch {
  patches: Patch[];
  /** The diff was found inside `>` quoting (depth of the deepest quoted diff). */
  quoteDepth: number;
  damaged: boolean;
  notes: string[];
}

interface InLine { depth: number; text: string; no: number }

const QUOTE = /^((?:[ \t]{0,3}>)+)[ \t]?/;
const MBOX_FROM = /^From \S+ (?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} [ \d]\d /;
const HUNK_HEADER = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@(.*)$/;

function quoteOf(line: string): InLine & { no: 0 } {
  const m = QUOTE.exec(line);
  if (!m) return { depth: 0, text: line, no: 0 };
  const depth = (m[1].match(/>/g) ?? []).length;
  return { depth, text: line.slice(m[0].length), no: 0 };
}

/** Path of a `---`/`+++`/`diff --git` operand: a/ b/ stripped, quotes undone, tab-separated timestamp dropped. */
export function patchPath(raw: string, prefix: 'a/' | 'b/'): string | null {
  let s = raw.trim();
  const tab = s.indexOf('\t');
  if (tab >= 0) s = s.slice(0, tab);
  if (s.startsWith('"') && s.endsWith('"') && s.length > 1) s = s.slice(1, -1).replace(/\\(["\\])/g, '$1').replace(/\\t/g, '\t');
  s = s.replace(/\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? [+-]\d{4}$/, '');
  if (s === '/dev/null') return null;
  return s.startsWith(prefix) ? s.slice(2) : s;
}

/** Split the input into messages: mbox `From ` lines separate patches of a series. */
function splitMessages(lines: string[]): Array<{ start: number; lines: string[] }> {
  const out: Array<{ start: number; lines: string[] }> = [];
  let cur: string[] = [];
  let start = 0;
  lines.forEach((l, i) => {
    if (MBOX_FROM.test(l) && cur.length) {
      out.push({ start, lines: cur });
      cur = [];
      start = i;
    }
    cur.push(l);
  });
  out.push({ start, lines: cur });
  return out;
}

function subjectOf(lines: InLine[]): string | undefined {
  for (const l of lines.slice(0, 40)) {
    const m = /^Subject:\s*(.*)$/.exec(l.text);
    if (m) return m[1].trim();
  }
  const first = lines.find((l) => l.text.trim() && !MBOX_FROM.test(l.text));
  return first && /\[PATCH|^Re:/i.test(first.text) ? first.text.trim() : undefined;
}

/** The diff lines of one quote depth: lines at other depths are gaps (reviewer text, deeper quotes). */
function streamAt(lines: InLine[], depth: number): Array<InLine | 'gap'> {
  const out: Array<InLine | 'gap'> = [];
  for (const l of lines) {
    if (l.depth === depth) out.push(l);
    else if (out.at(-1) !== 'gap') out.push('gap');
  }
  return out;
}

function classify(text: string): LineKind | undefined {
  const c = text[0];
  return c === '+' || c === '-' || c === ' ' ? c : undefined;
}

function newHunk(m: RegExpExecArray, no: number, header: string): Hunk {
  return {
    oldStart: Number(m[1]), oldCount: m[2] === undefined ? 1 : Number(m[2]),
    newStart: Number(m[3]), newCount: m[4] === undefined ? 1 : Number(m[4]),
    header, inputLine: no, lines: [], breaks: [], complete: false, damaged: false,
  };
}

interface StreamResult { files: FilePatch[]; sawHeader: boolean; damaged: boolean }

/** Parse one quote depth of one message. Files may repeat (a series without mbox separators): the caller splits. */
function parseStream(stream: Array<InLine | 'gap'>, allowHeaderless: boolean): StreamResult {
  const files: FilePatch[] = [];
  let cur: FilePatch | undefined;
  let hunk: Hunk | undefined;
  let oldLeft = 0;
  let newLeft = 0;
  let pendingOld: string | null | undefined;
  let sawHeader = false;
  let damaged = false;
  let gapInHunk = false;
  // Headerless fragments: a block of lines between gaps with at least one +/- line.
  let block: InLine[] = [];
  const flushBlock = (): void => {
    if (allowHeaderless && !sawHeader && block.some((l) => classify(l.text) === '+' || classify(l.text) === '-')) {
      // Trim leading/trailing blank lines; the fragment is located by content later.
      while (block.length && !block[0].text.trim()) block.shift();
      while (block.length && !block.at(-1)!.text.trim()) block.pop();
      const lines = block.map((l): HunkLine => {
        const k = classify(l.text);
        return k === '+' || k === '-' ? { kind: k, text: l.text.slice(1) } : { kind: ' ', text: k === ' ' ? l.text.slice(1) : l.text };
      });
      if (lines.length) {
        const old = lines.filter((l) => l.kind !== '+').length;
        files.push({
          oldPath: null, newPath: null, headerless: true,
          hunks: [{
            oldStart: 0, oldCount: old, newStart: 0, newCount: lines.length - lines.filter((l) => l.kind === '-').length,
            header: `quoted fragment at input line ${block[0].no}`, inputLine: block[0].no, lines, breaks: [], complete: false,
            damaged: true,
          }],
        });
      }
    }
    block = [];
  };
  const endHunk = (): void => {
    if (hunk) hunk.complete = oldLeft <= 0 && newLeft <= 0;
    hunk = undefined;
    oldLeft = 0;
    newLeft = 0;
    gapInHunk = false;
  };
  for (const item of stream) {
    if (item === 'gap') {
      if (hunk) gapInHunk = true;
      else flushBlock();
      continue;
    }
    const { text, no } = item;
    if (hunk && (oldLeft > 0 || newLeft > 0)) {
      if (text.startsWith('\\')) continue; // "\ No newline at end of file"
      const h = HUNK_HEADER.exec(text);
      const fileHeader = /^diff --git /.test(text) || (/^--- /.test(text) && !/^--- ?$/.test(text) && oldLeft === 0);
      if (!h && !fileHeader) {
        let k = classify(text);
        let body = k ? text.slice(1) : text;
        if (!k) {
          k = ' ';
          if (text.trim()) { damaged = true; hunk.damaged = true; }
        }
        // Whitespace damage can make the counts lie; a context line is fine only while both sides expect one.
        if ((k === ' ' && (oldLeft <= 0 || newLeft <= 0)) || (k === '-' && oldLeft <= 0) || (k === '+' && newLeft <= 0)) {
          endHunk();
        } else {
          if (gapInHunk) { hunk.breaks.push(hunk.lines.length); gapInHunk = false; }
          if (text === '') body = '';
          hunk.lines.push({ kind: k, text: body });
          if (k !== '+') oldLeft--;
          if (k !== '-') newLeft--;
          if (oldLeft <= 0 && newLeft <= 0) endHunk();
          continue;
        }
      } else {
        endHunk();
      }
    }
    const h = HUNK_HEADER.exec(text);
    if (h) {
      flushBlock();
      if (!cur || cur.headerless) {
        // A hunk without a file header (quoted reply): the file is found by content, hunk by hunk.
        if (!allowHeaderless) continue;
        cur = { oldPath: null, newPath: null, hunks: [], headerless: true };
        files.push(cur);
      }
      hunk = newHunk(h, no, text.trim());
      cur.hunks.push(hunk);
      oldLeft = hunk.oldCount;
      newLeft = hunk.newCount;
      if (oldLeft === 0 && newLeft === 0) endHunk();
      continue;
    }
    const git = /^diff --git (?:"?a\/)(.+?)"? (?:"?b\/)(.+?)"?$/.exec(text);
    if (git) {
      flushBlock();
      sawHeader = true;
      cur = { oldPath: git[1], newPath: git[2], hunks: [], headerless: false };
      files.push(cur);
      pendingOld = undefined;
      continue;
    }
    if (text.startsWith('--- ') && !/^--- ?$/.test(text)) {
      pendingOld = patchPath(text.slice(4), 'a/');
      continue;
    }
    if (text.startsWith('+++ ') && pendingOld !== undefined) {
      flushBlock();
      sawHeader = true;
      const newPath = patchPath(text.slice(4), 'b/');
      const gitCur = cur && !cur.headerless && cur.hunks.length === 0 ? cur : undefined;
      if (gitCur) { gitCur.oldPath = pendingOld; gitCur.newPath = newPath; }
      else { cur = { oldPath: pendingOld, newPath, hunks: [], headerless: false }; files.push(cur); }
      pendingOld = undefined;
      continue;
    }
    if (/^(new|deleted) file mode /.test(text) && cur && !cur.headerless) {
      if (text.startsWith('new')) cur.oldPath = null;
      else cur.newPath = null;
      continue;
    }
    if (!sawHeader) block.push(item);
  }
  endHunk();
  flushBlock();
  return { files, sawHeader, damaged };
}

/** Group the files of one message into patches: a file that comes back after other files starts a new patch. */
function groupPatches(files: FilePatch[], subject: string | undefined): Patch[] {
  const out: Patch[] = [{ subject, files: [] }];
  for (const f of files) {
    const cur = out.at(-1)!;
    const key = f.oldPath ?? f.newPath;
    if (!f.headerless && key && cur.files.some((g) => !g.headerless && (g.newPath ?? g.oldPath) === key && g.hunks.length)) {
      out.push({ subject: undefined, files: [f] });
    } else cur.files.push(f);
  }
  return out.filter((p) => p.files.length);
}

/** Parse any of the dialects above. Never throws; an input with no hunk gives no patches. */
export function parsePatch(text: string): ParsedPatch {
  const raw = text.replace(/\r\n?/g, '\n').split('\n');
  const notes: string[] = [];
  const patches: Patch[] = [];
  let quoteDepth = 0;
  let damaged = false;
  for (const msg of splitMessages(raw)) {
    const lines: InLine[] = msg.lines.map((l, i) => ({ ...quoteOf(l), no: msg.start + i + 1 }));
    const subject = subjectOf(lines);
    const depths = [...new Set(lines.map((l) => l.depth))].sort((a, b) => a - b);
    // Real file headers anywhere in the message: parse only below headers, at their depth(s).
    const headerDepths = depths.filter((d) => lines.some((l) => l.depth === d && (/^diff --git /.test(l.text) || /^\+\+\+ /.test(l.text))));
    const useDepths = headerDepths.length ? headerDepths : depths.filter((d) => d > 0 || depths.length === 1);
    const files: FilePatch[] = [];
    for (const d of useDepths) {
      const r = parseStream(streamAt(lines, d), headerDepths.length === 0);
      if (r.files.some((f) => f.hunks.length)) quoteDepth = Math.max(quoteDepth, d);
      damaged ||= r.damaged;
      files.push(...r.files.filter((f) => f.hunks.length || (!f.headerless && (f.oldPath === null || f.newPath === null))));
    }
    for (const f of files) {
      for (const h of f.hunks) {
        if (h.damaged) damaged = true;
        if (!h.complete && h.oldStart > 0) {
          const got = h.lines.filter((l) => l.kind !== '+').length;
          const gotNew = h.lines.filter((l) => l.kind !== '-').length;
          notes.push(`${h.header} (input line ${h.inputLine}) is cut short: ${got} of ${h.oldCount} old and ${gotNew} of ${h.newCount} new lines are in the input; the part that is there is applied`);
        }
      }
    }
    patches.push(...groupPatches(files, subject));
  }
  return { patches, quoteDepth, damaged, notes };
}

/** Whitespace-insensitive form of a line for matching damaged patches: runs of blanks → one space, trimmed. */
export function normLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

/** Cheap test before parsing: does the text contain anything that looks like a hunk? */
export function looksLikePatch(text: string): boolean {
  return /^(?:[ \t]{0,3}>[ \t]?)*(diff --git |--- \S|\+\+\+ \S|@@ -\d)/m.test(text)
    || /^(?:[ \t]{0,3}>[ \t]?)+[+-]\s*\S/m.test(text);
}
