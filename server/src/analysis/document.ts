// One analysed document: text, tree, line index, functions and field references. Built by analyzeText(); the
// server keeps one per open document and updates it incrementally.
import type { Tree } from 'web-tree-sitter';
import type { Node, TreeCursor } from 'web-tree-sitter';
import { parseC } from './parser';
import { findRefs, type FieldRef } from './refs';

export interface FunctionInfo {
  name: string;
  /** Offsets of the whole definition and of its body `{...}`. */
  start: number;
  end: number;
  bodyStart: number;
  bodyEnd: number;
}

export interface Position { line: number; character: number }

/** Line starts of `text` (offset 0, then one after each newline). */
export function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

/** Zero-based line and character of `offset`, by binary search over `starts` (from lineStarts). */
export function positionIn(starts: readonly number[], offset: number): Position {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo, character: offset - starts[lo] };
}

export class LineIndex {
  readonly starts: number[];
  constructor(text: string) {
    this.starts = lineStarts(text);
  }
  positionAt(offset: number): Position {
    return positionIn(this.starts, offset);
  }
  offsetAt(p: Position): number {
    const line = Math.max(0, Math.min(p.line, this.starts.length - 1));
    return this.starts[line] + Math.max(0, p.character);
  }
  get lineCount(): number {
    return this.starts.length;
  }
}

export interface DocumentAnalysis {
  uri: string;
  text: string;
  tree: Tree;
  lines: LineIndex;
  functions: FunctionInfo[];
  refs: FieldRef[];
  /** Number of ERROR/MISSING nodes (kernel macros and asm produce some). */
  parseErrors: number;
}

/** Top-level function definitions, including ones tree-sitter wrapped in ERROR nodes. Iterative, depth-bounded. */
export function findFunctions(tree: Tree, text?: string): FunctionInfo[] {
  if (text !== undefined) return allFunctions(text, tree);
  return treeFunctions(tree);
}

/** Containers whose children may hold definitions (walked to depth 3). */
const DEFINITION_CONTAINERS = new Set(['ERROR', 'preproc_if', 'preproc_ifdef', 'preproc_else', 'preproc_elif', 'linkage_specification', 'declaration_list']);

/**
 * Definitions as tree-sitter parsed them. Walked with a cursor: only definitions and containers become Node objects
 * (marshalling every top-level child of a large file as a Node cost more than the rest of this function).
 */
export function treeFunctions(tree: Tree): FunctionInfo[] {
  const out: FunctionInfo[] = [];
  const cursor = tree.walk();
  try {
    visitChildren(cursor, 0, out);
  } finally {
    cursor.delete();
  }
  out.sort((a, b) => a.start - b.start);
  return out;
}

/**
 * treeFunctions() of the top-level nodes that overlap [from, to) only (an incremental analysis walks the part of the
 * tree an edit touched, and keeps the rest of the previous version's list).
 */
export function treeFunctionsIn(tree: Tree, from: number, to: number): FunctionInfo[] {
  const out: FunctionInfo[] = [];
  const root = tree.rootNode;
  for (let n = root.firstChildForIndex(from); n && n.startIndex < to; n = n.nextSibling) {
    if (!n.isNamed || n.endIndex <= from) continue;
    const cursor = n.walk();
    try {
      visitNode(cursor, 0, out);
    } finally {
      cursor.delete();
    }
  }
  out.sort((a, b) => a.start - b.start);
  return out;
}

/** The definitions at and under the cursor's (named) node, which lies at `depth` (root children: 0). */
function visitNode(cursor: TreeCursor, depth: number, out: FunctionInfo[]): void {
  const type = cursor.nodeType;
  if (type === 'function_definition') {
    const fn = functionInfo(cursor.currentNode);
    if (fn) out.push(fn);
  } else if (depth < 3 && DEFINITION_CONTAINERS.has(type)) {
    visitChildren(cursor, depth + 1, out);
  }
}

