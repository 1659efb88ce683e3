// The simulation webview's HTML (client/src/render.ts): escaping of document-derived strings, the CSP, no inline
// handlers, and the parts of the trace the panel must show.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contentSecurityPolicy, esc, makeNonce, renderSimulationHtml } from '../../client/src/render';
import type { SimulationResult } from '../../server/src/protocol/simulation';

const NONCE = 'abcDEF0123456789abcDEF0123456789';
const CSP_SOURCE = 'https://*.vscode-cdn.net';

const HOSTILE = '<img src=x onerror=alert(1)>';
const SCRIPT = '<script>alert("x")</script>';

function hostileResult(): SimulationResult {
  return {
    kind: 'flow',
    title: `flow ${SCRIPT}`,
    steps: [
      { index: 1, line: 1, actor: 'G', op: `WRMSR ${HOSTILE}`, vmExit: true, explanation: `intercepted ${SCRIPT}`, source: 'SDM 25.1.3 "quoted"', simulated: true, level: 'L0',
        changes: [{ location: `hw.${HOSTILE}`, value: `0x40000 ${SCRIPT}`, status: 'value' }] },
      { index: 2, line: 2, actor: 'HK', op: `" onmouseover="alert(2)`, simulated: false, changes: [], level: 'L0' },
      { index: 3, line: 3, actor: 'G', op: `WRMSR IA32_XFD' onfocus='x`, vmExit: false, simulated: true, level: 'L1',
        changes: [{ location: 'hw.IA32_XFD', value: '0x0', status: 'stale' }] },
      { index: 4, line: 40, actor: 'KVM', op: 'return vmcs_readl(GUEST_CR0);', simulated: true, level: 'L0', changes: [],
        via: { fn: `demo_cr0${HOSTILE}`, line: 9 } },
    ],
    findings: [{ line: 3, severity: 'warning', rule: `trap${HOSTILE}`, message: `message ${SCRIPT}` }],
    configurations: [{ predicates: { [`ept${HOSTILE}`]: true, paging: `pae${SCRIPT}` }, findings: [], flows: [`vmcs12.x <- ${HOSTILE}`] }],
    summary: [`summary ${SCRIPT}`],
    markdown: SCRIPT,
  };
}

/** All start tags of the document: with escaping in place, document text cannot contribute any. */
function tags(html: string): string[] {
  return html.match(/<[A-Za-z][^>]*>/g) ?? [];
}

test('esc escapes every HTML metacharacter', () => {
  assert.equal(esc(`<a href="x" title='y'>&\``), '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&#96;');
  assert.equal(esc(undefined), '');
  assert.equal(esc(42), '42');
});

test('strings from the trace never become markup', () => {
  const html = renderSimulationHtml(hostileResult(), NONCE, CSP_SOURCE);
  assert.ok(!html.includes('<img'), 'no <img> element');
  assert.ok(!html.includes(SCRIPT), 'the <script> name is not emitted raw');
  assert.ok(html.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;'), 'the <script> name is shown escaped');
  assert.ok(html.includes('&lt;img src=x onerror=alert(1)&gt;'), 'the <img> name is shown escaped');
  assert.ok(html.includes('&quot; onmouseover=&quot;alert(2)'), 'attribute-breaking quotes are escaped');
  // exactly one script element: the page's own
  assert.equal((html.match(/<script\b/g) ?? []).length, 1);
});

test('no element has an inline event handler or javascript: URL', () => {
  const html = renderSimulationHtml(hostileResult(), NONCE, CSP_SOURCE);
  for (const t of tags(html)) {
    assert.doesNotMatch(t, /\son[a-z]+\s*=/i, `inline handler in ${t}`);
    assert.doesNotMatch(t, /javascript:/i, `javascript: URL in ${t}`);
    assert.doesNotMatch(t, /\sstyle\s*=/i, `inline style attribute (blocked by the CSP) in ${t}`);
  }
});

test('a strict Content-Security-Policy with the nonce is present', () => {
  const html = renderSimulationHtml(hostileResult(), NONCE, CSP_SOURCE);
  const meta = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html);
  assert.ok(meta, 'CSP meta tag');
  const csp = meta[1].replace(/&#39;/g, "'");
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, new RegExp(`script-src 'nonce-${NONCE}'(;|$)`));
  assert.match(csp, new RegExp(`style-src ${CSP_SOURCE.replace(/[.*]/g, '\\$&')} 'nonce-${NONCE}'`));
  assert.match(csp, /img-src data:/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  for (const t of tags(html).filter((x) => /^<(script|style)\b/.test(x))) assert.ok(t.includes(`nonce="${NONCE}"`), `${t} carries the nonce`);
  // the head comes before anything from the document
  assert.ok(html.indexOf('Content-Security-Policy') < html.indexOf('&lt;script'), 'CSP precedes document content');
});

test('a nonce or cspSource with quotes cannot break out of the policy', () => {
  const html = renderSimulationHtml(hostileResult(), `x' 'unsafe-inline`, `a; script-src *`);
  const csp = /content="([^"]+)"/.exec(html)?.[1].replace(/&#39;/g, "'") ?? '';
  assert.doesNotMatch(csp, /unsafe-inline/);
  assert.doesNotMatch(csp, /script-src \*/);
  assert.equal(contentSecurityPolicy('n', '').split('; ')[0], "default-src 'none'");
});

