// Command "KVM Lens: Nested Audit": asks the server to audit the kernel tree of the active file (or the workspace
// folder) and shows the report in a webview (no scripts). The check-function code lenses run it too.
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { NESTED_AUDIT_REQUEST, type NestedAuditResult } from '../../server/src/protocol/nestedAudit';
import { renderAuditHtml } from './auditRender';
import { makeNonce, renderMessageHtml } from './render';

let panel: vscode.WebviewPanel | undefined;

function show(title: string, html: (cspSource: string) => string): void {
  if (!panel) {
    panel = vscode.window.createWebviewPanel('kvmLens.nestedAudit', title, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      { enableScripts: false, enableForms: false, localResourceRoots: [] });
    panel.onDidDispose(() => { panel = undefined; });
  } else {
    panel.reveal(vscode.ViewColumn.Beside, true);
  }
  panel.title = title;
  panel.webview.html = html(panel.webview.cspSource);
}

export function registerNestedAudit(context: vscode.ExtensionContext, lc: LanguageClient): void {
  context.subscriptions.push(vscode.commands.registerCommand('kvmLens.auditNested', async (uri?: unknown) => {
    const target = typeof uri === 'string' ? uri
      : vscode.window.activeTextEditor?.document.uri.toString() ?? vscode.workspace.workspaceFolders?.[0]?.uri.toString();
    if (!target) {
      void vscode.window.showWarningMessage('KVM Lens: open a file of a kernel tree first.');
      return;
    }
    const reply = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'KVM Lens: nested audit' },
      () => lc.sendRequest<NestedAuditResult>(NESTED_AUDIT_REQUEST, { path: target }));
    if (!reply.ok) {
      show('Nested audit', (csp) => renderMessageHtml('Nested audit', reply.error, makeNonce(), csp));
      return;
    }
    show(`Nested audit: ${reply.dir.split('/').slice(-4, -2).join('/') || reply.dir}`, (csp) => renderAuditHtml(reply.report, makeNonce(), csp));
  }));
}