function visitChildren(cursor: TreeCursor, depth: number, out: FunctionInfo[]): void {
  if (!cursor.gotoFirstChild()) return;
  do {
    if (cursor.nodeIsNamed) visitNode(cursor, depth, out);
  } while (cursor.gotoNextSibling());
  cursor.gotoParent();
}

const MACRO_NAME = /^[A-Z][A-Z0-9_]*$/;
const NOT_A_FUNCTION = /^(if|for|while|switch|sizeof|typeof|__attribute__|__aligned|__section|__must_hold|__acquires|__releases|__printf|__cond_acquires|asm|__asm__)$/;

/**
 * Kernel-style fallback for definitions tree-sitter misparsed (macros before the declarator, attribute soup):
 * a body that opens with `{` alone at column 0 and closes with `}` alone at column 0, named by the first call-like
 * identifier of the signature lines above. Only ranges no tree-found function covers are added.
 */
export function braceFunctions(text: string, known: FunctionInfo[]): FunctionInfo[] {
  const out: FunctionInfo[] = [];
  let k = 0;
  let pos = 0;
  while (pos < text.length) {
    const open = text.indexOf('\n{', pos);
    if (open < 0) break;
    const bodyStart = open + 1;
    pos = bodyStart + 1;
    const after = text.charCodeAt(bodyStart + 1);
    if (!(after === 10 || after === 13 || Number.isNaN(after))) continue;
    while (k < known.length && known[k].end <= bodyStart) k++;
    if (k < known.length && known[k].start <= bodyStart) { pos = known[k].end; continue; }
    const close = text.indexOf('\n}', bodyStart);
    if (close < 0) break;
    const bodyEnd = close + 2;
    // Signature: up to 6 lines above the brace, back to a blank line or a line ending in ';' or '}'.
    let sigStart = open;
    let lineEnd = open;
    for (let n = 0; n < 6 && lineEnd > 0; n++) {
      const prevNl = text.lastIndexOf('\n', lineEnd - 1);
      const line = text.slice(prevNl + 1, lineEnd).trim();
      if (line === '' || line.endsWith(';') || line.endsWith('}') || line.startsWith('#') || line.endsWith('*/')) break;
      sigStart = prevNl + 1;
      lineEnd = prevNl;
    }
    const sig = text.slice(sigStart, open);
    let name: string | undefined;
    for (const m of sig.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*\(/g)) {
      if (!NOT_A_FUNCTION.test(m[1]) && !/^[A-Z0-9_]+$/.test(m[1])) { name = m[1]; break; }
    }
    if (name && sig.includes('(')) out.push({ name, start: sigStart, end: bodyEnd, bodyStart, bodyEnd });
    pos = bodyEnd;
  }
  return out;
}

function functionInfo(def: Node): FunctionInfo | undefined {
  const body = def.childForFieldName('body');
  let decl = def.childForFieldName('declarator');
  let guard = 0;
  while (decl && decl.type !== 'function_declarator' && guard++ < 8) decl = decl.childForFieldName('declarator');
  const nameNode = decl?.childForFieldName('declarator');
  if (!body || !nameNode) return undefined;
  const name = nameNode.type === 'identifier' ? nameNode.text : nameNode.text.replace(/[^A-Za-z0-9_].*$/, '');
  return { name, start: def.startIndex, end: def.endIndex, bodyStart: body.startIndex, bodyEnd: body.endIndex };
}

function swallowsAnother(text: string, f: FunctionInfo): boolean {
  let i = text.indexOf('\n{', f.bodyStart + 1);
  while (i >= 0 && i < f.bodyEnd - 2) {
    const c = text.charCodeAt(i + 2);
    if (c === 10 || c === 13) return true;
    i = text.indexOf('\n{', i + 2);
  }
  return false;
}

/** Tree-found definitions plus the kernel-style fallback for misparsed ones, sorted and non-overlapping. */
export function allFunctions(text: string, tree: Tree): FunctionInfo[] {
  const fns = treeFunctions(tree);
  return assembleFunctions(text, tree, fns, fns.map((f) => glued(text, f)));
}

