// Input files for `kvm-lens check`: walking directories (.c/.h), .gitignore, binary/huge files, symlink loops.
//
// Reading goes through workspace/fsaccess.ts (regular files only, bounded reads, each directory once).
//
// .gitignore support is the common subset: blank lines and `#` comments skipped; `!` negates; a trailing `/`
// matches directories only; a pattern with a `/` before its end is anchored to the .gitignore's directory, otherwise
// it matches a name at any depth; `*` and `?` do not cross `/`, `**` does; the last matching pattern wins, deeper
// .gitignore files after shallower ones. The .gitignore files of the enclosing repository (up to the directory that
// holds `.git`) apply too. `.git` directories are never entered.
import { statSync, type Stats } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { CliError } from './io';
import { isIgnored, parseGitignore, type IgnoreRules } from '../workspace/glob';
import { errText, MAX_SOURCE_BYTES, readSourceFile, walkTree } from '../workspace/fsaccess';

/** Files larger than this are skipped with a notice (same limit as the editor's analysis). */
export const MAX_FILE_BYTES = MAX_SOURCE_BYTES;
const SOURCE_EXT = /\.(c|h)$/;

/** The .gitignore of `dir` (rules keyed by the absolute directory; glob.ts does the matching). */
function readIgnore(dir: string): IgnoreRules[] {
  const r = readSourceFile(join(dir, '.gitignore'), 1024 * 1024);
  return r.ok ? [parseGitignore(dir.split(sep).join('/'), r.text)] : [];
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

/**
 * Read one file the user named (or a walk or a diff found): only regular files are opened; NUL bytes → binary,
 * > MAX_FILE_BYTES → huge, devices/FIFOs/sockets → not a regular file (all skipped with a notice); a missing or
 * unreadable file → CliError. See workspace/fsaccess.ts for the rules.
 */
export function readInput(abs: string, shown: string): { text?: string; notice?: string } {
  const r = readSourceFile(abs, MAX_FILE_BYTES);
  if (r.ok) return { text: r.text };
  switch (r.kind) {
    case 'too-large': return { notice: `skipping '${shown}': ${r.reason}` };
    case 'binary': return { notice: `skipping '${shown}': ${r.reason}` };
    case 'not-regular': return { notice: `skipping '${shown}': ${r.reason}` };
    default: throw new CliError(`cannot read '${shown}': ${r.reason}`);
  }
}

export { errText };

/** Collect the input files of `paths` (files as given; directories walked for .c/.h). */
export function collectFiles(paths: readonly string[], cwd = process.cwd()): WalkResult {
  const files: InputFile[] = [];
  const notices: string[] = [];
  const seenFiles = new Set<string>();
  const add = (abs: string, shown: string, key: string): void => {
    if (seenFiles.has(key)) return;
    seenFiles.add(key);
    const r = readInput(abs, shown);
    if (r.notice) notices.push(r.notice);
    else if (r.text !== undefined) files.push({ display: display(abs, cwd), abs, text: r.text });
  };
  for (const p of paths) {
    const abs = resolve(cwd, p);
    let st: Stats;
    try {
      st = statSync(abs);
    } catch (e) {
      throw new CliError(`cannot read '${p}': ${errText(e)}`);
    }
    if (!st.isDirectory()) {
      add(abs, p, `${st.dev}:${st.ino}`);
      continue;
    }
    // Directories: .gitignore rules per directory (inherited downwards), every directory entered once.
    const rulesOf = new Map<string, IgnoreRules[]>([[abs, [...ancestorRules(abs), ...readIgnore(abs)]]]);
    const parentRules = (path: string): IgnoreRules[] => rulesOf.get(dirname(path)) ?? [];
    walkTree(abs, {
      enterDir(path) {
        if (path === abs) return true;
        const inherited = parentRules(path);
        if (ignored(inherited, path, true)) return false;
        rulesOf.set(path, [...inherited, ...readIgnore(path)]);
        return true;
      },
      file({ path, name, stats }) {
        if (!SOURCE_EXT.test(name) || ignored(parentRules(path), path, false)) return;
        add(path, display(path, cwd), `${stats.dev}:${stats.ino}`);
      },
      skip(path, reason) {
        if (/not a regular file$/.test(reason) && !SOURCE_EXT.test(path)) return;
        notices.push(`skipping '${display(path, cwd)}': ${reason}`);
      },
      dirError(path, e, depth) {
        // A PATH the user named must be readable; a subdirectory found while walking is skipped with a notice.
        if (depth === 0) throw new CliError(`cannot read directory '${display(path, cwd)}': ${errText(e)}`);
        notices.push(`skipping directory '${display(path, cwd)}': ${errText(e)}`);
      },
    });
  }
  return { files, notices };
}

/** Peek whether a file starts like a unified diff (for friendlier errors on `--diff`). */
export function looksLikeDiff(text: string): boolean {
  return /^(diff --git |--- |\+\+\+ |@@ )/m.test(text);
}

