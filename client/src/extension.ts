// VS Code client of the kvm-lens language server: starts the server (dist/server.js over node IPC), forwards the
// `kvmLens` settings, shows the server's status in the status bar, and owns the commands and the simulation panel.
import * as vscode from 'vscode';
import {
  LanguageClient,
  State,
  TransportKind,
  type LanguageClientOptions,
  type ServerOptions,
} from 'vscode-languageclient/node';
import { SIMULATE_REQUEST, type SimulateParams, type SimulationResult } from '../../server/src/protocol/simulation';
import { SimulationPanel } from './webview';
import { reviewWorkingChanges } from './review';
import { registerNestedAudit } from './auditPanel';

const STATUS_NOTIFICATION = 'kvmLens/status';
const EXPLAIN_REQUEST = 'kvmLens/explain';

interface StatusParams { text: string; tooltip?: string }
interface ExplainResult { markdown: string }
/** The server answers `{ markdown: null, suggestions }` for an unknown name (older servers: `null`). */
interface ExplainReply { markdown: string | null; suggestions?: string[] }

/** What `activate` returns; used by the extension-host tests. */
export interface KvmLensApi {
  client: LanguageClient;
  /** The last simulation result shown in the panel. */
  lastSimulation(): SimulationResult | undefined;
  /** The HTML currently in the simulation panel, if it is open. */
  simulationHtml(): string | undefined;
}

let client: LanguageClient | undefined;
let lastResult: SimulationResult | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<KvmLensApi> {
  const output = vscode.window.createOutputChannel('KVM Lens', { log: true });
  context.subscriptions.push(output);
  const version = String((context.extension?.packageJSON as { version?: unknown } | undefined)?.version ?? '?');
  output.appendLine(`[client] KVM Lens ${version}; VS Code ${vscode.version}; workspace: ${vscode.workspace.workspaceFolders?.map((f) => f.uri.fsPath).join(', ') || '(none: open files only)'}`);
  let review: vscode.OutputChannel | undefined;
  const reviewChannel = (): vscode.OutputChannel => {
    if (!review) { review = vscode.window.createOutputChannel('KVM Lens Review'); context.subscriptions.push(review); }
    return review;
  };

  const status = vscode.window.createStatusBarItem('kvmLens.status', vscode.StatusBarAlignment.Left, 10);
  status.name = 'KVM Lens';
  status.command = 'kvmLens.showOutput';
  setStatus(status, '$(sync~spin) KVM Lens: starting', 'The KVM Lens language server is starting');
  status.show();
  context.subscriptions.push(status);

  const serverModule = context.asAbsolutePath('dist/server.js');
  const serverOptions: ServerOptions = {
    // A 4 MiB young generation: the server's RSS after 10 000 edits is ~30 MB lower, at the same latency (bench/README.md).
    run: { module: serverModule, transport: TransportKind.ipc, options: { execArgv: ['--max-semi-space-size=4'] } },
    debug: { module: serverModule, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6011'] } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { language: 'c' },
      { language: 'kvmflow' },
    ],
    // Sends workspace/didChangeConfiguration with the `kvmLens` section whenever it changes; the server also pulls
    // it with workspace/configuration. Either way a new rule severity applies without a restart.
    synchronize: { configurationSection: 'kvmLens' },
    outputChannel: output,
    traceOutputChannel: output,
    // One status item (ours) shows starting/indexing/ready; the server skips its own progress reports for this client.
    progressOnInitialization: false,
    // Hover cards end with a link that runs only this command.
    markdown: { isTrusted: { enabledCommands: ['kvmLens.explainField'] }, supportHtml: false },
    initializationOptions: { client: { explainCommand: 'kvmLens.explainField', cardScheme: EXPLAIN_SCHEME, status: true } },
  };
  // The id `kvmLens` makes the client honour the `kvmLens.trace.server` setting.
  const lc = new LanguageClient('kvmLens', 'KVM Lens', serverOptions, clientOptions);
  client = lc;
  registerExplainProvider(lc);
  context.subscriptions.push({ dispose: () => { explainProvider?.dispose(); explainProvider = undefined; } });

  context.subscriptions.push(
    lc.onDidChangeState((e) => {
      if (e.newState === State.Running) setStatus(status, 'KVM Lens', 'KVM Lens language server is running');
      else if (e.newState === State.Stopped) setStatus(status, '$(error) KVM Lens: stopped', 'The language server stopped; see the output channel');
    }),
    vscode.commands.registerCommand('kvmLens.showOutput', () => output.show(true)),
    vscode.commands.registerCommand('kvmLens.simulateSelection', () => simulateSelection(lc, output, status)),
    vscode.commands.registerCommand('kvmLens.simulateFunction', (uri?: unknown, functionName?: unknown) =>
      simulateFunction(lc, output, status, uri, functionName)),
    vscode.commands.registerCommand('kvmLens.explainField', (name?: unknown) => explainField(lc, output, name)),
    vscode.commands.registerCommand('kvmLens.reviewWorkingChanges', () => reviewWorkingChanges(lc, reviewChannel())),
  );
  registerNestedAudit(context, lc);

  try {
    await lc.start();
    context.subscriptions.push(
      lc.onNotification(STATUS_NOTIFICATION, (p: StatusParams) => {
        if (!p || typeof p.text !== 'string') return;
        setStatus(status, statusText(p.text), typeof p.tooltip === 'string' ? p.tooltip : undefined);
      }),
    );
    const info = lc.initializeResult?.serverInfo;
    output.appendLine(`[client] language server ${info?.name ?? 'kvm-lens'} ${info?.version ?? ''} started (${serverModule})`);
  } catch (err) {
    output.appendLine(`[client] language server failed to start: ${describe(err)}`);
    setStatus(status, '$(error) KVM Lens: failed to start', describe(err));
  }

  return {
    client: lc,
    lastSimulation: () => lastResult,
    simulationHtml: () => SimulationPanel.active?.html,
  };
}

