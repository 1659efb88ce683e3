// The nested audit: the VM-entry/VMRUN check model, the matching of KVM check sites (fixtures under
// test/fixtures/audit with `implements:` / `status:` markers), failure kinds from the roots, and field coverage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initParser } from '../../server/src/analysis/parser';
import { extractCheckSites, type CheckSite } from '../../server/src/analysis/nestedChecks';
import { exposedControls, matchChecks, runNestedAudit, siteMatches } from '../../server/src/features/nestedAudit';
import { vmxCoverage } from '../../server/src/features/fieldCoverage';
import { auditMarkdown, auditText } from '../../server/src/features/auditReport';
import { ENTRY_CHECKS, SVM_VMRUN_CHECKS, VMX_ENTRY_CHECKS, inManualList } from '../../server/src/model/index';
import { FIXTURES } from '../paths';

const dir = join(FIXTURES, 'audit');
const read = (name: string): string => readFileSync(join(dir, name), 'utf8');

test('model: ids unique, every entry cites an SDM/APM section, keys compile, fields named', () => {
  const ids = new Set<string>();
  for (const c of ENTRY_CHECKS) {
    assert.ok(!ids.has(c.id), `duplicate ${c.id}`);
    ids.add(c.id);
    assert.match(c.section, c.vendor === 'vmx' ? /^Intel SDM Vol\.3C §2[78]\.\d/ : /^AMD APM Vol\.2 §15\.\d/, c.id);
    assert.ok(c.match.fields.length > 0, c.id);
    for (const k of (c.match.all ?? []).flat()) if (k.startsWith('/')) assert.doesNotThrow(() => new RegExp(k.slice(1, k.lastIndexOf('/'))), `${c.id} ${k}`);
    if (c.vendor === 'vmx') assert.ok(c.failure.kind === 'vmfail' || c.failure.kind === 'vmexit', c.id);
    else assert.equal(c.failure.kind, 'vmexit-invalid', c.id);
  }
  // Controls and host state fail with VMfailValid 7/8; guest state with exit 33 (34 for MSR loading).
  for (const c of VMX_ENTRY_CHECKS) {
    if (/§27\.2\.1/.test(c.section)) assert.deepEqual(c.failure, { kind: 'vmfail', error: 7 }, c.id);
    if (/§27\.2\.[234]/.test(c.section)) assert.deepEqual(c.failure, { kind: 'vmfail', error: 8 }, c.id);
    if (/§27\.3\.1\.[1-4]/.test(c.section)) assert.equal(c.failure.kind === 'vmexit' && c.failure.reason, 33, c.id);
  }
  assert.equal(VMX_ENTRY_CHECKS.filter(inManualList).length, VMX_ENTRY_CHECKS.length);
  assert.equal(SVM_VMRUN_CHECKS.filter(inManualList).length, 18);
  assert.deepEqual(VMX_ENTRY_CHECKS.map((c) => c.order), VMX_ENTRY_CHECKS.map((_, i) => i + 1));
});

/** `implements:` markers: 1-based line → expected check ids ([] for `-`). */
function implementsMarkers(text: string): Map<number, string[]> {
  const out = new Map<number, string[]>();
  text.split('\n').forEach((l, i) => {
    const m = /implements:\s*([a-z0-9.,\s-]+?)\s*\*\//.exec(l);
    if (m) out.set(i + 1, m[1].trim() === '-' ? [] : m[1].split(/[\s,]+/).filter(Boolean));
  });
  return out;
}

function statusMarkers(text: string): Array<[string, string]> {
  return [...text.matchAll(/status:\s*([a-z0-9.-]+)\s+([a-z-]+)/g)].map((m) => [m[1], m[2]]);
}

function checkFixture(name: string, vendor: 'vmx' | 'svm', extraExposed?: Set<string>): void {
  const text = read(name);
  const { sites } = extractCheckSites({ vendor, main: [{ path: name, text }] });
  const checks = vendor === 'vmx' ? VMX_ENTRY_CHECKS : SVM_VMRUN_CHECKS;
  const byLine = new Map<number, Set<string>>();
  for (const s of sites) {
    const set = byLine.get(s.line) ?? new Set<string>();
    for (const c of checks) if (siteMatches(c, s)) set.add(c.id);
    byLine.set(s.line, set);
  }
  const markers = implementsMarkers(text);
  for (const [line, ids] of markers) {
    assert.ok(byLine.has(line), `${name}:${line}: expected a check site`);
    assert.deepEqual([...byLine.get(line)!].sort(), [...ids].sort(), `${name}:${line}`);
  }
  for (const [line, set] of byLine) if (!markers.has(line)) assert.equal(set.size, 0, `${name}:${line}: unexpected match ${[...set].join(', ')}`);
  const { results } = matchChecks(checks, sites, { exposed: vendor === 'vmx' ? (extraExposed ?? exposedControls(text)) : undefined });
  for (const [id, status] of statusMarkers(text)) {
    const r = results.find((x) => x.id === id);
    assert.ok(r, id);
    assert.equal(r.status, status, `${id}: ${r.differences.join('; ')} ${r.notes.join('; ')}`);
  }
}

