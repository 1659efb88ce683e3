// Extension tests that run inside the editor's extension host (the @vscode/test-electron `run()` contract).
// Plain node:assert, no framework: each test prints PASS/FAIL; run() rejects when one failed.
// The workspace is a copy of test/e2e/workspace opened by the launcher.
const assert = require('node:assert/strict');
const path = require('node:path');
const vscode = require('vscode');

const EXTENSION_ID = 'kvm-lens.kvm-lens';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(fn, timeoutMs = 20000, intervalMs = 200) {
  const end = Date.now() + timeoutMs;
  let v;
  for (;;) {
    try { v = await fn(); } catch { v = undefined; }
    if (v || Date.now() > end) return v;
    await sleep(intervalMs);
  }
}

function wsUri(name) {
  const folder = vscode.workspace.workspaceFolders && vscode.workspace.workspaceFolders[0];
  assert.ok(folder, 'a workspace folder is open');
  return vscode.Uri.joinPath(folder.uri, name);
}

/** Position of the `nth` occurrence of `word` in the document (plus `delta` characters). */
function positionOf(doc, word, nth = 0, delta = 2) {
  let at = -1;
  for (let i = 0; i <= nth; i++) at = doc.getText().indexOf(word, at + 1);
  assert.ok(at >= 0, `${word} occurs ${nth + 1} times`);
  return doc.positionAt(at + delta);
}

function hoverText(hovers) {
  return (hovers || []).flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
}

async function open(name) {
  const doc = await vscode.workspace.openTextDocument(wsUri(name));
  const editor = await vscode.window.showTextDocument(doc, vscode.ViewColumn.One);
  return { doc, editor };
}

const tests = [];
const test = (name, fn) => tests.push({ name, fn });
let api;

