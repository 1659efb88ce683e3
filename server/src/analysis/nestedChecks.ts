// KVM's nested VM-entry consistency checks as sites: every CC(...) argument and every disjunct of an `if` whose body
// fails (returns something other than the function's success value), in the functions reachable from the places
// where KVM turns a failed check into VMfail / VM exit 33 / 34 / VMEXIT_INVALID. Sites are instantiated per call
// path: parameters are replaced by the caller's arguments, guards accumulate, and the failure comes from the root.
// Helpers (short functions of the same files, e.g. nested_cpu_has_vid()) and local variables are expanded into the
// site's token text so conditions can be matched by the bits and fields they read.
import type { Node, Tree } from 'web-tree-sitter';
import { VMCB_FIELDS, type EntryFailure } from '../model/index';
import { parseC } from './parser';

export interface SourceFile {
  path: string;
  text: string;
  /** A tree-sitter tree of `text` already parsed by the caller (reused, not deleted). */
  tree?: Tree;
}

export interface CheckSite {
  path: string;
  /** Function holding the condition. */
  fn: string;
  /** Offsets of the condition text in its file. */
  start: number;
  end: number;
  /** 1-based line. */
  line: number;
  /** The condition as written (a CC() argument or one disjunct). */
  text: string;
  /** Written inside CC(). */
  cc: boolean;
  /** Enclosing conditions, early-return guards, switch cases and the callers' guards along the path. */
  guards: string[];
  /** Condition with parameters, locals and helpers expanded (what `none` and field reads are computed on). */
  condExpanded: string;
  /** condExpanded plus the expanded guards (what `all` keys are matched against). */
  tokens: string;
  /** vmcs12 members (VMX) or VMCB fields (SVM) the condition reads (if none: those of the innermost guard reading any). */
  fields: string[];
  /** Fields read by the innermost guard that reads any (the value a switch/if around the condition tests). */
  contextFields: string[];
  /** Fields read by the condition and its guards. */
  allFields: string[];
  /** How KVM reports the failure on this path, and the root function that decides it. */
  failure?: EntryFailure;
  root?: string;
  /** Function names from the root to `fn`. */
  path_: string[];
}

interface Fn {
  name: string;
  file: SourceFile;
  node: Node;
  body: Node;
  params: string[];
  /** Local variables → initialiser / first assignment (computed on first use). */
  readonly locals: Map<string, string>;
  /** Success return value (the last statement's `return X`), e.g. `0` or `true` (computed on first use). */
  readonly success?: string;
}

const VMCB_NAMES = new Set(VMCB_FIELDS.flatMap((f) => [f.name.replace(/\[\d+\]$/, ''), ...f.aliases]));
VMCB_NAMES.add('intercepts');
VMCB_NAMES.add('intercept');

/** Fields a text reads: `vmcs12->x`, `get_vmcs12(vcpu)->x` (VMX); `control->x`, `save->x`, `vmcb->control.x` (SVM). */
export function fieldsRead(text: string, vendor: 'vmx' | 'svm'): string[] {
  const out = new Set<string>();
  if (vendor === 'vmx') {
    for (const m of text.matchAll(/\b(?:vmcs12|get_vmcs12\s*\([^()]*\))\s*->\s*([a-z0-9_]+)/g)) out.add(m[1]);
  } else {
    for (const m of text.matchAll(/\b(control|save|ctl)\s*(?:->|\.)\s*([a-z0-9_]+)/g)) if (VMCB_NAMES.has(m[2])) out.add(m[2]);
  }
  return [...out];
}

function walk(node: Node, visit: (n: Node) => boolean | void, maxDepth = 200): void {
  const stack: Array<{ n: Node; d: number }> = [{ n: node, d: 0 }];
  while (stack.length) {
    const { n, d } = stack.pop()!;
    if (visit(n) === false || d >= maxDepth) continue;
    for (let i = n.namedChildCount - 1; i >= 0; i--) {
      const c = n.namedChild(i);
      if (c) stack.push({ n: c, d: d + 1 });
    }
  }
}

