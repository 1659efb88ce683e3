// `kvm-lens check PATH... [--format text|json|sarif] [--rule ID]... [--diff FILE|-]`
//
// Runs every diagnostic rule over the given files (directories are walked for .c/.h, .gitignore respected) and
// prints the findings. With --diff, reads a patch in any form `review` reads (git diff, format-patch mail, mbox, quoted
// or whitespace-damaged mail), takes the working tree as the new side, undoes the patch in memory for the old side,
// and reports the findings the change introduced — also on unchanged lines whose cause (e.g. a removed guard) is in
// the change. PATHs given together with --diff are read as context (cross-file facts such as an MSR array in a
// header) but not reported on.
// Exit codes: 0 nothing at warning or above, 1 a warning or error, 2 usage or input error.
import { realpathSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { initParser } from '../analysis/parser';
import { analyzeText, functionAt, type DocumentAnalysis } from '../analysis/document';
import { reviewChange } from '../features/review/compare';
import { applyOrFail, fuzzOf, parseOrFail, readPatchInput, treeReader } from './review';
import { RULES, computeDiagnostics } from '../features/diagnostics';
import { ruleHelpBase } from '../docs';
import type { Finding, RuleContext } from '../features/findings';
import { collectFiles } from './files';
import { CliError, parseArgs, type CliIO } from './io';
import { toSarif, VERSION, type CheckResult } from './sarif';
import { presentFinding, wrap } from '../features/present';

const USAGE = 'usage: kvm-lens check PATH... [--format text|json|sarif] [--rule ID]... [--diff FILE|-] [--fuzz N] [--verbose]';

function safeReal(p: string): string {
  try { return realpathSync(p); } catch { return p; }
}

/** The repository holding `dir` (nearest ancestor with .git), else `dir`: SARIF paths are relative to it. */
export function repoRoot(dir: string): string {
  let d = resolve(dir);
  for (let i = 0; i < 64; i++) {
    try { statSync(join(d, '.git')); return d; } catch { /* keep going */ }
    const up = dirname(d);
    if (up === d) break;
    d = up;
  }
  return resolve(dir);
}

function toResult(f: Finding, file: string, doc: DocumentAnalysis): CheckResult {
  const lines = doc.lines;
  const s = lines.positionAt(f.start);
  const e = lines.positionAt(Math.max(f.start, f.end));
  const r: CheckResult = {
    file, line: s.line + 1, column: s.character + 1, endLine: e.line + 1, endColumn: e.character + 1,
    severity: f.severity, rule: f.rule, message: f.message, source: f.source,
    lineText: doc.text.slice(lines.starts[s.line], lines.starts[s.line + 1] ?? doc.text.length).trim(),
  };
  const fn = functionAt(doc, f.start)?.name;
  if (fn) r.function = fn;
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
  const { flags, positional } = parseArgs(args, { value: ['format', 'diff', 'fuzz'], multi: ['rule'], bool: ['help', 'verbose'] });
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
  const results: CheckResult[] = [];
  let checked = 0;
  let fixed = 0;
  if (diffSpec !== undefined) {
    // The working tree holds the new text; the diff, undone in memory, gives the old. Both sides go through the same
    // rules and only what the change introduced is reported (review's machinery, see cli/review.ts).
    const text = readPatchInput(diffSpec, cwd, opts.stdin, 'diff');
    const parsed = parseOrFail(text, diffSpec);
    const reader = treeReader(cwd);
    const patched = applyOrFail(parsed, reader, { reverse: true, fuzz: fuzzOf(flags) });
    notices.push(...patched.notes);
    for (const n of notices) io.err(`kvm-lens: note: ${n}`);
    await initParser();
    const changedAbs = new Set(patched.files.map((f) => resolve(reader.root, f.path)));
    const context = walked.files.filter((f) => !changedAbs.has(safeReal(f.abs))).map((f) => ({ path: f.display, text: f.text }));
    const review = reviewChange({ files: patched.files, context, only: only.size ? only : undefined });
    checked = review.filesAnalysed;
    for (const x of review.findings) {
      if (x.status === 'fixed') fixed++;
      if (x.status !== 'introduced') continue;
      const file = relative(cwd, resolve(reader.root, x.file)).split(sep).join('/') || x.file;
      results.push({
        file, line: x.line, column: x.column, endLine: x.endLine, endColumn: x.endColumn, severity: x.severity, rule: x.rule,
        message: x.message, source: x.source, function: x.function, lineText: x.lineText,
        ...(x.related ? { related: x.related.map((r) => ({ file, ...r })) } : {}),
      });
    }
  } else {
    for (const n of notices) io.err(`kvm-lens: note: ${n}`);
    await initParser();
    const ctx: RuleContext = { files: walked.files.map((f) => ({ path: f.display, text: f.text })) };
    for (const f of walked.files) {
      const doc = analyzeText(f.text, `file://${f.abs}`);
      try {
        for (const x of computeDiagnostics(doc, {}, only.size ? only : undefined, ctx)) results.push(toResult(x, f.display, doc));
      } finally {
        doc.tree.delete();
      }
    }
    checked = walked.files.length;
  }

  switch (format) {
    case 'json':
      io.out(JSON.stringify(results, null, 2));
      break;
    case 'sarif':
      io.out(JSON.stringify(toSarif(results, only.size ? RULES.filter((r) => only.has(r.id)) : RULES, ruleHelpBase(), VERSION, { root: repoRoot(cwd), cwd }), null, 2));
      break;
    default:
      for (const r of results) io.out(textResult(r, flags.has('verbose'), opts.columns ?? terminalColumns()));
      if (diffSpec !== undefined) io.err(`kvm-lens: ${results.length} finding${results.length === 1 ? '' : 's'} introduced, ${fixed} fixed, in ${checked} changed file${checked === 1 ? '' : 's'}`);
      else io.err(`kvm-lens: ${results.length} finding${results.length === 1 ? '' : 's'} in ${checked} file${checked === 1 ? '' : 's'} checked`);
  }
  return results.some((r) => r.severity === 'error' || r.severity === 'warning') ? 1 : 0;
}