test('VMX fixture: CC() and if-disjunct sites match the checks by fields and bits; verdicts', async () => {
  await initParser();
  checkFixture('vmx-nested.c', 'vmx');
});

test('Linux 5.x-style fixture: `r = -EINVAL` failures, goto roots, a stricter mask that matches nothing', async () => {
  await initParser();
  checkFixture('vmx-5x.c', 'vmx');
  const { sites, roots } = extractCheckSites({ vendor: 'vmx', main: [{ path: 'f.c', text: read('vmx-5x.c') }] });
  assert.deepEqual(roots.find((r) => r.fn === 'nested_vmx_check_guest_state')?.failure, { kind: 'vmexit', reason: 33 });
  assert.deepEqual(sites.find((s) => s.text.includes('revision_id'))?.failure, { kind: 'vmexit', reason: 33, qualification: 4 });
});

test('VMX fixture: failure kinds come from the roots, qualifications and differences are reported', async () => {
  await initParser();
  const text = read('vmx-nested.c');
  const { sites, roots } = extractCheckSites({ vendor: 'vmx', main: [{ path: 'f.c', text }] });
  const byRoot = Object.fromEntries(roots.map((r) => [r.fn, r.failure]));
  assert.deepEqual(byRoot.nested_vmx_check_controls, { kind: 'vmfail', error: 7 });
  assert.deepEqual(byRoot.nested_vmx_check_host_state, { kind: 'vmfail', error: 8 });
  assert.deepEqual(byRoot.nested_vmx_check_guest_state, { kind: 'vmexit', reason: 33 });
  const link = sites.find((s) => s.text.includes('revision_id')) as CheckSite;
  assert.deepEqual(link.failure, { kind: 'vmexit', reason: 33, qualification: 4 });
  // Parameters are replaced by the caller's arguments: one instance per call path.
  const msr = sites.filter((s) => s.fn === 'nested_vmx_check_msr_switch' && s.text.includes('legal_aligned'));
  assert.deepEqual(msr.map((s) => s.fields).sort(), [['vm_entry_msr_load_addr'], ['vm_exit_msr_load_addr']]);
  const { results } = matchChecks(VMX_ENTRY_CHECKS, sites);
  const efer = results.find((r) => r.id === 'vmx.host.efer-reserved')!;
  assert.match(efer.differences.join('\n'), /failure kind: KVM reports VM exit 33 .* the manual VMfailValid\(8\)/);
  assert.match(efer.differences.join('\n'), /order:/);
  assert.match(results.find((r) => r.id === 'vmx.guest.pat')!.differences.join(), /only checked when nested_run_pending/);
  assert.match(results.find((r) => r.id === 'vmx.host.selector-rpl-ti')!.differences.join(), /host_es_selector, host_ds_selector, host_fs_selector, host_gs_selector, host_tr_selector not checked/);
});

test('SVM fixture: cached-vmcb12 checks and VMEXIT_INVALID root', async () => {
  await initParser();
  checkFixture('svm-nested.c', 'svm');
  const { roots } = extractCheckSites({ vendor: 'svm', main: [{ path: 'f.c', text: read('svm-nested.c') }] });
  assert.deepEqual(roots.map((r) => [r.fn, r.failure.kind]), [['nested_svm_check_cached_vmcb12', 'vmexit-invalid']]);
});