export async function deactivate(): Promise<void> {
  explainProvider?.dispose();
  explainProvider = undefined;
  const c = client;
  client = undefined;
  if (c) await c.stop().catch(() => undefined);
}

function setStatus(item: vscode.StatusBarItem, text: string, tooltip?: string): void {
  item.text = text;
  item.tooltip = tooltip ?? text;
}

/** "KVM Lens: <state>" from the server's text, which may carry its own name and a leading $(icon). */
export function statusText(text: string): string {
  const m = /^\s*(\$\([A-Za-z0-9~-]+\)\s*)?(.*)$/s.exec(text) ?? [];
  const icon = (m[1] ?? '').trim();
  const rest = (m[2] ?? '').replace(/^kvm[- ]?lens\b\s*:?\s*/i, '').replace(/\s+/g, ' ').trim().slice(0, 80);
  return `${icon ? `${icon} ` : ''}KVM Lens${rest ? `: ${rest}` : ''}`;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// ---------------------------------------------------------------------------------------------------------------
// Simulation

async function runSimulation(lc: LanguageClient, output: vscode.OutputChannel, status: vscode.StatusBarItem, params: SimulateParams, source: vscode.Uri): Promise<SimulationResult | undefined> {
  const before = { text: status.text, tooltip: status.tooltip };
  setStatus(status, '$(sync~spin) KVM Lens: simulating', 'KVM Lens is simulating the selection');
  const t0 = Date.now();
  try {
    const result = await lc.sendRequest<SimulationResult | null>(SIMULATE_REQUEST, params);
    output.appendLine(`[client] simulation of ${source.fsPath}${params.functionName ? ` ${params.functionName}()` : ''}${params.configuration ? ` (configuration ${JSON.stringify(params.configuration)})` : ''}: ${Date.now() - t0} ms`);
    if (!result) {
      SimulationPanel.showMessage('KVM Lens Simulation', 'Nothing to simulate here: select a KVM function, a C region or a written flow.');
      return undefined;
    }
    lastResult = result;
    SimulationPanel.show(result, source, (configuration) => runSimulation(lc, output, status, { ...params, configuration }, source));
    return result;
  } catch (err) {
    output.appendLine(`[client] ${SIMULATE_REQUEST} failed: ${describe(err)}`);
    void vscode.window.showErrorMessage(`KVM Lens: simulation failed: ${describe(err)}`);
    return undefined;
  } finally {
    setStatus(status, String(before.text), typeof before.tooltip === 'string' ? before.tooltip : undefined);
  }
}

async function simulateSelection(lc: LanguageClient, output: vscode.OutputChannel, status: vscode.StatusBarItem): Promise<SimulationResult | undefined> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    void vscode.window.showWarningMessage('KVM Lens: open a C file or a .kvmflow file and select what to simulate.');
    return undefined;
  }
  const doc = editor.document;
  const sel = editor.selection;
  // An empty selection is sent too: the server then simulates the function around the cursor (C) or the whole
  // flow (.kvmflow).
  const params: SimulateParams = {
    textDocument: { uri: lc.code2ProtocolConverter.asUri(doc.uri) },
    range: {
      start: { line: sel.start.line, character: sel.start.character },
      end: { line: sel.end.line, character: sel.end.character },
    },
  };
  if (doc.languageId === 'kvmflow') params.mode = 'flow';
  return runSimulation(lc, output, status, params, doc.uri);
}

