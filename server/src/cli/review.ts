// `kvm-lens review PATCH|- [--tree DIR] [--format text|json|sarif] [--rule ID]...`
//
// Applies a patch (git diff, format-patch mail or mbox series, or mail text as LKML shows it: quoted, whitespace
// damaged, hunks without file headers) to the tree in memory and reports which findings the patch introduces, fixes
// and leaves in the functions it touches. The tree is never written. Exit codes: 0 nothing at warning or above
// introduced, 1 something is, 2 usage or input error (including a hunk that does not apply).
import { readdirSync, readFileSync, realpathSync, statSync, lstatSync, type Stats } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep, dirname } from 'node:path';
import { initParser } from '../analysis/parser';
import { RULES } from '../features/diagnostics';
import { reviewChange, type ReviewFinding, type ReviewResult } from '../features/review/compare';
import { looksLikePatch, parsePatch, type ParsedPatch } from '../features/review/patch';
import { patchTree, PatchError, type PatchedTree, type PatchOptions, type TreeReader } from '../features/review/session';
import { ruleHelpBase } from '../docs';
import { collectFiles, errText, readInput } from './files';
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

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * Read files of `root` named by a patch: tree-relative paths only, no `..`, regular files only (a diff may name
 * /dev/zero or a FIFO), symlinks only when they stay inside the tree, then the size/binary checks of files.ts.
 */
export function treeReader(root: string): TreeReader & { root: string } {
  let realRoot: string;
  try {
    realRoot = realpathSync(root);
    if (!statSync(realRoot).isDirectory()) throw new CliError(`--tree '${root}' is not a directory`);
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`cannot read the tree '${root}': ${errText(e)}`);
  }
  let listed: string[] | undefined;
  return {
    root: realRoot,
    read(rel: string): string | undefined {
      if (!rel || isAbsolute(rel) || rel.split('/').includes('..')) return undefined;
      const abs = join(realRoot, rel);
      let lst: Stats;
      try {
        lst = lstatSync(abs);
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
        throw new CliError(`cannot read '${rel}': ${errText(e)}`);
      }
      let real: string;
      try {
        real = realpathSync(abs);
      } catch (e) {
        throw new CliError(`cannot read '${rel}': ${errText(e)}`);
      }
      if (real !== realRoot && !real.startsWith(realRoot + sep)) throw new CliError(`'${rel}' resolves outside the tree (symbolic link to ${real}); not read`);
      const st = lst.isSymbolicLink() ? statSync(real) : lst;
      if (!st.isFile()) throw new CliError(`'${rel}' is ${kindOf(st)}; only regular files are read`);
      const r = readInput(real, rel, st);
      if (r.notice) throw new CliError(r.notice);
      return r.text;
    },
    list(): string[] {
      listed ??= collectFiles([realRoot], realRoot).files.map((f) => relative(realRoot, f.abs).split(sep).join('/'));
      return listed;
    },
  };
}

/** Unchanged .c/.h files next to the patched ones (their directory and its parent): cross-file facts for the rules. */
export function contextFiles(reader: TreeReader & { root: string }, patched: readonly string[], limit = 400): Array<{ path: string; text: string }> {
  const dirs = new Set<string>();
  for (const p of patched) {
    const d = dirname(p);
    dirs.add(d);
    if (d !== '.') dirs.add(dirname(d));
  }
  const out: Array<{ path: string; text: string }> = [];
  const skip = new Set(patched);
  for (const d of dirs) {
    let names: string[];
    try { names = readdirSync(join(reader.root, d)).sort(); } catch { continue; }
    for (const n of names) {
      if (!/\.(c|h)$/.test(n) || out.length >= limit) continue;
      const rel = d === '.' ? n : `${d}/${n}`;
      if (skip.has(rel)) continue;
      try {
        const text = reader.read(rel);
        if (text !== undefined) out.push({ path: rel, text });
      } catch { /* FIFOs, huge or binary neighbours are not context */ }
    }
  }
  return out;
}

export function readPatchInput(spec: string, stdin: () => string, what = 'patch'): string {
  let text: string;
  if (spec === '-') {
    try { text = stdin(); } catch (e) { throw new CliError(`cannot read the ${what} from standard input: ${errText(e)}`); }
  } else {
    let st: Stats;
    try { st = statSync(spec); } catch (e) { throw new CliError(`cannot read ${what} '${spec}': ${errText(e)}`); }
    if (!st.isFile()) throw new CliError(`${what} '${spec}' is ${kindOf(st)}; give a regular file or - for standard input`);
    const r = readInput(spec, spec, st);
    if (r.notice) throw new CliError(r.notice);
    text = r.text ?? '';
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
  const text = readPatchInput(spec === '-' ? '-' : resolve(cwd, spec), opts.stdin ?? (() => readFileSync(0, 'utf8')));
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
