// `kvm-lens stats PATH... [--json] [--slowest N]` — like rust-analyzer's analysis-stats: runs the whole analysis
// (parse, facts, every rule) over every .c/.h under PATH and reports files, lines, field references by form,
// findings per rule, parse-error nodes, time, and every internal error (an exception in the analysis or in a rule)
// with the analysed file and the kvm-lens source location that threw. Each file and each rule is isolated: one
// failure never stops the run.
//
// Exit codes: 0 the run completed without internal errors, 1 internal errors occurred (listed), 2 usage or input
// error (missing path, unreadable directory, nothing to analyse).
import { initParser, parseC } from '../analysis/parser';
import { countParseErrors, fullAnalysis } from '../analysis/incremental';
import type { DocumentAnalysis } from '../analysis/document';
import type { RefForm } from '../analysis/refs';
import { RULES, computeDiagnostics, onInternalError } from '../features/diagnostics';
import type { RuleContext } from '../features/findings';
import { collectFiles, type InputFile } from './files';
import { CliError, parseArgs, type CliIO } from './io';

const USAGE = 'usage: kvm-lens stats PATH... [--json] [--slowest N]';

export interface InternalError {
  file: string;
  /** 1-based line in the analysed file when known (0 = the whole file). */
  line: number;
  phase: 'parse' | 'analysis' | 'rule';
  rule?: string;
  message: string;
  /** Where in kvm-lens it was thrown (first stack frame). */
  at?: string;
}

export interface StatsReport {
  paths: string[];
  files: number;
  lines: number;
  bytes: number;
  functions: number;
  refs: { total: number; inComments: number; byForm: Partial<Record<RefForm, number>> };
  findings: { total: number; byRule: Record<string, number> };
  parseErrors: { nodes: number; files: number };
  timeMs: { total: number; parse: number; analysis: number; rules: number; byRule: Record<string, number> };
  slowest: Array<{ file: string; ms: number; lines: number }>;
  skipped: string[];
  internalErrors: InternalError[];
}

function frameOf(e: unknown): string | undefined {
  if (!(e instanceof Error) || !e.stack) return undefined;
  for (const l of e.stack.split('\n').slice(1)) {
    const m = /\(?((?:[^()\s]+)):(\d+):(\d+)\)?\s*$/.exec(l.trim());
    if (m && !m[1].startsWith('node:')) return `${m[1].replace(/^.*?(server\/src\/|dist\/)/, '$1')}:${m[2]}`;
  }
  return undefined;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? `${e.name === 'Error' ? '' : `${e.name}: `}${e.message}` : String(e);
}

function countLines(text: string): number {
  if (!text) return 0;
  let n = 1;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return text.endsWith('\n') ? n - 1 : n;
}

