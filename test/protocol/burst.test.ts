// Protocol-level: a typing burst (keystrokes with code-action requests, as an editor sends them) ends with the
// diagnostics of the last version; no diagnostics of an older version follow them; every request is answered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LspClient, type RpcMessage } from './lspClient';
import { synthFile } from '../../bench/synth.mjs';

const URI = 'file:///tmp/kvm-lens-proto/burst.c';
const FN = [
  'static void sync_guest_state(struct kvm_vcpu *vcpu, struct vmcs12 *vmcs12)',
  '{',
  '\tvmcs12->guest_cs_selector = vmcs_read32(GUEST_CS_SELECTOR);',
  '}',
  '',
].join('\n');

test('keystroke bursts: the last version gets its diagnostics, stale ones are not published after it', async () => {
  const c = new LspClient();
  const published: Array<{ version: number; widths: number }> = [];
  try {
    await c.initialize();
    const body = synthFile(1500, 21);
    const text = `${body}\n${FN}`;
    const fnLine = text.split('\n').length - 4; // the line with vmcs_read32
    const first = c.diagnosticsFor(URI, 1);
    c.open(URI, text, 1);
    await first;
    const watcher = c.next((m: RpcMessage) => {
      if (m.method !== 'textDocument/publishDiagnostics') return false;
      const p = m.params as { uri: string; version: number; diagnostics: Array<{ code: string; range: { start: { line: number } } }> };
      if (p.uri === URI) published.push({ version: p.version, widths: p.diagnostics.filter((d) => d.code === 'vmcs-width' && d.range.start.line === fnLine).length });
      return false;
    }, 60000);
    watcher.catch(() => undefined);

    // Retype "32" as "16" key by key: two deletions, then '1', '6'; each key is followed by a code-action request.
    const line = text.split('\n')[fnLine];
    const at = line.indexOf('vmcs_read32') + 'vmcs_read'.length;
    const keys = [
      { range: { start: { line: fnLine, character: at + 1 }, end: { line: fnLine, character: at + 2 } }, text: '' },
      { range: { start: { line: fnLine, character: at }, end: { line: fnLine, character: at + 1 } }, text: '' },
      { range: { start: { line: fnLine, character: at }, end: { line: fnLine, character: at } }, text: '1' },
      { range: { start: { line: fnLine, character: at + 1 }, end: { line: fnLine, character: at + 1 } }, text: '6' },
    ];
    const answers: Array<Promise<RpcMessage>> = [];
    let version = 1;
    for (const [i, k] of keys.entries()) {
      version++;
      const last = i === keys.length - 1;
      const done = last ? c.diagnosticsFor(URI, version, 20000) : undefined;
      c.notify('textDocument/didChange', { textDocument: { uri: URI, version }, contentChanges: [k] });
      answers.push(c.request('textDocument/codeAction', { textDocument: { uri: URI }, range: { start: k.range.start, end: k.range.start }, context: { diagnostics: [] } }));
      if (done) await done;
      else await new Promise((r) => setTimeout(r, i % 2 ? 0 : 5));
    }
    for (const a of await Promise.all(answers)) assert.ok(a.result !== undefined || a.error !== undefined, 'every request is answered');
    await new Promise((r) => setTimeout(r, 200)); // anything still in flight would be published by now
    const lastSeen = published[published.length - 1];
    assert.equal(lastSeen.version, version, JSON.stringify(published));
    assert.equal(lastSeen.widths, 0, 'vmcs_read16 on a 16-bit field: no width finding');
    for (let i = 1; i < published.length; i++) assert.ok(published[i].version >= published[i - 1].version, `publishes in version order: ${JSON.stringify(published)}`);
    const stats = (await c.request('kvmLens/serverStats')).result as { internalErrors: number };
    assert.equal(stats.internalErrors, 0);
  } finally {
    await c.shutdown();
  }
});
