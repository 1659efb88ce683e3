// C regions on the machine: the four seed cases before/after, region selection, robustness, the sweep size.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initParser } from '../../server/src/analysis/parser';
import { analyzeText } from '../../server/src/analysis/document';
import { benchmarkSource, simulateC, sweepBenchmark } from '../../server/src/features/simulate/index';
import type { SimulationResult } from '../../server/src/protocol/simulation';
import { FIXTURES } from '../paths';

async function sim(file: string, fn: string): Promise<SimulationResult> {
  await initParser();
  const text = readFileSync(join(FIXTURES, 'sim', file), 'utf8');
  return simulateC(analyzeText(text, `file:///${file}`), { functionName: fn });
}

const warn = (r: SimulationResult) => r.findings.filter((f) => f.severity === 'warning' || f.severity === 'error');
const lines = (r: SimulationResult, rule: string) => [...new Set(r.findings.filter((f) => f.rule === rule).map((f) => f.line))].sort((a, b) => a - b);

test('seed 001: v5.2-era sync_vmcs02_to_vmcs12 copies undefined PDPTRs in 6 of 12 feasible configurations', async () => {
  const r = await sim('sync_pdptr_v52.c', 'sync_vmcs02_to_vmcs12');
  assert.equal(r.configurations?.length, 12);
  // The undefined verdict names the minimal condition that makes it so (SDM: PDPTRs saved only with EPT and PAE paging).
  assert.ok(r.summary.includes('in 6 of 12 configurations vmcs12.guest_pdptr0..3 receive undefined values — when enable_ept ∧ paging≠pae'), r.summary.join('\n'));
  assert.deepEqual(lines(r, 'undefined-value-copied'), [13, 14, 15, 16]);
  // Exactly the configurations with EPT on and L2 not in PAE paging.
  for (const c of r.configurations!) {
    const bad = c.findings.some((f) => f.rule === 'undefined-value-copied');
    assert.equal(bad, c.predicates.enable_ept === true && c.predicates.paging !== 'pae', JSON.stringify(c.predicates));
  }
  const flows = r.configurations!.find((c) => c.predicates.enable_ept === true && c.predicates.paging === '4-level')!.flows;
  assert.ok(flows.some((f) => /^vmcs12\.guest_pdptr0 <- vmcs02\.GUEST_PDPTR0 \(undefined: L2 not in PAE paging at exit/.test(f)), flows.join('\n'));
  assert.ok(r.steps.some((s) => /VM exit from L2/.test(s.op)), 'the hardware event precedes the function');
});

test('seed 001: post-patch sync_vmcs02_to_vmcs12 is clean in all 12 feasible configurations', async () => {
  const r = await sim('sync_pdptr_fixed.c', 'sync_vmcs02_to_vmcs12');
  assert.equal(r.configurations?.length, 12);
  assert.deepEqual(r.findings, []);
  assert.ok(r.summary.some((s) => /no undefined or wrong values in any of the 12 configurations/.test(s)));
});

test('seed 002: int_ctl copy before the clean-up leaks L0-owned V_TPR/V_IRQ into vmcb12 without V_INTR_MASKING', async () => {
  const r = await sim('intctl_before.c', 'nested_sync_int_ctl_from_vmcb02');
  // L0 may keep its VINTR intercept with V_INTR_MASKING too (nested_vmcb02_recalc_intercepts clears it only when L1's
  // RFLAGS.IF is 0): all 16 combinations are feasible.
  assert.equal(r.configurations?.length, 16);
  assert.deepEqual(lines(r, 'int-ctl-l0-leak'), [16]);
  assert.ok(r.summary.includes('in 8 of 16 configurations vmcb12.int_ctl.V_TPR receives L0-owned int_ctl state from vmcb02 — when !v_intr_masking'), r.summary.join('\n'));
  for (const c of r.configurations!) {
    const p = c.predicates;
    const l0Window = p.l0_irq_window === true && p.l1_intercept_vintr === false;
    assert.equal(c.findings.some((f) => f.rule === 'int-ctl-l0-leak'), p.v_intr_masking === false || l0Window, JSON.stringify(p));
  }
});

test('seed 002: int_ctl copy after the clean-up leaks only the V_IRQ of L0\'s own interrupt window (the Linux 6.4 fix)', async () => {
  const r = await sim('intctl_after.c', 'nested_sync_int_ctl_from_vmcb02');
  // V_IRQ is copied under V_INTR_MASKING: whether it is L1's depends on the VINTR intercepts too, so they are swept.
  assert.equal(r.configurations?.length, 32);
  assert.deepEqual(lines(r, 'int-ctl-l0-leak'), [18]);
  assert.ok(r.summary.includes('in 4 of 32 configurations vmcb12.int_ctl.V_IRQ receives L0-owned int_ctl state from vmcb02 — when v_intr_masking ∧ l0_irq_window ∧ !l1_intercept_vintr'), r.summary.join('\n'));
  const vgifOn = r.configurations!.find((c) => c.predicates.nested_vgif === true && c.predicates.v_intr_masking === true)!;
  assert.ok(vgifOn.flows.some((f) => f.startsWith('vmcb12.int_ctl <-')));
});

test('seed 003: host MSRs saved by hand next to VMSAVE are flagged; VMSAVE alone is clean', async () => {
  const before = await sim('vmsave_hand.c', 'svm_prepare_guest_switch');
  assert.deepEqual(lines(before, 'vmsave-redundant-save'), [17]);
  const f = before.findings.find((x) => x.rule === 'vmsave-redundant-save')!;
  for (const m of ['STAR', 'LSTAR', 'CSTAR', 'SYSCALL_MASK', 'KERNEL_GS_BASE', 'IA32_SYSENTER_CS', 'FS_BASE', 'GS_BASE']) assert.match(f.message, new RegExp(`\\b${m}\\b`));
  assert.match(f.message, /VMSAVE at line 19/);
  const after = await sim('vmsave_only.c', 'svm_prepare_switch_to_guest');
  assert.deepEqual(warn(after), []);
  assert.ok(after.steps.some((s) => s.changes.some((c) => c.location === 'host_save_area.STAR')));
});

test('seed 000: per-CPU host state written only in vmx_set_constant_host_state is stale after migration', async () => {
  const bug = await sim('host_state_percpu_bug.c', 'vmx_set_constant_host_state');
  assert.deepEqual(lines(bug, 'host-state-stale'), [10, 11]);
  assert.ok(!bug.findings.some((f) => /HOST_IDTR_BASE/.test(f.message)), 'the IDT base is constant (seed 000)');
  assert.ok(bug.steps.some((s) => /migrates/.test(s.op)));
  const ok = await sim('host_state_ok.c', 'vmx_set_constant_host_state');
  assert.deepEqual(warn(ok), []);
  assert.ok(ok.steps.some((s) => /vmx_vcpu_load_vmcs\(\) on the new CPU/.test(s.op)));
});

test('region selection, unknown function and broken C never throw', async () => {
  await initParser();
  const text = readFileSync(join(FIXTURES, 'sim', 'sync_pdptr_v52.c'), 'utf8');
  const doc = analyzeText(text);
  const region = simulateC(doc, { startLine: 12, endLine: 13 });
  assert.match(region.title, /lines 12-13/);
  assert.deepEqual(lines(region, 'undefined-value-copied'), [13]);
  const none = simulateC(doc, { functionName: 'no_such_function' });
  assert.equal(none.findings[0].rule, 'simulate-no-function');
  for (const junk of ['', 'int x = ;;; {{{', 'void f(void) { for (;;) { x++; } }', 'void g(void) { g(); }',
    'void h(struct vmcs12 *vmcs12) { vmcs12->guest_rip = vmcs_readl(; if (enable_ept) }']) {
    const r = simulateC(analyzeText(junk), {});
    assert.equal(r.kind, 'c');
  }
});

test('sweep benchmark: a generated 100-line region has 2^10 configurations', async () => {
  await initParser();
  assert.ok(benchmarkSource(10).split('\n').length >= 100);
  const b = sweepBenchmark(10);
  assert.equal(b.configurations, 1024);
  assert.ok(b.ms > 0);
});

test('steps inside a followed call name the callee and the call line; the caller\'s statement stays on its own line', async () => {
  await initParser();
  const text = [
    'static unsigned long demo_guest_cr0(struct kvm_vcpu *vcpu, struct vmcs12 *vmcs12)',
    '{',
    '\treturn vmcs_readl(GUEST_CR0);',
    '}',
    '',
    'static void sync_vmcs02_to_vmcs12(struct kvm_vcpu *vcpu, struct vmcs12 *vmcs12)',
    '{',
    '\tvmcs_writel(GUEST_RIP, 0x1000);',
    '\tvmcs12->guest_cr0 = demo_guest_cr0(vcpu, vmcs12);',
    '\tvmcs12->guest_rip = vmcs_readl(GUEST_RIP);',
    '}',
    '',
  ].join('\n');
  const r = simulateC(analyzeText(text, 'file:///via.c'), { functionName: 'sync_vmcs02_to_vmcs12' });
  const copy = r.steps.find((s) => s.op.includes('guest_cr0 ='));
  assert.equal(copy?.line, 9, 'the copy is on the caller\'s line (not the callee\'s return)');
  assert.equal(copy?.via, undefined);
  const rip = r.steps.find((s) => s.op.includes('guest_rip ='));
  assert.equal(rip?.line, 10);
  for (const s of r.steps.filter((x) => x.line === 3)) assert.deepEqual(s.via, { fn: 'demo_guest_cr0', line: 9 });
});
