// LSP glue only: converts between LSP and the editor-agnostic features. Runs over --stdio or node IPC.
import {
  CodeActionKind, DiagnosticSeverity, ErrorCodes, InlayHintKind, ProposedFeatures, ResponseError, TextDocumentSyncKind,
  createConnection, type CodeAction, type CodeLens, type Connection, type Diagnostic, type InitializeResult,
  type InlayHint, type Range, type TextDocumentContentChangeEvent,
} from 'vscode-languageserver/node';
import { initParser } from './analysis/parser';
import type { DocumentAnalysis } from './analysis/document';
import { DocumentStore } from './analysis/store';
import { computeDiagnostics, onInternalError, RULE_DOC_BASE } from './features/diagnostics';
import type { Finding, RuleSettings, Severity } from './features/findings';
import { hoverAt } from './features/hover';
import { inlayHints } from './features/inlay';
import { codeLenses } from './features/codelens';
import { findEntity, suggestNames } from './model/index';
import { entityCard } from './features/hover';
import { SIMULATE_REQUEST, type SimulateParams } from './protocol/simulation';
import { simulateRequest } from './features/simulateRequest';

interface Settings {
  inlayHints: { enabled: boolean };
  diagnostics: { enabled: boolean };
  rules: RuleSettings;
}
const DEFAULTS: Settings = { inlayHints: { enabled: false }, diagnostics: { enabled: true }, rules: {} };

