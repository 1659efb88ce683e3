// Go to definition, find references and workspace symbols for field entities, over the open documents and the
// workspace index (analysis/workspace.ts). Editor-agnostic: sites are (file, 0-based line/character, length); a file
// is an open document's URI or an indexed workspace-relative path.
import { refAt, type DocumentAnalysis } from '../analysis/document';
import { defSiteAt, definitionSites, entityKey, referenceSites, type DefSite } from '../analysis/sites';
import type { WorkspaceFacts } from '../analysis/workspace';
import type { Entity } from '../model/index';

export interface Site { file: { uri: string } | { path: string }; line: number; character: number; length: number }

/** What the cursor names: an entity reference, or an entity's definition in a header. */
export interface Target { key: string; name: string; entity?: Entity }

export interface OpenDocs {
  /** Open documents by URI. */
  docs: ReadonlyMap<string, DocumentAnalysis>;
  /** Workspace-relative path of an open document, if it is inside the workspace. */
  pathOf(uri: string): string | undefined;
}

const defsCache = new WeakMap<DocumentAnalysis, DefSite[]>();
function defsOf(doc: DocumentAnalysis): DefSite[] {
  let d = defsCache.get(doc);
  if (!d) defsCache.set(doc, (d = definitionSites(doc.text, doc.lines.starts)));
  return d;
}

export function targetAt(doc: DocumentAnalysis, offset: number): Target | undefined {
  const ref = refAt(doc, offset);
  if (ref) return { key: entityKey(ref.entity), name: ref.entity.name, entity: ref.entity };
  const pos = doc.lines.positionAt(offset);
  const def = defSiteAt(defsOf(doc), pos.line, pos.character);
  return def ? { key: def.key, name: def.name } : undefined;
}

/** Indexed files not shadowed by an open document (whose text may be newer than the index). */
function indexedPaths(facts: WorkspaceFacts, open: OpenDocs): string[] {
  const shadowed = new Set<string>();
  for (const uri of open.docs.keys()) {
    const p = open.pathOf(uri);
    if (p) shadowed.add(p);
  }
  return facts.paths().filter((p) => !shadowed.has(p));
}

/** Where the tree defines the target: enum member, struct member, #define; an accessor or function's definition. */
export function definitions(t: Target, facts: WorkspaceFacts, open: OpenDocs): Site[] {
  const out: Site[] = [];
  for (const [uri, doc] of open.docs) {
    for (const d of defsOf(doc)) if (d.key === t.key) out.push({ file: { uri }, line: d.line, character: d.character, length: d.length });
  }
  for (const path of indexedPaths(facts, open)) {
    for (const d of facts.file(path)?.defs ?? []) if (d.key === t.key) out.push({ file: { path }, line: d.line, character: d.character, length: d.length });
  }
  sortSites(out, open);
  if (out.length === 0 && t.entity?.kind === 'accessor') {
    // KVM's accessors are functions (vmx_ops.h): their definitions are in the index's function table.
    for (const path of facts.definedIn(t.name)) {
      const fn = facts.file(path)?.functions.find((f) => f.name === t.name);
      if (fn) out.push({ file: { path }, line: fn.line, character: 0, length: 0 });
    }
  }
  return out;
}

/** Every reference to the target in the open documents and the indexed tree, in every form. */
export function references(t: Target, facts: WorkspaceFacts, open: OpenDocs, includeDeclaration: boolean): Site[] {
  const out: Site[] = [];
  for (const [uri, doc] of open.docs) {
    for (const r of referenceSites(doc.refs, doc.text, doc.lines.starts)) {
      if (r.key === t.key) out.push({ file: { uri }, line: r.line, character: r.character, length: r.length });
    }
  }
  for (const path of indexedPaths(facts, open)) {
    for (const r of facts.file(path)?.refSites ?? []) {
      if (r.key === t.key) out.push({ file: { path }, line: r.line, character: r.character, length: r.length });
    }
  }
  // A header's enumerator or #define is also a reference to the name: it counts as the declaration.
  const decls = new Set(definitions(t, facts, open).map(siteId));
  if (!includeDeclaration) return out.filter((s) => !decls.has(siteId(s)));
  const seen = new Set(out.map(siteId));
  for (const d of definitions(t, facts, open)) if (!seen.has(siteId(d))) out.push(d);
  return out;
}

/** Stable order: by workspace-relative path (an open document outside the workspace by its URI), then position. */
function sortSites(sites: Site[], open: OpenDocs): Site[] {
  const key = (s: Site): string => ('uri' in s.file ? open.pathOf(s.file.uri) ?? s.file.uri : s.file.path);
  return sites.sort((a, b) => key(a).localeCompare(key(b)) || a.line - b.line || a.character - b.character);
}

function siteId(s: Site): string {
  return `${'uri' in s.file ? s.file.uri : s.file.path}:${s.line}:${s.character}`;
}

export interface SymbolSite extends Site { name: string; kind: 'function' | 'enum-member' | 'struct-member' | 'define'; container?: string }

/** Workspace symbols: indexed functions and entity definitions whose name contains the query (case-insensitive). */
export function workspaceSymbols(query: string, facts: WorkspaceFacts, open: OpenDocs, limit = 500): SymbolSite[] {
  const q = query.trim().toLowerCase();
  const hit = (n: string): boolean => !q || n.toLowerCase().includes(q);
  const out: SymbolSite[] = [];
  for (const [uri, doc] of open.docs) {
    for (const d of defsOf(doc)) if (hit(d.name)) out.push({ name: d.name, kind: d.kind, file: { uri }, line: d.line, character: d.character, length: d.length });
    for (const f of doc.functions) {
      if (!hit(f.name)) continue;
      const p = doc.lines.positionAt(f.start);
      out.push({ name: f.name, kind: 'function', file: { uri }, line: p.line, character: p.character, length: 0 });
    }
  }
  for (const path of indexedPaths(facts, open)) {
    const ff = facts.file(path);
    if (!ff) continue;
    for (const d of ff.defs ?? []) if (hit(d.name)) out.push({ name: d.name, kind: d.kind, file: { path }, line: d.line, character: d.character, length: d.length });
    for (const f of ff.functions) if (hit(f.name)) out.push({ name: f.name, kind: 'function', file: { path }, line: f.line, character: 0, length: 0 });
    if (out.length >= limit * 4) break;
  }
  // exact and prefix matches first
  const rank = (n: string): number => (n.toLowerCase() === q ? 0 : n.toLowerCase().startsWith(q) ? 1 : 2);
  out.sort((a, b) => rank(a.name) - rank(b.name) || a.name.localeCompare(b.name));
  return out.slice(0, limit);
}
