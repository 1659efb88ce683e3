// The simulation panel: one webview panel, reused for every simulation, that shows the rendered trace and
// reveals the source line when a step is clicked.
import * as vscode from 'vscode';
import type { SimulationResult } from '../../server/src/protocol/simulation';
import { makeNonce, renderMessageHtml, renderSimulationHtml } from './render';

const VIEW_TYPE = 'kvmLens.simulation';

export class SimulationPanel {
  private static current: SimulationPanel | undefined;
  private source: vscode.Uri | undefined;
  private result: SimulationResult | undefined;
  private onConfiguration: ((c: Record<string, boolean | string>) => unknown) | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  private constructor(private readonly panel: vscode.WebviewPanel) {
    panel.onDidDispose(() => this.dispose(), null, this.disposables);
    panel.webview.onDidReceiveMessage((msg: unknown) => this.onMessage(msg), null, this.disposables);
  }

  /**
   * Shows `result` for the document `source`, creating the panel on first use. `onConfiguration` re-runs the
   * simulation for a configuration of the sweep (a clicked row).
   */
  static show(result: SimulationResult, source: vscode.Uri, onConfiguration?: (c: Record<string, boolean | string>) => unknown): SimulationPanel {
    const p = SimulationPanel.reveal();
    p.source = source;
    p.result = result;
    p.onConfiguration = onConfiguration;
    p.panel.title = `Simulation: ${result.title || 'trace'}`;
    p.panel.webview.html = renderSimulationHtml(result, makeNonce(), p.panel.webview.cspSource);
    return p;
  }

  static showMessage(title: string, message: string): SimulationPanel {
    const p = SimulationPanel.reveal();
    p.panel.title = title;
    p.panel.webview.html = renderMessageHtml(title, message, makeNonce(), p.panel.webview.cspSource);
    return p;
  }

  /** The panel currently open, if any (for tests and commands). */
  static get active(): SimulationPanel | undefined {
    return SimulationPanel.current;
  }

  get html(): string {
    return this.panel.webview.html;
  }

  private static reveal(): SimulationPanel {
    if (SimulationPanel.current) {
      SimulationPanel.current.panel.reveal(undefined, true);
      return SimulationPanel.current;
    }
    // A full editor column: the timeline and the tables need the width (beside the source they were cut in half).
    // Clicking a step opens the source beside the panel.
    const panel = vscode.window.createWebviewPanel(
      VIEW_TYPE,
      'KVM Lens Simulation',
      { viewColumn: vscode.ViewColumn.Active, preserveFocus: false },
      // Scripts only for the page's own nonce'd script (step selection); no local resources at all.
      { enableScripts: true, enableForms: false, localResourceRoots: [], retainContextWhenHidden: false },
    );
    SimulationPanel.current = new SimulationPanel(panel);
    return SimulationPanel.current;
  }

  private async onMessage(msg: unknown): Promise<void> {
    if (!msg || typeof msg !== 'object') return;
    const { type, line, index } = msg as { type?: unknown; line?: unknown; index?: unknown };
    if (type === 'configuration') {
      const c = typeof index === 'number' && Number.isInteger(index) ? this.result?.configurations?.[index] : undefined;
      if (c && this.onConfiguration) void this.onConfiguration({ ...c.predicates });
      return;
    }
    if (type !== 'reveal' || typeof line !== 'number' || !Number.isInteger(line) || line < 1 || !this.source) return;
    try {
      const doc = await vscode.workspace.openTextDocument(this.source);
      const l = Math.min(line - 1, Math.max(0, doc.lineCount - 1));
      const range = doc.lineAt(l).range;
      // The source in the column beside the panel (an editor already showing it is reused).
      const visible = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === doc.uri.toString() && e.viewColumn !== this.panel.viewColumn);
      const editor = await vscode.window.showTextDocument(doc, {
        viewColumn: visible?.viewColumn ?? vscode.ViewColumn.Beside,
        selection: new vscode.Selection(range.start, range.end),
        preserveFocus: false,
      });
      editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    } catch {
      // the document was closed or deleted: nothing to reveal
    }
  }

  private dispose(): void {
    if (SimulationPanel.current === this) SimulationPanel.current = undefined;
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
