// `kvm-lens check PATH... [--format text|json|sarif] [--rule ID]... [--diff FILE|-]`
//
// Runs every diagnostic rule over the given files (directories are walked for .c/.h, .gitignore respected) and
// prints the findings. With --diff, reads a unified diff (git diff or a git format-patch mail), checks the changed
// files as they are in the working tree and reports only findings on added/changed lines; PATHs given together with
// --diff are read as context (cross-file facts such as an MSR array in a header) but not reported on.
// Exit codes: 0 nothing at warning or above, 1 a warning or error, 2 usage or input error.
import { readFdBounded, readStreamOrFile } from '../workspace/fsaccess';
import { resolve } from 'node:path';
import { initParser } from '../analysis/parser';
import { analyzeText } from '../analysis/document';
import { RULES, computeDiagnostics } from '../features/diagnostics';
import { ruleDocBase } from '../docs';
import type { Finding, RuleContext } from '../features/findings';
import { collectFiles, errText, looksLikeDiff, readInput, type InputFile } from './files';
import { CliError, parseArgs, type CliIO } from './io';
import { toSarif, type CheckResult } from './sarif';
import { presentFinding, wrap } from '../features/present';

const VERSION = '0.1.0';
const USAGE = 'usage: kvm-lens check PATH... [--format text|json|sarif] [--rule ID]... [--diff FILE|-] [--verbose]';

/** Changed files of a unified diff: new-side path → 1-based line numbers of added lines. */
export interface DiffFile { path: string; added: Set<number> }

