// VMX path rules over their fixtures (test/fixtures/rules/<rule-id>/*.c, markers: see fixtures-helper.ts), plus
// checks of severity, message contents and related information on the seed shapes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { initParser } from '../../server/src/analysis/parser';
import { analyzeText } from '../../server/src/analysis/document';
import { computeDiagnostics } from '../../server/src/features/diagnostics';
import { RULES } from '../../server/src/features/rules/index';
import { checkFixture, fixtureFiles } from './fixtures-helper';

const VMX_RULES = ['vmcs-undefined-read', 'vmcs-needless-write', 'vmwrite-readonly', 'host-state-lifetime'];

test('the VMX rules are registered with their default severities', () => {
  const sev = Object.fromEntries(RULES.map((r) => [r.id, r.defaultSeverity]));
  assert.equal(sev['vmcs-undefined-read'], 'warning');
  assert.equal(sev['vmcs-needless-write'], 'hint');
  assert.equal(sev['vmwrite-readonly'], 'warning');
  assert.equal(sev['host-state-lifetime'], 'warning');
});

for (const rule of VMX_RULES) {
  const files = fixtureFiles(rule);
  test(`${rule} has positive and negative fixtures`, () => {
    assert.ok(files.length >= 2, `fixtures for ${rule}`);
  });
  for (const file of files) {
    test(`${rule} fixture ${file.replace(/^.*rules\//, '')}`, async () => {
      await initParser();
      checkFixture(file, rule);
    });
  }
}

function fixture(rule: string, name: string): string {
  const f = fixtureFiles(rule).find((p) => p.endsWith(name));
  assert.ok(f, `${rule}/${name}`);
  return readFileSync(f, 'utf8');
}

test('seed 001 before: the PDPTR read names the missing guard and points at `if (enable_ept)`', async () => {
  await initParser();
  const text = fixture('vmcs-undefined-read', 'seed001-before.c');
  const doc = analyzeText(text);
  const fs = computeDiagnostics(doc, {}, new Set(['vmcs-undefined-read']));
  assert.equal(fs.length, 4);
  const f = fs[0];
  assert.equal(f.severity, 'warning');
  assert.match(f.message, /GUEST_PDPTR0/);
  assert.match(f.message, /PAE paging/);
  assert.match(f.message, /vmcs12->guest_pdptr0/);
  assert.match(f.source, /SDM/);
  assert.ok(f.related && f.related.length === 1, 'related guard');
  assert.equal(text.slice(f.related[0].start, f.related[0].end), '(enable_ept)');
});

test('seed 000 before: host-state-lifetime is a hint pointing at store_idt()', async () => {
  await initParser();
  const text = fixture('host-state-lifetime', 'seed000-before.c');
  const fs = computeDiagnostics(analyzeText(text), {}, new Set(['host-state-lifetime']));
  assert.equal(fs.length, 1);
  assert.equal(fs[0].severity, 'hint');
  assert.match(fs[0].message, /HOST_IDTR_BASE/);
  assert.ok(fs[0].related?.length);
  assert.equal(text.slice(fs[0].related![0].start, fs[0].related![0].end), 'store_idt(&dt)');
});

test('host-state-lifetime stale findings are warnings naming the lifetime', async () => {
  await initParser();
  const fs = computeDiagnostics(analyzeText(fixture('host-state-lifetime', 'stale.c')), {}, new Set(['host-state-lifetime']));
  assert.deepEqual(fs.map((f) => f.severity), ['warning', 'warning', 'warning']);
  assert.match(fs[0].message, /HOST_CR4 is per-task/);
  assert.match(fs[1].message, /HOST_TR_BASE is per-cpu/);
});

test('exit-information findings name the exit reason and the handler table entry', async () => {
  await initParser();
  const text = fixture('vmcs-undefined-read', 'exit-info-handlers.c');
  const fs = computeDiagnostics(analyzeText(text), {}, new Set(['vmcs-undefined-read']));
  const cpuid = fs.find((f) => /handle_cpuid_exit/.test(f.message));
  assert.ok(cpuid);
  assert.match(cpuid.message, /GUEST_LINEAR_ADDRESS/);
  assert.match(cpuid.message, /EXIT_REASON_CPUID/);
  assert.ok(!fs.some((f) => /EXIT_QUALIFICATION is read/.test(f.message)), 'exit qualification is cleared, not undefined, for CPUID/MSR exits');
  assert.ok(cpuid.related?.some((r) => /\[EXIT_REASON_CPUID\]/.test(text.slice(r.start, r.end))));
  const msr = fs.find((f) => /MSR_READ/.test(f.message));
  assert.ok(msr, 'switch case finding');
  assert.match(msr.message, /EXIT_REASON_MSR_READ, EXIT_REASON_MSR_WRITE/);
});

test('needless-write findings are hints; vmwrite-readonly cites error 13', async () => {
  await initParser();
  const nw = computeDiagnostics(analyzeText(fixture('vmcs-needless-write', 'seed001-before.c')), {}, new Set(['vmcs-needless-write']));
  assert.equal(nw.length, 4);
  assert.ok(nw.every((f) => f.severity === 'hint'));
  const ro = computeDiagnostics(analyzeText(fixture('vmwrite-readonly', 'readonly.c')), {}, new Set(['vmwrite-readonly']));
  assert.equal(ro.length, 3);
  assert.match(ro[0].message, /error 13/);
});

test('disable comments and severity settings apply to the VMX rules', async () => {
  await initParser();
  const text = `static void f(struct kvm_vcpu *vcpu, u64 *o)
{
        /* kvm-lens-disable-next-line vmcs-undefined-read */
        o[0] = vmcs_read64(GUEST_PDPTR0);
        o[1] = vmcs_read64(GUEST_PDPTR1);
}
`;
  const doc = analyzeText(text);
  const fs = computeDiagnostics(doc, { 'vmcs-undefined-read': 'error' }, new Set(['vmcs-undefined-read']));
  assert.equal(fs.length, 1);
  assert.equal(fs[0].severity, 'error');
  assert.equal(computeDiagnostics(doc, { 'vmcs-undefined-read': 'off' }).filter((f) => f.rule === 'vmcs-undefined-read').length, 0);
});

test('the VMX rules never throw on hostile input', async () => {
  await initParser();
  const inputs = [
    '',
    'void f( { vmcs_read64(GUEST_PDPTR0',
    `void vmx_set_constant_host_state(struct vcpu_vmx *v) { ${'if (x) {'.repeat(300)} vmcs_writel(HOST_TR_BASE, 0); ${'}'.repeat(300)} }`,
    `static int handle_x(struct kvm_vcpu *v) { switch (r) { case EXIT_REASON_CPUID: ${'('.repeat(500)}vmx_get_exit_qual(v)${')'.repeat(500)}; } }`,
    '#define X(a) [EXIT_REASON_CPUID] = a,\nstatic int (*t[])(void) = { X(handle_y) };\nstatic int handle_y(void) { return vmcs_readl(EXIT_QUALIFICATION); }',
  ];
  for (const t of inputs) {
    const fs = computeDiagnostics(analyzeText(t));
    assert.ok(Array.isArray(fs));
  }
});
