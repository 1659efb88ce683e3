// Protocol-level: the real server process over stdio — initialize, open, hover, incremental change, diagnostics,
// code actions, kvmLens/explain, shutdown/exit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LspClient } from './lspClient';

const URI = 'file:///tmp/kvm-lens-proto/nested.c';
const TEXT = [
  'static void sync_vmcs02_to_vmcs12(struct kvm_vcpu *vcpu, struct vmcs12 *vmcs12)',
  '{',
  '\tvmcs12->guest_pdptr0 = vmcs_read64(GUEST_PDPTR0);',
  '\tvmcs12->guest_cs_selector = vmcs_read32(GUEST_CS_SELECTOR);',
  '}',
  '',
].join('\n');

test('initialize, hover, incremental change, diagnostics, code action, explain, shutdown', async () => {
  const c = new LspClient();
  try {
    const init = await c.initialize();
    const caps = (init.result as { capabilities: Record<string, unknown> }).capabilities;
    assert.deepEqual(caps.textDocumentSync && (caps.textDocumentSync as { change: number }).change, 2);
    assert.equal(caps.hoverProvider, true);

    const first = c.diagnosticsFor(URI, 1);
    c.open(URI, TEXT, 1);
    const d1 = (await first).params as { diagnostics: Array<{
      code: string; message: string; range: { start: { line: number; character: number } };
      codeDescription?: { href: string }; relatedInformation?: Array<{ message: string }>;
    }> };
    // Short messages; the why and the citation one level down; the rule id links to its own section of the docs.
    for (const d of d1.diagnostics) {
      assert.ok(d.message.length <= 160, d.message);
      assert.doesNotMatch(d.message, /\[(Intel|AMD|Linux)/);
      assert.ok(d.relatedInformation?.some((r) => /^Source: /.test(r.message)), JSON.stringify(d.relatedInformation));
      assert.match(d.codeDescription?.href ?? '', new RegExp(`rules\\.md#(L\\d+|${d.code})$`));
    }
    // vmcs_read32 on a 16-bit selector field is a width mismatch.
    const width = d1.diagnostics.filter((d) => d.code === 'vmcs-width');
    assert.equal(width.length, 1, JSON.stringify(d1.diagnostics));
    assert.equal(width[0].range.start.line, 3);

    const col = TEXT.split('\n')[2].indexOf('GUEST_PDPTR0') + 3;
    const h = await c.request('textDocument/hover', { textDocument: { uri: URI }, position: { line: 2, character: col } });
    assert.equal(h.error, undefined);
    const value = (h.result as { contents: { value: string } }).contents.value;
    assert.match(value, /0x280a/);

    // Incremental change: fix the accessor (vmcs_read32 → vmcs_read16) by replacing "32" with "16".
    const line3 = TEXT.split('\n')[3];
    const at = line3.indexOf('vmcs_read32') + 'vmcs_read'.length;
    // The squiggle is on the accessor (what is wrong), so the actions are offered there: the fix, the
    // suppression and "explain" of the field the accessor reads.
    assert.equal(width[0].range.start.character, line3.indexOf('vmcs_read32'));
    const onAccessor = line3.indexOf('vmcs_read32') + 2;
    const actions = await c.request('textDocument/codeAction', {
      textDocument: { uri: URI }, range: { start: { line: 3, character: onAccessor }, end: { line: 3, character: onAccessor } }, context: { diagnostics: [] },
    });
    const fix = (actions.result as Array<{ title: string; edit?: { changes: Record<string, Array<{ newText: string }>> }; command?: { arguments: unknown[] } }>);
    assert.deepEqual(fix.map((a) => a.title), ['Use vmcs_read16()', 'Suppress vmcs-width on this line (kvm-lens-disable-next-line)', 'Explain GUEST_CS_SELECTOR']);
    assert.equal(fix[0].edit!.changes[URI][0].newText, 'vmcs_read16');
    assert.match(fix[1].edit!.changes[URI][0].newText, /^\t\/\* kvm-lens-disable-next-line vmcs-width \*\/\n$/);
    assert.deepEqual(fix[2].command!.arguments, ['GUEST_CS_SELECTOR']);

    const second = c.diagnosticsFor(URI, 2);
    c.notify('textDocument/didChange', {
      textDocument: { uri: URI, version: 2 },
      contentChanges: [{ range: { start: { line: 3, character: at }, end: { line: 3, character: at + 2 } }, text: '16' }],
    });
    const d2 = (await second).params as { diagnostics: Array<{ code: string }> };
    assert.equal(d2.diagnostics.filter((d) => d.code === 'vmcs-width').length, 0, JSON.stringify(d2.diagnostics));

    // The hover still works after the edit (offsets shifted correctly).
    const h2 = await c.request('textDocument/hover', { textDocument: { uri: URI }, position: { line: 3, character: line3.indexOf('GUEST_CS_SELECTOR') + 2 } });
    assert.match((h2.result as { contents: { value: string } }).contents.value, /GUEST_CS_SELECTOR/);

    const ex = await c.request('kvmLens/explain', { name: 'GUEST_PDPTR0' });
    assert.match((ex.result as { markdown: string }).markdown, /0x280a/);
    const unknown = await c.request('kvmLens/explain', { name: 'NOT_A_FIELD_XYZ' });
    assert.equal((unknown.result as { markdown: null }).markdown, null);
  } finally {
    const code = await c.shutdown();
    assert.equal(code, 0, c.stderr);
  }
});