function fnName(def: Node): { name: string; params: string[] } | undefined {
  let decl = def.childForFieldName('declarator');
  let guard = 0;
  while (decl && decl.type !== 'function_declarator' && guard++ < 8) decl = decl.childForFieldName('declarator');
  const id = decl?.childForFieldName('declarator');
  if (!decl || !id || id.type !== 'identifier') return undefined;
  // Parameter names from the text: the last identifier of each comma-separated declaration.
  const plist = decl.childForFieldName('parameters')?.text ?? '()';
  const params = plist.slice(1, -1).split(',').map((p) => /([A-Za-z_]\w*)\s*(?:\[[^\]]*\])?\s*$/.exec(p.trim())?.[1] ?? '').filter((p) => p && p !== 'void');
  return { name: id.text, params };
}

function collectFunctions(file: SourceFile, tree: Tree, into: Map<string, Fn>): void {
  walk(tree.rootNode, (n) => {
    if (n.type === 'function_definition') {
      const info = fnName(n);
      const body = n.childForFieldName('body');
      if (info && body && !into.has(info.name)) {
        let locals: Map<string, string> | undefined;
        let success: string | undefined | null = null;
        into.set(info.name, {
          ...info, file, node: n, body,
          get locals() { return (locals ??= localsOf(body)); },
          get success() { if (success === null) success = successOf(body); return success; },
        });
      }
      return false;
    }
    return n.type === 'translation_unit' || n.type === 'preproc_if' || n.type === 'preproc_ifdef' || n.type === 'preproc_else' ||
      n.type === 'preproc_elif' || n.type === 'ERROR';
  }, 6);
}

function localsOf(body: Node): Map<string, string> {
  const out = new Map<string, string>();
  walk(body, (n) => {
    if (n.type === 'init_declarator') {
      const d = n.childForFieldName('declarator');
      const v = n.childForFieldName('value');
      if (d?.type === 'identifier' && v) out.set(d.text, v.text);
    } else if (n.type === 'assignment_expression' && n.childForFieldName('operator')?.text === '=') {
      const l = n.childForFieldName('left');
      const r = n.childForFieldName('right');
      if (l?.type === 'identifier' && r && !out.has(l.text)) out.set(l.text, r.text);
    }
  }, 40);
  return out;
}

function successOf(body: Node): string | undefined {
  const last = body.namedChildren.filter((c) => c && c.type !== 'comment').pop();
  if (last?.type !== 'return_statement') return undefined;
  return last.namedChildren[0]?.text.replace(/\s+/g, '');
}

/** The value of a return statement, normalised. */
function returnValue(n: Node): string {
  return (n.namedChildren[0]?.text ?? '').replace(/\s+/g, '');
}

/** Is `return v` a failure in this function (success = its last return; `return r` functions: -E..., false, non-zero)? */
function isFailValue(v: string, fn: Fn): boolean {
  const literal = fn.success !== undefined && /^(-?\d+|true|false)$/.test(fn.success);
  return literal ? v !== fn.success : /^-E|^false$|^-?[1-9]\d*$/.test(v);
}

/** Does a statement fail: return something other than the success value (or return -E..., false), or goto? */
function fails(stmt: Node | null, fn: Fn): boolean {
  if (!stmt) return false;
  let found = false;
  walk(stmt, (n) => {
    if (found) return false;
    if (n.type === 'return_statement') {
      const v = returnValue(n);
      if (isFailValue(v, fn)) found = true;
      return false;
    }
    // `r = -EINVAL;` in a function that ends with `return r;`.
    if (n.type === 'assignment_expression' && fn.success && /^[A-Za-z_]\w*$/.test(fn.success) && !/^(true|false)$/.test(fn.success) &&
        n.childForFieldName('left')?.text === fn.success && /^-E/.test(n.childForFieldName('right')?.text ?? '')) {
      found = true;
      return false;
    }
    if (n.type === 'if_statement' || n.type === 'switch_statement' || n.type === 'for_statement' || n.type === 'while_statement') return false;
    return true;
  }, 4);
  return found;
}

