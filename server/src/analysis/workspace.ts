// Workspace-level facts: what the indexer learned from every indexed file (function definitions, who calls what,
// how many field references of each form). Features may ask `workspaceFacts()` — e.g. "is
// fpu_sync_guest_vmexit_xfd_state called anywhere?" or the role of a function whose known caller is in another
// file. Facts are plain data, filled by the workspace indexer (a worker thread in the server; empty in the CLI
// unless it indexes). Before indexing has finished, `ready` is false and the answers cover what is indexed so far.
import type { Tree } from 'web-tree-sitter';
import { findFunctions } from './document';
import { findRefs, type RefForm } from './refs';
import { knownRole, type Role } from './roles';
import { definitionSites, lineStarts, referenceSites, type DefSite, type RefSite } from './sites';

export interface FileFacts {
  /** Workspace-relative path (forward slashes). */
  path: string;
  lines: number;
  functions: Array<{ name: string; line: number }>;
  /** callee name → names of the functions in this file that call it. */
  calls: Record<string, string[]>;
  refCounts: Partial<Record<RefForm, number>>;
  parseErrors: number;
  /** Where this file defines entities (enum members, vmcs12/VMCB struct members, #defines). */
  defs?: DefSite[];
  /** Every entity reference outside comments (go-to-references across the tree). */
  refSites?: RefSite[];
}

export interface CallSite { file: string; caller: string }

export interface WorkspaceFacts {
  /** Indexing has completed at least once. */
  readonly ready: boolean;
  readonly fileCount: number;
  /** Whether any indexed file calls `name` (a call expression or a function-like macro use). */
  isCalled(name: string): boolean;
  callers(name: string): CallSite[];
  /** Files that define a function `name`. */
  definedIn(name: string): string[];
  /** The known role of `name`, else the role of one of its callers anywhere in the workspace. */
  roleOf(name: string): Role | undefined;
  file(path: string): FileFacts | undefined;
  /** Workspace-relative paths of the indexed files. */
  paths(): string[];
}

class FactsIndex implements WorkspaceFacts {
  ready = false;
  private readonly files = new Map<string, FileFacts>();
  private callIndex: Map<string, CallSite[]> | undefined;
  private defIndex: Map<string, string[]> | undefined;

  get fileCount(): number { return this.files.size; }

  set(f: FileFacts): void {
    this.files.set(f.path, f);
    this.callIndex = undefined;
    this.defIndex = undefined;
  }

  remove(path: string): void {
    if (this.files.delete(path)) {
      this.callIndex = undefined;
      this.defIndex = undefined;
    }
  }

  clear(): void {
    this.files.clear();
    this.callIndex = undefined;
    this.defIndex = undefined;
    this.ready = false;
  }

  file(path: string): FileFacts | undefined { return this.files.get(path); }

  paths(): string[] { return [...this.files.keys()]; }

  private calls(): Map<string, CallSite[]> {
    if (!this.callIndex) {
      const m = new Map<string, CallSite[]>();
      for (const f of this.files.values()) {
        for (const [callee, callers] of Object.entries(f.calls)) {
          let list = m.get(callee);
          if (!list) m.set(callee, (list = []));
          for (const caller of callers) list.push({ file: f.path, caller });
        }
      }
      this.callIndex = m;
    }
    return this.callIndex;
  }

  private defs(): Map<string, string[]> {
    if (!this.defIndex) {
      const m = new Map<string, string[]>();
      for (const f of this.files.values()) {
        for (const fn of f.functions) {
          const list = m.get(fn.name);
          if (list) { if (!list.includes(f.path)) list.push(f.path); } else m.set(fn.name, [f.path]);
        }
      }
      this.defIndex = m;
    }
    return this.defIndex;
  }

  isCalled(name: string): boolean { return (this.calls().get(name)?.length ?? 0) > 0; }

  callers(name: string): CallSite[] { return this.calls().get(name) ?? []; }

  definedIn(name: string): string[] { return this.defs().get(name) ?? []; }

  roleOf(name: string): Role | undefined {
    const direct = knownRole(name);
    if (direct) return direct;
    for (const c of this.callers(name)) {
      const r = knownRole(c.caller);
      if (r) return r;
    }
    return undefined;
  }
}

const facts = new FactsIndex();

/** The workspace facts of this process (a singleton; empty until something indexes). */
export function workspaceFacts(): WorkspaceFacts {
  return facts;
}

/** For the indexer: replace/remove facts, mark completion. */
export const workspaceFactsWriter = {
  set: (f: FileFacts): void => facts.set(f),
  remove: (path: string): void => facts.remove(path),
  clear: (): void => facts.clear(),
  setReady: (ready: boolean): void => { facts.ready = ready; },
  paths: (): string[] => facts.paths(),
};

const CALL = /\b([A-Za-z_][A-Za-z0-9_]*)\s*\(/g;
const NOT_CALLS = new Set(['if', 'while', 'for', 'switch', 'return', 'sizeof', 'typeof', '__typeof__', 'defined', 'do', 'case']);

/** Facts of one parsed file. */
export function factsOf(path: string, text: string, tree: Tree, parseErrors: number): FileFacts {
  const functions = findFunctions(tree, text);
  const calls: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  const add = (callee: string, caller: string): void => {
    if (NOT_CALLS.has(callee)) return;
    const list = calls[callee];
    if (!list) calls[callee] = [caller];
    else if (!list.includes(caller)) list.push(caller);
  };
  for (const fn of functions) {
    const body = text.slice(fn.bodyStart, fn.bodyEnd);
    CALL.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = CALL.exec(body)) !== null) add(m[1], fn.name);
  }
  const refCounts: Partial<Record<RefForm, number>> = {};
  const refs = findRefs(text, tree);
  for (const r of refs) if (!r.inComment) refCounts[r.form] = (refCounts[r.form] ?? 0) + 1;
  const starts = lineStarts(text);
  // functions are sorted by offset: count newlines once, in one pass.
  const fnLines: number[] = [];
  let line = 0;
  let pos = 0;
  for (const f of functions) {
    for (let i = text.indexOf('\n', pos); i >= 0 && i < f.start; i = text.indexOf('\n', i + 1)) { line++; pos = i + 1; }
    fnLines.push(line);
  }
  let lines = 1;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lines++;
  return {
    path, lines, parseErrors, calls, refCounts,
    defs: definitionSites(text, starts), refSites: referenceSites(refs, text, starts),
    functions: functions.map((f, i) => ({ name: f.name, line: fnLines[i] })),
  };
}
