// The compiled document: every function of an analysed C document in the interpreter's IR (cir.ts), with the shared
// condition formulas (analysis/conditions.ts mapCondition) attached to if/loop conditions by source position.
import type { Node } from 'web-tree-sitter';
import { mapCondition, type Formula } from '../../analysis/conditions';
import type { DocumentAnalysis } from '../../analysis/document';
import { parseC } from '../../analysis/parser';
import { compileFunction, compileStmt, compileUnit, type CFunction, type CompiledUnit, type Stmt } from './cir';

// ---- the compiled document --------------------------------------------------------------------------------------

export interface Compiled {
  unit: CompiledUnit;
}

const compiledCache = new WeakMap<DocumentAnalysis, Compiled>();

/** Parameter names from a signature's text: the last identifier of each comma-separated declaration. */
function paramsFromSignature(sig: string): string[] {
  const open = sig.lastIndexOf('(', sig.lastIndexOf(')'));
  if (open < 0) return [];
  const inner = sig.slice(open + 1, sig.lastIndexOf(')'));
  return inner.split(',').map((p) => /([A-Za-z_][A-Za-z0-9_]*)\s*(?:\[[^\]]*\])?\s*$/.exec(p.trim())?.[1] ?? '').filter((p) => p && p !== 'void');
}

export function compileDoc(doc: DocumentAnalysis): Compiled {
  const hit = compiledCache.get(doc);
  if (hit) return hit;
  const unit = compileUnit(doc.tree.rootNode, (text) => {
    try {
      const t = parseC(`long __kvm_lens_def = (${text});`);
      const decl = t.rootNode.namedChildren[0];
      return decl?.descendantsOfType('init_declarator')[0]?.childForFieldName('value') ?? undefined;
    } catch {
      return undefined;
    }
  });
  // The shared analysis is the authority on where functions are (it looks inside ERROR nodes and preprocessor
  // blocks, and splits definitions tree-sitter glued together); compile each from the node that spans exactly it.
  for (const fi of doc.functions) {
    const line = doc.lines.positionAt(fi.start).line + 1;
    const end = doc.lines.positionAt(fi.end).line + 1;
    const have = unit.functions.get(fi.name);
    if (have && have.end === end) continue;
    let n: Node | null = doc.tree.rootNode.descendantForIndex(fi.bodyStart, Math.max(fi.bodyStart, fi.bodyEnd - 1));
    for (let i = 0; n && i < 64 && !(n.startIndex <= fi.bodyStart && n.endIndex >= fi.bodyEnd); i++) n = n.parent;
    let f: CFunction | undefined;
    if (n && n.type === 'function_definition' && n.endIndex === fi.end) f = compileFunction(n);
    else if (n && n.type === 'compound_statement' && n.startIndex === fi.bodyStart && n.endIndex === fi.bodyEnd) {
      f = { name: fi.name, params: paramsFromSignature(doc.text.slice(fi.start, fi.bodyStart)), body: compileStmt(n), line, end };
    }
    if (!f) {
      // No node spans exactly this function (tree-sitter glued it to a neighbour): parse its text on its own, padded
      // with newlines so line numbers stay those of the document.
      const t = parseC('\n'.repeat(line - 1) + doc.text.slice(fi.start, fi.end));
      try {
        const def = t.rootNode.descendantsOfType('function_definition')[0];
        f = def ? compileFunction(def) : undefined;
      } finally {
        t.delete();
      }
    }
    if (f) unit.functions.set(fi.name, { ...f, name: fi.name });
    else if (have) unit.functions.delete(fi.name); // the tree's version spans more than the function: do not guess
  }
  // Attach the shared condition mapping to every if/loop condition and predicate-like call.
  const attach = (root: Node): void => {
    const want = ['if_statement', 'while_statement', 'for_statement', 'do_statement', 'conditional_expression'];
    for (const n of root.descendantsOfType(want)) {
      if (!n) continue;
      const c = n.childForFieldName('condition');
      if (!c) continue;
      condFormulaByPos.set(`${c.startIndex}:${c.endIndex}`, mapCondition(c));
    }
  };
  const condFormulaByPos = new Map<string, Formula>();
  attach(doc.tree.rootNode);
  const c: Compiled = { unit };
  posFormulas.set(c, condFormulaByPos);
  compiledCache.set(doc, c);
  return c;
}
export const posFormulas = new WeakMap<Compiled, Map<string, Formula>>();

/** Give every compiled if/loop condition the shared formula of its source position. */
export function attachConditionPositions(c: Compiled, doc: DocumentAnalysis): void {
  if (attached.has(c)) return;
  attached.add(c);
  const byPos = posFormulas.get(c);
  if (!byPos) return;
  // Walk the tree and the IR in parallel is fragile; match by (line, condition text) instead.
  const byLineText = new Map<string, string>();
  for (const n of doc.tree.rootNode.descendantsOfType(['if_statement', 'while_statement', 'for_statement', 'do_statement'])) {
    const cn = n?.childForFieldName('condition');
    if (!cn || !n) continue;
    byLineText.set(`${n.startPosition.row + 1}|${cn.text.replace(/^\(|\)$/g, '').replace(/\s+/g, ' ').trim()}`, `${cn.startIndex}:${cn.endIndex}`);
  }
  const visit = (s: Stmt): void => {
    switch (s.k) {
      case 'block': s.body.forEach(visit); break;
      case 'if': {
        const pos = byLineText.get(`${s.line}|${s.condText}`);
        if (pos) (s.cond as { pos?: string }).pos = pos;
        visit(s.then);
        if (s.else) visit(s.else);
        break;
      }
      case 'loop': if (s.init) visit(s.init); visit(s.body); break;
      case 'switch': visit(s.body); break;
      default: break;
    }
  };
  for (const f of c.unit.functions.values()) visit(f.body);
}
const attached = new WeakSet<Compiled>();

