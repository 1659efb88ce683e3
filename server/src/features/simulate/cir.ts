// A small IR of C statements/expressions compiled once from the shared tree-sitter tree (analysis layer), so the
// configuration sweep can interpret a region thousands of times without touching wasm nodes.
import type { Node } from 'web-tree-sitter';

export type Expr =
  | { k: 'num'; v: bigint }
  | { k: 'str'; v: string }
  | { k: 'id'; name: string }
  | { k: 'path'; text: string; base: string }
  | { k: 'index'; obj: Expr; idx: Expr; text: string }
  | { k: 'call'; fn: string; args: Expr[]; text: string }
  | { k: 'bin'; op: string; l: Expr; r: Expr }
  | { k: 'un'; op: string; e: Expr }
  | { k: 'assign'; op: string; l: Expr; r: Expr }
  | { k: 'cond'; c: Expr; t: Expr; f: Expr }
  | { k: 'comma'; l: Expr; r: Expr }
  | { k: 'update'; op: string; e: Expr }
  | { k: 'asm'; text: string }
  | { k: 'init'; items: Expr[] }
  | { k: 'opaque'; text: string };

export type Stmt =
  | { k: 'block'; line: number; end: number; body: Stmt[] }
  | { k: 'decl'; line: number; end: number; items: Array<{ name: string; init?: Expr; array: boolean }> }
  | { k: 'expr'; line: number; end: number; e: Expr; text: string }
  | { k: 'if'; line: number; end: number; cond: Expr; condText: string; then: Stmt; else?: Stmt }
  | { k: 'loop'; line: number; end: number; init?: Stmt; cond?: Expr; update?: Expr; body: Stmt; doWhile: boolean }
  | { k: 'return'; line: number; end: number; e?: Expr }
  | { k: 'break' | 'continue' | 'goto' | 'nop'; line: number; end: number }
  | { k: 'switch'; line: number; end: number; e: Expr; body: Stmt };

export interface CFunction {
  name: string;
  params: string[];
  body: Stmt;
  line: number;
  end: number;
}

const squash = (s: string): string => s.replace(/\s+/g, '');

function lineOf(n: Node): number {
  return n.startPosition.row + 1;
}
function endOf(n: Node): number {
  return n.endPosition.row + 1;
}

/**
 * Compilation depth cap: the IR (and the interpreter that walks it) recurses on the syntax tree, so deeper input
 * is compiled as opaque. Kernel code nests a few dozen levels at most; hostile input (5 000-deep nesting) stays bounded.
 */
export const MAX_COMPILE_DEPTH = 200;
let depth = 0;

export function compileExpr(n: Node | null | undefined): Expr {
  if (depth >= MAX_COMPILE_DEPTH) return { k: 'opaque', text: n ? n.text.slice(0, 120) : '' };
  depth++;
  try {
    return compileExprInner(n);
  } finally {
    depth--;
  }
}

