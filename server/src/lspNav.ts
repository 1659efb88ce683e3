// LSP glue for navigation and code actions: converts the editor-agnostic results of features/navigation.ts and
// features/codeActions.ts into LSP locations, symbols and code actions.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  CodeActionKind, SymbolKind, type CodeAction, type Connection, type Diagnostic, type Location, type SymbolInformation,
} from 'vscode-languageserver/node';
import type { DocumentAnalysis } from './analysis/document';
import { workspaceFacts } from './analysis/workspace';
import { codeActions } from './features/codeActions';
import type { Finding } from './features/findings';
import { definitions, references, targetAt, workspaceSymbols, type OpenDocs, type Site } from './features/navigation';

export interface NavContext {
  root(): string | undefined;
  open(): OpenDocs;
  /** URI scheme of the client's read-only card documents (VS Code client: `kvm-lens-explain`), if it has one. */
  cardScheme(): string | undefined;
  /** Client-side command that opens the explain view (VS Code: kvmLens.explainField); server-side otherwise. */
  explainCommand(): string;
}

export function siteLocation(s: Site, root: string | undefined): Location | undefined {
  let uri: string;
  if ('uri' in s.file) uri = s.file.uri;
  else if (root) uri = pathToFileURL(join(root, s.file.path)).href;
  else return undefined;
  return { uri, range: { start: { line: s.line, character: s.character }, end: { line: s.line, character: s.character + s.length } } };
}

export function cardUri(scheme: string, name: string): string {
  return `${scheme}:/${encodeURIComponent(name.replace(/[^A-Za-z0-9_.>-]/g, '_').slice(0, 80) || 'card')}.md`;
}

export function navDefinition(ctx: NavContext, doc: DocumentAnalysis, offset: number): Location[] {
  const t = targetAt(doc, offset);
  if (!t) return [];
  const out = definitions(t, workspaceFacts(), ctx.open()).map((s) => siteLocation(s, ctx.root())).filter((l): l is Location => !!l);
  const scheme = ctx.cardScheme();
  if (scheme && t.entity) out.push({ uri: cardUri(scheme, t.entity.name), range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } } });
  return out;
}

export function navReferences(ctx: NavContext, doc: DocumentAnalysis, offset: number, includeDeclaration: boolean): Location[] {
  const t = targetAt(doc, offset);
  if (!t) return [];
  return references(t, workspaceFacts(), ctx.open(), includeDeclaration).map((s) => siteLocation(s, ctx.root())).filter((l): l is Location => !!l);
}

const SYMBOL_KIND = { function: SymbolKind.Function, 'enum-member': SymbolKind.EnumMember, 'struct-member': SymbolKind.Field, define: SymbolKind.Constant } as const;

export function navSymbols(ctx: NavContext, query: string): SymbolInformation[] {
  const out: SymbolInformation[] = [];
  for (const s of workspaceSymbols(query, workspaceFacts(), ctx.open())) {
    const location = siteLocation(s, ctx.root());
    if (location) out.push({ name: s.name, kind: SYMBOL_KIND[s.kind], location, containerName: 'uri' in s.file ? undefined : s.file.path });
  }
  return out;
}

export function navCodeActions(ctx: NavContext, doc: DocumentAnalysis, uri: string, findings: readonly Finding[], from: number, to: number, diag: (f: Finding) => Diagnostic): CodeAction[] {
  const range = (s: number, e: number) => ({ start: doc.lines.positionAt(s), end: doc.lines.positionAt(e) });
  return codeActions(doc, findings, from, to).map((a): CodeAction => {
    if (a.kind === 'explain') {
      return { title: a.title, kind: CodeActionKind.Empty, command: { title: a.title, command: ctx.explainCommand(), arguments: [a.explain] } };
    }
    return {
      title: a.title, kind: CodeActionKind.QuickFix, isPreferred: a.preferred,
      diagnostics: a.finding ? [diag(a.finding)] : undefined,
      edit: { changes: { [uri]: (a.edits ?? []).map((e) => ({ range: range(e.start, e.end), newText: e.newText })) } },
    };
  });
}

/** Server-side explain command (clients without their own view): the card as a message. */
export const SERVER_EXPLAIN_COMMAND = 'kvmLens.explain';
export function registerExplainCommand(connection: Connection, card: (name: string) => string | undefined): void {
  connection.onExecuteCommand((p) => {
    if (p?.command !== SERVER_EXPLAIN_COMMAND) return null;
    const name = typeof p.arguments?.[0] === 'string' ? p.arguments[0] : '';
    const text = card(name);
    void connection.window.showInformationMessage(text ?? `kvm-lens: no field named ${name}`);
    return null;
  });
}
