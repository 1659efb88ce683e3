// Input files for `kvm-lens check`: walking directories (.c/.h), .gitignore, binary/huge files, symlink loops.
//
// .gitignore support is the common subset: blank lines and `#` comments skipped; `!` negates; a trailing `/`
// matches directories only; a pattern with a `/` before its end is anchored to the .gitignore's directory, otherwise
// it matches a name at any depth; `*` and `?` do not cross `/`, `**` does; the last matching pattern wins, deeper
// .gitignore files after shallower ones. The .gitignore files of the enclosing repository (up to the directory that
// holds `.git`) apply too. `.git` directories are never entered.
import { lstatSync, readFileSync, readdirSync, realpathSync, statSync, type Stats } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { CliError } from './io';
import { isIgnored, parseGitignore, type IgnoreRules } from '../workspace/glob';

/** Files larger than this are skipped with a notice (same limit as the editor's analysis). */
export const MAX_FILE_BYTES = 8 * 1024 * 1024;
const SOURCE_EXT = /\.(c|h)$/;

/** The .gitignore of `dir` (rules keyed by the absolute directory; glob.ts does the matching). */
function readIgnore(dir: string): IgnoreRules[] {
  try {
    return [parseGitignore(dir.split(sep).join('/'), readFileSync(join(dir, '.gitignore'), 'utf8'))];
  } catch {
    return [];
  }
}

function ignored(stack: readonly IgnoreRules[], abs: string, isDir: boolean): boolean {
  return isIgnored(stack as IgnoreRules[], abs.split(sep).join('/'), isDir);
}

/** .gitignore rules of the enclosing repository, from its root down to (excluding) `dir`. */
function ancestorRules(dir: string): IgnoreRules[] {
  const chain: string[] = [];
  let d = dirname(dir);
  for (let i = 0; i < 32; i++) {
    chain.push(d);
    let isRoot = false;
    try { isRoot = statSync(join(d, '.git')).isDirectory() || statSync(join(d, '.git')).isFile(); } catch { /* not a repo root */ }
    if (isRoot) break;
    const up = dirname(d);
    if (up === d) return []; // no repository above: outside rules do not apply
    d = up;
  }
  return chain.reverse().flatMap(readIgnore);
}

export interface InputFile {
  /** Path as shown in output (relative to cwd when inside it, else absolute). */
  display: string;
  abs: string;
  text: string;
}

export interface WalkResult { files: InputFile[]; notices: string[] }

function display(abs: string, cwd: string): string {
  const rel = relative(cwd, abs);
  return rel && !rel.startsWith('..') && !rel.startsWith(sep) ? rel.split(sep).join('/') : abs;
}

/** Read one file: NUL bytes → binary, > MAX_FILE_BYTES → huge (both skipped with a notice); errors → CliError. */
export function readInput(abs: string, shown: string, st?: Stats): { text?: string; notice?: string } {
  let stats = st;
  try {
    stats ??= statSync(abs);
  } catch (e) {
    throw new CliError(`cannot read '${shown}': ${errText(e)}`);
  }
  if (stats.size > MAX_FILE_BYTES) return { notice: `skipping '${shown}': larger than 8 MiB (${stats.size} bytes)` };
  let buf: Buffer;
  try {
    buf = readFileSync(abs);
  } catch (e) {
    throw new CliError(`cannot read '${shown}': ${errText(e)}`);
  }
  if (buf.includes(0)) return { notice: `skipping '${shown}': binary file (contains NUL bytes)` };
  return { text: buf.toString('utf8') };
}

export function errText(e: unknown): string {
  const code = (e as { code?: string } | null)?.code;
  switch (code) {
    case 'ENOENT': return 'no such file or directory';
    case 'EACCES': case 'EPERM': return 'permission denied';
    case 'EISDIR': return 'is a directory';
    case 'ENOTDIR': return 'not a directory';
    case 'ELOOP': return 'too many levels of symbolic links';
    default: return e instanceof Error ? e.message.replace(/^[A-Z]+: /, '') : String(e);
  }
}

/** Collect the input files of `paths` (files as given; directories walked for .c/.h). */
export function collectFiles(paths: readonly string[], cwd = process.cwd()): WalkResult {
  const files: InputFile[] = [];
  const notices: string[] = [];
  const seenFiles = new Set<string>();
  for (const p of paths) {
    const abs = resolve(cwd, p);
    let st: Stats;
    try {
      st = statSync(abs);
    } catch (e) {
      throw new CliError(`cannot read '${p}': ${errText(e)}`);
    }
    if (st.isDirectory()) {
      walkDir(abs, ancestorRules(abs), cwd, files, notices, seenFiles, new Set());
    } else {
      const real = safeReal(abs);
      if (seenFiles.has(real)) continue;
      seenFiles.add(real);
      const r = readInput(abs, p, st);
      if (r.notice) notices.push(r.notice);
      else if (r.text !== undefined) files.push({ display: display(abs, cwd), abs, text: r.text });
    }
  }
  return { files, notices };
}

function safeReal(p: string): string {
  try { return realpathSync(p); } catch { return p; }
}

function walkDir(dir: string, inherited: IgnoreRules[], cwd: string, files: InputFile[], notices: string[], seenFiles: Set<string>, activeDirs: Set<string>, depth = 0): void {
  const real = safeReal(dir);
  if (activeDirs.has(real)) {
    notices.push(`skipping '${display(dir, cwd)}': symbolic link loop`);
    return;
  }
  activeDirs.add(real);
  const rules = [...inherited, ...readIgnore(dir)];
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (e) {
    activeDirs.delete(real);
    // A PATH the user named must be readable; a subdirectory found while walking is skipped with a notice.
    if (depth === 0) throw new CliError(`cannot read directory '${display(dir, cwd)}': ${errText(e)}`);
    notices.push(`skipping directory '${display(dir, cwd)}': ${errText(e)}`);
    return;
  }
  for (const name of names) {
    if (name === '.git') continue;
    const abs = join(dir, name);
    let lst: Stats;
    try { lst = lstatSync(abs); } catch { continue; }
    let st = lst;
    if (lst.isSymbolicLink()) {
      try { st = statSync(abs); } catch { notices.push(`skipping '${display(abs, cwd)}': broken symbolic link`); continue; }
    }
    if (st.isDirectory()) {
      if (ignored(rules, abs, true)) continue;
      walkDir(abs, rules, cwd, files, notices, seenFiles, activeDirs, depth + 1);
    } else if (st.isFile() && SOURCE_EXT.test(name)) {
      if (ignored(rules, abs, false)) continue;
      const realFile = safeReal(abs);
      if (seenFiles.has(realFile)) continue;
      seenFiles.add(realFile);
      const shown = display(abs, cwd);
      const r = readInput(abs, shown, st);
      if (r.notice) notices.push(r.notice);
      else if (r.text !== undefined) files.push({ display: shown, abs, text: r.text });
    }
  }
  activeDirs.delete(real);
}

/** Peek whether a file starts like a unified diff (for friendlier errors on `--diff`). */
export function looksLikeDiff(text: string): boolean {
  return /^(diff --git |--- |\+\+\+ |@@ )/m.test(text);
}