/** Top-level `||` disjuncts of a condition (parentheses unwrapped). */
function disjuncts(n: Node): Node[] {
  let cur: Node = n;
  while (cur.type === 'parenthesized_expression' && cur.namedChildCount === 1) cur = cur.namedChild(0)!;
  if (cur.type === 'binary_expression' && cur.childForFieldName('operator')?.text === '||') {
    return [...disjuncts(cur.childForFieldName('left')!), ...disjuncts(cur.childForFieldName('right')!)];
  }
  return [cur];
}

function isCCCall(n: Node): boolean {
  if (n.type !== 'call_expression') return false;
  const f = n.childForFieldName('function')?.text;
  return f === 'CC' || f === 'KVM_NESTED_VMENTER_CONSISTENCY_CHECK';
}

function ccArgument(n: Node): Node | undefined {
  const args = n.childForFieldName('arguments');
  return args?.namedChildren.find((c) => c && c.type !== 'comment') ?? undefined;
}

/** Guards of a node inside its function body: enclosing if conditions, switch cases and earlier success returns. */
function guardsOf(node: Node, fn: Fn): string[] {
  const out: string[] = [];
  let child: Node = node;
  let cur: Node | null = node.parent;
  while (cur && cur.id !== fn.node.id) {
    if (cur.type === 'if_statement') {
      const cond = cur.childForFieldName('condition');
      if (cond && cond.id !== child.id && !(child.startIndex >= cond.startIndex && child.endIndex <= cond.endIndex)) out.push(cond.text);
    } else if (cur.type === 'case_statement') {
      const v = cur.childForFieldName('value');
      if (v) out.push(`case ${v.text}`);
    } else if (cur.type === 'switch_statement') {
      const cond = cur.childForFieldName('condition');
      if (cond) out.push(`switch ${cond.text}`);
    } else if (cur.type === 'compound_statement') {
      for (const s of cur.namedChildren) {
        if (!s || s.startIndex >= child.startIndex) break;
        if (s.type === 'if_statement' && !s.childForFieldName('alternative')) {
          const cons = s.childForFieldName('consequence');
          const ret = cons?.type === 'return_statement' ? cons : cons?.namedChildren.find((c) => c?.type === 'return_statement');
          if (ret && fn.success !== undefined && !isFailValue(returnValue(ret), fn)) out.push(s.childForFieldName('condition')?.text ?? '');
        }
      }
    }
    child = cur;
    cur = cur.parent;
  }
  return out;
}

interface RawSite { fn: Fn; node: Node; text: string; cc: boolean; guards: string[]; qualification?: number }

function qualificationIn(text: string): number | undefined {
  if (/ENTRY_FAIL_VMCS_LINK_PTR/.test(text)) return 4;
  if (/ENTRY_FAIL_PDPTE/.test(text)) return 2;
  return undefined;
}

