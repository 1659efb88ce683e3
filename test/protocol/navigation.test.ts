// Go to definition, find references and workspace symbols across the indexed tree (real server over stdio), and the
// code actions: guard for an undefined PDPTR read, suppress for any rule, explain field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LspClient, fileUri } from './lspClient';

interface Loc { uri: string; range: { start: { line: number; character: number }; end: { line: number; character: number } } }

const VMX_H = [
  'enum vmcs_field {',
  '\tGUEST_CR3                       = 0x00006802,',
  '\tGUEST_PDPTR0                    = 0x0000280a,',
  '\tGUEST_PDPTR0_HIGH               = 0x0000280b,',
  '};',
  '',
].join('\n');
const VMCS12_H = [
  'struct __packed vmcs12 {',
  '\tu64 guest_cr3;',
  '\tu64 guest_pdptr0;',
  '};',
  '',
].join('\n');
const SVM_H = [
  'struct __attribute__ ((__packed__)) vmcb_control_area {',
  '\tu32 intercepts[5];',
  '\tu32 int_ctl;',
  '};',
  '#define V_IRQ_SHIFT 8',
  '#define V_IRQ_MASK (1 << V_IRQ_SHIFT)',
  '',
].join('\n');
const NESTED_C = [
  'static void sync_vmcs02_to_vmcs12(struct kvm_vcpu *vcpu, struct vmcs12 *vmcs12)',
  '{',
  '\tvmcs12->guest_cr3 = vmcs_readl(GUEST_CR3);',
  '\tvmcs12->guest_pdptr0 = vmcs_read64(GUEST_PDPTR0);',
  '}',
  '',
].join('\n');
const VMX_C = [
  'static void prepare_vmcs02(struct kvm_vcpu *vcpu, struct vmcs12 *vmcs12)',
  '{',
  '\tvmcs_write64(GUEST_PDPTR0, vmcs12->guest_pdptr0);',
  '}',
  '',
].join('\n');

