// The one way kvm-lens reads source files from disk: check, stats, simulate, review, the indexer and the server all
// come through here, whether a path was given on the command line, found by walking a directory, named in a diff,
// or picked up by the workspace indexer. The rules:
//   - stat before opening, and open nothing that is not a regular file (character/block devices, FIFOs, sockets
//     are refused without being opened: opening a FIFO blocks, reading /dev/zero never ends);
//   - open with O_NONBLOCK and check the opened descriptor again (a path swapped for a FIFO between stat and open
//     cannot block us), then read at most `maxBytes` + 1 bytes, whatever the size stat reported;
//   - a file with a NUL byte is binary and is skipped, like a file over the size limit;
//   - directory walks visit each directory once, keyed by (device, inode): symbolic-link loops AND diamonds (two
//     links to the same directory, stacked N deep = 2^N paths) cost one visit per directory.
// Nothing here throws: every outcome is a value the caller turns into a notice (walks) or an error (named paths).
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';

/** Files larger than this are skipped with a notice (the editor, the CLI and the indexer share it). */
export const MAX_SOURCE_BYTES = 8 * 1024 * 1024;

export type SkipKind = 'missing' | 'directory' | 'not-regular' | 'too-large' | 'binary' | 'unreadable';

export type ReadOutcome =
  | { ok: true; text: string; bytes: number }
  | { ok: false; kind: SkipKind; reason: string };

/** What a Stats object is, in words for a message ("a character device", "a FIFO", ...). */
export function fileKind(st: Stats): string {
  if (st.isFile()) return 'a regular file';
  if (st.isDirectory()) return 'a directory';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** A short, user-facing reason for a filesystem error. */
export function errText(e: unknown): string {
  const code = (e as { code?: string } | null)?.code;
  switch (code) {
    case 'ENOENT': return 'no such file or directory';
    case 'EACCES': case 'EPERM': return 'permission denied';
    case 'EISDIR': return 'is a directory';
    case 'ENOTDIR': return 'not a directory';
    case 'ELOOP': return 'too many levels of symbolic links';
    case 'ENXIO': case 'EAGAIN': case 'EWOULDBLOCK': return 'not a regular file';
    default: return e instanceof Error ? e.message.replace(/^[A-Z]+: /, '') : String(e);
  }
}

function isBinary(buf: Buffer, n: number): boolean {
  return buf.subarray(0, n).includes(0);
}

/**
 * Read one source file under the rules above. `maxBytes` defaults to MAX_SOURCE_BYTES. The text is decoded as
 * UTF-8 (invalid sequences become U+FFFD, as the editor does).
 */
export function readSourceFile(path: string, maxBytes = MAX_SOURCE_BYTES): ReadOutcome {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    const code = (e as { code?: string }).code;
    return { ok: false, kind: code === 'ENOENT' || code === 'ENOTDIR' ? 'missing' : 'unreadable', reason: errText(e) };
  }
  if (st.isDirectory()) return { ok: false, kind: 'directory', reason: 'is a directory' };
  if (!st.isFile()) return { ok: false, kind: 'not-regular', reason: `${fileKind(st)}, not a regular file` };
  if (st.size > maxBytes) return { ok: false, kind: 'too-large', reason: `larger than ${mib(maxBytes)} (${st.size} bytes)` };
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | (constants.O_NOCTTY ?? 0));
  } catch (e) {
    return { ok: false, kind: 'unreadable', reason: errText(e) };
  }
  try {
    const fst = fstatSync(fd);
    if (!fst.isFile()) return { ok: false, kind: 'not-regular', reason: `${fileKind(fst)}, not a regular file` };
    // Read to EOF but never past the limit (a file that grows while we read is cut at the limit and skipped).
    const cap = maxBytes + 1;
    let buf = Buffer.allocUnsafe(Math.min(cap, Math.max(fst.size, 4096)));
    let n = 0;
    for (;;) {
      if (n === buf.length) {
        if (buf.length >= cap) break;
        const next = Buffer.allocUnsafe(Math.min(cap, buf.length * 2));
        buf.copy(next, 0, 0, n);
        buf = next;
      }
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
    }
    if (n > maxBytes) return { ok: false, kind: 'too-large', reason: `larger than ${mib(maxBytes)}` };
    if (isBinary(buf, n)) return { ok: false, kind: 'binary', reason: 'binary file (contains NUL bytes)' };
    return { ok: true, text: buf.toString('utf8', 0, n), bytes: n };
  } catch (e) {
    return { ok: false, kind: 'unreadable', reason: errText(e) };
  } finally {
    try { closeSync(fd); } catch { /* already closed */ }
  }
}

function mib(n: number): string {
  return n % (1024 * 1024) === 0 ? `${n / (1024 * 1024)} MiB` : `${n} bytes`;
}

/** Identity of a directory for walks: (device, inode). */
export function dirKey(st: Stats): string {
  return `${st.dev}:${st.ino}`;
}

export interface WalkEntry {
  /** Path as reached (through symbolic links if any). */
  path: string;
  name: string;
  /** Stats of the target (symbolic links followed). */
  stats: Stats;
}