function compileExprInner(n: Node | null | undefined): Expr {
  if (!n) return { k: 'opaque', text: '' };
  switch (n.type) {
    case 'number_literal': {
      const t = n.text.replace(/[uUlL]+$/, '');
      try {
        return { k: 'num', v: /^0[0-7]+$/.test(t) ? BigInt(`0o${t.slice(1)}`) : BigInt(t) };
      } catch {
        return { k: 'opaque', text: n.text };
      }
    }
    case 'char_literal': return { k: 'num', v: BigInt(n.text.charCodeAt(1) || 0) };
    case 'true': return { k: 'num', v: 1n };
    case 'false': case 'null': return { k: 'num', v: 0n };
    case 'string_literal': case 'concatenated_string': return { k: 'str', v: n.text };
    case 'identifier': return { k: 'id', name: n.text };
    case 'parenthesized_expression': return compileExpr(n.namedChildren.find((c) => c && c.type !== 'comment') ?? null);
    case 'field_expression': {
      const text = squash(n.text);
      let b: Node | null = n;
      while (b && (b.type === 'field_expression' || b.type === 'subscript_expression' || b.type === 'parenthesized_expression' || (b.type === 'pointer_expression' && b.childForFieldName('operator')?.text === '*'))) {
        b = b.childForFieldName('argument') ?? b.namedChildren[0] ?? null;
      }
      if (b && b.type === 'call_expression') return { k: 'path', text, base: squash(b.text) };
      return { k: 'path', text, base: b?.type === 'identifier' ? b.text : '' };
    }
    case 'subscript_expression':
      return { k: 'index', obj: compileExpr(n.childForFieldName('argument')), idx: compileExpr(n.childForFieldName('index')), text: squash(n.text) };
    case 'call_expression': {
      const fn = n.childForFieldName('function');
      const args = n.childForFieldName('arguments');
      return {
        k: 'call', fn: fn ? squash(fn.text) : '', text: n.text.length > 160 ? `${n.text.slice(0, 157)}...` : n.text,
        args: args ? args.namedChildren.filter((c): c is Node => !!c && c.type !== 'comment').map(compileExpr) : [],
      };
    }
    case 'binary_expression':
      return { k: 'bin', op: n.childForFieldName('operator')?.text ?? '?', l: compileExpr(n.childForFieldName('left')), r: compileExpr(n.childForFieldName('right')) };
    case 'unary_expression':
      return { k: 'un', op: n.childForFieldName('operator')?.text ?? '?', e: compileExpr(n.childForFieldName('argument')) };
    case 'pointer_expression': {
      const op = n.childForFieldName('operator')?.text ?? '*';
      const arg = n.childForFieldName('argument');
      if (op === '*' && arg) return { k: 'path', text: squash(n.text), base: arg.type === 'identifier' ? arg.text : '' };
      return { k: 'un', op, e: compileExpr(arg) };
    }
    case 'assignment_expression':
      return { k: 'assign', op: n.childForFieldName('operator')?.text ?? '=', l: compileExpr(n.childForFieldName('left')), r: compileExpr(n.childForFieldName('right')) };
    case 'update_expression':
      return { k: 'update', op: n.childForFieldName('operator')?.text ?? '++', e: compileExpr(n.childForFieldName('argument')) };
    case 'cast_expression': return compileExpr(n.childForFieldName('value'));
    case 'conditional_expression':
      return { k: 'cond', c: compileExpr(n.childForFieldName('condition')), t: compileExpr(n.childForFieldName('consequence')), f: compileExpr(n.childForFieldName('alternative')) };
    case 'comma_expression':
      return { k: 'comma', l: compileExpr(n.childForFieldName('left')), r: compileExpr(n.childForFieldName('right')) };
    case 'gnu_asm_expression': return { k: 'asm', text: n.text };
    case 'initializer_list':
      return { k: 'init', items: n.namedChildren.filter((c): c is Node => !!c && c.type !== 'comment').map((c) => compileExpr(c.type === 'initializer_pair' ? c.childForFieldName('value') : c)) };
    default:
      return { k: 'opaque', text: n.text.slice(0, 120) };
  }
}

function declName(d: Node | null): { name: string; array: boolean } | undefined {
  let array = false;
  let guard = 0;
  while (d && d.type !== 'identifier' && guard++ < 8) {
    if (d.type === 'array_declarator') array = true;
    d = d.childForFieldName('declarator');
  }
  return d ? { name: d.text, array } : undefined;
}

export function compileStmt(n: Node): Stmt {
  if (depth >= MAX_COMPILE_DEPTH) return { k: 'nop', line: lineOf(n), end: endOf(n) };
  depth++;
  try {
    return compileStmtInner(n);
  } finally {
    depth--;
  }
}

