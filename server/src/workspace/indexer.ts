// Workspace indexing: find the files the include globs name (respecting files.exclude and .gitignore), parse
// each and extract FileFacts. Runs in a worker thread inside the server (runIndexWorker) so that hovers and
// diagnostics on the main thread never wait behind it; the walk and per-file work are plain functions.
import { readdirSync, statSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { parentPort } from 'node:worker_threads';
import { initParser, parseC } from '../analysis/parser';
import { countParseErrors } from '../analysis/incremental';
import { factsOf, type FileFacts } from '../analysis/workspace';
import { readSourceFile } from './fsaccess';
import { expandBraces, globToRegExp, isIgnored, parseGitignore, staticPrefix, type IgnoreRules } from './glob';

export const DEFAULT_INCLUDE = [
  'arch/x86/kvm/**/*.{c,h}',
  'arch/x86/include/asm/{vmx,svm,msr-index,vmxfeatures}.h',
  'arch/x86/include/uapi/asm/{vmx,svm}.h',
];

export interface IndexRequest {
  root: string;
  include: string[];
  /** files.exclude globs (those set to true). */
  exclude: string[];
  /** Only these workspace-relative paths (re-index after saves); otherwise walk the globs. */
  only?: string[];
  maxFiles?: number;
  maxFileBytes?: number;
}

export type IndexMessage =
  | { type: 'start'; total: number }
  | { type: 'files'; facts: FileFacts[]; done: number; total: number }
  | { type: 'skipped'; path: string; reason: string }
  | { type: 'done'; files: number; lines: number; ms: number; errors: string[] };

const DEFAULT_MAX_FILES = 20000;
const DEFAULT_MAX_FILE_BYTES = 4 * 1024 * 1024;

/** Workspace-relative paths of the files to index, sorted. Never follows directory symlinks. */
export function listIndexFiles(req: IndexRequest): { files: string[]; errors: string[] } {
  const errors: string[] = [];
  const globs = req.include.flatMap(expandBraces).filter((g) => g && !g.startsWith('/') && !g.split('/').includes('..'));
  const include = globs.map(globToRegExp);
  const exclude = req.exclude.flatMap(expandBraces).map(globToRegExp);
  const max = req.maxFiles ?? DEFAULT_MAX_FILES;
  const found = new Set<string>();
  const ignoreCache = new Map<string, IgnoreRules | null>();
  const gitignoreOf = (dir: string): IgnoreRules | null => {
    let g = ignoreCache.get(dir);
    if (g === undefined) {
      try {
        const r = readSourceFile(join(req.root, dir, '.gitignore'), 1024 * 1024);
        g = r.ok ? parseGitignore(dir, r.text) : null;
      } catch {
        g = null;
      }
      ignoreCache.set(dir, g);
    }
    return g;
  };
  const stackFor = (dir: string): IgnoreRules[] => {
    const out: IgnoreRules[] = [];
    const parts = dir ? dir.split('/') : [];
    for (let i = 0; i <= parts.length; i++) {
      const g = gitignoreOf(parts.slice(0, i).join('/'));
      if (g) out.push(g);
    }
    return out;
  };
  const excluded = (rel: string, isDir: boolean, stack: IgnoreRules[]): boolean =>
    exclude.some((r) => r.test(rel)) || isIgnored(stack, rel, isDir);
  const wanted = (rel: string): boolean => include.some((r) => r.test(rel));

  const starts = new Set(globs.map(staticPrefix));
  for (const start of starts) {
    // Ancestors of the walk root must not be excluded either.
    const parts = start ? start.split('/') : [];
    let blocked = false;
    for (let i = 1; i < parts.length && !blocked; i++) {
      const anc = parts.slice(0, i).join('/');
      blocked = excluded(anc, true, stackFor(parts.slice(0, i - 1).join('/')));
    }
    if (blocked) continue;
    let st;
    try {
      st = statSync(join(req.root, start));
    } catch {
      continue; // a glob naming a file or folder that does not exist
    }
    if (st.isFile()) {
      if (wanted(start) && !excluded(start, false, stackFor(parts.slice(0, -1).join('/')))) found.add(start);
      continue;
    }
    if (!st.isDirectory()) continue;
    const work = [start];
    while (work.length && found.size < max) {
      const dir = work.pop()!;
      let entries: Dirent[];
      try {
        entries = readdirSync(join(req.root, dir), { withFileTypes: true });
      } catch (e) {
        errors.push(`${dir || '.'}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
        continue;
      }
      const stack = stackFor(dir);
      for (const ent of entries) {
        const rel = dir ? `${dir}/${ent.name}` : ent.name;
        if (ent.isDirectory()) {
          if (!excluded(rel, true, stack)) work.push(rel);
        } else if (ent.isFile() || ent.isSymbolicLink()) {
          if (!wanted(rel) || excluded(rel, false, stack)) continue;
          if (ent.isSymbolicLink()) {
            try {
              if (!statSync(join(req.root, rel)).isFile()) continue;
            } catch {
              continue; // dangling link
            }
          }
          found.add(rel);
          if (found.size >= max) {
            errors.push(`more than ${max} files match kvmLens.index.include; indexing the first ${max}`);
            break;
          }
        }
      }
    }
  }
  return { files: [...found].sort(), errors };
}

/** Parse and extract the facts of one file (parser must be initialised). */
export function indexOneFile(root: string, rel: string, maxBytes = DEFAULT_MAX_FILE_BYTES): FileFacts | string {
  const r = readSourceFile(join(root, rel), maxBytes);
  if (!r.ok) return `${rel}: ${r.reason}, not indexed`;
  const text = r.text;
  const tree = parseC(text);
  try {
    return factsOf(rel, text, tree, countParseErrors(tree));
  } finally {
    tree.delete();
  }
}

/** Worker-thread entry: receives one IndexRequest, posts IndexMessages, then exits. */
export function runIndexWorker(req: IndexRequest): void {
  const port = parentPort;
  if (!port) return;
  void (async () => {
    const t0 = performance.now();
    const errors: string[] = [];
    let lines = 0;
    let count = 0;
    try {
      await initParser();
      const listed = req.only ? { files: req.only, errors: [] } : listIndexFiles(req);
      errors.push(...listed.errors);
      const total = listed.files.length;
      port.postMessage({ type: 'start', total } satisfies IndexMessage);
      let batch: FileFacts[] = [];
      let lastPost = performance.now();
      for (let i = 0; i < total; i++) {
        let r: FileFacts | string;
        try {
          r = indexOneFile(req.root, listed.files[i], req.maxFileBytes);
        } catch (e) {
          r = `${listed.files[i]}: internal error: ${e instanceof Error ? e.message : String(e)}`;
        }
        if (typeof r === 'string') errors.push(r);
        else {
          batch.push(r);
          lines += r.lines;
          count++;
        }
        if (batch.length >= 25 || performance.now() - lastPost > 100 || i === total - 1) {
          port.postMessage({ type: 'files', facts: batch, done: i + 1, total } satisfies IndexMessage);
          batch = [];
          lastPost = performance.now();
        }
      }
    } catch (e) {
      errors.push(`indexer: ${e instanceof Error ? e.message : String(e)}`);
    }
    port.postMessage({ type: 'done', files: count, lines, ms: Math.round(performance.now() - t0), errors } satisfies IndexMessage);
  })();
}