test('makeNonce gives 32 alphanumerics', () => {
  assert.match(makeNonce(), /^[A-Za-z0-9]{32}$/);
  assert.notEqual(makeNonce(), makeNonce());
});

test('the panel shows timeline, steps, state changes, findings, sweep and summary', () => {
  const result: SimulationResult = {
    kind: 'c',
    title: 'sync_vmcs02_to_vmcs12',
    steps: [
      { index: 1, line: 10, actor: 'L2', op: 'VM exit from L2', vmExit: true, simulated: true, level: 'L0', changes: [{ location: 'vmcs02.GUEST_PDPTR0', value: 'undefined (not EPT+PAE)', status: 'undefined' }] },
      { index: 2, line: 11, actor: 'KVM', op: 'vmcs12->guest_pdptr0 = vmcs_read64(GUEST_PDPTR0)', simulated: true, level: 'L0', changes: [{ location: 'vmcs12.guest_pdptr0', value: 'undefined (copied)', status: 'copied' }] },
      { index: 3, line: 12, actor: 'KVM', op: 'some narration', simulated: false, level: 'L0', changes: [] },
      { index: 4, line: 13, actor: 'KVM', op: 'VMRESUME', simulated: true, level: 'L1', changes: [] },
    ],
    findings: [{ line: 11, severity: 'warning', rule: 'pdptr-undefined', message: 'GUEST_PDPTR0 is undefined unless EPT and PAE paging' }],
    configurations: [
      { predicates: { enable_ept: true, paging: 'pae' }, findings: [], flows: ['vmcs12.guest_pdptr0 <- vmcs02.GUEST_PDPTR0'] },
      { predicates: { enable_ept: false, paging: '4-level' }, findings: [{ line: 11, severity: 'warning', rule: 'pdptr-undefined', message: 'undefined' }], flows: [] },
    ],
    summary: ['in 1 of 2 configurations vmcs12.guest_pdptr0..3 receive undefined values'],
    markdown: '',
  };
  const html = renderSimulationHtml(result, NONCE, CSP_SOURCE);
  assert.match(html, /<h1>sync_vmcs02_to_vmcs12/);
  assert.match(html, /<svg class="timeline"/);
  assert.equal((html.match(/class="step-dot[^"]*"/g) ?? []).length, 4, 'one dot per step');
  assert.equal((html.match(/class="step-dot[^"]*vmexit/g) ?? []).length, 1, 'the VM exit is marked');
  assert.match(html, /class="transition entry"/, 'the return to L1 is an entry arrow');
  assert.match(html, /not simulated/);
  assert.match(html, /<tr class="changed status-copied"><td class="loc">vmcs12\.guest_pdptr0/, 'changed field highlighted');
  assert.match(html, /<tr class=" status-undefined"><td class="loc">vmcs02\.GUEST_PDPTR0/, 'earlier field shown, not highlighted');
  assert.match(html, /\[pdptr-undefined\]/);
  assert.match(html, /<th>enable_ept<\/th><th>paging<\/th><th>findings<\/th><th>flows<\/th>/, 'sweep columns');
  assert.match(html, /in 1 of 2 configurations/);
});

test('malformed results render without throwing', () => {
  const bad = { kind: 'flow', title: 7, steps: [{ index: 'x', line: null, actor: '<b>', op: undefined, level: 'L9', changes: null }], findings: null, summary: 'nope' };
  const html = renderSimulationHtml(bad as unknown as SimulationResult, NONCE, CSP_SOURCE);
  assert.match(html, /<svg class="timeline"/);
  assert.ok(!html.includes('<b>'));
});

test('a trailing [source] citation in a finding is set apart, still escaped', () => {
  const result: SimulationResult = {
    kind: 'flow', title: 't', steps: [], summary: [], markdown: '',
    findings: [{ line: 1, severity: 'warning', rule: 'r', message: 'IA32_XFD is stale <b> [LKML "[PATCH v5 21/21] kvm: x86" <i>] — in 1 of 2 configurations' }],
  };
  const html = renderSimulationHtml(result, NONCE, CSP_SOURCE);
  assert.match(html, /IA32_XFD is stale &lt;b&gt; — in 1 of 2 configurations <span class="source">\[LKML &quot;\[PATCH v5 21\/21\] kvm: x86&quot; &lt;i&gt;\]<\/span>/);
});

function cResult(): SimulationResult {
  return {
    kind: 'c',
    title: 'sync_vmcs02_to_vmcs12',
    steps: [
      { index: 1, line: 10, actor: 'HW', op: 'VM entry into L2 (vmcs02)', simulated: true, level: 'L2', changes: [] },
      { index: 2, line: 10, actor: 'HW', op: 'VM exit from L2', simulated: true, level: 'L0',
        changes: [{ location: 'vmcs02.GUEST_PDPTR0', value: 'undefined (L2 not in PAE paging)', status: 'undefined' }] },
      { index: 3, line: 12, actor: 'KVM', op: 'vmcs12->guest_cr3 = vmcs_readl(GUEST_CR3);', simulated: true, level: 'L0', changes: [{ location: 'vmcs12.guest_cr3', value: 'vmcs02.GUEST_CR3', status: 'copied' }] },
      { index: 4, line: 13, actor: 'KVM', op: 'vmcs12->guest_pdptr0 = vmcs_read64(GUEST_PDPTR0);', simulated: true, level: 'L0', changes: [] },
    ],
    findings: [{ line: 13, severity: 'warning', rule: 'undefined-value-copied', message: 'vmcs12.guest_pdptr0 receives an undefined value' }],
    configurations: [
      { predicates: { enable_ept: false, paging: 'none' }, findings: [], flows: [] },
      { predicates: { enable_ept: true, paging: 'none' }, findings: [{ line: 13, severity: 'warning', rule: 'undefined-value-copied', message: 'm' }], flows: [] },
    ],
    summary: [],
    markdown: '',
    shownConfiguration: { enable_ept: true, paging: 'none' },
  };
}

test('counts agree with what is drawn: the hardware VM exit is counted', () => {
  const html = renderSimulationHtml(cResult(), NONCE, CSP_SOURCE);
  assert.match(html, /4 steps, 1 VM exit,/);
  assert.equal((html.match(/<circle class="[^"]*\bvmexit\b/g) ?? []).length, 1);
});