/** `f(...)`, `!f(...)`, `f(...) < 0` for a function f of the analysed files: a delegation, not a condition. */
function delegatesTo(n: Node, fns: Map<string, Fn>): string | undefined {
  const m = /^!?\s*\(?\s*([A-Za-z_]\w*)\s*\(/.exec(n.text);
  const callee = m ? fns.get(m[1]) : undefined;
  if (!m || !callee || !hasOwnChecks(callee)) return undefined;
  // The whole expression must be that one call (possibly negated or compared with 0).
  const rest = n.text.slice(n.text.indexOf('(', m.index + m[0].length - 1));
  let depth = 0;
  let i = 0;
  for (; i < rest.length; i++) { if (rest[i] === '(') depth++; else if (rest[i] === ')' && --depth === 0) break; }
  return /^\s*\)?\s*(<\s*0|!=\s*0)?\s*$/.test(rest.slice(i + 1)) ? m[1] : undefined;
}

const ownChecks = new WeakMap<Fn, boolean>();
/** Does a function fail on a condition of its own (a failing `if` or a CC())? Then calls to it are delegations. */
function hasOwnChecks(fn: Fn): boolean {
  let v = ownChecks.get(fn);
  if (v === undefined) {
    v = false;
    walk(fn.body, (n) => {
      if (v) return false;
      if (isCCCall(n) || (n.type === 'if_statement' && fails(n.childForFieldName('consequence'), fn))) v = true;
      return true;
    }, 60);
    ownChecks.set(fn, v);
  }
  return v;
}

/** Sites written directly in a function (not instantiated). */
function rawSites(fn: Fn, fns: Map<string, Fn>): RawSite[] {
  const out: RawSite[] = [];
  const seen = new Set<number>();
  const addCC = (cc: Node, extraGuards: string[], q?: number): void => {
    const arg = ccArgument(cc);
    if (!arg || seen.has(cc.id)) return;
    seen.add(cc.id);
    if (delegatesTo(arg, fns)) return;
    out.push({ fn, node: arg, text: arg.text, cc: true, guards: [...guardsOf(cc, fn), ...extraGuards], qualification: q });
  };
  walk(fn.body, (n) => {
    if (n.type === 'if_statement') {
      const cond = n.childForFieldName('condition');
      const cons = n.childForFieldName('consequence');
      if (cond && fails(cons, fn)) {
        const q = qualificationIn(cons?.text ?? '');
        for (const d of disjuncts(cond)) {
          const ccs = d.descendantsOfType('call_expression').filter((c): c is Node => !!c && isCCCall(c));
          if (isCCCall(d)) ccs.unshift(d);
          // The rest of the disjunct guards each CC (`nested_cpu_has_posted_intr(vmcs12) && (CC(a) || CC(b))`): the
          // CC calls themselves are cut out so one CC's condition does not leak into its siblings.
          const rest = ccs.reduce((t, cc) => t.split(cc.text).join('CC(…)'), d.text);
          if (ccs.length) for (const cc of ccs) addCC(cc, d.text === cc.text ? [] : [rest], q);
          else if (!delegatesTo(d, fns)) out.push({ fn, node: d, text: d.text, cc: false, guards: guardsOf(d, fn), qualification: q });
        }
      }
    } else if (isCCCall(n)) {
      addCC(n, []);
    }
    return true;
  }, 60);
  return out;
}

interface CallEdge { callee: string; args: string[]; guards: string[]; node: Node }

/** Does the caller act on this call's result: inside CC(), or in the condition of an `if` whose body fails? */
function resultChecked(call: Node, fn: Fn): boolean {
  let child: Node = call;
  let n: Node | null = call.parent;
  for (let k = 0; n && k < 14; k++, child = n, n = n.parent) {
    if (isCCCall(n)) return true;
    if (n.type === 'if_statement') return n.childForFieldName('condition')?.id === child.id && fails(n.childForFieldName('consequence'), fn);
    if (n.type === 'compound_statement' || n.type === 'expression_statement' || n.type === 'return_statement') return false;
  }
  return false;
}

function callsOf(fn: Fn, fns: Map<string, Fn>, checkedOnly = true): CallEdge[] {
  const out: CallEdge[] = [];
  walk(fn.body, (n) => {
    if (n.type === 'call_expression') {
      const name = n.childForFieldName('function')?.text ?? '';
      const callee = fns.get(name);
      if (callee && callee.name !== fn.name && (!checkedOnly || resultChecked(n, fn))) {
        const args = (n.childForFieldName('arguments')?.namedChildren ?? []).filter((a): a is Node => !!a && a.type !== 'comment').map((a) => a.text);
        // The condition of the if/disjunct the call sits in is a guard for the callee's sites.
        const guards = guardsOf(n, fn);
        out.push({ callee: name, args, guards, node: n });
      }
    }
    return true;
  }, 60);
  return out;
}

function substitute(text: string, map: Map<string, string>): string {
  if (!map.size) return text;
  return text.replace(/\b[A-Za-z_]\w*\b/g, (id) => map.get(id) ?? id);
}

/** Expand short helper calls and locals: append their bodies (parameters substituted) to the text. */
function expand(text: string, fn: Fn, helpers: Map<string, Fn>, depth = 3): string {
  let out = text;
  const seen = new Set<string>();
  let frontier = text;
  for (let d = 0; d < depth && frontier; d++) {
    let next = '';
    for (const m of frontier.matchAll(/\b([A-Za-z_]\w*)\s*(\()?/g)) {
      const id = m[1];
      if (seen.has(id)) continue;
      if (!m[2] && fn.locals.has(id)) { seen.add(id); next += ` ${fn.locals.get(id)}`; continue; }
      const h = m[2] ? helpers.get(id) : undefined;
      if (!h || h.body.text.length > 400 || /\bCC\s*\(|return\s+-E/.test(h.body.text)) continue;
      seen.add(id);
      const args = splitArgs(frontier, (m.index ?? 0) + m[0].length);
      const map = new Map(h.params.map((p, i) => [p, args[i] ?? p] as const));
      next += ` ${substitute(h.body.text, map)}`;
    }
    out += next;
    frontier = next;
  }
  return out;
}

function splitArgs(text: string, from: number): string[] {
  const args: string[] = [];
  let depth = 0;
  let cur = '';
  for (let i = from; i < text.length && i < from + 400; i++) {
    const ch = text[i];
    if (ch === '(') depth++;
    if (ch === ')') { if (depth === 0) { args.push(cur.trim()); return args; } depth--; }
    if (ch === ',' && depth === 0) { args.push(cur.trim()); cur = ''; continue; }
    cur += ch;
  }
  return args;
}

const FAILURE_MARKERS: Array<[RegExp, EntryFailure]> = [
  [/VMXERR_ENTRY_INVALID_CONTROL_FIELD/, { kind: 'vmfail', error: 7 }],
  [/VMXERR_ENTRY_INVALID_HOST_STATE_FIELD/, { kind: 'vmfail', error: 8 }],
  [/EXIT_REASON_INVALID_STATE/, { kind: 'vmexit', reason: 33 }],
  [/EXIT_REASON_MSR_LOAD_FAIL/, { kind: 'vmexit', reason: 34 }],
  [/SVM_EXIT_ERR/, { kind: 'vmexit-invalid' }],
];

function failureIn(text: string): EntryFailure | undefined {
  for (const [re, f] of FAILURE_MARKERS) if (re.test(text)) return f;
  return undefined;
}

export interface Root { fn: string; failure: EntryFailure; caller: string; line: number; args: string[] }

/** Calls whose failure KVM turns into a VM-entry failure: the if-body (or the goto's exit_reason) names it. */
const ANY_FAILURE_MARKER = /VMXERR_ENTRY_INVALID_(CONTROL|HOST_STATE)_FIELD|EXIT_REASON_INVALID_STATE|EXIT_REASON_MSR_LOAD_FAIL|SVM_EXIT_ERR/;

export function findRoots(fns: Map<string, Fn>, files: Set<string>): Root[] {
  const out: Root[] = [];
  for (const caller of fns.values()) {
    if (!files.has(caller.file.path)) continue;
    if (!ANY_FAILURE_MARKER.test(caller.file.text.slice(caller.body.startIndex, caller.body.endIndex))) continue;
    for (const call of callsOf(caller, fns, false)) {
      let n: Node | null = call.node.parent;
      let ifStmt: Node | undefined;
      for (let k = 0; n && k < 8; k++, n = n.parent) {
        if (n.type === 'if_statement') { ifStmt = n; break; }
        if (n.type === 'expression_statement' || n.type === 'declaration') {
          // `x = f(...); if (x) {...}`: the next statement, when its condition tests x.
          const lhs = /^\s*(?:[\w\s*]+\s)?([A-Za-z_]\w*)\s*=(?!=)/.exec(n.text)?.[1];
          const next = n.nextNamedSibling;
          if (lhs && next?.type === 'if_statement' && new RegExp(`\\b${lhs}\\b`).test(next.childForFieldName('condition')?.text ?? '')) ifStmt = next;
          break;
        }
      }
      const cons = ifStmt?.childForFieldName('consequence');
      if (!ifStmt || !cons) continue;
      const cond = ifStmt.childForFieldName('condition');
      if (cond && !(call.node.startIndex >= cond.startIndex && call.node.endIndex <= cond.endIndex) && ifStmt.startIndex < call.node.startIndex) continue;
      let failure = failureIn(cons.text);
      if (!failure && /\bgoto\b/.test(cons.text)) {
        // 5.x style: `u32 exit_reason = EXIT_REASON_INVALID_STATE; ... if (f(...)) goto vmentry_fail_vmexit;`
        const before = caller.file.text.slice(caller.body.startIndex, ifStmt.startIndex);
        const all = [...before.matchAll(/exit_reason(?:\.basic)?\s*=\s*(EXIT_REASON_\w+)/g)];
        if (all.length) failure = failureIn(all[all.length - 1][1]);
      }
      if (failure) out.push({ fn: call.callee, failure, caller: caller.name, line: lineOf(caller.file.text, call.node.startIndex), args: call.args });
    }
  }
  return out;
}

const lineStarts = new WeakMap<object, number[]>();
const textKeys = new Map<string, object>();
function lineOf(text: string, offset: number): number {
  let key = textKeys.get(text);
  if (!key) { key = {}; textKeys.clear(); textKeys.set(text, key); }
  let starts = lineStarts.get(key);
  if (!starts) {
    starts = [0];
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
    lineStarts.set(key, starts);
  }
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (starts[mid] <= offset) lo = mid; else hi = mid - 1; }
  return lo + 1;
}

export interface ExtractOptions {
  vendor: 'vmx' | 'svm';
  /** Files whose functions can hold checks and roots (e.g. vmx/nested.c). */
  main: SourceFile[];
  /** Files whose short functions are expanded as helpers (e.g. vmx/nested.h); main files are included. */
  helpers?: SourceFile[];
  maxDepth?: number;
}

export interface ExtractResult { sites: CheckSite[]; roots: Root[]; functions: string[] }

/** Every check site reachable from a root, one instance per call path. */
export function extractCheckSites(opts: ExtractOptions): ExtractResult {
  const fns = new Map<string, Fn>();
  const trees: Tree[] = [];
  const treeOf = (f: SourceFile): Tree => {
    if (f.tree) return f.tree;
    const t = parseC(f.text);
    trees.push(t);
    return t;
  };
  for (const f of opts.main) collectFunctions(f, treeOf(f), fns);
  const helpers = new Map<string, Fn>(fns);
  for (const f of opts.helpers ?? []) collectFunctions(f, treeOf(f), helpers);
  const roots = findRoots(fns, new Set(opts.main.map((f) => f.path)));
  const sites: CheckSite[] = [];
  const rawCache = new Map<string, RawSite[]>();
  const callCache = new Map<string, CallEdge[]>();
  const seenRoot = new Set<string>();
  const maxDepth = opts.maxDepth ?? 4;
  const visit = (name: string, subst: Map<string, string>, guards: string[], root: Root, path: string[], inheritedQ?: number): void => {
    const fn = fns.get(name);
    if (!fn || path.includes(name) || path.length > maxDepth) return;
    const chain = [...path, name];
    let raws = rawCache.get(name);
    if (!raws) { raws = rawSites(fn, fns); rawCache.set(name, raws); }
    for (const r of raws) {
      const text = substitute(r.text, subst);
      const condExpanded = substitute(expand(r.text, fn, helpers), subst);
      const g = [...guards, ...r.guards.map((x) => substitute(x, subst))];
      const tokens = [condExpanded, ...g.map((x) => substitute(expand(x, fn, helpers), subst))].join('\n');
      const q = r.qualification ?? inheritedQ;
      const failure: EntryFailure = q !== undefined && root.failure.kind === 'vmexit' ? { ...root.failure, qualification: q } : root.failure;
      const fields = fieldsRead(condExpanded, opts.vendor);
      const guardTexts = g.map((x) => substitute(expand(x, fn, helpers), subst));
      let contextFields: string[] = [];
      for (let i = guardTexts.length - 1; !contextFields.length && i >= 0; i--) contextFields = fieldsRead(guardTexts[i], opts.vendor);
      sites.push({
        path: fn.file.path, fn: fn.name, start: r.node.startIndex, end: r.node.endIndex, line: lineOf(fn.file.text, r.node.startIndex),
        text, cc: r.cc, guards: g, condExpanded, tokens, fields, contextFields, allFields: fieldsRead(tokens, opts.vendor), failure, root: root.fn, path_: chain,
      });
    }
    let calls = callCache.get(name);
    if (!calls) { calls = callsOf(fn, fns); callCache.set(name, calls); }
    for (const call of calls) {
      const callee = fns.get(call.callee);
      if (!callee) continue;
      const map = new Map<string, string>();
      callee.params.forEach((p, i) => { if (call.args[i] !== undefined) map.set(p, substitute(call.args[i], subst)); });
      // The call's own condition text (e.g. `nested_cpu_has_ept(vmcs12) && CC(!nested_vmx_check_eptp(...))`) guards the callee.
      const own = enclosingCondition(call.node);
      visit(call.callee, map, [...g0(guards, call.guards, subst), ...(own ? [substitute(own, subst)] : [])], root, chain, callQualification(call.node) ?? inheritedQ);
    }
  };
  for (const root of roots) {
    const key = `${root.fn}@${root.caller}`;
    if (seenRoot.has(key)) continue;
    seenRoot.add(key);
    const fn = fns.get(root.fn);
    if (!fn) continue;
    const map = new Map<string, string>();
    fn.params.forEach((p, i) => { if (root.args[i] !== undefined) map.set(p, root.args[i]); });
    // A root call that passes fields (e.g. nested_vmx_load_msr(vcpu, vmcs12->vm_entry_msr_load_addr, ...)) is itself a site.
    const callText = `${root.fn}(${root.args.join(', ')})`;
    const caller = fns.get(root.caller);
    if (caller && fieldsRead(callText, opts.vendor).length) {
      const at = caller.body.text.indexOf(root.fn);
      sites.push({
        path: caller.file.path, fn: caller.name, start: caller.body.startIndex + Math.max(0, at), end: caller.body.startIndex + Math.max(0, at) + root.fn.length,
        line: root.line, text: callText, cc: false, guards: [], condExpanded: callText, tokens: callText, fields: fieldsRead(callText, opts.vendor), contextFields: [], allFields: fieldsRead(callText, opts.vendor),
        failure: root.failure, root: root.fn, path_: [caller.name],
      });
    }
    visit(root.fn, map, [], root, []);
  }
  for (const t of trees) t.delete();
  return { sites, roots, functions: [...fns.keys()] };
}

function g0(outer: string[], own: string[], subst: Map<string, string>): string[] {
  return [...outer, ...own.map((x) => substitute(x, subst))];
}

/** The `||` disjunct of an `if` condition a call sits in, if any (e.g. `nested_cpu_has_ept(vmcs12) && CC(!f(...))`). */
function enclosingCondition(call: Node): string | undefined {
  let n: Node | null = call.parent;
  for (let k = 0; n && k < 12; k++, n = n.parent) {
    if (n.type === 'compound_statement' || n.type === 'expression_statement') return undefined;
    if (n.type === 'if_statement') {
      const cond = n.childForFieldName('condition');
      if (!cond) return undefined;
      const d = disjuncts(cond).find((x) => call.startIndex >= x.startIndex && call.endIndex <= x.endIndex);
      return d && d.text !== call.text ? d.text : undefined;
    }
  }
  return undefined;
}

/** Qualification set by the body of the `if` whose condition holds a call (`*entry_failure_code = ENTRY_FAIL_...`). */
function callQualification(call: Node): number | undefined {
  let n: Node | null = call.parent;
  for (let k = 0; n && k < 12; k++, n = n.parent) {
    if (n.type === 'compound_statement' || n.type === 'expression_statement') return undefined;
    if (n.type === 'if_statement') return qualificationIn(n.childForFieldName('consequence')?.text ?? '');
  }
  return undefined;
}