test('definition, references in every form, workspace symbols over the indexed tree', async () => {
  const root = mkdtempSync(join(tmpdir(), 'kvm-lens-nav-'));
  const asm = join(root, 'arch', 'x86', 'include', 'asm');
  const vmx = join(root, 'arch', 'x86', 'kvm', 'vmx');
  mkdirSync(asm, { recursive: true });
  mkdirSync(vmx, { recursive: true });
  writeFileSync(join(asm, 'vmx.h'), VMX_H);
  writeFileSync(join(asm, 'svm.h'), SVM_H);
  writeFileSync(join(vmx, 'vmcs12.h'), VMCS12_H);
  writeFileSync(join(vmx, 'nested.c'), NESTED_C);
  writeFileSync(join(vmx, 'vmx.c'), VMX_C);
  const c = new LspClient();
  try {
    const done = c.next((m) => m.method === 'kvmLens/status' && (m.params as { busy?: boolean }).busy === false && /files/.test((m.params as { text: string }).text), 60000, 'index done');
    const init = await c.initialize({ rootUri: fileUri(root), capabilities: {}, initializationOptions: { client: { cardScheme: 'kvm-lens-explain', explainCommand: 'kvmLens.explainField' } } });
    const caps = (init.result as { capabilities: Record<string, unknown> }).capabilities;
    assert.equal(caps.definitionProvider, true);
    assert.equal(caps.referencesProvider, true);
    assert.equal(caps.workspaceSymbolProvider, true);
    await done;
    const uri = fileUri(join(vmx, 'nested.c'));
    c.open(uri, NESTED_C);
    const line3 = NESTED_C.split('\n')[3];
    const onEnum = { line: 3, character: line3.indexOf('GUEST_PDPTR0') + 2 };

    // Definition: the enum member in asm/vmx.h and the struct member in vmcs12.h, plus the read-only card document.
    const def = (await c.request('textDocument/definition', { textDocument: { uri }, position: onEnum })).result as Loc[];
    const where = def.map((l) => `${l.uri.replace(fileUri(root), '')}:${l.range.start.line}:${l.range.start.character}`);
    assert.deepEqual(where, ['/arch/x86/include/asm/vmx.h:2:1', '/arch/x86/kvm/vmx/vmcs12.h:2:5', 'kvm-lens-explain:/GUEST_PDPTR0.md:0:0']);
    // From the vmcs12 member form too.
    const onMember = { line: 3, character: line3.indexOf('guest_pdptr0') + 1 };
    const def2 = (await c.request('textDocument/definition', { textDocument: { uri }, position: onMember })).result as Loc[];
    assert.equal(def2.length, 3);
    // VMCB member and mask definitions.
    const svmUri = fileUri(join(asm, 'svm.h'));
    c.open(svmUri, SVM_H);
    const defMask = (await c.request('textDocument/definition', { textDocument: { uri: svmUri }, position: { line: 5, character: 10 } })).result as Loc[];
    assert.ok(defMask.some((l) => l.uri === svmUri && l.range.start.line === 5), JSON.stringify(defMask));

    // References: enum name (accessor argument) and vmcs12 member, in the open file and in the indexed vmx.c,
    // not GUEST_PDPTR0_HIGH or GUEST_CR3.
    const refs = (await c.request('textDocument/references', { textDocument: { uri }, position: onEnum, context: { includeDeclaration: false } })).result as Loc[];
    const got = refs.map((l) => `${l.uri.replace(fileUri(root), '')}:${l.range.start.line}:${l.range.start.character}`).sort();
    const vmxLine = VMX_C.split('\n')[2];
    assert.deepEqual(got, [
      `/arch/x86/kvm/vmx/nested.c:3:${line3.indexOf('guest_pdptr0')}`,
      `/arch/x86/kvm/vmx/nested.c:3:${line3.indexOf('GUEST_PDPTR0')}`,
      `/arch/x86/kvm/vmx/vmx.c:2:${vmxLine.indexOf('guest_pdptr0')}`,
      `/arch/x86/kvm/vmx/vmx.c:2:${vmxLine.indexOf('GUEST_PDPTR0')}`,
    ].sort());
    const withDecl = (await c.request('textDocument/references', { textDocument: { uri }, position: onEnum, context: { includeDeclaration: true } })).result as Loc[];
    assert.equal(withDecl.length, 6, JSON.stringify(withDecl));
    // From the definition in the header (cursor on the enum member).
    const vmxHUri = fileUri(join(asm, 'vmx.h'));
    c.open(vmxHUri, VMX_H);
    const fromDecl = (await c.request('textDocument/references', { textDocument: { uri: vmxHUri }, position: { line: 2, character: 3 }, context: { includeDeclaration: false } })).result as Loc[];
    assert.equal(fromDecl.length, 4);

    // Workspace symbols: entity definitions and functions.
    const syms = (await c.request('workspace/symbol', { query: 'pdptr0' })).result as Array<{ name: string; kind: number; location: Loc }>;
    assert.deepEqual(syms.map((s) => s.name).sort(), ['GUEST_PDPTR0', 'GUEST_PDPTR0_HIGH', 'guest_pdptr0'].sort());
    const fns = (await c.request('workspace/symbol', { query: 'prepare_vmcs02' })).result as Array<{ name: string; kind: number; location: Loc }>;
    assert.equal(fns[0].name, 'prepare_vmcs02');
    assert.equal(fns[0].kind, 12);
    assert.match(fns[0].location.uri, /vmx\/vmx\.c$/);
  } finally {
    assert.equal(await c.shutdown(), 0, c.stderr);
    rmSync(root, { recursive: true, force: true });
  }
});

