// Protocol: hover on CC(...) and the check-function code lens through the real server; kvmLens/nestedAudit on a
// fixture tree and on bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES } from '../paths';
import { LspClient, fileUri } from './lspClient';

test('CC hover, check lens and kvmLens/nestedAudit', async () => {
  const root = mkdtempSync(join(tmpdir(), 'kvm-lens-audit-proto-'));
  mkdirSync(join(root, 'arch/x86/kvm/vmx'), { recursive: true });
  const file = join(root, 'arch/x86/kvm/vmx/nested.c');
  copyFileSync(join(FIXTURES, 'audit/vmx-nested.c'), file);
  const text = readFileSync(file, 'utf8');
  const uri = fileUri(file);
  const c = new LspClient();
  try {
    await c.initialize();
    c.open(uri, text, 1);
    const lines = text.split('\n');
    const line = lines.findIndex((l) => l.includes('CC(vmcs12->host_cs_selector'));
    const h = await c.request('textDocument/hover', { textDocument: { uri }, position: { line, character: lines[line].indexOf('CC(') + 1 } });
    assert.equal(h.error, undefined);
    assert.match((h.result as { contents: { value: string } }).contents.value, /vmx\.host\.selector-rpl-ti/);
    const lens = await c.request('textDocument/codeLens', { textDocument: { uri } });
    const titles = (lens.result as Array<{ command: { title: string; command: string } }>).filter((l) => l.command.command === 'kvmLens.auditNested').map((l) => l.command.title);
    assert.ok(titles.some((t) => /^implements \d+ of \d+ host segment checks$/.test(t)), titles.join(' | '));
    const audit = await c.request('kvmLens/nestedAudit', { path: uri });
    const r = audit.result as { ok: boolean; report: { vmx: { counts: { total: number } } }; markdown: string };
    assert.equal(r.ok, true);
    assert.ok(r.report.vmx.counts.total > 100);
    assert.match(r.markdown, /^# Nested audit/);
    const bad = await c.request('kvmLens/nestedAudit', { path: '/nonexistent/x.c' });
    assert.equal((bad.result as { ok: boolean }).ok, false);
    const malformed = await c.request('kvmLens/nestedAudit', null);
    assert.equal((malformed.result as { ok: boolean }).ok, false);
  } finally {
    await c.shutdown();
    rmSync(root, { recursive: true, force: true });
  }
});