async function simulateFunction(lc: LanguageClient, output: vscode.OutputChannel, status: vscode.StatusBarItem, uri: unknown, functionName: unknown): Promise<SimulationResult | undefined> {
  const target = typeof uri === 'string' ? vscode.Uri.parse(uri) : uri instanceof vscode.Uri ? uri : vscode.window.activeTextEditor?.document.uri;
  if (!target || typeof functionName !== 'string' || functionName === '') {
    void vscode.window.showWarningMessage('KVM Lens: simulateFunction needs a document and a function name.');
    return undefined;
  }
  const params: SimulateParams = { textDocument: { uri: lc.code2ProtocolConverter.asUri(target) }, functionName, mode: 'c' };
  return runSimulation(lc, output, status, params, target);
}

// ---------------------------------------------------------------------------------------------------------------
// Explain

function wordAtCursor(): string | undefined {
  const editor = vscode.window.activeTextEditor;
  if (!editor) return undefined;
  const range = editor.document.getWordRangeAtPosition(editor.selection.active, /[A-Za-z_][A-Za-z0-9_]*/);
  return range ? editor.document.getText(range) : undefined;
}

async function explainField(lc: LanguageClient, output: vscode.OutputChannel, arg: unknown): Promise<ExplainResult | undefined> {
  const name = typeof arg === 'string' && arg !== ''
    ? arg
    : await vscode.window.showInputBox({
      title: 'KVM Lens: Explain Field',
      prompt: 'A VMCS/VMCB field, int_ctl bit, MSR, exit reason or instruction',
      placeHolder: 'GUEST_PDPTR0, vmcs12->guest_pdptr0, int_ctl, V_IRQ_MASK, MSR_IA32_XFD, EXIT_REASON_MSR_WRITE',
      value: wordAtCursor(),
    });
  if (!name) return undefined;
  try {
    const reply = await lc.sendRequest<ExplainReply | null>(EXPLAIN_REQUEST, { name: name.trim() });
    if (!reply || typeof reply.markdown !== 'string') {
      const near = Array.isArray(reply?.suggestions) ? reply.suggestions.filter((x) => typeof x === 'string').slice(0, 5) : [];
      if (near.length === 0) {
        void vscode.window.showWarningMessage(`KVM Lens: no field, bit, MSR or instruction named "${name}".`);
        return undefined;
      }
      const pick = await vscode.window.showQuickPick(near, { title: `KVM Lens: "${name}" is unknown; did you mean` });
      return pick ? explainField(lc, output, pick) : undefined;
    }
    const result: ExplainResult = { markdown: reply.markdown };
    await showMarkdown(result.markdown, name.trim());
    return result;
  } catch (err) {
    output.appendLine(`[client] ${EXPLAIN_REQUEST} failed: ${describe(err)}`);
    void vscode.window.showErrorMessage(`KVM Lens: explain failed: ${describe(err)}`);
    return undefined;
  }
}

/** Read-only virtual documents (`kvm-lens-explain:/NAME.md`) holding explain cards, so no untitled buffer is left behind. */
const EXPLAIN_SCHEME = 'kvm-lens-explain';
const explainDocs = new Map<string, string>();
const explainChanged = new vscode.EventEmitter<vscode.Uri>();
let explainProvider: vscode.Disposable | undefined;

/**
 * The provider of the read-only card documents: explain views, and the card go-to-definition offers next to the
 * field's definition in the tree. A card not shown before is fetched from the server by its name.
 */
function registerExplainProvider(lc: LanguageClient): void {
  explainProvider ??= vscode.workspace.registerTextDocumentContentProvider(EXPLAIN_SCHEME, {
    onDidChange: explainChanged.event,
    provideTextDocumentContent: async (uri) => {
      const known = explainDocs.get(uri.path);
      if (known !== undefined) return known;
      const name = decodeURIComponent(uri.path.replace(/^\//, '').replace(/\.md$/, ''));
      try {
        const reply = await lc.sendRequest<ExplainReply | null>(EXPLAIN_REQUEST, { name });
        const md = typeof reply?.markdown === 'string' ? reply.markdown : `No field, bit, MSR or instruction named \`${name}\`.`;
        explainDocs.set(uri.path, md);
        return md;
      } catch (err) {
        return `KVM Lens: cannot explain ${name}: ${describe(err)}`;
      }
    },
  });
}

/** Shows markdown in VS Code's own (sanitising) markdown preview; plain text in a message if that is unavailable. */
async function showMarkdown(markdown: string, name: string): Promise<void> {
  const uri = vscode.Uri.from({ scheme: EXPLAIN_SCHEME, path: `/${name.replace(/[^A-Za-z0-9_.>-]/g, '_').slice(0, 80) || 'card'}.md` });
  explainDocs.set(uri.path, markdown);
  explainChanged.fire(uri);
  try {
    await vscode.commands.executeCommand('markdown.showPreviewToSide', uri);
  } catch {
    const plain = markdown.replace(/[`*_#>]/g, '').replace(/\s+/g, ' ').trim();
    void vscode.window.showInformationMessage(plain.length > 600 ? `${plain.slice(0, 600)}…` : plain);
  }
}