export function startServer(connection: Connection): void {
  const store = new DocumentStore();
  let settings: Settings = DEFAULTS;
  let hasConfiguration = false;
  const pending = new Map<string, ReturnType<typeof setTimeout>>();
  const parserReady = initParser();

  onInternalError((rule, e) => connection.console.error(`kvm-lens: rule ${rule.id} failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`));

  connection.onInitialize((params): InitializeResult => {
    hasConfiguration = !!params.capabilities.workspace?.configuration;
    const init = params.initializationOptions as Partial<Settings> | undefined;
    if (init) settings = mergeSettings(init);
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
        hoverProvider: true,
        inlayHintProvider: true,
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
        codeLensProvider: { resolveProvider: false },
        executeCommandProvider: { commands: [] },
      },
      serverInfo: { name: 'kvm-lens', version: '0.1.0' },
    };
  });

  connection.onInitialized(() => {
    if (hasConfiguration) void refreshSettings();
  });

  async function refreshSettings(): Promise<void> {
    try {
      const cfg = (await connection.workspace.getConfiguration('kvmLens')) as Partial<Settings> | null;
      if (cfg) settings = mergeSettings(cfg);
    } catch (e) {
      connection.console.warn(`kvm-lens: cannot read configuration: ${String(e)}`);
    }
    for (const uri of store.uris()) schedule(uri, 0);
  }

  connection.onDidChangeConfiguration((change) => {
    const s = (change.settings as { kvmLens?: Partial<Settings> } | null)?.kvmLens;
    if (s) {
      settings = mergeSettings(s);
      for (const uri of store.uris()) schedule(uri, 0);
    } else void refreshSettings();
  });

  async function docFor(uri: string): Promise<DocumentAnalysis | undefined> {
    await parserReady;
    return store.analysis(uri);
  }

  connection.onDidOpenTextDocument(async (p) => {
    await parserReady;
    store.open(p.textDocument.uri, p.textDocument.languageId, p.textDocument.version, p.textDocument.text);
    schedule(p.textDocument.uri, 0);
  });

  connection.onDidChangeTextDocument(async (p) => {
    await parserReady;
    store.change(p.textDocument.uri, p.textDocument.version, p.contentChanges as TextDocumentContentChangeEvent[]);
    schedule(p.textDocument.uri, 0);
  });

  connection.onDidCloseTextDocument((p) => {
    store.close(p.textDocument.uri);
    connection.sendDiagnostics({ uri: p.textDocument.uri, diagnostics: [] });
  });

  function schedule(uri: string, delay: number): void {
    const t = pending.get(uri);
    if (t) clearTimeout(t);
    pending.set(uri, setTimeout(() => {
      pending.delete(uri);
      publish(uri);
    }, delay));
  }

  function publish(uri: string): void {
    try {
      const doc = store.analysis(uri);
      if (!doc || store.languageId(uri) === 'kvmflow') {
        if (doc === undefined) return;
      }
      const version = store.version(uri);
      const findings = settings.diagnostics.enabled && doc ? computeDiagnostics(doc, settings.rules) : [];
      const diagnostics = doc ? findings.map((f) => toDiagnostic(doc, uri, f)) : [];
      connection.sendDiagnostics({ uri, version, diagnostics });
    } catch (e) {
      connection.console.error(`kvm-lens: diagnostics failed for ${uri}: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    }
  }

  connection.onHover(async (p) => {
    const doc = await docFor(p.textDocument.uri);
    if (!doc) return null;
    const h = hoverAt(doc, doc.lines.offsetAt(p.position));
    if (!h) return null;
    return { contents: { kind: 'markdown', value: h.markdown }, range: toRange(doc, h.start, h.end) };
  });

  connection.languages.inlayHint.on(async (p): Promise<InlayHint[]> => {
    if (!settings.inlayHints.enabled) return [];
    const doc = await docFor(p.textDocument.uri);
    if (!doc) return [];
    const from = doc.lines.offsetAt(p.range.start);
    const to = doc.lines.offsetAt(p.range.end);
    return inlayHints(doc, from, to).map((h) => ({
      position: doc.lines.positionAt(h.offset), label: h.label, kind: InlayHintKind.Type, paddingLeft: true, tooltip: h.tooltip,
    }));
  });

  connection.onCodeAction(async (p): Promise<CodeAction[]> => {
    const doc = await docFor(p.textDocument.uri);
    if (!doc) return [];
    const from = doc.lines.offsetAt(p.range.start);
    const to = doc.lines.offsetAt(p.range.end);
    const actions: CodeAction[] = [];
    for (const f of computeDiagnostics(doc, settings.rules)) {
      if (!f.fix || f.end < from || f.start > to) continue;
      actions.push({
        title: f.fix.title, kind: CodeActionKind.QuickFix, isPreferred: true,
        diagnostics: [toDiagnostic(doc, p.textDocument.uri, f)],
        edit: { changes: { [p.textDocument.uri]: f.fix.edits.map((e) => ({ range: toRange(doc, e.start, e.end), newText: e.newText })) } },
      });
    }
    return actions;
  });

  connection.onCodeLens(async (p): Promise<CodeLens[]> => {
    const doc = await docFor(p.textDocument.uri);
    if (!doc) return [];
    return codeLenses(doc).map((l) => ({
      range: toRange(doc, l.start, l.start),
      command: { title: l.title, command: 'kvmLens.simulateFunction', arguments: [p.textDocument.uri, l.functionName] },
    }));
  });

  connection.onRequest(SIMULATE_REQUEST, async (p: SimulateParams) => {
    if (!p || typeof p !== 'object' || !p.textDocument || typeof p.textDocument.uri !== 'string') {
      throw new ResponseError(ErrorCodes.InvalidParams, 'kvmLens/simulate needs { textDocument: { uri } }');
    }
    const doc = await docFor(p.textDocument.uri);
    if (!doc) throw new ResponseError(ErrorCodes.InvalidParams, `document not open: ${p.textDocument.uri}`);
    return simulateRequest(doc, p);
  });

  connection.onRequest('kvmLens/explain', (p: { name?: unknown }): { markdown: string | null; suggestions?: string[] } => {
    if (!p || typeof p.name !== 'string') throw new ResponseError(ErrorCodes.InvalidParams, 'kvmLens/explain needs { name: string }');
    const e = findEntity(p.name.trim());
    return e ? { markdown: entityCard(e) } : { markdown: null, suggestions: suggestNames(p.name) };
  });

  connection.onShutdown(() => {
    for (const t of pending.values()) clearTimeout(t);
    pending.clear();
  });

  connection.listen();
}

function mergeSettings(s: Partial<Settings>): Settings {
  return {
    inlayHints: { enabled: !!s.inlayHints?.enabled },
    diagnostics: { enabled: s.diagnostics?.enabled !== false },
    rules: sanitizeRules(s.rules),
  };
}

function sanitizeRules(r: unknown): RuleSettings {
  const out: RuleSettings = {};
  if (!r || typeof r !== 'object') return out;
  for (const [k, v] of Object.entries(r as Record<string, unknown>)) {
    if (v === 'error' || v === 'warning' || v === 'info' || v === 'hint' || v === 'off') out[k] = v;
  }
  return out;
}

const SEVERITY: Record<Severity, DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error, warning: DiagnosticSeverity.Warning, info: DiagnosticSeverity.Information, hint: DiagnosticSeverity.Hint,
};

function toRange(doc: DocumentAnalysis, start: number, end: number): Range {
  return { start: doc.lines.positionAt(start), end: doc.lines.positionAt(end) };
}

function toDiagnostic(doc: DocumentAnalysis, uri: string, f: Finding): Diagnostic {
  const d: Diagnostic = {
    range: toRange(doc, f.start, f.end), severity: SEVERITY[f.severity], code: f.rule, source: 'kvm-lens', message: f.message,
    codeDescription: { href: `${RULE_DOC_BASE}${f.rule}` },
  };
  if (f.related?.length) {
    d.relatedInformation = f.related.map((r) => ({ location: { uri, range: toRange(doc, r.start, r.end) }, message: r.message }));
  }
  return d;
}

if (require.main === module) {
  // createConnection picks the transport from the command line (--stdio, --node-ipc, --socket=N).
  const argv = process.argv;
  if (!argv.some((a) => a === '--stdio' || a === '--node-ipc' || a.startsWith('--socket') || a.startsWith('--pipe'))) {
    if (process.send) argv.push('--node-ipc');
    else argv.push('--stdio');
  }
  process.on('uncaughtException', (e) => { process.stderr.write(`kvm-lens: uncaught: ${e.stack ?? e.message}\n`); });
  process.on('unhandledRejection', (e) => { process.stderr.write(`kvm-lens: unhandled rejection: ${String(e)}\n`); });
  startServer(createConnection(ProposedFeatures.all));
}
