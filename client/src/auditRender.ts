// HTML of the nested-audit panel (pure; no scripts). Every value is escaped; class names come from fixed tokens.
import type { AuditReport, CheckResult, VendorAudit } from '../../server/src/features/nestedAudit';
import { contentSecurityPolicy, esc } from './render';

const STATUS = ['implemented', 'different', 'missing', 'not-applicable'] as const;

const STYLE = `body{font-family:var(--vscode-font-family);font-size:var(--vscode-font-size);color:var(--vscode-foreground)}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid var(--vscode-panel-border);padding:2px 6px;vertical-align:top;text-align:left}
.s-implemented{color:var(--vscode-testing-iconPassed)}.s-different{color:var(--vscode-editorWarning-foreground)}
.s-missing{color:var(--vscode-editorError-foreground)}.s-not-applicable{opacity:.7}code{font-family:var(--vscode-editor-font-family)}`;

function statusClass(s: unknown): string {
  return `s-${(STATUS as readonly unknown[]).includes(s) ? String(s) : 'missing'}`;
}

function checkRow(c: CheckResult): string {
  const sites = c.sites.slice(0, 4).map((s) => `<code>${esc(s.fn)}:${esc(s.line)}</code>`).join('<br>') + (c.sites.length > 4 ? `<br>+${esc(c.sites.length - 4)}` : '');
  const notes = [...c.differences, ...c.notes].map((n) => esc(n)).join('<br>');
  return `<tr><td>${esc(c.order)}</td><td><code>${esc(c.id)}</code><br>${esc(c.text)}</td><td>${esc(c.section)}<br>${esc(c.expected)}</td>` +
    `<td class="${statusClass(c.status)}">${esc(c.status)}</td><td>${sites || '-'}</td><td>${notes}</td></tr>`;
}

function vendorSection(v: VendorAudit): string {
  const c = v.counts;
  return `<h2>${v.vendor === 'vmx' ? 'VMX — Intel SDM Vol.3C §27.2/§27.3' : 'SVM — AMD APM Vol.2 §15.5.1'}</h2>` +
    `<p>${esc(c.total)} checks: ${esc(c.implemented)} implemented, ${esc(c.different)} different, ${esc(c.missing)} missing, ${esc(c['not-applicable'])} not applicable; ${esc(v.unmatched.length)} KVM-only sites.</p>` +
    '<table><tr><th>#</th><th>check</th><th>manual</th><th>status</th><th>KVM</th><th>notes</th></tr>' +
    v.checks.map(checkRow).join('') + '</table>' +
    (v.unmatched.length ? `<h3>KVM sites no check matches</h3><ul>${v.unmatched.map((s) => `<li><code>${esc(s.fn)}:${esc(s.line)}</code> ${esc(s.text)} → ${esc(s.failure)}</li>`).join('')}</ul>` : '');
}

export function renderAuditHtml(report: AuditReport, nonce: string, cspSource: string): string {
  const n = nonce.replace(/[^A-Za-z0-9+/=]/g, '');
  const anomalies = [
    ...(report.vmcs12 ?? []).flatMap((r) => r.anomalies.map((a) => `vmcs12 ${r.member}: ${a}`)),
    ...(report.vmcb12 ?? []).flatMap((r) => r.anomalies.map((a) => `vmcb12 ${r.area}.${r.name}: ${a}`)),
  ];
  return [
    '<!DOCTYPE html>', '<html lang="en"><head><meta charset="UTF-8">',
    `<meta http-equiv="Content-Security-Policy" content="${esc(contentSecurityPolicy(n, cspSource))}">`,
    `<style nonce="${n}">${STYLE}</style></head><body>`,
    `<h1>Nested audit of ${esc(report.tree)}</h1>`,
    ...report.errors.map((e) => `<p>⚠ ${esc(e)}</p>`),
    report.vmx ? vendorSection(report.vmx) : '', report.svm ? vendorSection(report.svm) : '',
    `<h2>Field-coverage anomalies (${esc(anomalies.length)})</h2><ul>${anomalies.map((a) => `<li>${esc(a)}</li>`).join('')}</ul>`,
    '</body></html>',
  ].join('\n');
}