function stripPrefix(p: string, prefix: 'a/' | 'b/'): string {
  let s = p.trim();
  const tab = s.indexOf('\t');
  if (tab >= 0) s = s.slice(0, tab);
  if (s.startsWith('"') && s.endsWith('"')) s = s.slice(1, -1).replace(/\\(["\\])/g, '$1');
  return s.startsWith(prefix) ? s.slice(2) : s;
}

/** Parse a unified diff (git diff, git format-patch mail, diff -u). Hunk lengths are honoured, so a mail signature
 * (`-- `) after the last hunk is not mistaken for a removed line. */
export function parseUnifiedDiff(text: string): DiffFile[] {
  const out: DiffFile[] = [];
  const lines = text.split(/\r?\n/);
  let cur: DiffFile | undefined;
  let oldLeft = 0;
  let newLeft = 0;
  let newLine = 0;
  for (const line of lines) {
    if (oldLeft > 0 || newLeft > 0) {
      if (line.startsWith('\\')) continue; // "\ No newline at end of file"
      const c = line[0] ?? ' ';
      if (c === '+') { cur?.added.add(newLine); newLine++; newLeft--; continue; }
      if (c === '-') { oldLeft--; continue; }
      if (c === ' ' || line === '') { newLine++; newLeft--; oldLeft--; continue; }
      // Malformed hunk: fall through to header parsing.
      oldLeft = 0; newLeft = 0;
    }
    if (line.startsWith('--- ')) continue;
    if (line.startsWith('+++ ')) {
      const p = stripPrefix(line.slice(4), 'b/');
      if (p === '/dev/null') { cur = undefined; continue; }
      cur = out.find((f) => f.path === p);
      if (!cur) { cur = { path: p, added: new Set() }; out.push(cur); }
      continue;
    }
    const h = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/.exec(line);
    if (h) {
      oldLeft = h[2] === undefined ? 1 : Number(h[2]);
      newLeft = h[4] === undefined ? 1 : Number(h[4]);
      newLine = Number(h[3]);
      continue;
    }
  }
  return out;
}

/** Diffs larger than this are refused (a diff of the whole kernel between two releases is far smaller). */
const MAX_DIFF_BYTES = 64 * 1024 * 1024;

function readDiff(spec: string, stdin?: () => string): string {
  if (spec === '-') {
    try {
      return stdin ? stdin() : readFdBounded(0, MAX_DIFF_BYTES);
    } catch (e) {
      throw new CliError(`cannot read the diff from standard input: ${e instanceof Error ? e.message : errText(e)}`);
    }
  }
  try {
    return readStreamOrFile(spec, MAX_DIFF_BYTES);
  } catch (e) {
    throw new CliError(`cannot read diff '${spec}': ${e instanceof Error ? e.message : errText(e)}`);
  }
}

function toResult(f: Finding, file: string, lines: { positionAt(o: number): { line: number; character: number } }): CheckResult {
  const s = lines.positionAt(f.start);
  const e = lines.positionAt(Math.max(f.start, f.end));
  const r: CheckResult = {
    file, line: s.line + 1, column: s.character + 1, endLine: e.line + 1, endColumn: e.character + 1,
    severity: f.severity, rule: f.rule, message: f.message, source: f.source,
  };
  if (f.related?.length) {
    r.related = f.related.map((x) => {
      const a = lines.positionAt(x.start);
      const b = lines.positionAt(Math.max(x.start, x.end));
      return { file, line: a.line + 1, column: a.character + 1, endLine: b.line + 1, endColumn: b.character + 1, message: x.message };
    });
  }
  return r;
}

export interface CheckOptions {
  /** Working directory for relative paths (tests). */
  cwd?: string;
  /** Standard input reader for `--diff -` (tests). */
  stdin?: () => string;
  /** Terminal width for wrapping (tests); default: the terminal's, else 100. */
  columns?: number;
}

export function terminalColumns(): number {
  const c = process.stdout.columns;
  return typeof c === 'number' && c >= 40 ? Math.min(c, 160) : 100;
}

/**
 * One finding for the terminal, checkpatch-style: `file:line:col: severity: short message [rule]` on one line (the
 * short message is ≤ 160 characters, so it stays greppable); `--verbose` adds the explanation, the related locations
 * and the source, wrapped and indented.
 */
export function textResult(r: CheckResult, verbose: boolean, columns: number): string {
  const t = presentFinding(r);
  const head = `${r.file}:${r.line}:${r.column}: ${r.severity}: ${t.short} [${r.rule}]`;
  if (!verbose) return head;
  const out = [head];
  const block = (label: string, text: string): void => { out.push(...wrap(`${label} ${text}`, columns - 4, '      ').map((l, i) => (i === 0 ? `    ${l}` : l))); };
  if (t.why) block('why:', t.why);
  for (const x of r.related ?? []) block(`at ${x.line}:${x.column}:`, x.message);
  if (t.citation) block('source:', t.citation);
  return out.join('\n');
}

export async function runCheck(args: string[], io: CliIO, opts: CheckOptions = {}): Promise<number> {
  const { flags, positional } = parseArgs(args, { value: ['format', 'diff'], multi: ['rule'], bool: ['help', 'verbose'] });
  if (flags.has('help')) { io.out(USAGE); return 0; }
  const format = flags.get('format')?.at(-1) ?? 'text';
  if (!['text', 'json', 'sarif'].includes(format)) throw new CliError(`unknown format '${format}' (expected text, json or sarif)\n${USAGE}`);
  const ids = RULES.map((r) => r.id);
  const only = new Set<string>();
  for (const spec of flags.get('rule') ?? []) {
    for (const id of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
      if (!ids.includes(id)) throw new CliError(`unknown rule '${id}'. Rule ids: ${ids.join(', ')}`);
      only.add(id);
    }
  }
  const diffSpec = flags.get('diff')?.at(-1);
  if (!positional.length && diffSpec === undefined) throw new CliError(`no PATH given\n${USAGE}`);
  if ((flags.get('diff')?.length ?? 0) > 1) throw new CliError('--diff may be given once');
  const cwd = opts.cwd ?? process.cwd();

  // Inputs.
  const walked = collectFiles(positional, cwd);
  const notices = [...walked.notices];
  let targets: InputFile[] = walked.files;
  let context: InputFile[] = [];
  let changed: Map<string, Set<number>> | undefined;
  if (diffSpec !== undefined) {
    const text = readDiff(diffSpec, opts.stdin);
    if (!text.trim()) throw new CliError(`the diff ${diffSpec === '-' ? 'on standard input' : `'${diffSpec}'`} is empty`);
    if (!looksLikeDiff(text)) throw new CliError(`${diffSpec === '-' ? 'standard input' : `'${diffSpec}'`} is not a unified diff`);
    const files = parseUnifiedDiff(text).filter((f) => /\.(c|h)$/.test(f.path));
    changed = new Map();
    context = walked.files;
    targets = [];
    const byAbs = new Map(context.map((f) => [f.abs, f]));
    for (const f of files) {
      const abs = resolve(cwd, f.path);
      changed.set(abs, f.added);
      const known = byAbs.get(abs);
      if (known) { targets.push(known); continue; }
      const r = readInput(abs, f.path);
      if (r.notice) notices.push(r.notice);
      else if (r.text !== undefined) targets.push({ display: f.path, abs, text: r.text });
    }
  }
  for (const n of notices) io.err(`kvm-lens: note: ${n}`);

  await initParser();
  const all = [...targets, ...context.filter((c) => !targets.some((t) => t.abs === c.abs))];
  const ctx: RuleContext = { files: all.map((f) => ({ path: f.display, text: f.text })) };
  const results: CheckResult[] = [];
  for (const f of targets) {
    const doc = analyzeText(f.text, `file://${f.abs}`);
    try {
      const findings = computeDiagnostics(doc, {}, only.size ? only : undefined, ctx);
      const added = changed?.get(f.abs);
      for (const x of findings) {
        const r = toResult(x, f.display, doc.lines);
        if (added && !added.has(r.line)) continue;
        results.push(r);
      }
    } finally {
      doc.tree.delete();
    }
  }

  switch (format) {
    case 'json':
      io.out(JSON.stringify(results, null, 2));
      break;
    case 'sarif':
      io.out(JSON.stringify(toSarif(results, only.size ? RULES.filter((r) => only.has(r.id)) : RULES, ruleDocBase(), VERSION), null, 2));
      break;
    default:
      for (const r of results) io.out(textResult(r, flags.has('verbose'), opts.columns ?? terminalColumns()));
      io.err(`kvm-lens: ${results.length} finding${results.length === 1 ? '' : 's'} in ${targets.length} file${targets.length === 1 ? '' : 's'} checked`);
  }
  return results.some((r) => r.severity === 'error' || r.severity === 'warning') ? 1 : 0;
}
