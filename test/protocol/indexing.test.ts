// Workspace indexing in the server's worker thread: default globs, .gitignore and files.exclude respected,
// progress via window/workDoneProgress, `kvmLens/status` notifications, workspace facts, hovers answered while
// indexing runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LspClient, fileUri } from './lspClient';
import { synthFile } from '../../bench/synth.mjs';

test('indexes arch/x86/kvm by default, respects .gitignore and files.exclude, reports progress and status', async () => {
  const root = mkdtempSync(join(tmpdir(), 'kvm-lens-index-'));
  try {
    const kvm = join(root, 'arch', 'x86', 'kvm');
    mkdirSync(join(kvm, 'vmx'), { recursive: true });
    mkdirSync(join(kvm, 'generated'), { recursive: true });
    mkdirSync(join(root, 'arch', 'x86', 'include', 'asm'), { recursive: true });
    mkdirSync(join(root, 'drivers'), { recursive: true });
    writeFileSync(join(kvm, 'vmx', 'vmx.c'), 'static void vmx_vcpu_run(struct kvm_vcpu *vcpu)\n{\n\tfpu_sync_guest_vmexit_xfd_state();\n\thelper_a(vcpu);\n}\n');
    writeFileSync(join(kvm, 'vmx', 'nested.c'), 'static void helper_a(struct kvm_vcpu *vcpu)\n{\n\tvmcs_read64(GUEST_PDPTR0);\n}\n');
    for (let i = 0; i < 30; i++) writeFileSync(join(kvm, `big${i}.c`), synthFile(300, i));
    writeFileSync(join(kvm, 'generated', 'gen.c'), 'void generated_only(void) { ignored_by_gitignore(); }\n');
    writeFileSync(join(kvm, 'excluded.c'), 'void excluded_only(void) { ignored_by_files_exclude(); }\n');
    writeFileSync(join(kvm, '.gitignore'), 'generated/\n');
    writeFileSync(join(root, 'arch', 'x86', 'include', 'asm', 'vmx.h'), '#define VMX_THING 1\nstatic inline void vmx_h_helper(void) { helper_b(); }\n');
    writeFileSync(join(root, 'arch', 'x86', 'include', 'asm', 'unrelated.h'), 'static inline void unrelated(void) { not_indexed(); }\n');
    writeFileSync(join(root, 'drivers', 'x.c'), 'void drv(void) { not_indexed_either(); }\n');

    const c = new LspClient();
    c.configuration = { exclude: { '**/excluded.c': true } };
    try {
      const done = c.next((m) => m.method === 'kvmLens/status' && (m.params as { busy?: boolean }).busy === false && /files/.test((m.params as { text: string }).text), 60000, 'index done');
      await c.initialize({ rootUri: fileUri(root), capabilities: { window: { workDoneProgress: true }, workspace: { configuration: true } } });
      // A hover on an open document is answered while the index is being built.
      const uri = fileUri(join(kvm, 'vmx', 'nested.c'));
      c.open(uri, 'static void helper_a(struct kvm_vcpu *vcpu)\n{\n\tvmcs_read64(GUEST_PDPTR0);\n}\n');
      const h = await c.request('textDocument/hover', { textDocument: { uri }, position: { line: 2, character: 15 } });
      assert.match((h.result as { contents: { value: string } }).contents.value, /0x280a/);
      const status = await done;
      assert.match((status.params as { tooltip: string }).tooltip, /indexed 33 files/);
      assert.ok(c.notifications.some((m) => m.method === 'window/workDoneProgress/create'), 'progress created');
      assert.ok(c.notifications.some((m) => m.method === '$/progress' && (m.params as { value: { kind: string } }).value.kind === 'end'), 'progress ended');

      const facts = async (name: string) => (await c.request('kvmLens/workspaceFacts', { name })).result as { ready: boolean; files: number; isCalled: boolean; callers: Array<{ file: string; caller: string }>; definedIn: string[]; role: { kind: string } | null };
      const xfd = await facts('fpu_sync_guest_vmexit_xfd_state');
      assert.equal(xfd.ready, true);
      assert.equal(xfd.files, 33);
      assert.equal(xfd.isCalled, true);
      assert.deepEqual(xfd.callers, [{ file: 'arch/x86/kvm/vmx/vmx.c', caller: 'vmx_vcpu_run' }]);
      const helper = await facts('helper_a');
      assert.deepEqual(helper.definedIn, ['arch/x86/kvm/vmx/nested.c']);
      assert.equal(helper.role?.kind, 'vcpu-run', 'role through a caller in another file');
      assert.equal((await facts('helper_b')).isCalled, true, 'asm/vmx.h is indexed');
      assert.equal((await facts('ignored_by_gitignore')).isCalled, false, '.gitignore respected');
      assert.equal((await facts('ignored_by_files_exclude')).isCalled, false, 'files.exclude respected');
      assert.equal((await facts('not_indexed')).isCalled, false, 'only the configured asm headers');
      assert.equal((await facts('not_indexed_either')).isCalled, false);

      // A save re-indexes the file.
      writeFileSync(join(kvm, 'vmx', 'nested.c'), 'static void helper_a(struct kvm_vcpu *vcpu)\n{\n\tnew_callee_after_save();\n}\n');
      const again = c.next((m) => m.method === 'kvmLens/status' && (m.params as { busy?: boolean }).busy === false, 20000, 'reindex');
      c.notify('textDocument/didSave', { textDocument: { uri } });
      await again;
      assert.equal((await facts('new_callee_after_save')).isCalled, true);
    } finally {
      assert.equal(await c.shutdown(), 0, c.stderr);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