const UNDEF = [
  'static void sync_vmcs02_to_vmcs12_rare(struct kvm_vcpu *vcpu, struct vmcs12 *vmcs12)',
  '{',
  '\tif (enable_ept) {',
  '\t\tvmcs12->guest_cr3 = vmcs_readl(GUEST_CR3);',
  '\t\tvmcs12->guest_pdptr0 = vmcs_read64(GUEST_PDPTR0);',
  '\t\tvmcs12->guest_pdptr1 = vmcs_read64(GUEST_PDPTR1);',
  '\t}',
  '}',
  '',
].join('\n');

test('code actions: the guard the model proves for an undefined read, suppress, explain; applying the guard clears it', async () => {
  const c = new LspClient();
  const uri = 'file:///tmp/kvm-lens-actions/nested.c';
  try {
    await c.initialize({ initializationOptions: { client: { explainCommand: 'kvmLens.explainField' } } });
    const first = c.diagnosticsFor(uri, 1);
    c.open(uri, UNDEF, 1);
    const d = ((await first).params as { diagnostics: Array<{ code: string; range: Loc['range'] }> }).diagnostics.filter((x) => x.code === 'vmcs-undefined-read');
    assert.deepEqual(d.map((x) => x.range.start.line), [4, 5]);
    const at = { line: 4, character: UNDEF.split('\n')[4].indexOf('vmcs_read64') + 1 };
    const actions = (await c.request('textDocument/codeAction', { textDocument: { uri }, range: { start: at, end: at }, context: { diagnostics: [] } })).result as Array<{ title: string; kind: string; edit?: { changes: Record<string, Array<{ range: Loc['range']; newText: string }>> }; command?: { command: string; arguments: unknown[] } }>;
    // enable_ept already holds on this path: the missing conjunct of "EPT and PAE paging" is PAE paging.
    assert.deepEqual(actions.map((a) => a.title), [
      'Guard with is_pae_paging(vcpu)',
      'Suppress vmcs-undefined-read on this line (kvm-lens-disable-next-line)',
      'Explain GUEST_PDPTR0',
    ]);
    assert.deepEqual(actions[2].command, { title: 'Explain GUEST_PDPTR0', command: 'kvmLens.explainField', arguments: ['GUEST_PDPTR0'] });
    // Apply the guard: both PDPTR statements are wrapped; no undefined-read finding is left.
    const e = actions[0].edit!.changes[uri][0];
    assert.deepEqual([e.range.start.line, e.range.end.line], [4, 5]);
    const lines = UNDEF.split('\n');
    const fixed = [...lines.slice(0, 4), ...e.newText.split('\n'), ...lines.slice(6)].join('\n');
    assert.match(fixed, /\t\tif \(is_pae_paging\(vcpu\)\) \{\n\t\t\tvmcs12->guest_pdptr0 = vmcs_read64\(GUEST_PDPTR0\);\n\t\t\tvmcs12->guest_pdptr1 = vmcs_read64\(GUEST_PDPTR1\);\n\t\t\}/);
    const second = c.diagnosticsFor(uri, 2);
    c.notify('textDocument/didChange', { textDocument: { uri, version: 2 }, contentChanges: [{ text: fixed }] });
    const after = ((await second).params as { diagnostics: Array<{ code: string }> }).diagnostics;
    assert.equal(after.filter((x) => x.code === 'vmcs-undefined-read').length, 0, JSON.stringify(after));
    // Suppress: a disable comment above the line silences that finding only.
    const sup = actions[1].edit!.changes[uri][0];
    const suppressed = UNDEF.split('\n');
    suppressed.splice(4, 0, sup.newText.replace(/\n$/, ''));
    const third = c.diagnosticsFor(uri, 3);
    c.notify('textDocument/didChange', { textDocument: { uri, version: 3 }, contentChanges: [{ text: suppressed.join('\n') }] });
    const left = ((await third).params as { diagnostics: Array<{ code: string; range: Loc['range'] }> }).diagnostics.filter((x) => x.code === 'vmcs-undefined-read');
    assert.deepEqual(left.map((x) => x.range.start.line), [6]);
  } finally {
    assert.equal(await c.shutdown(), 0, c.stderr);
  }
});
