// LSP glue only: converts between LSP and the editor-agnostic features. Runs over --stdio or node IPC.
//
// Robustness contract (test/protocol): every request gets a well-formed answer — a result, or InvalidParams for
// malformed params, RequestCancelled after $/cancelRequest, ContentModified when the document changed while the
// request waited; requests for unopened documents answer empty; positions are clamped; changes for unopened
// documents and stale versions are ignored and logged; an exception in a feature is logged and answered empty.
import { isMainThread, workerData } from 'node:worker_threads';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { fileURLToPath } from 'node:url';
import { relative, sep } from 'node:path';
import {
  CodeActionKind, CodeActionRequest, CodeLensRequest, DefinitionRequest, DiagnosticSeverity, HoverRequest, InlayHintRequest, ReferencesRequest, WorkspaceSymbolRequest, ErrorCodes, FileChangeType, InlayHintKind, LSPErrorCodes, ProposedFeatures, ResponseError,
  TextDocumentSyncKind, createConnection, type CancellationToken, type CodeAction, type CodeLens, type Connection,
  type Diagnostic, type InitializeResult, type InlayHint, type Location, type Range, type SymbolInformation, type TextDocumentContentChangeEvent, type WorkDoneProgressServerReporter,
} from 'vscode-languageserver/node';
import { initParser, isParserReady } from './analysis/parser';
import type { DocumentAnalysis } from './analysis/document';
import { DocumentStore, offsetIn } from './analysis/store';
import { workspaceFacts } from './analysis/workspace';
import { computeDiagnostics, diagnosticSteps, onInternalError } from './features/diagnostics';
import { ruleDocUri } from './docs';
import type { Finding, RuleSettings, Severity } from './features/findings';
import { hoverAt } from './features/hover';
import { inlayHints } from './features/inlay';
import { codeLenses } from './features/codelens';
import { checkHoverAt, checkLenses, documentChecks } from './features/checkSites';
import { auditMarkdown } from './features/auditReport';
import { NESTED_AUDIT_REQUEST, type NestedAuditResult } from './protocol/nestedAudit';
import { helperHeadersFor, nestedAuditRequest } from './workspace/auditTree';
import { findEntity, suggestNames } from './model/index';
import { entityCard, markdownToText } from './features/hover';
import { refAt } from './analysis/document';
import { conciseCard, explainCommandLink, presentFinding } from './features/present';
import { SERVER_EXPLAIN_COMMAND, navCodeActions, navDefinition, navReferences, navSymbols, registerExplainCommand, type NavContext } from './lspNav';
import { SIMULATE_REQUEST, type SimulateParams } from './protocol/simulation';
import { REVIEW_REQUEST, type ReviewParams } from './protocol/review';
import { reviewRequest } from './workspace/reviewTree';
import { simulateRequest } from './features/simulateRequest';
import { globMatcher } from './workspace/glob';
import { DEFAULT_INCLUDE, runIndexWorker, type IndexRequest } from './workspace/indexer';
import { INDEX_WORKER_TAG, WorkspaceIndexer } from './workspace/manager';

interface Settings {
  inlayHints: { enabled: boolean };
  diagnostics: { enabled: boolean };
  rules: RuleSettings;
  index: { enabled: boolean; include: string[] };
}
const DEFAULTS: Settings = { inlayHints: { enabled: false }, diagnostics: { enabled: true }, rules: {}, index: { enabled: true, include: DEFAULT_INCLUDE } };

/** `kvmLens/status` notification: a short text for the status bar and a tooltip. */
export const STATUS_NOTIFICATION = 'kvmLens/status';
export interface StatusParams { text: string; tooltip: string; busy?: boolean }
/** `kvmLens/serverStats` request: memory and counters (the soak script and the benchmark read it). */
export const SERVER_STATS_REQUEST = 'kvmLens/serverStats';

export const SERVER_VERSION = '0.1.0';