test('field coverage: anomalies the model proves, writers outside the sync functions', async () => {
  await initParser();
  const rows = vmxCoverage({
    nested: { path: 'nested.c', text: read('coverage-nested.c') },
    vmcs12h: { path: 'vmcs12.h', text: read('coverage-vmcs12.h') },
    shadowH: { path: 'shadow.h', text: read('coverage-shadow.h') },
  });
  const row = (m: string) => rows.find((r) => r.member === m)!;
  assert.equal(rows.filter((r) => r.inLayout).length, 6);
  assert.deepEqual(row('guest_cs_selector').readRare.map((l) => l.fn), ['prepare_vmcs02_rare']);
  assert.ok(row('guest_cs_selector').verbatim);
  assert.deepEqual(row('guest_cs_selector').syncRare.map((l) => l.fn), ['sync_vmcs02_to_vmcs12_rare']);
  assert.deepEqual(row('guest_rip').readEager.map((l) => l.fn), ['prepare_vmcs02']);
  assert.equal(row('guest_intr_status').shadow, 'RW');
  assert.match(row('guest_rflags').anomalies.join(), /VM exit saves GUEST_RFLAGS .* never writes vmcs12->guest_rflags back/);
  assert.match(row('host_rip').anomalies.join(), /VM exit never writes HOST_RIP/);
  assert.match(row('guest_intr_status').anomalies.join(), /shadowed RW .* only in the rare path \(prepare_vmcs02_rare:/);
  assert.deepEqual(row('guest_ia32_pat').anomalies, []);
  assert.deepEqual(row('guest_ia32_pat').otherWriters.map((l) => l.fn), ['vmx_set_msr']);
  for (const m of ['guest_cs_selector', 'guest_rip']) assert.deepEqual(row(m).anomalies, [], m);
  // Fields outside this layout are not judged.
  assert.deepEqual(row('guest_cr0').anomalies, []);
});

test('runNestedAudit over a fixture tree renders text, markdown and JSON; missing files are reported', async () => {
  await initParser();
  const files: Record<string, string> = { 'vmx/nested.c': read('vmx-nested.c'), 'svm/nested.c': read('svm-nested.c') };
  const report = runNestedAudit('fixture', (p) => files[p]);
  assert.equal(report.errors.length, 0);
  assert.equal(report.vmx!.counts.total, VMX_ENTRY_CHECKS.length);
  assert.ok(report.vmx!.checks.some((c) => c.status === 'implemented'));
  assert.match(auditText(report), /VMX: Intel SDM Vol\.3C §27\.2 \/ §27\.3/);
  assert.match(auditMarkdown(report), /\| \d+ \| `vmx\.exec\.io-bitmaps`/);
  assert.doesNotThrow(() => JSON.stringify(report));
  const empty = runNestedAudit('none', () => undefined);
  assert.equal(empty.vmx, undefined);
  assert.equal(empty.errors.length, 2);
});

test('editor: hover on CC lists the checks, code lens counts them, the panel HTML escapes everything', async () => {
  await initParser();
  const { documentChecks, checkHoverAt, checkLenses } = await import('../../server/src/features/checkSites');
  const { analyzeText } = await import('../../server/src/analysis/document');
  const { renderAuditHtml } = await import('../../client/src/auditRender');
  const text = read('vmx-nested.c');
  const doc = analyzeText(text, 'file:///fixture/vmx/nested.c');
  const dc = documentChecks(doc);
  assert.equal(dc?.vendor, 'vmx');
  const at = text.indexOf('CC(!page_address_valid(vcpu, vmcs12->io_bitmap_a))');
  const h = checkHoverAt(dc, text, at + 1);
  assert.ok(h);
  assert.match(h.markdown, /implements 1 manual check:/);
  assert.match(h.markdown, /vmx\.exec\.io-bitmaps.*VMfailValid\(7\); KVM here: VMfailValid\(7\)/);
  const efer = checkHoverAt(dc, text, text.indexOf('CC(!kvm_valid_efer') + 1)!;
  assert.match(efer.markdown, /vmx\.host\.efer-reserved.*KVM here: VM exit 33 ⚠ different failure/);
  assert.equal(checkHoverAt(dc, text, text.indexOf('page_address_valid')), undefined, 'only on the CC name');
  const lenses = checkLenses(doc, dc);
  const io = lenses.find((l) => l.functionName === 'nested_vmx_check_io_bitmap_controls')!;
  assert.match(io.title, /^implements 1 of \d+ VM-execution control checks$/);
  const html = renderAuditHtml(runNestedAudit('<script>x</script>', (p) => (p === 'vmx/nested.c' ? text : undefined)), 'abc', 'vscode-resource:');
  assert.doesNotMatch(html, /<script>x/);
  assert.match(html, /&lt;script&gt;x/);
  assert.match(html, /class="s-implemented"/);
});