test('the extension activates on a C file and returns its API', async () => {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} is installed`);
  await open('nested_pdptr.c');
  api = await ext.activate();
  assert.ok(ext.isActive);
  assert.ok(api && api.client, 'activate() returns { client }');
  await until(() => api.client.isRunning(), 20000);
  assert.ok(api.client.isRunning(), 'the language client is running');
});

test('vscode.executeHoverProvider on GUEST_PDPTR0 shows encoding 0x280a', async () => {
  const { doc } = await open('nested_pdptr.c');
  const pos = positionOf(doc, 'GUEST_PDPTR0');
  const text = await until(async () => {
    const t = hoverText(await vscode.commands.executeCommand('vscode.executeHoverProvider', doc.uri, pos));
    return t.includes('0x280a') ? t : undefined;
  });
  assert.ok(text, 'hover contains 0x280a');
  assert.match(text, /GUEST_PDPTR0/);
});

test('vscode.executeHoverProvider on V_IRQ_MASK and MSR_IA32_XFD', async () => {
  const svm = (await open('svm_int_ctl.c')).doc;
  const a = await until(async () => hoverText(await vscode.commands.executeCommand('vscode.executeHoverProvider', svm.uri, positionOf(svm, 'V_IRQ_MASK'))));
  assert.match(a || '', /int_ctl/);
  const xfd = (await open('xfd_passthrough.c')).doc;
  const b = await until(async () => hoverText(await vscode.commands.executeCommand('vscode.executeHoverProvider', xfd.uri, positionOf(xfd, 'MSR_IA32_XFD'))));
  assert.match(b || '', /0x1c4/);
});

test('vscode.languages.getDiagnostics reports vmcs-width for vmcs_read32(GUEST_PDPTR0)', async () => {
  const { doc } = await open('nested_pdptr.c');
  const diags = await until(() => {
    const d = vscode.languages.getDiagnostics(doc.uri);
    return d.length ? d : undefined;
  });
  assert.ok(diags && diags.length > 0, 'diagnostics are published');
  const line = doc.getText().split('\n').findIndex((l) => l.includes('return vmcs_read32(GUEST_PDPTR0)'));
  const codeOf = (x) => (typeof x.code === 'object' ? x.code.value : x.code);
  const d = diags.find((x) => x.range.start.line === line && codeOf(x) === 'vmcs-width');
  assert.ok(d, `vmcs-width on line ${line + 1}; got ${diags.map((x) => `${x.range.start.line + 1}:${codeOf(x)}`)}`);
  assert.equal(d.source, 'kvm-lens');
  assert.equal(d.severity, vscode.DiagnosticSeverity.Error);
});

test('the vmcs-width quick fix replaces the accessor', async () => {
  const { doc } = await open('nested_pdptr.c');
  const pos = positionOf(doc, 'vmcs_read32(GUEST_PDPTR0)', 0, 3);
  // as the editor does for a lightbulb: ask for the fixes of the diagnostic's range
  const diag = await until(() => vscode.languages.getDiagnostics(doc.uri).find((d) => d.range.start.line === pos.line && (typeof d.code === 'object' ? d.code.value : d.code) === 'vmcs-width'));
  assert.ok(diag, 'the diagnostic to fix');
  const actions = await until(async () => {
    const a = await vscode.commands.executeCommand('vscode.executeCodeActionProvider', doc.uri, diag.range, vscode.CodeActionKind.QuickFix.value);
    return a && a.length ? a : undefined;
  });
  const fix = (actions || []).find((a) => /vmcs_read64/.test(a.title));
  assert.ok(fix && fix.edit, `quick fix offered; got ${(actions || []).map((a) => a.title)}`);
  assert.ok(await vscode.workspace.applyEdit(fix.edit));
  assert.match(doc.lineAt(pos.line).text, /return vmcs_read64\(GUEST_PDPTR0\)/);
  await vscode.commands.executeCommand('undo');
});

test('a kvmLens.rules severity change takes effect without restart', async () => {
  const { doc } = await open('nested_pdptr.c');
  const widthDiags = () => vscode.languages.getDiagnostics(doc.uri).filter((d) => (typeof d.code === 'object' ? d.code.value : d.code) === 'vmcs-width');
  const cfg = vscode.workspace.getConfiguration('kvmLens');
  try {
    await cfg.update('rules', { 'vmcs-width': 'warning' }, vscode.ConfigurationTarget.Workspace);
    const warned = await until(() => { const d = widthDiags(); return d.length && d.every((x) => x.severity === vscode.DiagnosticSeverity.Warning) ? d : undefined; });
    assert.ok(warned, `severity warning; got ${widthDiags().map((d) => d.severity)}`);
    await cfg.update('rules', { 'vmcs-width': 'off' }, vscode.ConfigurationTarget.Workspace);
    assert.ok(await until(() => widthDiags().length === 0), 'vmcs-width off removes the diagnostics');
  } finally {
    await cfg.update('rules', undefined, vscode.ConfigurationTarget.Workspace);
  }
  assert.ok(await until(() => widthDiags().length > 0), 'back to the default');
});

test("executeCommand('kvmLens.simulateSelection') on a selected function opens the panel", async () => {
  const { doc, editor } = await open('nested_pdptr.c');
  const start = positionOf(doc, 'static void sync_vmcs02_to_vmcs12', 0, 0);
  const endLine = doc.getText().split('\n').findIndex((l, i) => i > start.line && l === '}');
  editor.selection = new vscode.Selection(start, doc.lineAt(endLine).range.end);
  await vscode.commands.executeCommand('kvmLens.simulateSelection');
  const html = await until(() => api.simulationHtml());
  assert.ok(html, 'the simulation panel has content');
  assert.match(html, /Content-Security-Policy/);
  assert.ok(api.lastSimulation(), 'a SimulationResult came back');
});

test('vscode.executeCodeLensProvider offers Simulate above sync_vmcs02_to_vmcs12', async () => {
  const { doc } = await open('nested_pdptr.c');
  const lenses = await until(async () => {
    const l = await vscode.commands.executeCommand('vscode.executeCodeLensProvider', doc.uri);
    return l && l.length ? l : undefined;
  });
  const lens = (lenses || []).find((l) => l.command && l.command.command === 'kvmLens.simulateFunction');
  assert.ok(lens, `a kvmLens.simulateFunction lens; got ${(lenses || []).map((l) => l.command && l.command.title)}`);
  assert.deepEqual(lens.command.arguments.slice(1), ['sync_vmcs02_to_vmcs12']);
  assert.equal(lens.range.start.line, positionOf(doc, 'static void sync_vmcs02_to_vmcs12', 0, 0).line);
});

test("executeCommand('kvmLens.simulateFunction', uri, name) (the code lens command)", async () => {
  const { doc } = await open('nested_pdptr.c');
  const result = await vscode.commands.executeCommand('kvmLens.simulateFunction', doc.uri.toString(), 'sync_vmcs02_to_vmcs12');
  assert.ok(result, 'a SimulationResult came back');
  assert.ok(Array.isArray(result.steps) && Array.isArray(result.findings), 'steps and findings');
});

test('a .kvmflow file gets the kvmflow language and simulates as a flow', async () => {
  const { doc } = await open('xfd.kvmflow');
  assert.equal(doc.languageId, 'kvmflow');
  const result = await vscode.commands.executeCommand('kvmLens.simulateSelection');
  assert.ok(result && result.kind === 'flow', `result kind ${result && result.kind}`);
  assert.ok(result.steps.length >= 4, `${result.steps.length} steps`);
  assert.ok(result.steps.some((s) => s.vmExit === true), 'a guest WRMSR exits');
});

test("executeCommand('kvmLens.explainField', 'MSR_IA32_XFD') answers with the card", async () => {
  const result = await vscode.commands.executeCommand('kvmLens.explainField', 'MSR_IA32_XFD');
  assert.ok(result && /0x1c4/.test(result.markdown), `markdown: ${result && result.markdown}`);
});

const locText = (l) => `${vscode.workspace.asRelativePath(l.uri || l.targetUri)}:${(l.range || l.targetRange).start.line + 1}`;

test('F12 (vscode.executeDefinitionProvider) on GUEST_PDPTR0: the enum member, the vmcs12 member and the card', async () => {
  const { doc } = await open('arch/x86/kvm/vmx/nested.c');
  const pos = positionOf(doc, 'GUEST_PDPTR0');
  // the index runs in the background: wait until the definitions in the headers are known
  const defs = await until(async () => {
    const d = await vscode.commands.executeCommand('vscode.executeDefinitionProvider', doc.uri, pos);
    return d && d.length >= 3 ? d : undefined;
  }, 60000, 500);
  assert.ok(defs, 'definitions');
  // (VS Code orders the locations itself; the card document is one of them)
  const where = defs.filter((l) => (l.uri || l.targetUri).scheme === 'file').map(locText).sort();
  assert.deepEqual(where, ['arch/x86/include/asm/vmx.h:8', 'arch/x86/kvm/vmx/vmcs12.h:7'], `definitions: ${defs.map(locText)}`);
  const card = defs.map((l) => l.uri || l.targetUri).find((u) => u.scheme === 'kvm-lens-explain');
  assert.ok(card, `a read-only card document; got ${where}`);
  const cardDoc = await vscode.workspace.openTextDocument(card);
  assert.match(cardDoc.getText(), /0x280a/);
  // from the vmcs12 member form too
  const member = await vscode.commands.executeCommand('vscode.executeDefinitionProvider', doc.uri, positionOf(doc, 'guest_pdptr0'));
  assert.deepEqual(member.filter((l) => (l.uri || l.targetUri).scheme === 'file').map(locText).sort(), where, `from the member: ${member.map(locText)}`);
});

test('Shift+F12 (vscode.executeReferenceProvider): every form across the indexed tree', async () => {
  const { doc } = await open('arch/x86/kvm/vmx/nested.c');
  const refs = await until(async () => {
    const r = await vscode.commands.executeCommand('vscode.executeReferenceProvider', doc.uri, positionOf(doc, 'GUEST_PDPTR0'));
    return r && r.some((l) => /vmx\.c$/.test(l.uri.path)) ? r : undefined;
  }, 60000, 500);
  assert.ok(refs, 'references in vmx.c (indexed, not open)');
  const got = refs.map(locText).sort();
  // nested.c: enum name + vmcs12 member; vmx.c: enum name + vmcs12 member; declarations in vmx.h and vmcs12.h
  for (const want of ['arch/x86/kvm/vmx/nested.c:9', 'arch/x86/kvm/vmx/vmx.c:7', 'arch/x86/include/asm/vmx.h:8', 'arch/x86/kvm/vmx/vmcs12.h:7']) {
    assert.ok(got.includes(want), `${want} in ${got}`);
  }
  assert.equal(got.filter((g) => g === 'arch/x86/kvm/vmx/nested.c:9').length, 2, 'enum name and vmcs12 member on the same line');
  assert.ok(!got.some((g) => /nested\.c:10/.test(g)), 'GUEST_PDPTR1 is another field');
});

test('workspace symbols (vscode.executeWorkspaceSymbolProvider) find fields and functions', async () => {
  const syms = await until(async () => {
    const s = await vscode.commands.executeCommand('vscode.executeWorkspaceSymbolProvider', 'pdptr0');
    return s && s.some((x) => x.name === 'GUEST_PDPTR0') ? s : undefined;
  }, 30000, 500);
  assert.ok(syms, 'GUEST_PDPTR0 found');
  assert.ok(syms.some((x) => x.name === 'guest_pdptr0' && /vmcs12\.h$/.test(x.location.uri.path)), syms.map((x) => x.name).join(','));
  const fns = await vscode.commands.executeCommand('vscode.executeWorkspaceSymbolProvider', 'prepare_vmcs02_pdptrs');
  assert.ok(fns.some((x) => x.name === 'prepare_vmcs02_pdptrs' && x.kind === vscode.SymbolKind.Function));
});

test('code actions on the accessor of an undefined read: guard (applied, finding gone), suppress, explain', async () => {
  const { doc } = await open('arch/x86/kvm/vmx/nested.c');
  const pos = positionOf(doc, 'vmcs_read64(GUEST_PDPTR0)', 0, 3);
  const codeOf = (x) => (typeof x.code === 'object' ? x.code.value : x.code);
  const undefinedReads = () => vscode.languages.getDiagnostics(doc.uri).filter((d) => codeOf(d) === 'vmcs-undefined-read');
  assert.ok(await until(() => undefinedReads().length === 2), `findings: ${vscode.languages.getDiagnostics(doc.uri).map(codeOf)}`);
  const d = undefinedReads()[0];
  assert.ok(d.message.length <= 160, d.message);
  assert.ok((d.relatedInformation || []).some((r) => /^Source: Intel SDM/.test(r.message)), 'the citation is one level down');
  assert.match(String(d.code.target), /rules\.md#L\d+$/);
  const actions = await vscode.commands.executeCommand('vscode.executeCodeActionProvider', doc.uri, new vscode.Range(pos, pos));
  const titles = actions.map((a) => a.title);
  for (const t of ['Guard with is_pae_paging(vcpu)', 'Suppress vmcs-undefined-read on this line (kvm-lens-disable-next-line)', 'Explain GUEST_PDPTR0']) {
    assert.ok(titles.includes(t), `${t} in ${titles}`);
  }
  const explain = actions.find((a) => a.title === 'Explain GUEST_PDPTR0');
  assert.equal(explain.command.command, 'kvmLens.explainField');
  const card = await vscode.commands.executeCommand(explain.command.command, ...explain.command.arguments);
  assert.ok(card && /0x280a/.test(card.markdown));
  const suppress = actions.find((a) => /^Suppress/.test(a.title));
  assert.ok(await vscode.workspace.applyEdit(suppress.edit));
  assert.ok(await until(() => undefinedReads().length === 1), 'suppressed one');
  await vscode.window.showTextDocument(doc, vscode.ViewColumn.One); // the explain view took the focus
  await vscode.commands.executeCommand('undo');
  assert.ok(await until(() => undefinedReads().length === 2), 'undo brings it back');
  const again = await vscode.commands.executeCommand('vscode.executeCodeActionProvider', doc.uri, new vscode.Range(pos, pos));
  const guard = again.find((a) => a.title === 'Guard with is_pae_paging(vcpu)');
  assert.ok(await vscode.workspace.applyEdit(guard.edit));
  assert.match(doc.getText(), /\t\tif \(is_pae_paging\(vcpu\)\) \{\n\t\t\tvmcs12->guest_pdptr0 = vmcs_read64\(GUEST_PDPTR0\);\n\t\t\tvmcs12->guest_pdptr1/);
  assert.ok(await until(() => undefinedReads().length === 0), `after the guard: ${undefinedReads().length}`);
  await vscode.window.showTextDocument(doc, vscode.ViewColumn.One);
  await vscode.commands.executeCommand('undo');
  await doc.save();
});

test('the hover card is concise and links to the explain view', async () => {
  const { doc } = await open('nested_pdptr.c');
  const text = await until(async () => hoverText(await vscode.commands.executeCommand('vscode.executeHoverProvider', doc.uri, positionOf(doc, 'GUEST_PDPTR0'))));
  const lines = text.split('\n').filter((l) => l.trim());
  assert.ok(lines.length <= 10, `${lines.length} lines`);
  assert.match(lines[0], /GUEST_PDPTR0.*0x280a.*64-bit/);
  assert.match(text, /\[Explain GUEST_PDPTR0…\]\(command:kvmLens\.explainField\?/);
  assert.doesNotMatch(text, /--json/);
});

async function run() {
  let failed = 0;
  const t0 = Date.now();
  for (const t of tests) {
    const start = Date.now();
    try {
      await t.fn();
      console.log(`PASS [exthost] ${t.name} (${Date.now() - start} ms)`);
    } catch (e) {
      failed++;
      console.log(`FAIL [exthost] ${t.name} (${Date.now() - start} ms) — ${e && e.message ? e.message.split('\n')[0] : e}`);
    }
  }
  console.log(`[exthost] ${tests.length - failed} passed, ${failed} failed (${((Date.now() - t0) / 1000).toFixed(1)} s, ${vscode.env.appName} ${vscode.version})`);
  if (failed) throw new Error(`${failed} extension test(s) failed`);
}

module.exports = { run };
