// The editor-independent half of "Review Working Changes": which files changed against HEAD (git), and the text
// written to the output channel. No vscode import, so unit tests run it against a real git repository.
import { execFile } from 'node:child_process';
import { isAbsolute, join } from 'node:path';
import type { ReviewReply, ReviewRequestFile } from '../../server/src/protocol/review';
import type { ReviewFinding } from '../../server/src/features/review/compare';

const MAX_GIT_OUTPUT = 16 * 1024 * 1024;

export type Git = (args: string[], cwd: string) => Promise<string>;

export const git: Git = (args, cwd) => new Promise((resolve, reject) => {
  execFile('git', args, { cwd, maxBuffer: MAX_GIT_OUTPUT, encoding: 'utf8', windowsHide: true }, (err, stdout, stderr) => {
    if (err) reject(new Error((stderr || err.message).trim().split('\n')[0]));
    else resolve(stdout);
  });
});

/** The files a review needs: changed and untracked .c/.h files, old side from HEAD, new side from open editors. */
export async function collectChanges(top: string, run: Git, openText: (abs: string) => string | undefined): Promise<ReviewRequestFile[]> {
  const split = (s: string): string[] => s.split('\0').filter(Boolean);
  let headless = false;
  try { await run(['rev-parse', '--verify', '--quiet', 'HEAD'], top); } catch { headless = true; }
  const changed = headless ? [] : split(await run(['diff', 'HEAD', '--no-ext-diff', '--name-only', '-z', '--no-renames', '--', '*.c', '*.h'], top));
  const untracked = split(await run(['ls-files', '--others', '--exclude-standard', '-z', '--', '*.c', '*.h'], top));
  const files: ReviewRequestFile[] = [];
  for (const path of [...new Set([...changed, ...untracked])]) {
    let before: string | null = null;
    if (!headless && changed.includes(path)) {
      try { before = await run(['show', `HEAD:${path}`], top); } catch { before = null; }
    }
    const open = openText(join(top, path));
    files.push(open === undefined ? { path, before } : { path, before, after: open });
  }
  return files;
}

function line(f: ReviewFinding, top: string): string {
  const where = `${isAbsolute(f.file) ? f.file : join(top, f.file)}:${f.line}:${f.column}`;
  const short = f.message.replace(/\s*\[[^\]]*\]\s*$/, '');
  return `  ${where}: ${f.severity}: ${f.rule}${f.function ? ` in ${f.function}()` : ''}\n      ${short.length > 200 ? `${short.slice(0, 197)}...` : short}`;
}

export function renderReview(r: ReviewReply, top: string): string {
  const out = [`Review of the working changes against HEAD in ${top}`];
  for (const t of r.touched) if (t.functions.length) out.push(`Touched: ${t.file}: ${t.functions.map((f) => `${f}()`).join(', ')}`);
  const section = (title: string, list: ReviewFinding[], note = ''): void => {
    out.push('', `${title} (${list.length})${note}${list.length ? ':' : ''}`);
    for (const f of list) out.push(line(f, top));
  };
  section('Introduced', r.introduced);
  section('Fixed', r.fixed, ' — lines are HEAD\'s');
  section('Still present in the touched functions', r.present);
  for (const s of r.skipped) out.push(`Not reviewed: ${s}`);
  return out.join('\n');
}