/** Analyse files (already read) and build the report. Never throws for a bad file. */
export async function statsOf(files: InputFile[], paths: string[], skipped: string[] = [], slowestN = 10): Promise<StatsReport> {
  await initParser();
  const report: StatsReport = {
    paths, files: 0, lines: 0, bytes: 0, functions: 0,
    refs: { total: 0, inComments: 0, byForm: {} },
    findings: { total: 0, byRule: Object.fromEntries(RULES.map((r) => [r.id, 0])) },
    parseErrors: { nodes: 0, files: 0 },
    timeMs: { total: 0, parse: 0, analysis: 0, rules: 0, byRule: Object.fromEntries(RULES.map((r) => [r.id, 0])) },
    slowest: [], skipped, internalErrors: [],
  };
  const perFile: Array<{ file: string; ms: number; lines: number }> = [];
  const ctx: RuleContext = { files: files.map((f) => ({ path: f.display, text: f.text })) };
  let current = '';
  onInternalError((rule, e) => {
    report.internalErrors.push({ file: current, line: 0, phase: 'rule', rule: rule.id, message: messageOf(e), at: frameOf(e) });
  });
  const t0 = performance.now();
  try {
    for (const f of files) {
      current = f.display;
      const lines = countLines(f.text);
      report.files++;
      report.lines += lines;
      report.bytes += f.text.length;
      const fileStart = performance.now();
      let tree;
      try {
        const a = performance.now();
        tree = parseC(f.text);
        report.timeMs.parse += performance.now() - a;
      } catch (e) {
        report.internalErrors.push({ file: f.display, line: 0, phase: 'parse', message: messageOf(e), at: frameOf(e) });
        continue;
      }
      try {
        let doc: DocumentAnalysis;
        try {
          const a = performance.now();
          doc = fullAnalysis(f.text, `file://${f.abs}`, tree);
          report.timeMs.analysis += performance.now() - a;
        } catch (e) {
          report.internalErrors.push({ file: f.display, line: 0, phase: 'analysis', message: messageOf(e), at: frameOf(e) });
          continue;
        }
        report.functions += doc.functions.length;
        for (const r of doc.refs) {
          if (r.inComment) { report.refs.inComments++; continue; }
          report.refs.total++;
          report.refs.byForm[r.form] = (report.refs.byForm[r.form] ?? 0) + 1;
        }
        try {
          const n = countParseErrors(tree);
          report.parseErrors.nodes += n;
          if (n) report.parseErrors.files++;
        } catch (e) {
          report.internalErrors.push({ file: f.display, line: 0, phase: 'analysis', message: `counting parse errors: ${messageOf(e)}`, at: frameOf(e) });
        }
        for (const rule of RULES) {
          const a = performance.now();
          try {
            // computeDiagnostics isolates the rule (its exceptions reach onInternalError above) and applies the
            // disable comments, exactly as `check` and the editor do.
            const found = computeDiagnostics(doc, {}, new Set([rule.id]), ctx);
            report.findings.byRule[rule.id] = (report.findings.byRule[rule.id] ?? 0) + found.length;
            report.findings.total += found.length;
          } catch (e) {
            report.internalErrors.push({ file: f.display, line: 0, phase: 'rule', rule: rule.id, message: messageOf(e), at: frameOf(e) });
          }
          const ms = performance.now() - a;
          report.timeMs.rules += ms;
          report.timeMs.byRule[rule.id] = (report.timeMs.byRule[rule.id] ?? 0) + ms;
        }
      } finally {
        tree.delete();
      }
      perFile.push({ file: f.display, ms: performance.now() - fileStart, lines });
    }
  } finally {
    onInternalError(undefined);
  }
  report.timeMs.total = performance.now() - t0;
  perFile.sort((a, b) => b.ms - a.ms);
  report.slowest = perFile.slice(0, slowestN).map((p) => ({ ...p, ms: round(p.ms) }));
  for (const k of ['total', 'parse', 'analysis', 'rules'] as const) report.timeMs[k] = round(report.timeMs[k]);
  for (const k of Object.keys(report.timeMs.byRule)) report.timeMs.byRule[k] = round(report.timeMs.byRule[k]);
  return report;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

export function formatStats(r: StatsReport): string {
  const out: string[] = [];
  const pad = (s: string | number, n: number): string => String(s).padStart(n);
  out.push(`kvm-lens stats ${r.paths.join(' ')}`);
  out.push(`files           ${pad(r.files, 8)}   (${r.skipped.length} skipped)`);
  out.push(`lines           ${pad(r.lines, 8)}`);
  out.push(`functions       ${pad(r.functions, 8)}`);
  out.push(`field refs      ${pad(r.refs.total, 8)}   (+${r.refs.inComments} in comments)`);
  for (const [form, n] of Object.entries(r.refs.byForm).sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0))) out.push(`  ${form.padEnd(14)}${pad(n ?? 0, 8)}`);
  out.push(`findings        ${pad(r.findings.total, 8)}`);
  for (const [rule, n] of Object.entries(r.findings.byRule)) out.push(`  ${rule.padEnd(22)}${pad(n, 6)}   ${pad(r.timeMs.byRule[rule]?.toFixed(1) ?? '0.0', 8)} ms`);
  out.push(`parse errors    ${pad(r.parseErrors.nodes, 8)}   ERROR/MISSING nodes in ${r.parseErrors.files} files`);
  out.push(`time            ${pad(r.timeMs.total.toFixed(0), 8)} ms   (parse ${r.timeMs.parse.toFixed(0)}, facts ${r.timeMs.analysis.toFixed(0)}, rules ${r.timeMs.rules.toFixed(0)})`);
  if (r.slowest.length) {
    out.push('slowest files');
    for (const s of r.slowest.slice(0, 5)) out.push(`  ${pad(s.ms.toFixed(1), 8)} ms  ${s.file} (${s.lines} lines)`);
  }
  out.push(`internal errors ${pad(r.internalErrors.length, 8)}`);
  for (const e of r.internalErrors) {
    out.push(`  ${e.file}:${e.line}: ${e.phase}${e.rule ? ` ${e.rule}` : ''}: ${e.message}${e.at ? ` (at ${e.at})` : ''}`);
  }
  return out.join('\n');
}

export async function runStats(args: string[], io: CliIO): Promise<number> {
  const { flags, positional } = parseArgs(args, { bool: ['json', 'help'], value: ['slowest'] });
  if (flags.has('help')) {
    io.out(`${USAGE}\n\nAnalyses every .c/.h under PATH and reports files, lines, field references by form, findings per rule,\nparse-error nodes, time and internal errors.\nExit codes: 0 no internal errors, 1 internal errors (listed), 2 usage or input error.`);
    return 0;
  }
  if (!positional.length) throw new CliError(`no PATH given\n${USAGE}`);
  const slowestArg = flags.get('slowest')?.at(-1);
  const slowest = slowestArg === undefined ? 10 : Number(slowestArg);
  if (!Number.isInteger(slowest) || slowest < 0) throw new CliError(`--slowest needs a non-negative integer, got '${slowestArg}'`);
  // Stack traces of internal errors should name the TypeScript sources.
  try { process.setSourceMapsEnabled(true); } catch { /* older node */ }
  const walked = collectFiles(positional);
  if (!walked.files.length) {
    for (const n of walked.notices) io.err(`kvm-lens: note: ${n}`);
    throw new CliError(`no .c or .h files to analyse under ${positional.map((p) => `'${p}'`).join(', ')}`);
  }
  const report = await statsOf(walked.files, positional, walked.notices, slowest);
  if (flags.has('json')) io.out(JSON.stringify(report, null, 2));
  else {
    for (const n of walked.notices) io.err(`kvm-lens: note: ${n}`);
    io.out(formatStats(report));
  }
  return report.internalErrors.length ? 1 : 0;
}