function compileStmtInner(n: Node): Stmt {
  const line = lineOf(n);
  const end = endOf(n);
  switch (n.type) {
    case 'compound_statement': case 'translation_unit':
      return { k: 'block', line, end, body: n.namedChildren.filter((c): c is Node => !!c && c.type !== 'comment').map(compileStmt) };
    case 'declaration': {
      const items: Array<{ name: string; init?: Expr; array: boolean }> = [];
      for (const d of n.childrenForFieldName('declarator')) {
        if (!d) continue;
        if (d.type === 'init_declarator') {
          const nm = declName(d.childForFieldName('declarator'));
          if (nm) items.push({ ...nm, init: compileExpr(d.childForFieldName('value')) });
        } else {
          const nm = declName(d);
          if (nm) items.push(nm);
        }
      }
      return { k: 'decl', line, end, items };
    }
    case 'expression_statement': {
      const e = n.namedChildren.find((c) => c && c.type !== 'comment');
      return e ? { k: 'expr', line, end, e: compileExpr(e), text: n.text } : { k: 'nop', line, end };
    }
    case 'if_statement': {
      const c = n.childForFieldName('condition');
      const alt = n.childForFieldName('alternative');
      const altBody = alt ? (alt.type === 'else_clause' ? alt.namedChildren.find((x) => x && x.type !== 'comment') : alt) : null;
      const s: Stmt = { k: 'if', line, end, cond: compileExpr(c), condText: c ? c.text.replace(/^\(|\)$/g, '').replace(/\s+/g, ' ').trim() : '', then: compileStmt(n.childForFieldName('consequence') ?? n) };
      if (altBody) s.else = compileStmt(altBody);
      return s;
    }
    case 'for_statement': {
      const init = n.childForFieldName('initializer');
      const s: Stmt = { k: 'loop', line, end, body: compileStmt(n.childForFieldName('body') ?? n), doWhile: false };
      if (init) s.init = init.type === 'declaration' ? compileStmt(init) : { k: 'expr', line, end: line, e: compileExpr(init), text: init.text };
      const c = n.childForFieldName('condition');
      if (c) s.cond = compileExpr(c);
      const u = n.childForFieldName('update');
      if (u) s.update = compileExpr(u);
      return s;
    }
    case 'while_statement':
      return { k: 'loop', line, end, cond: compileExpr(n.childForFieldName('condition')), body: compileStmt(n.childForFieldName('body') ?? n), doWhile: false };
    case 'do_statement':
      return { k: 'loop', line, end, cond: compileExpr(n.childForFieldName('condition')), body: compileStmt(n.childForFieldName('body') ?? n), doWhile: true };
    case 'return_statement': {
      const e = n.namedChildren.find((c) => c && c.type !== 'comment');
      return e ? { k: 'return', line, end, e: compileExpr(e) } : { k: 'return', line, end };
    }
    case 'break_statement': return { k: 'break', line, end };
    case 'continue_statement': return { k: 'continue', line, end };
    case 'goto_statement': return { k: 'goto', line, end };
    case 'labeled_statement': {
      const inner = n.namedChildren.filter((c): c is Node => !!c && c.type !== 'statement_identifier' && c.type !== 'comment');
      return { k: 'block', line, end, body: inner.map(compileStmt) };
    }
    case 'switch_statement':
      return { k: 'switch', line, end, e: compileExpr(n.childForFieldName('condition')), body: compileStmt(n.childForFieldName('body') ?? n) };
    case 'case_statement':
      return { k: 'block', line, end, body: n.namedChildren.filter((c): c is Node => !!c && c.type !== 'comment' && c !== n.childForFieldName('value')).map(compileStmt) };
    default:
      // `asm volatile(__ex("vmsave %0") : ...)` is an ERROR for the grammar (a macro where it wants a string) but
      // still executes the instruction.
      if (n.type === 'ERROR' && /\b(asm|__asm__)\b/.test(n.text) && /\b(vmsave|vmload|vmrun|stgi|clgi)\b/.test(n.text)) {
        return { k: 'expr', line, end, e: { k: 'asm', text: n.text }, text: n.text };
      }
      return { k: 'nop', line, end };
  }
}

export function compileFunction(def: Node): CFunction | undefined {
  const body = def.childForFieldName('body');
  let decl = def.childForFieldName('declarator');
  let guard = 0;
  while (decl && decl.type !== 'function_declarator' && guard++ < 8) decl = decl.childForFieldName('declarator');
  const nameNode = decl?.childForFieldName('declarator');
  if (!body || !decl || !nameNode) return undefined;
  const params: string[] = [];
  const plist = decl.childForFieldName('parameters');
  for (const p of plist?.namedChildren ?? []) {
    if (!p || p.type !== 'parameter_declaration') continue;
    const nm = declName(p.childForFieldName('declarator'));
    params.push(nm?.name ?? '');
  }
  return { name: nameNode.text.replace(/[^A-Za-z0-9_].*$/, ''), params, body: compileStmt(body), line: lineOf(def), end: endOf(def) };
}

export interface CompiledUnit {
  functions: Map<string, CFunction>;
  /** File-scope variables with initializers (e.g. `static const u32 host_save_user_msrs[] = {...}`). */
  globals: Map<string, Expr | undefined>;
  /** Object-like `#define NAME value` with a parsable value. */
  defines: Map<string, Expr>;
}

/** Compile every function definition, file-scope declaration and simple #define of a tree. */
export function compileUnit(root: Node, parseDefine: (text: string) => Node | undefined): CompiledUnit {
  const unit: CompiledUnit = { functions: new Map(), globals: new Map(), defines: new Map() };
  const stack: Array<{ n: Node; depth: number }> = [{ n: root, depth: 0 }];
  while (stack.length) {
    const { n, depth } = stack.pop()!;
    for (const c of n.namedChildren) {
      if (!c) continue;
      if (c.type === 'function_definition') {
        const f = compileFunction(c);
        if (f && !unit.functions.has(f.name)) unit.functions.set(f.name, f);
      } else if (c.type === 'declaration') {
        const s = compileStmt(c);
        if (s.k === 'decl') for (const it of s.items) unit.globals.set(it.name, it.init);
      } else if (c.type === 'preproc_def') {
        const name = c.childForFieldName('name')?.text;
        const value = c.childForFieldName('value')?.text;
        if (name && value) {
          const node = parseDefine(value);
          if (node) unit.defines.set(name, compileExpr(node));
        }
      } else if (depth < 3 && /^(preproc_if|preproc_ifdef|preproc_else|preproc_elif|ERROR|declaration_list|linkage_specification)$/.test(c.type)) {
        stack.push({ n: c, depth: depth + 1 });
      }
    }
  }
  return unit;
}
