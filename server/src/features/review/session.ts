// From a parsed patch and a way to read the tree to the old and new text of every file the patch touches. The tree
// is only read through `TreeReader` (the CLI passes one that refuses non-regular files, huge and binary files, and
// paths outside the tree); nothing is written.
import { applyHunks, reverseHunks, type HunkError, type Placement } from './apply';
import { diffLines } from './linediff';
import type { FilePatch, Hunk, ParsedPatch } from './patch';
import type { ReviewFileInput } from './compare';

/** A file of the tree: its text, not there, or there but not readable as source (a FIFO, a device, binary, huge). */
export type TreeRead = { text: string } | { missing: true } | { skipped: string };

export interface TreeReader {
  /** A tree-relative path. Never throws. */
  read(path: string): TreeRead;
  /** Tree-relative paths of candidate source files, for fragments that name no file. */
  list(): string[];
}

export interface AppliedFile {
  path: string;
  patch: number;
  placements: Placement[];
  created?: boolean;
  deleted?: boolean;
}

export interface Reject {
  path: string;
  patch: number;
  /** 1-based hunk number in its file, the `@@` line, where it is in the input, and why it does not apply. */
  index: number;
  count: number;
  header: string;
  inputLine: number;
  detail: string;
}

export interface PatchOptions {
  /** Undo the patch from the tree (the tree holds the new text, as `check --diff` sees a working tree). */
  reverse?: boolean;
  /** Fuzz factor (default 2). */
  fuzz?: number;
  /** Skip hunks that do not apply (reported in `rejects`) instead of failing. */
  partial?: boolean;
}

export interface PatchedTree {
  files: ReviewFileInput[];
  applied: AppliedFile[];
  rejects: Reject[];
  notes: string[];
  /** Leading path components dropped to find the files (like patch -pN beyond a/ b/). */
  strip: number;
}

export class PatchError extends Error {}

function stripPath(p: string, n: number): string | undefined {
  const parts = p.split('/').filter((x) => x !== '' && x !== '.');
  if (parts.some((x) => x === '..')) return undefined;
  return parts.length > n ? parts.slice(n).join('/') : undefined;
}

/** The strip level at which the first named file exists in the tree. */
function findStrip(parsed: ParsedPatch, tree: TreeReader): number {
  const named = parsed.patches.flatMap((p) => p.files).filter((f) => !f.headerless && f.oldPath !== null).map((f) => f.oldPath as string);
  for (const p of named.slice(0, 8)) {
    const depth = p.split('/').length;
    for (let n = 0; n < depth; n++) {
      const s = stripPath(p, n);
      if (s !== undefined && !('missing' in tree.read(s))) return n;
    }
  }
  return 0;
}

interface State { original: string | null; current: string | null; skipped?: string }

/**
 * Apply every patch in order to the tree (forward), or undo them from the tree (`reverse`: the tree holds the new
 * text, as `check --diff` sees a working tree). Throws PatchError naming the file and hunk that does not apply.
 */
export function patchTree(parsed: ParsedPatch, tree: TreeReader, opts: PatchOptions = {}): PatchedTree {
  const notes = [...parsed.notes];
  const rejects: Reject[] = [];
  const strip = findStrip(parsed, tree);
  const state = new Map<string, State>();
  const applied: AppliedFile[] = [];
  const load = (path: string): State => {
    let s = state.get(path);
    if (!s) {
      const r = tree.read(path);
      const text = 'text' in r ? r.text : null;
      s = { original: text, current: text, ...('skipped' in r ? { skipped: r.skipped } : {}) };
      if ('skipped' in r) notes.push(`skipping '${path}': ${r.skipped}`);
      state.set(path, s);
    }
    return s;
  };
  const order = parsed.patches.map((p, i) => ({ p, i }));
  if (opts.reverse) order.reverse();
  for (const { p, i } of order) {
    const files = opts.reverse ? [...p.files].reverse() : p.files;
    for (const f of files) {
      if (f.headerless) { applyHeaderless(f, i, tree, load, state, applied, notes, opts); continue; }
      applyNamed(f, i, strip, load, applied, rejects, opts);
    }
  }
  if (rejects.length && !opts.partial) {
    const list = rejects.map((r) => `${r.path}: hunk ${r.index} of ${r.count} (${r.header}, input line ${r.inputLine}) does not apply: ${r.detail}`);
    throw new PatchError(`${list.join('\n')}${rejects.length > 1 ? `\n(${rejects.length} hunks do not apply)` : ''}`);
  }
  const out: ReviewFileInput[] = [];
  for (const [path, s] of state) {
    if (s.original === s.current) continue;
    const oldText = opts.reverse ? s.current : s.original;
    const newText = opts.reverse ? s.original : s.current;
    const d = diffLines(oldText ?? '', newText ?? '');
    out.push({ path, before: oldText, after: newText, removed: oldText === null ? [] : d.removed, added: newText === null ? [] : d.added });
  }
  out.sort((a, b) => a.path.localeCompare(b.path));
  return { files: out, applied, rejects, notes, strip };
}