export interface WalkVisitor {
  /** Return false to skip a directory (ignored, excluded). Called before it is entered. */
  enterDir?(path: string, depth: number): boolean;
  /** A regular file (symbolic links followed). Return false to stop the walk. */
  file(entry: WalkEntry, depth: number): boolean | void;
  /** Something skipped: broken link, loop, unreadable directory, device/FIFO/socket. */
  skip?(path: string, reason: string, depth: number): void;
  /** A directory could not be listed. Default: reported through skip(). */
  dirError?(path: string, error: unknown, depth: number): void;
}

/**
 * Walk `root` depth-first in name order, following symbolic links to files and directories, entering every
 * directory once per (device, inode). A directory met again while it is being walked is a loop (reported through
 * skip); met again elsewhere (a diamond of links), it is silently not re-entered. Special files are reported
 * through skip and never opened. Iterative: deep trees cannot overflow the stack.
 */
export function walkTree(root: string, visitor: WalkVisitor, opts: { followDirLinks?: boolean; maxDepth?: number } = {}): void {
  const followDirLinks = opts.followDirLinks ?? true;
  const maxDepth = opts.maxDepth ?? 256;
  const visited = new Set<string>();
  const active = new Set<string>();
  type Frame = { path: string; depth: number; key: string; names: string[]; i: number };
  const stack: Frame[] = [];
  let stopped = false;

  const enter = (path: string, st: Stats, depth: number): void => {
    const key = dirKey(st);
    if (active.has(key)) { visitor.skip?.(path, 'symbolic link loop', depth); return; }
    if (visited.has(key)) return;
    if (depth > maxDepth) { visitor.skip?.(path, `deeper than ${maxDepth} directories`, depth); return; }
    if (visitor.enterDir && !visitor.enterDir(path, depth)) return;
    let names: string[];
    try {
      names = readdirSync(path).sort();
    } catch (e) {
      if (visitor.dirError) visitor.dirError(path, e, depth);
      else visitor.skip?.(path, errText(e), depth);
      return;
    }
    visited.add(key);
    active.add(key);
    stack.push({ path, depth, key, names, i: 0 });
  };

  let rootStats: Stats;
  try {
    rootStats = statSync(root);
  } catch (e) {
    visitor.dirError ? visitor.dirError(root, e, 0) : visitor.skip?.(root, errText(e), 0);
    return;
  }
  if (!rootStats.isDirectory()) { visitor.skip?.(root, 'not a directory', 0); return; }
  enter(root, rootStats, 0);

  while (stack.length && !stopped) {
    const top = stack[stack.length - 1];
    if (top.i >= top.names.length) {
      active.delete(top.key);
      stack.pop();
      continue;
    }
    const name = top.names[top.i++];
    if (name === '.git') continue;
    const path = join(top.path, name);
    let lst: Stats;
    try { lst = lstatSync(path); } catch { continue; }
    let st = lst;
    if (lst.isSymbolicLink()) {
      try {
        st = statSync(path);
      } catch (e) {
        const code = (e as { code?: string }).code;
        visitor.skip?.(path, code === 'ELOOP' ? 'symbolic link loop' : 'broken symbolic link', top.depth + 1);
        continue;
      }
      if (st.isDirectory() && !followDirLinks) continue;
    }
    if (st.isDirectory()) enter(path, st, top.depth + 1);
    else if (st.isFile()) { if (visitor.file({ path, name, stats: st }, top.depth + 1) === false) stopped = true; }
    else visitor.skip?.(path, `${fileKind(st)}, not a regular file`, top.depth + 1);
  }
}

/**
 * Read a diff or patch from a path the user named: a regular file, or a pipe (`--diff <(git diff)`), read up to
 * `maxBytes`. Devices, sockets and directories are refused. Throws an Error with a user-facing message.
 */
export function readStreamOrFile(path: string, maxBytes: number): string {
  let st: Stats;
  try { st = statSync(path); } catch (e) { throw new Error(errText(e)); }
  if (st.isDirectory()) throw new Error('is a directory');
  if (!st.isFile() && !st.isFIFO()) throw new Error(`${fileKind(st)}, not a regular file or pipe`);
  if (st.isFile()) {
    const r = readSourceFile(path, maxBytes);
    if (r.ok) return r.text;
    if (r.kind === 'binary') throw new Error('binary file (contains NUL bytes)');
    throw new Error(r.reason);
  }
  let fd: number;
  try { fd = openSync(path, constants.O_RDONLY); } catch (e) { throw new Error(errText(e)); }
  try {
    return readFdBounded(fd, maxBytes);
  } finally {
    try { closeSync(fd); } catch { /* closed */ }
  }
}

/** Read a descriptor (standard input, a pipe) to EOF, refusing more than `maxBytes`. */
export function readFdBounded(fd: number, maxBytes: number): string {
  const chunks: Buffer[] = [];
  let total = 0;
  const chunk = Buffer.allocUnsafe(1 << 16);
  for (;;) {
    let got: number;
    try {
      got = readSync(fd, chunk, 0, chunk.length, null);
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'EAGAIN') { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5); continue; }
      if (code === 'EOF') break;
      throw new Error(errText(e));
    }
    if (got === 0) break;
    if (chunk.subarray(0, got).includes(0)) throw new Error('binary input (contains NUL bytes)');
    total += got;
    if (total > maxBytes) throw new Error(`more than ${mib(maxBytes)} of input`);
    chunks.push(Buffer.from(chunk.subarray(0, got)));
  }
  return Buffer.concat(chunks, total).toString('utf8');
}
