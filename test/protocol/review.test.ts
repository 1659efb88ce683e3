// Protocol-level: kvmLens/review on the real server process — the request behind "KVM Lens: Review Working Changes".
// Old texts are sent (as `git show HEAD:path` gives them), new texts are sent (open editors) or read by the server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LspClient } from './lspClient';
import { FIXTURES } from '../paths';

const NESTED = 'arch/x86/kvm/vmx/nested.c';
const GUARD = 'if (nested_cpu_has_ept(vmcs12) && is_pae_paging(vcpu)) {';

interface Reply { introduced: Array<{ rule: string; line: number; function?: string }>; fixed: unknown[]; present: unknown[]; skipped: string[] }

test('kvmLens/review: the removed PAE guard, new side from disk and from the editor; bad params', async () => {
  const root = mkdtempSync(join(tmpdir(), 'kvm-lens-review-proto-'));
  cpSync(join(FIXTURES, 'review', 'tree'), root, { recursive: true });
  const head = readFileSync(join(root, NESTED), 'utf8');
  const work = head.replace(GUARD, 'if (nested_cpu_has_ept(vmcs12)) {');
  writeFileSync(join(root, NESTED), work);
  const reads = head.split('\n').flatMap((l, i) => (/guest_pdptr\d = vmcs_read64/.test(l) ? [i + 1] : []));
  const c = new LspClient();
  try {
    await c.initialize();
    const disk = (await c.request('kvmLens/review', { root, files: [{ path: NESTED, before: head }] })).result as Reply;
    assert.deepEqual(disk.introduced.map((f) => [f.rule, f.line, f.function]), reads.map((l) => ['vmcs-undefined-read', l, 'sync_vmcs02_to_vmcs12']));
    assert.deepEqual(disk.fixed, []);
    // An unsaved editor that put the guard back: nothing introduced.
    const editor = (await c.request('kvmLens/review', { root, files: [{ path: NESTED, before: head, after: head }] })).result as Reply;
    assert.deepEqual(editor.introduced, []);
    // The other way round: HEAD without the guard, the editor with it → fixed.
    const fix = (await c.request('kvmLens/review', { root, files: [{ path: NESTED, before: work, after: head }] })).result as Reply;
    assert.equal(fix.fixed.length, 4);
    const escape = (await c.request('kvmLens/review', { root, files: [{ path: '../../etc/passwd.c', before: '' }] })).result as Reply;
    assert.match(escape.skipped[0], /not a path inside the repository/);
    const bad = await c.request('kvmLens/review', { files: 3 });
    assert.equal((bad.error as { code: number }).code, -32602);
    const gone = await c.request('kvmLens/review', { root: join(root, 'nope'), files: [] });
    assert.match((gone.error as { message: string }).message, /cannot read the tree/);
  } finally {
    await c.shutdown();
  }
});