interface PendingPublish { timer: ReturnType<typeof setImmediate>; dirty: boolean; since: number; hops: number }
/** Longest a burst of changes can hold back its diagnostics. */
const MAX_COALESCE_MS = 50;

export interface ServerOptions {
  /** Script the index worker runs (the bundled server itself); indexing is off without it. */
  workerScript?: string;
}

export function startServer(connection: Connection, options: ServerOptions = {}): void {
  const store = new DocumentStore();
  let settings: Settings = DEFAULTS;
  let hasConfiguration = false;
  let root: string | undefined;
  let filesExclude: string[] = [];
  /** What the client offers: its own explain view (a command) and a scheme for read-only card documents. */
  let clientExplain: string | undefined;
  let clientCardScheme: string | undefined;
  /** The client shows `kvmLens/status` in its own status item: no second progress item from workDoneProgress. */
  let clientStatus = false;
  const startedAt = performance.now();
  const pending = new Map<string, PendingPublish>();
  const parserReady = initParser();
  let parserFailed: string | undefined;
  parserReady.catch((e: unknown) => {
    parserFailed = e instanceof Error ? e.message : String(e);
    connection.console.error(`kvm-lens: cannot load the C parser: ${parserFailed}`);
  });
  const counters = { edits: 0, published: 0, stalePublishesDropped: 0, staleChanges: 0, unknownChanges: 0, malformedNotifications: 0, internalErrors: 0 };
  const log = (msg: string): void => { try { connection.console.log(msg); } catch { /* connection gone */ } };
  const logError = (msg: string, e?: unknown): void => {
    counters.internalErrors++;
    try {
      connection.console.error(`kvm-lens: ${msg}${e === undefined ? '' : `: ${e instanceof Error ? e.stack ?? e.message : String(e)}`}`);
    } catch { /* connection gone */ }
  };

  /** A client sent something malformed: logged, counted, not an internal error. */
  const logBadInput = (msg: string): void => {
    counters.malformedNotifications++;
    try { connection.console.warn(`kvm-lens: ${msg}`); } catch { /* connection gone */ }
  };

  onInternalError((rule, e) => logError(`rule ${rule.id} failed`, e));

  // ---- workspace index (worker thread) ----
  let progress: WorkDoneProgressServerReporter | undefined;
  let lastProgressPct = -1;
  const status = (p: StatusParams): void => { void connection.sendNotification(STATUS_NOTIFICATION, p).catch(() => undefined); };
  const indexer = options.workerScript ? new WorkspaceIndexer(options.workerScript, {
    onStart: (total) => {
      status({ text: `$(sync~spin) kvm-lens: indexing 0/${total}`, tooltip: `Indexing ${total} files for workspace facts`, busy: true });
      progress?.report(0, `0/${total} files`);
    },
    onProgress: (done, total) => {
      const pct = total ? Math.floor((done * 100) / total) : 100;
      if (pct !== lastProgressPct) {
        lastProgressPct = pct;
        progress?.report(pct, `${done}/${total} files`);
        status({ text: `$(sync~spin) kvm-lens: indexing ${done}/${total}`, tooltip: `Indexing files for workspace facts (${pct}%)`, busy: true });
      }
    },
    onDone: (s) => {
      progress?.done();
      progress = undefined;
      for (const e of s.errors.slice(0, 20)) log(`kvm-lens: index: ${e}`);
      const facts = workspaceFacts();
      let refs = 0;
      let defs = 0;
      for (const p of facts.paths()) { const f = facts.file(p); refs += f?.refSites?.length ?? 0; defs += f?.defs?.length ?? 0; }
      log(`kvm-lens: indexed ${facts.fileCount} files (${s.lines} lines) in ${s.ms} ms: ${refs} field references, ${defs} field definitions${s.errors.length ? `, ${s.errors.length} skipped` : ''}`);
      status({
        text: `kvm-lens: ${facts.fileCount} files`,
        tooltip: `kvm-lens indexed ${facts.fileCount} files (${s.lines} lines) in ${s.ms} ms${s.errors.length ? `; ${s.errors.length} skipped (see the output)` : ''}`,
        busy: false,
      });
    },
    onError: (m) => { progress?.done(); progress = undefined; logError(m); status({ text: 'kvm-lens: index failed', tooltip: m, busy: false }); },
  }) : undefined;

  function startIndexing(): void {
    if (!indexer || !root || !settings.index.enabled) {
      status({ text: 'kvm-lens', tooltip: root ? 'kvm-lens: workspace indexing is off' : 'kvm-lens: no workspace folder — open documents only', busy: false });
      return;
    }
    const req: Omit<IndexRequest, 'only'> = { root, include: settings.index.include, exclude: filesExclude };
    lastProgressPct = -1;
    if (!clientStatus) void connection.window.createWorkDoneProgress().then((p) => {
      progress = p;
      p.begin('kvm-lens: indexing', 0, undefined, false);
    }, () => undefined);
    indexer.indexAll(req);
  }

  function relPathOf(uri: string): string | undefined {
    if (!root || !uri.startsWith('file:')) return undefined;
    try {
      const rel = relative(root, fileURLToPath(uri));
      if (!rel || rel.startsWith('..')) return undefined;
      return rel.split(sep).join('/');
    } catch {
      return undefined;
    }
  }

  function reindexUris(uris: string[]): void {
    if (!indexer || !settings.index.enabled) return;
    const m = globMatcher(settings.index.include);
    const rels = uris.map(relPathOf).filter((r): r is string => !!r && m.test(r));
    if (rels.length) indexer.reindex(rels);
  }

  // ---- lifecycle and settings ----
  connection.onInitialize((params): InitializeResult => {
    hasConfiguration = !!params?.capabilities?.workspace?.configuration;
    const init = params?.initializationOptions as (Partial<Settings> & { client?: { explainCommand?: unknown; cardScheme?: unknown } }) | undefined;
    if (init && typeof init === 'object') settings = mergeSettings(init);
    const cl = init && typeof init === 'object' ? init.client : undefined;
    if (typeof cl?.explainCommand === 'string' && /^[A-Za-z0-9_.]+$/.test(cl.explainCommand)) clientExplain = cl.explainCommand;
    if (typeof cl?.cardScheme === 'string' && /^[a-z][a-z0-9+.-]*$/.test(cl.cardScheme)) clientCardScheme = cl.cardScheme;
    clientStatus = (cl as { status?: unknown } | undefined)?.status === true;
    const folder = params?.workspaceFolders?.[0]?.uri ?? params?.rootUri ?? undefined;
    try {
      if (typeof folder === 'string' && folder.startsWith('file:')) root = fileURLToPath(folder);
      else if (typeof params?.rootPath === 'string' && params.rootPath) root = params.rootPath;
    } catch {
      root = undefined;
    }
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental, save: { includeText: false } },
        hoverProvider: true,
        inlayHintProvider: true,
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix, CodeActionKind.Empty] },
        codeLensProvider: { resolveProvider: false },
        definitionProvider: true,
        referencesProvider: true,
        workspaceSymbolProvider: true,
        executeCommandProvider: { commands: clientExplain ? [] : [SERVER_EXPLAIN_COMMAND] },
      },
      serverInfo: { name: 'kvm-lens', version: SERVER_VERSION },
    };
  });

  connection.onInitialized(() => {
    log(`kvm-lens ${SERVER_VERSION} (Node ${process.version}); root: ${root ?? '(none: open documents only)'}; index: ${settings.index.enabled ? settings.index.include.join(', ') : 'off'}; started in ${Math.round(performance.now() - startedAt)} ms`);
    if (hasConfiguration) void refreshSettings().then(startIndexing);
    else startIndexing();
  });

  async function refreshSettings(): Promise<void> {
    try {
      const [cfg, files] = (await connection.workspace.getConfiguration([{ section: 'kvmLens' }, { section: 'files' }])) as [Partial<Settings> | null, { exclude?: Record<string, unknown> } | null];
      if (cfg && typeof cfg === 'object') settings = mergeSettings(cfg);
      filesExclude = Object.entries(files?.exclude ?? {}).filter(([, v]) => v === true).map(([k]) => k);
    } catch (e) {
      connection.console.warn(`kvm-lens: cannot read configuration: ${String(e)}`);
    }
    for (const uri of store.uris()) schedule(uri);
  }

  connection.onDidChangeConfiguration((change) => {
    const before = JSON.stringify(settings.index);
    const s = (change?.settings as { kvmLens?: Partial<Settings> } | null)?.kvmLens;
    const after = (): void => { if (JSON.stringify(settings.index) !== before) startIndexing(); };
    if (s && typeof s === 'object') {
      settings = mergeSettings(s);
      for (const uri of store.uris()) schedule(uri);
      after();
    } else if (hasConfiguration) void refreshSettings().then(after);
  });

  // ---- documents ----
  connection.onDidOpenTextDocument(async (p) => {
    const td = p?.textDocument;
    if (!td || typeof td.uri !== 'string' || typeof td.text !== 'string') { logBadInput('ignored didOpen without textDocument {uri, text}'); return; }
    if (!(await ensureParser())) return;
    try {
      store.open(td.uri, typeof td.languageId === 'string' ? td.languageId : 'c', typeof td.version === 'number' ? td.version : 0, td.text);
      schedule(td.uri);
    } catch (e) {
      logError(`cannot open ${td.uri}`, e);
    }
  });

  connection.onDidChangeTextDocument(async (p) => {
    const td = p?.textDocument;
    if (!td || typeof td.uri !== 'string' || !Array.isArray(p.contentChanges)) { logBadInput('ignored didChange without textDocument/contentChanges'); return; }
    if (!(await ensureParser())) return;
    try {
      const outcome = store.change(td.uri, td.version, p.contentChanges as TextDocumentContentChangeEvent[]);
      counters.edits++;
      if (outcome === 'unknown-document') { counters.unknownChanges++; log(`kvm-lens: didChange for a document that is not open: ${td.uri}`); return; }
      if (outcome === 'stale-version') { counters.staleChanges++; log(`kvm-lens: ignored stale didChange (version ${td.version} < ${store.version(td.uri)}) for ${td.uri}`); return; }
      schedule(td.uri);
    } catch (e) {
      logError(`cannot apply changes to ${td.uri}`, e);
    }
  });

  connection.onDidCloseTextDocument((p) => {
    const uri = p?.textDocument?.uri;
    if (typeof uri !== 'string') return;
    const t = pending.get(uri);
    if (t) { clearImmediate(t.timer); pending.delete(uri); }
    store.close(uri);
    void connection.sendDiagnostics({ uri, diagnostics: [] }).catch(() => undefined);
  });

  connection.onDidSaveTextDocument((p) => {
    if (typeof p?.textDocument?.uri === 'string') reindexUris([p.textDocument.uri]);
  });

  connection.onDidChangeWatchedFiles((p) => {
    const changes = Array.isArray(p?.changes) ? p.changes : [];
    reindexUris(changes.filter((c) => c.type !== FileChangeType.Deleted).map((c) => c.uri));
    for (const c of changes) {
      if (c.type !== FileChangeType.Deleted) continue;
      const rel = relPathOf(c.uri);
      if (rel) indexer?.reindex([rel]); // the worker reports it unreadable; its facts are dropped
    }
  });

  async function ensureParser(): Promise<boolean> {
    if (isParserReady()) return true;
    try {
      await parserReady;
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Diagnostics are published without a debounce: an isolated change publishes two event-loop turns after it is
   * applied. While changes keep arriving (a burst already queued behind this one, fast typing), each hop sees the
   * `dirty` flag and waits one more turn — so a burst publishes once, at most MAX_COALESCE_MS after its first change.
   */
  function schedule(uri: string): void {
    const p = pending.get(uri);
    if (p) { p.dirty = true; return; }
    const entry: PendingPublish = { timer: undefined as unknown as ReturnType<typeof setImmediate>, dirty: false, since: performance.now(), hops: 0 };
    const hop = (): void => {
      entry.hops++;
      if (entry.hops >= 2 && (!entry.dirty || performance.now() - entry.since > MAX_COALESCE_MS)) {
        pending.delete(uri);
        void publish(uri);
        return;
      }
      entry.dirty = false;
      entry.timer = setImmediate(hop);
    };
    entry.timer = setImmediate(hop);
    pending.set(uri, entry);
  }

  const findingsKey = (): string => `diagnostics:${JSON.stringify(settings.rules)}`;

  function findingsOf(uri: string): Finding[] {
    if (!settings.diagnostics.enabled) return [];
    return store.memo(uri, findingsKey(), (doc) => computeDiagnostics(doc, settings.rules)) ?? [];
  }

  /**
   * Publishes the diagnostics of the current version. The work is cut in steps — parse and analysis, then one rule at
   * a time — with a macrotask turn between them, so a didChange queued meanwhile is applied (cheaply: the store parses
   * lazily) and this now-stale work is dropped; the newer version's own publish follows. A code-action request that
   * computed the findings of this version meanwhile (store memo) is reused.
   */
  async function publish(uri: string): Promise<void> {
    try {
      const version = store.version(uri);
      const key = findingsKey();
      const stale = (): boolean => !store.has(uri) || store.version(uri) !== version;
      let findings = settings.diagnostics.enabled ? store.peekMemo<Finding[]>(uri, key) : [];
      if (!findings) {
        const pendingParse = store.isPending(uri);
        if (!store.analysis(uri)) return;
        if (pendingParse) {
          await nextTurn();
          if (stale()) { counters.stalePublishesDropped++; return; }
        }
        const doc = store.analysis(uri);
        if (!doc) return;
        const steps = diagnosticSteps(doc, settings.rules);
        for (;;) {
          const r = steps.next();
          if (r.done) { findings = r.value; break; }
          await nextTurn();
          if (stale()) { counters.stalePublishesDropped++; return; }
          const done = store.peekMemo<Finding[]>(uri, key);
          if (done) { findings = done; break; }
        }
        if (key === findingsKey()) store.setMemo(uri, key, findings);
      }
      const doc = store.analysis(uri);
      if (!doc) return;
      const diagnostics = findings.map((f) => toDiagnostic(doc, uri, f));
      counters.published++;
      void connection.sendDiagnostics({ uri, version, diagnostics }).catch(() => undefined);
    } catch (e) {
      logError(`diagnostics failed for ${uri}`, e);
    }
  }

  /**
   * Common path of every document request: validates the params, answers `empty` for unopened documents,
   * lets queued notifications (didChange) run first, then answers RequestCancelled/ContentModified when the
   * request was cancelled or its document changed meanwhile. Feature exceptions are logged and answered `empty`.
   */
  async function docRequest<T>(method: string, p: unknown, token: CancellationToken | undefined, empty: T, run: (doc: DocumentAnalysis, uri: string) => T): Promise<T> {
    const uri = (p as { textDocument?: { uri?: unknown } } | null)?.textDocument?.uri;
    if (typeof uri !== 'string') throw new ResponseError(ErrorCodes.InvalidParams, `${method} needs { textDocument: { uri } }`);
    if (!(await ensureParser())) throw new ResponseError(ErrorCodes.InternalError, `kvm-lens: the C parser is not available: ${parserFailed ?? 'unknown error'}`);
    const version = store.version(uri);
    await yieldTurns();
    if (token?.isCancellationRequested) throw new ResponseError(LSPErrorCodes.RequestCancelled, `${method} cancelled`);
    const doc = store.analysis(uri);
    if (!doc) return empty;
    if (version !== store.version(uri)) throw new ResponseError(LSPErrorCodes.ContentModified, `${uri} changed while ${method} was pending`);
    try {
      return run(doc, uri);
    } catch (e) {
      if (e instanceof ResponseError) throw e;
      logError(`${method} failed for ${uri}`, e);
      return empty;
    }
  }

  /** LSP position → offset in the analysed text (clamped; malformed → InvalidParams). */
  function offsetOf(doc: DocumentAnalysis, pos: unknown, what = 'position'): number {
    if (!isPosition(pos)) throw new ResponseError(ErrorCodes.InvalidParams, `${what} must be { line: number, character: number }`);
    return offsetIn(doc.lines.starts, doc.text.length, pos);
  }
  function rangeOf(doc: DocumentAnalysis, r: unknown): [number, number] {
    const range = r as { start?: unknown; end?: unknown } | null;
    if (!range || typeof range !== 'object') throw new ResponseError(ErrorCodes.InvalidParams, 'range must be { start, end }');
    const a = offsetOf(doc, range.start, 'range.start');
    const b = offsetOf(doc, range.end, 'range.end');
    return a <= b ? [a, b] : [b, a];
  }

  // ---- features ----
  // Registered with onRequest(type) rather than onHover() etc.: those wrappers read params.workDoneToken before
  // our validation runs, so `params: null` would surface as InternalError instead of InvalidParams.
  connection.onRequest(HoverRequest.type, (p, token) => docRequest('textDocument/hover', p, token, null, (doc, uri) => {
    const offset = offsetOf(doc, p.position);
    const h = hoverAt(doc, offset);
    if (!h) {
      // `CC(...)` in a nested check function: the manual checks it implements (features/checkSites).
      const c = checkHoverAt(store.memo(uri, 'nestedChecks', (d) => documentChecks(d, helperHeadersFor(uri))), doc.text, offset);
      return c ? { contents: { kind: 'markdown' as const, value: c.markdown }, range: toRange(doc, c.start, c.end) } : null;
    }
    const name = refAt(doc, offset)?.entity.name ?? '';
    const value = conciseCard(h.markdown, { name, explainLink: clientExplain ? explainCommandLink(name) : undefined });
    return { contents: { kind: 'markdown' as const, value }, range: toRange(doc, h.start, h.end) };
  }));

  connection.onRequest(InlayHintRequest.type, (p, token) => docRequest('textDocument/inlayHint', p, token, [] as InlayHint[], (doc) => {
    const [from, to] = rangeOf(doc, p.range);
    if (!settings.inlayHints.enabled) return [];
    return inlayHints(doc, from, to).map((h) => ({
      position: doc.lines.positionAt(h.offset), label: h.label, kind: InlayHintKind.Type, paddingLeft: true, tooltip: h.tooltip,
    }));
  }));

  connection.onRequest(CodeActionRequest.type, (p, token) => docRequest('textDocument/codeAction', p, token, [] as CodeAction[], (doc, uri) => {
    const [from, to] = rangeOf(doc, p.range);
    return navCodeActions(nav, doc, uri, findingsOf(uri), from, to, (f) => toDiagnostic(doc, uri, f));
  }));

  const nav: NavContext = {
    root: () => root,
    open: () => {
      const docs = new Map<string, DocumentAnalysis>();
      for (const u of store.uris()) { const d = store.analysis(u); if (d) docs.set(u, d); }
      return { docs, pathOf: relPathOf };
    },
    cardScheme: () => clientCardScheme,
    explainCommand: () => clientExplain ?? SERVER_EXPLAIN_COMMAND,
  };
  connection.onRequest(DefinitionRequest.type, (p, token) => docRequest('textDocument/definition', p, token, [] as Location[], (doc) =>
    navDefinition(nav, doc, offsetOf(doc, p.position))));
  connection.onRequest(ReferencesRequest.type, (p, token) => docRequest('textDocument/references', p, token, [] as Location[], (doc) =>
    navReferences(nav, doc, offsetOf(doc, p.position), p.context?.includeDeclaration !== false)));
  connection.onRequest(WorkspaceSymbolRequest.type, (p): SymbolInformation[] => {
    try {
      return navSymbols(nav, typeof p?.query === 'string' ? p.query : '');
    } catch (e) {
      logError('workspace/symbol failed', e);
      return [];
    }
  });
  registerExplainCommand(connection, (name) => { const e = findEntity(name); return e ? markdownToText(entityCard(e)) : undefined; });

  connection.onRequest(CodeLensRequest.type, (p, token) => docRequest('textDocument/codeLens', p, token, [] as CodeLens[], (doc, uri) =>
    [...codeLenses(doc).map((l) => ({
      range: toRange(doc, l.start, l.start),
      command: { title: l.title, command: 'kvmLens.simulateFunction', arguments: [uri, l.functionName] },
    })), ...checkLenses(doc, store.memo(uri, 'nestedChecks', (d) => documentChecks(d, helperHeadersFor(uri)))).map((l) => ({
      range: toRange(doc, l.start, l.start),
      command: { title: l.title, command: 'kvmLens.auditNested', arguments: [uri, l.functionName] },
    }))]));

  connection.onRequest<NestedAuditResult, unknown>(NESTED_AUDIT_REQUEST, (p: unknown): Promise<NestedAuditResult> => nestedAuditRequest(p, ensureParser, auditMarkdown));

  connection.onRequest(SIMULATE_REQUEST, async (p: SimulateParams, token) => {
    const uri = (p as { textDocument?: { uri?: unknown } } | null)?.textDocument?.uri;
    if (!p || typeof p !== 'object' || typeof uri !== 'string') {
      throw new ResponseError(ErrorCodes.InvalidParams, 'kvmLens/simulate needs { textDocument: { uri } }');
    }
    if (!store.has(uri)) throw new ResponseError(ErrorCodes.InvalidParams, `document not open: ${uri}`);
    return docRequest(SIMULATE_REQUEST, p, token, null, (doc) => simulateRequest(doc, p));
  });

  connection.onRequest(REVIEW_REQUEST, async (p: ReviewParams | null) => {
    if (!p || typeof p.root !== 'string' || !Array.isArray(p.files)) throw new ResponseError(ErrorCodes.InvalidParams, 'kvmLens/review needs { root: string, files: [...] }');
    await parserReady;
    try {
      return reviewRequest(p, settings.rules);
    } catch (e) {
      throw new ResponseError(ErrorCodes.InvalidParams, e instanceof Error ? e.message : String(e));
    }
  });

  connection.onRequest('kvmLens/explain', (p: { name?: unknown }): { markdown: string | null; suggestions?: string[] } => {
    if (!p || typeof p.name !== 'string') throw new ResponseError(ErrorCodes.InvalidParams, 'kvmLens/explain needs { name: string }');
    const e = findEntity(p.name.trim());
    return e ? { markdown: entityCard(e) } : { markdown: null, suggestions: suggestNames(p.name) };
  });

  connection.onRequest(SERVER_STATS_REQUEST, (p: { gc?: unknown } | null) => {
    // { gc: true } (soak script): collect garbage first so the figures show retained memory, not GC timing.
    if (p && p.gc === true) forceGc();
    const m = process.memoryUsage();
    const facts = workspaceFacts();
    return {
      rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers,
      maxRss: process.resourceUsage().maxRSS * 1024,
      documents: store.size(), indexedFiles: facts.fileCount, indexReady: facts.ready, indexing: indexer?.running ?? false,
      ...counters,
    };
  });

  /** `kvmLens/workspaceFacts` { name } → what the workspace index knows about a function name. */
  connection.onRequest('kvmLens/workspaceFacts', (p: { name?: unknown }) => {
    if (!p || typeof p.name !== 'string') throw new ResponseError(ErrorCodes.InvalidParams, 'kvmLens/workspaceFacts needs { name: string }');
    const f = workspaceFacts();
    return { ready: f.ready, files: f.fileCount, isCalled: f.isCalled(p.name), callers: f.callers(p.name).slice(0, 200), definedIn: f.definedIn(p.name), role: f.roleOf(p.name) ?? null };
  });

  connection.onShutdown(() => {
    for (const t of pending.values()) clearImmediate(t.timer);
    pending.clear();
    indexer?.dispose();
  });

  connection.listen();
}

let gcFn: (() => void) | undefined;
function forceGc(): void {
  try {
    if (!gcFn) {
      setFlagsFromString('--expose-gc');
      gcFn = runInNewContext('gc') as () => void;
    }
    gcFn();
  } catch { /* not available: report memory as it is */ }
}

/** One macrotask turn: messages that arrived meanwhile are handled first. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Two macrotask turns: queued messages (e.g. a didChange right behind this request) are handled first. */
function yieldTurns(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}

function isPosition(p: unknown): p is { line: number; character: number } {
  const q = p as { line?: unknown; character?: unknown } | null;
  return !!q && typeof q === 'object' && typeof q.line === 'number' && typeof q.character === 'number' && Number.isFinite(q.line) && Number.isFinite(q.character);
}

function mergeSettings(s: Partial<Settings>): Settings {
  const include = Array.isArray(s.index?.include) ? s.index.include.filter((g): g is string => typeof g === 'string' && g.length > 0) : DEFAULT_INCLUDE;
  return {
    inlayHints: { enabled: !!s.inlayHints?.enabled },
    diagnostics: { enabled: s.diagnostics?.enabled !== false },
    rules: sanitizeRules(s.rules),
    index: { enabled: s.index?.enabled !== false, include },
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

/**
 * A finding as an LSP diagnostic: the short message (≤ 160 characters); the why and the citation as related
 * information at the finding, then the rule's own related locations; the rule id linking to its section in the docs.
 */
function toDiagnostic(doc: DocumentAnalysis, uri: string, f: Finding): Diagnostic {
  const t = presentFinding(f);
  const here = toRange(doc, f.start, f.end);
  const d: Diagnostic = {
    range: here, severity: SEVERITY[f.severity] ?? DiagnosticSeverity.Warning, code: f.rule, source: 'kvm-lens', message: t.short,
    codeDescription: { href: ruleDocUri(f.rule) },
  };
  const related = [
    ...(t.why ? [{ location: { uri, range: here }, message: `Why: ${t.why}` }] : []),
    ...(t.citation ? [{ location: { uri, range: here }, message: `Source: ${t.citation}` }] : []),
    ...(f.related ?? []).map((r) => ({ location: { uri, range: toRange(doc, r.start, r.end) }, message: r.message })),
  ];
  if (related.length) d.relatedInformation = related;
  return d;
}

const indexJob = !isMainThread ? (workerData as { tag?: string; request?: IndexRequest } | null) : null;
if (indexJob?.tag === INDEX_WORKER_TAG && indexJob.request) {
  // This bundle doubles as the index worker's script (no separate bundle to ship).
  runIndexWorker(indexJob.request);
} else if (isMainThread && require.main === module) {
  // createConnection picks the transport from the command line (--stdio, --node-ipc, --socket=N).
  const argv = process.argv;
  if (!argv.some((a) => a === '--stdio' || a === '--node-ipc' || a.startsWith('--socket') || a.startsWith('--pipe'))) {
    if (process.send) argv.push('--node-ipc');
    else argv.push('--stdio');
  }
  process.on('uncaughtException', (e) => { process.stderr.write(`kvm-lens: uncaught: ${e.stack ?? e.message}\n`); });
  process.on('unhandledRejection', (e) => { process.stderr.write(`kvm-lens: unhandled rejection: ${String(e)}\n`); });
  startServer(createConnection(ProposedFeatures.all), { workerScript: __filename });
}
