// "KVM Lens: Review Working Changes": the working tree (with unsaved editor changes) against HEAD, through the
// server's kvmLens/review — the same comparison as `kvm-lens review`. Old texts come from `git show HEAD:path`, new
// texts from open editors or, for files not open, are read by the server through its file-access layer. The result is
// written to a "KVM Lens Review" output channel (file:line:col links) and summed up in a notification.
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { REVIEW_REQUEST, type ReviewParams, type ReviewReply } from '../../server/src/protocol/review';
import { collectChanges, git, renderReview, type Git } from './reviewData';

export async function reviewWorkingChanges(lc: LanguageClient, channel: vscode.OutputChannel, run: Git = git): Promise<ReviewReply | undefined> {
  // git reads the repository's config, and some settings (core.fsmonitor, diff drivers) run commands: not in an
  // untrusted workspace.
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showErrorMessage('KVM Lens: reviewing working changes runs git; trust this workspace first.');
    return undefined;
  }
  const active = vscode.window.activeTextEditor?.document.uri;
  const folder = (active && vscode.workspace.getWorkspaceFolder(active)) ?? vscode.workspace.workspaceFolders?.[0];
  if (!folder || folder.uri.scheme !== 'file') {
    void vscode.window.showErrorMessage('KVM Lens: open a folder inside a git repository to review its working changes.');
    return undefined;
  }
  try {
    const top = (await run(['rev-parse', '--show-toplevel'], folder.uri.fsPath)).trim();
    const reply = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'KVM Lens: reviewing working changes' }, async () => {
      const openDocs = new Map(vscode.workspace.textDocuments.filter((d) => d.uri.scheme === 'file').map((d) => [d.uri.fsPath, d] as const));
      const files = await collectChanges(top, run, (abs) => openDocs.get(abs)?.getText());
      const params: ReviewParams = { root: top, files };
      return files.length ? lc.sendRequest<ReviewReply>(REVIEW_REQUEST, params) : undefined;
    });
    if (!reply) {
      void vscode.window.showInformationMessage('KVM Lens: no changed .c/.h files against HEAD.');
      return undefined;
    }
    channel.clear();
    channel.appendLine(renderReview(reply, top));
    const warn = reply.introduced.filter((f) => f.severity === 'error' || f.severity === 'warning').length;
    const summary = `KVM Lens: ${reply.introduced.length} finding${reply.introduced.length === 1 ? '' : 's'} introduced (${warn} warning${warn === 1 ? '' : 's'} or worse), ${reply.fixed.length} fixed by the working changes.`;
    void vscode.window.showInformationMessage(summary, 'Show').then((pick) => { if (pick) channel.show(true); });
    if (reply.introduced.length || reply.fixed.length) channel.show(true);
    return reply;
  } catch (err) {
    void vscode.window.showErrorMessage(`KVM Lens: review failed: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
}
