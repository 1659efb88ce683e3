// `kvm-lens review PATCH|- [--tree DIR] [--format text|json|sarif] [--rule ID]...`
//
// Applies a patch (git diff, format-patch mail or mbox series, or mail text as LKML shows it: quoted, whitespace
// damaged, hunks without file headers) to the tree in memory and reports which findings the patch introduces, fixes
// and leaves in the functions it touches. The tree is never written. Exit codes: 0 nothing at warning or above
// introduced, 1 something is, 2 usage or input error (including a hunk that does not apply).
import { resolve } from 'node:path';
import { initParser } from '../analysis/parser';
import { RULES } from '../features/diagnostics';
import { reviewChange, type ReviewFinding, type ReviewResult } from '../features/review/compare';
import { looksLikePatch, parsePatch, type ParsedPatch } from '../features/review/patch';
import { patchTree, PatchError, type PatchedTree, type PatchOptions, type TreeReader } from '../features/review/session';
import { ruleHelpBase } from '../docs';
import { errText, readFdBounded, readStreamOrFile } from '../workspace/fsaccess';
import { contextFiles, openTree } from '../workspace/reviewTree';
import { CliError, parseArgs, type CliIO } from './io';
import { reviewSarif, VERSION } from './sarif';
import { formatReviewText } from './reviewText';

const USAGE = 'usage: kvm-lens review PATCH|- [--tree DIR] [--format text|json|sarif] [--rule ID]... [--fuzz N] [--partial]';

export function fuzzOf(flags: Map<string, string[]>): number | undefined {
  const v = flags.get('fuzz')?.at(-1);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) > 10) throw new CliError(`--fuzz takes a number of context lines from 0 to 10, not '${v}'`);
  return Number(v);
}

/** The tree, read through workspace/reviewTree.ts; a tree that is not a readable directory is a usage error. */
export function treeReader(root: string): TreeReader & { root: string } {
  try {
    return openTree(root);
  } catch (e) {
    throw new CliError(e instanceof Error ? e.message : String(e));
  }
}

export { contextFiles };

/** Patches larger than this are refused (a diff of the whole kernel between two releases is far smaller). */
const MAX_PATCH_BYTES = 64 * 1024 * 1024;

/** Read the patch (a file, a pipe, or `-` for standard input) and check that it looks like one. */
export function readPatchInput(spec: string, cwd: string, stdin: (() => string) | undefined, what = 'patch'): string {
  let text: string;
  if (spec === '-') {
    try { text = stdin ? stdin() : readFdBounded(0, MAX_PATCH_BYTES); } catch (e) { throw new CliError(`cannot read the ${what} from standard input: ${e instanceof Error ? e.message : errText(e)}`); }
  } else {
    try { text = readStreamOrFile(resolve(cwd, spec), MAX_PATCH_BYTES); } catch (e) { throw new CliError(`cannot read ${what} '${spec}': ${e instanceof Error ? e.message : errText(e)}`); }
  }
  const shown = spec === '-' ? 'standard input' : `'${spec}'`;
  if (!text.trim()) throw new CliError(`the ${what} on ${shown} is empty`);
  if (!looksLikePatch(text)) throw new CliError(`${shown} is not a unified diff or a patch mail (no 'diff --git', '---/+++' or '@@' lines, and no quoted +/- lines)`);
  return text;
}

export function parseOrFail(text: string, spec: string): ParsedPatch {
  const parsed = parsePatch(text);
  if (!parsed.patches.some((p) => p.files.some((f) => f.hunks.length || f.oldPath === null || f.newPath === null))) {
    throw new CliError(`${spec === '-' ? 'standard input' : `'${spec}'`} has no hunk that could be read`);
  }
  return parsed;
}

export function applyOrFail(parsed: ParsedPatch, reader: TreeReader, opts: PatchOptions): PatchedTree {
  try {
    return patchTree(parsed, reader, opts);
  } catch (e) {
    if (e instanceof PatchError) throw new CliError(`${e.message}\n(--fuzz N allows more context to differ; --partial reviews the hunks that apply)`);
    throw e;
  }
}