test('faults are marked on the timeline and in the steps (colour class, ⚠ icon, legend)', () => {
  const html = renderSimulationHtml(cResult(), NONCE, CSP_SOURCE);
  // step 2 (undefined value) and step 4 (finding on its line)
  assert.deepEqual([...html.matchAll(/<g class="step-mark fault" data-step="(\d+)"/g)].map((m) => m[1]), ['1', '3']);
  assert.equal((html.match(/<text class="fault-label"[^>]*>⚠/g) ?? []).length, 2);
  assert.deepEqual([...html.matchAll(/<tr class="step-row fault" id="step-(\d+)"/g)].map((m) => m[1]), ['1', '3']);
  assert.match(html, /class="legend"><span class="key fault">⚠ ●<\/span> fault/);
  assert.match(html, /<h2>Timeline <span class="fault-icon">⚠ 2 faults<\/span><\/h2>/);
});

test('sweep rows are clickable and the shown configuration is highlighted', () => {
  const html = renderSimulationHtml(cResult(), NONCE, CSP_SOURCE);
  assert.deepEqual([...html.matchAll(/<tr class="config-row[^"]*" data-config="(\d+)" tabindex="0"/g)].map((m) => m[1]), ['0', '1']);
  assert.match(html, /<tr class="config-row has-findings shown" data-config="1"/);
  assert.match(html, /vscode\.postMessage\(\{ type: 'configuration', index: /);
});

test('a step inside a followed call links the call line too, with the callee named', () => {
  const html = renderSimulationHtml(hostileResult(), NONCE, CSP_SOURCE);
  assert.match(html, /data-line="40">40<\/a> <span class="via">← <a href="#" class="line-link" data-line="9">9<\/a> <span class="muted">in demo_cr0&lt;img[^<]*\(\)<\/span><\/span>/);
});
