// Review core: run the same rules on the old and the new text of every changed file and sort the findings into
// introduced / fixed / still present. Findings are matched by what they are about, not by line number: rule, file,
// enclosing function, the text of the flagged span and of its line (whitespace-insensitive), with repeats paired in
// order. A finding counts for the patch when it lies in a function the patch touches, on a changed line, or when one
// of its related locations (e.g. the guard the rule looked for) is on a changed line; other differences are counted
// as `elsewhere` (they are still caused by the patch — before and after differ only in the patched files).
import { analyzeText, functionAt, type DocumentAnalysis } from '../../analysis/document';
import { computeDiagnostics } from '../diagnostics';
import type { Finding, RuleContext, RuleSettings, Severity } from '../findings';
import { normLine } from './patch';

export interface ReviewFileInput {
  /** Repository-relative path (new path; old path for a deleted file). */
  path: string;
  before: string | null;
  after: string | null;
  /** 1-based lines removed from `before` / added to `after`; insertion points as 1-based `before` lines. */
  removed: readonly number[];
  added: readonly number[];
  insertedAt?: readonly number[];
}

export interface ReviewInput {
  files: readonly ReviewFileInput[];
  /** Unchanged files given to the rules as cross-file context (same on both sides). */
  context?: ReadonlyArray<{ path: string; text: string }>;
  settings?: RuleSettings;
  only?: Set<string>;
}

export type ReviewStatus = 'introduced' | 'fixed' | 'present';

export interface Loc { line: number; column: number; endLine: number; endColumn: number }

export interface ReviewFinding extends Loc {
  status: ReviewStatus;
  file: string;
  severity: Severity;
  rule: string;
  message: string;
  source: string;
  function?: string;
  /** In a touched function, on a changed line, or caused (related location) by a changed line. */
  inScope: boolean;
  /** Why it is in scope, for the report. */
  why?: 'changed line' | 'touched function' | 'related location on a changed line';
  /** The flagged line's text, trimmed (fingerprints; also shown in reports). */
  lineText: string;
  related?: Array<Loc & { message: string }>;
}

export interface ReviewResult {
  findings: ReviewFinding[];
  /** Functions the patch touches, per file. */
  touched: Array<{ file: string; functions: string[] }>;
  filesAnalysed: number;
}

interface Side {
  doc: DocumentAnalysis;
  findings: Finding[];
  changed: Set<number>;
  touched: Set<string>;
}

function loc(doc: DocumentAnalysis, start: number, end: number): Loc {
  const s = doc.lines.positionAt(start);
  const e = doc.lines.positionAt(Math.max(start, end));
  return { line: s.line + 1, column: s.character + 1, endLine: e.line + 1, endColumn: e.character + 1 };
}

function lineTextAt(doc: DocumentAnalysis, line: number): string {
  const st = doc.lines.starts;
  const a = st[line - 1] ?? doc.text.length;
  const b = st[line] ?? doc.text.length;
  return doc.text.slice(a, b).replace(/\n$/, '');
}

/** Names of functions overlapping the given 1-based lines. */
function functionsOn(doc: DocumentAnalysis, lines: Iterable<number>): Set<string> {
  const out = new Set<string>();
  for (const ln of lines) {
    const off = doc.lines.offsetAt({ line: ln - 1, character: 0 });
    const fn = functionAt(doc, off) ?? functionAt(doc, Math.max(0, doc.lines.offsetAt({ line: ln, character: 0 }) - 1));
    if (fn) out.add(fn.name);
  }
  return out;
}

function analyseSide(path: string, text: string, changed: readonly number[], extra: readonly number[], ctx: RuleContext, input: ReviewInput): Side {
  const doc = analyzeText(text, `file:///${path}`);
  const findings = computeDiagnostics(doc, input.settings ?? {}, input.only?.size ? input.only : undefined, ctx);
  return { doc, findings, changed: new Set(changed), touched: functionsOn(doc, [...changed, ...extra]) };
}

function keyOf(side: Side, f: Finding, file: string): string {
  const fn = functionAt(side.doc, f.start)?.name ?? '';
  const line = side.doc.lines.positionAt(f.start).line + 1;
  return [f.rule, file, fn, normLine(side.doc.text.slice(f.start, f.end)), normLine(lineTextAt(side.doc, line))].join('\u0000');
}

function toReview(side: Side, f: Finding, file: string, status: ReviewStatus, touched: Set<string>): ReviewFinding {
  const l = loc(side.doc, f.start, f.end);
  const fn = functionAt(side.doc, f.start)?.name;
  const related = f.related?.map((r) => ({ ...loc(side.doc, r.start, r.end), message: r.message }));
  let why: ReviewFinding['why'];
  if (side.changed.has(l.line)) why = 'changed line';
  else if (related?.some((r) => side.changed.has(r.line))) why = 'related location on a changed line';
  else if (fn && touched.has(fn)) why = 'touched function';
  return {
    status, file, ...l, severity: f.severity, rule: f.rule, message: f.message, source: f.source,
    ...(fn ? { function: fn } : {}), inScope: why !== undefined, ...(why ? { why } : {}),
    lineText: lineTextAt(side.doc, l.line).trim(), ...(related?.length ? { related } : {}),
  };
}

/** Compare the rules' findings before and after the change. */
export function reviewChange(input: ReviewInput): ReviewResult {
  const ctxFiles = input.context ?? [];
  const beforeCtx: RuleContext = {
    files: [...input.files.filter((f) => f.before !== null).map((f) => ({ path: f.path, text: f.before as string })), ...ctxFiles],
  };
  const afterCtx: RuleContext = {
    files: [...input.files.filter((f) => f.after !== null).map((f) => ({ path: f.path, text: f.after as string })), ...ctxFiles],
  };
  const out: ReviewFinding[] = [];
  const touchedOut: ReviewResult['touched'] = [];
  let analysed = 0;
  for (const f of input.files) {
    if (!/\.(c|h)$/.test(f.path)) continue;
    const before = f.before !== null ? analyseSide(f.path, f.before, f.removed, f.insertedAt ?? [], beforeCtx, input) : undefined;
    const after = f.after !== null ? analyseSide(f.path, f.after, f.added, [], afterCtx, input) : undefined;
    try {
      analysed++;
      const touched = new Set([...(before?.touched ?? []), ...(after?.touched ?? [])]);
      touchedOut.push({ file: f.path, functions: [...touched].sort() });
      const pool = new Map<string, Finding[]>();
      if (before) {
        for (const x of before.findings) {
          const k = keyOf(before, x, f.path);
          pool.set(k, [...(pool.get(k) ?? []), x]);
        }
      }
      if (after) {
        for (const x of after.findings) {
          const k = keyOf(after, x, f.path);
          const prev = pool.get(k);
          if (prev?.length) {
            prev.shift();
            out.push(toReview(after, x, f.path, 'present', touched));
          } else out.push(toReview(after, x, f.path, 'introduced', touched));
        }
      }
      if (before) for (const rest of pool.values()) for (const x of rest) out.push(toReview(before, x, f.path, 'fixed', touched));
    } finally {
      before?.doc.tree.delete();
      after?.doc.tree.delete();
    }
  }
  const order: Record<ReviewStatus, number> = { introduced: 0, fixed: 1, present: 2 };
  out.sort((a, b) => order[a.status] - order[b.status] || a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column || a.rule.localeCompare(b.rule));
  return { findings: out, touched: touchedOut, filesAnalysed: analysed };
}
