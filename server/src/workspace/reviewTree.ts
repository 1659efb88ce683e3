// The tree a review reads: files named by a patch (or by git, in the editor) and their unchanged neighbours, read
// through fsaccess.ts. Used by `kvm-lens review`, `check --diff` and the server's kvmLens/review request.
import { readdirSync, realpathSync, statSync, type Stats } from 'node:fs';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { errText, fileKind, MAX_SOURCE_BYTES, readSourceFile, walkTree } from './fsaccess';
import type { TreeRead, TreeReader } from '../features/review/session';
import { reviewTexts, type TextChange } from '../features/review/texts';
import type { RuleSettings } from '../features/findings';
import type { ReviewParams, ReviewReply } from '../protocol/review';

const MAX_REVIEW_FILES = 300;

/** The server's kvmLens/review: old texts from the client, new texts from the client or read here; same rules. */
export function reviewRequest(p: ReviewParams, settings?: RuleSettings): ReviewReply {
  const tree = openTree(p.root);
  const skipped: string[] = [];
  const changes: TextChange[] = [];
  for (const f of p.files) {
    if (!f || typeof f.path !== 'string' || !f.path || isAbsolute(f.path) || f.path.split('/').includes('..')) { skipped.push(`${String(f?.path)}: not a path inside the repository`); continue; }
    if (!/\.(c|h)$/.test(f.path)) continue;
    if (changes.length >= MAX_REVIEW_FILES) { skipped.push(`${f.path}: more than ${MAX_REVIEW_FILES} changed C files; not reviewed`); continue; }
    const before = typeof f.before === 'string' ? f.before : null;
    let after: string | null;
    if (typeof f.after === 'string' || f.after === null) after = f.after;
    else {
      const r = tree.read(f.path);
      if ('skipped' in r) { skipped.push(`${f.path}: ${r.skipped}`); continue; }
      after = 'text' in r ? r.text : null;
    }
    changes.push({ path: f.path, before, after });
  }
  const result = reviewTexts(changes, contextFiles(tree, changes.map((c) => c.path)), settings);
  return {
    introduced: result.findings.filter((x) => x.status === 'introduced'),
    fixed: result.findings.filter((x) => x.status === 'fixed'),
    present: result.findings.filter((x) => x.status === 'present' && x.inScope),
    touched: result.touched,
    skipped,
  };
}

/**
 * Read files of `root` named by a patch, through workspace/fsaccess.ts (regular files only, never opened otherwise;
 * bounded; binary refused): tree-relative paths only, no `..`; a file that is a link must resolve inside the tree.
 * A file that cannot be read as source is skipped with a reason (its hunks are not applied), like `check` does.
 */
export function openTree(root: string): TreeReader & { root: string } {
  let realRoot: string;
  try {
    realRoot = realpathSync(root);
  } catch (e) {
    throw new Error(`cannot read the tree '${root}': ${errText(e)}`);
  }
  if (!statSync(realRoot).isDirectory()) throw new Error(`the tree '${root}' is not a directory`);
  let listed: string[] | undefined;
  return {
    root: realRoot,
    read(rel: string): TreeRead {
      if (!rel || isAbsolute(rel) || rel.split('/').includes('..')) return { missing: true };
      const abs = join(realRoot, rel);
      let st: Stats;
      try {
        st = statSync(abs);
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') return { missing: true };
        return { skipped: errText(e) };
      }
      if (!st.isFile()) return { skipped: `${fileKind(st)}, not a regular file` };
      let real: string;
      try { real = realpathSync(abs); } catch (e) { return { skipped: errText(e) }; }
      if (real !== realRoot && !real.startsWith(realRoot + sep)) return { skipped: `a link out of the tree (to ${real}); not read` };
      const r = readSourceFile(real, MAX_SOURCE_BYTES);
      return r.ok ? { text: r.text } : r.kind === 'missing' ? { missing: true } : { skipped: r.reason };
    },
    list(): string[] {
      if (!listed) {
        const out: string[] = [];
        walkTree(realRoot, {
          enterDir: (d) => !d.endsWith(`${sep}.git`),
          file: (e) => { if (/\.(c|h)$/.test(e.name)) out.push(relative(realRoot, e.path).split(sep).join('/')); return out.length < 20000; },
        });
        listed = out;
      }
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
      const r = reader.read(rel);
      if ('text' in r) out.push({ path: rel, text: r.text }); // FIFOs, huge or binary neighbours are not context
    }
  }
  return out;
}