function applyNamed(f: FilePatch, patchIndex: number, strip: number, load: (p: string) => State, applied: AppliedFile[], rejects: Reject[], opts: PatchOptions): void {
  const reverse = opts.reverse === true;
  // Forward: read the old path, write the new one. Reverse: the tree has the new path.
  const fromRaw = reverse ? f.newPath : f.oldPath;
  const toRaw = reverse ? f.oldPath : f.newPath;
  const from = fromRaw === null ? null : stripPath(fromRaw, strip);
  const to = toRaw === null ? null : stripPath(toRaw, strip);
  const shown = (toRaw ?? fromRaw) ?? '?';
  if (from === undefined || to === undefined) throw new PatchError(`${shown}: path leaves the tree (contains '..' or is empty)`);
  const hunks = reverse ? reverseHunks(f.hunks) : f.hunks;
  if (from === null) {
    // New file (forward) / file the patch deleted (reverse): the text is all the added lines.
    const target = load(to as string);
    if (target.skipped !== undefined) return;
    if (target.current !== null) throw new PatchError(`${to}: the patch creates this file but it already exists in the tree`);
    target.current = hunks.flatMap((h) => h.lines.filter((l) => l.kind === '+').map((l) => l.text)).join('\n') + '\n';
    applied.push({ path: to as string, patch: patchIndex, placements: [], created: true });
    return;
  }
  const src = load(from);
  if (src.skipped !== undefined) return; // noted when read: its hunks are not applied
  if (src.current === null) throw new PatchError(`${from}: not in the tree (the patch ${reverse ? 'was made against' : 'changes'} it)`);
  let text: string;
  let placements: Placement[];
  const onReject = (e: HunkError): void => {
    rejects.push({ path: from, patch: patchIndex, index: e.index, count: e.count, header: e.hunk.header, inputLine: e.hunk.inputLine, detail: e.detail });
  };
  {
    const r = applyHunks(src.current, hunks, { fuzz: opts.fuzz, onReject });
    text = r.text;
    placements = r.placements;
  }
  if (to === null) {
    src.current = null;
    applied.push({ path: from, patch: patchIndex, placements, deleted: true });
    return;
  }
  if (to !== from) {
    // Rename: the old path goes away, the new one gets the text.
    src.current = null;
    load(to).current = text;
  } else src.current = text;
  applied.push({ path: to, patch: patchIndex, placements });
}

/** Fragments that name no file: try the files already patched, then every candidate file; exactly one must fit. */
function applyHeaderless(f: FilePatch, patchIndex: number, tree: TreeReader, load: (p: string) => State, state: Map<string, State>, applied: AppliedFile[], notes: string[], opts: PatchOptions): void {
  for (const h0 of f.hunks) {
    const [h] = opts.reverse ? reverseHunks([h0]) : [h0];
    const tryIn = (paths: string[]): Array<{ path: string; text: string; placements: Placement[] }> => {
      const hits: Array<{ path: string; text: string; placements: Placement[] }> = [];
      for (const p of paths) {
        const s = p === '' ? undefined : load(p);
        if (!s || s.current === null || s.skipped !== undefined) continue;
        try {
          const r = applyHunks(s.current, [{ ...h, oldStart: 0 } as Hunk], { fuzz: opts.fuzz });
          hits.push({ path: p, text: r.text, placements: r.placements });
        } catch { /* not here */ }
      }
      return hits;
    };
    let hits = tryIn([...state.keys()]);
    if (!hits.length) hits = tryIn(tree.list().filter((p) => !state.has(p)));
    if (hits.length !== 1) {
      notes.push(hits.length === 0
        ? `${h.header}: not found in the tree; skipped (quoted text that is not a hunk, or a hunk of another version)`
        : `${h.header}: fits ${hits.length} files (${hits.slice(0, 3).map((x) => x.path).join(', ')}); skipped`);
      continue;
    }
    const hit = hits[0];
    load(hit.path).current = hit.text;
    notes.push(`${h.header}: no file header; found in ${hit.path} at line ${hit.placements[0]?.at ?? '?'}`);
    applied.push({ path: hit.path, patch: patchIndex, placements: hit.placements });
  }
}