export function ruleFilter(specs: readonly string[]): Set<string> {
  const ids = RULES.map((r) => r.id);
  const only = new Set<string>();
  for (const spec of specs) {
    for (const id of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
      if (!ids.includes(id)) throw new CliError(`unknown rule '${id}'. Rule ids: ${ids.join(', ')}`);
      only.add(id);
    }
  }
  return only;
}

export interface ReviewReport {
  tree: string;
  rejects: PatchedTree['rejects'];
  patches: Array<{ subject?: string; files: string[] }>;
  applied: PatchedTree['applied'];
  notes: string[];
  touched: ReviewResult['touched'];
  introduced: ReviewFinding[];
  fixed: ReviewFinding[];
  present: ReviewFinding[];
}

export function buildReport(tree: string, parsed: ParsedPatch, patched: PatchedTree, result: ReviewResult): ReviewReport {
  return {
    tree,
    rejects: patched.rejects,
    patches: parsed.patches.map((p) => ({
      ...(p.subject ? { subject: p.subject } : {}),
      files: [...new Set(p.files.map((f) => (f.headerless ? '(no file header)' : (f.newPath ?? f.oldPath ?? '?'))))],
    })),
    applied: patched.applied,
    notes: patched.notes,
    touched: result.touched,
    introduced: result.findings.filter((f) => f.status === 'introduced'),
    fixed: result.findings.filter((f) => f.status === 'fixed'),
    present: result.findings.filter((f) => f.status === 'present' && f.inScope),
  };
}

export interface ReviewOptions { cwd?: string; stdin?: () => string }

export async function runReview(args: string[], io: CliIO, opts: ReviewOptions = {}): Promise<number> {
  const { flags, positional } = parseArgs(args, { value: ['format', 'tree', 'fuzz'], multi: ['rule'], bool: ['help', 'partial'] });
  if (flags.has('help')) { io.out(USAGE); return 0; }
  const format = flags.get('format')?.at(-1) ?? 'text';
  if (!['text', 'json', 'sarif'].includes(format)) throw new CliError(`unknown format '${format}' (expected text, json or sarif)\n${USAGE}`);
  if (positional.length !== 1) throw new CliError(`${positional.length ? 'give one PATCH' : 'no PATCH given'}\n${USAGE}`);
  const only = ruleFilter(flags.get('rule') ?? []);
  const cwd = opts.cwd ?? process.cwd();
  const spec = positional[0];
  const text = readPatchInput(spec, cwd, opts.stdin);
  const parsed = parseOrFail(text, spec);
  const reader = treeReader(resolve(cwd, flags.get('tree')?.at(-1) ?? '.'));
  const patched = applyOrFail(parsed, reader, { fuzz: fuzzOf(flags), partial: flags.has('partial') });
  for (const n of patched.notes) io.err(`kvm-lens: note: ${n}`);
  for (const r of patched.rejects) io.err(`kvm-lens: skipped: ${r.path}: hunk ${r.index} of ${r.count} (${r.header}, input line ${r.inputLine}) does not apply: ${r.detail}`);
  if (!patched.files.length) throw new CliError('the patch changes nothing in the tree (every hunk was skipped)');
  await initParser();
  const context = contextFiles(reader, patched.files.map((f) => f.path));
  const result = reviewChange({ files: patched.files, context, only });
  const report = buildReport(reader.root, parsed, patched, result);
  switch (format) {
    case 'json': io.out(JSON.stringify(report, null, 2)); break;
    case 'sarif': io.out(JSON.stringify(reviewSarif(report, only.size ? RULES.filter((r) => only.has(r.id)) : RULES, ruleHelpBase()), null, 2)); break;
    default: io.out(formatReviewText(report));
  }
  return report.introduced.some((f) => f.severity === 'error' || f.severity === 'warning') ? 1 : 0;
}