/**
 * A definition "named" by an all-caps identifier is a macro invocation tree-sitter glued to the next function
 * (e.g. `BUILD_HELPER(read)\nstatic void f(...) {`): dropped, the kernel-style fallback finds the real one. Likewise
 * a definition whose body holds another kernel-style body (`{` alone at column 0): tree-sitter ran past the real end
 * (e.g. `asm volatile(__ex("vmsave %0") ...)` confuses it) and swallowed the next function. Depends on its text only.
 */
export function glued(text: string, f: FunctionInfo): boolean {
  return MACRO_NAME.test(f.name) || swallowsAnother(text, f);
}

/** allFunctions() from the tree's definitions and which of them are glued(). */
export function assembleFunctions(text: string, tree: Tree, fns: FunctionInfo[], isGlued: readonly boolean[]): FunctionInfo[] {
  const any = isGlued.includes(true);
  const fromTree = any ? fns.filter((_, i) => !isGlued[i]) : fns;
  if (!tree.rootNode.hasError && !any) return fromTree;
  const extra = braceFunctions(text, fromTree);
  return extra.length ? [...fromTree, ...extra].sort((a, b) => a.start - b.start) : fromTree;
}

export function countErrors(tree: Tree): number {
  // descendantsOfType walks in wasm; much cheaper than a JS-side traversal.
  return tree.rootNode.hasError ? tree.rootNode.descendantsOfType(['ERROR']).length : 0;
}

export function analyzeText(text: string, uri = 'file:///untitled.c', oldTree?: Tree): DocumentAnalysis {
  const tree = parseC(text, oldTree);
  return fromTree(text, uri, tree);
}

export function fromTree(text: string, uri: string, tree: Tree): DocumentAnalysis {
  // The parse-error count walks the whole tree and no rule reads it: computed when someone asks (stats does).
  let parseErrors: number | undefined;
  return {
    uri, text, tree, lines: new LineIndex(text), functions: allFunctions(text, tree), refs: findRefs(text, tree),
    get parseErrors(): number { return (parseErrors ??= countErrors(tree)); },
    set parseErrors(n: number) { parseErrors = n; },
  };
}

/** The function containing `offset`, if any (binary search over sorted, non-overlapping functions). */
export function functionAt(doc: Pick<DocumentAnalysis, 'functions'>, offset: number): FunctionInfo | undefined {
  const fns = doc.functions;
  let lo = 0;
  let hi = fns.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (fns[mid].end <= offset) lo = mid + 1;
    else if (fns[mid].start > offset) hi = mid - 1;
    else return fns[mid];
  }
  return undefined;
}

/** The reference under `offset` (inclusive end), if any. */
export function refAt(doc: Pick<DocumentAnalysis, 'refs'>, offset: number): FieldRef | undefined {
  const refs = doc.refs;
  let lo = 0;
  let hi = refs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (refs[mid].end < offset) lo = mid + 1;
    else if (refs[mid].start > offset) hi = mid - 1;
    else return refs[mid];
  }
  return undefined;
}

/**
 * The nodes containing the character at `offset`, from `top` down to the innermost, walked down from `top`:
 * O(depth × children). (Node.parent in web-tree-sitter walks down from the root each time, so climbing from the innermost node
 * is O(depth²) — seconds on 5 000-deep expressions.) Matches the chain of `descendantForIndex(offset, offset + 1)`
 * followed by `.parent` up to `top`.
 */
export function nodesAt(top: Node, offset: number): Node[] {
  const out: Node[] = [top];
  if (offset < top.startIndex || offset >= top.endIndex) return out;
  // firstChildForIndex looks only at the node's own children (a TreeCursor's gotoFirstChildForIndex would too, but
  // web-tree-sitter 0.25 reports its result wrongly). Any child counts, named or not, as with descendantForIndex.
  for (let n: Node | null = top; n; ) {
    const c: Node | null = n.firstChildForIndex(offset);
    if (!c || c.startIndex > offset || c.endIndex <= offset) break;
    out.push(c);
    n = c;
  }
  return out;
}
