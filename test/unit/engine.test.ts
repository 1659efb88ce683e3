// The reasoning engine (analysis/engine) through the simulator: one fixture per simulator defect of issue 10
// (test/fixtures/engine), plus the engine's own pieces (implications, minimal conditions, control switches).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initParser } from '../../server/src/analysis/parser';
import { analyzeText } from '../../server/src/analysis/document';
import { consistentAssignment } from '../../server/src/analysis/engine/facts';
import { branchArms } from '../../server/src/analysis/engine/paths';
import { minimalCondition } from '../../server/src/analysis/engine/values';
import { entryControl, switchOfAssignment, switchOfCall } from '../../server/src/analysis/engine/control';
import { not, pred } from '../../server/src/analysis/conditions';
import { simulateC, simulateFlowText } from '../../server/src/features/simulate/index';
import type { SimulationResult } from '../../server/src/protocol/simulation';
import { FIXTURES } from '../paths';

const read = (f: string): string => readFileSync(join(FIXTURES, 'engine', f), 'utf8');

async function sim(file: string, fn: string, config?: ReadonlyMap<string, readonly (boolean | string)[]>): Promise<SimulationResult> {
  await initParser();
  return simulateC(analyzeText(read(file), `file:///engine/${file}`), { functionName: fn, config });
}

const stepsAt = (r: SimulationResult, re: RegExp) => r.steps.filter((s) => re.test(s.op));

test('engine: model implications prune infeasible paths (nested EPT needs EPT; PAE paging is not long mode)', () => {
  assert.equal(consistentAssignment(new Map([['nested_ept', true], ['enable_ept', false]])), false);
  assert.equal(consistentAssignment(new Map([['nested_ept', true], ['enable_ept', true]])), true);
  assert.equal(consistentAssignment(new Map([['pae_paging', true], ['long_mode', true]])), false);
  assert.equal(consistentAssignment(new Map([['nested_vgif', true], ['vgif', false]])), false);
  // Under !enable_ept, `if (nested_cpu_has_ept(vmcs12))` has no feasible then-arm.
  const arms = branchArms(not(pred('enable_ept')), pred('nested_ept'), new Map());
  assert.equal(arms.then, undefined);
  assert.ok(arms.else);
});

test('engine: minimal condition of a verdict over a sweep', () => {
  const doms = { enable_ept: [false, true], paging: ['none', '32-bit', 'pae', '4-level'] } as const;
  const cfgs = [];
  const hit = [];
  for (const e of doms.enable_ept) for (const p of doms.paging) {
    cfgs.push(new Map<string, boolean | string>([['enable_ept', e], ['paging', p]]));
    hit.push(e && p !== 'pae');
  }
  assert.equal(minimalCondition(cfgs, hit, ['enable_ept', 'paging'], doms), 'enable_ept ∧ paging≠pae');
  assert.equal(minimalCondition(cfgs, cfgs.map(() => true), ['enable_ept', 'paging'], doms), '');
});

test('engine: control-structure switches and the caller context', async () => {
  assert.deepEqual(switchOfCall('vmx_switch_vmcs', ['vcpu', '&vmx->nested.vmcs02']), { vmcs: 'vmcs02' });
  assert.deepEqual(switchOfCall('svm_switch_vmcb', ['svm', '&svm->vmcb01']), { vmcb: 'vmcb01' });
  assert.deepEqual(switchOfAssignment('vmx->loaded_vmcs', '&vmx->nested.vmcs02'), { pendingVmcs: 'vmcs02' });
  assert.deepEqual(switchOfAssignment('svm->vmcb', 'svm->vmcb01.ptr'), { vmcb: 'vmcb01' });
  await initParser();
  const doc = analyzeText(read('nested_entry.c'), 'file:///engine/nested_entry.c');
  const ec = entryControl(doc, 'prepare_vmcs02_rare');
  assert.equal(ec?.vmcs, 'vmcs02', 'the error-path switch back to vmcs01 does not reach the call');
  assert.match(ec!.via, /nested_vmx_enter_non_root_mode/);
});

test('defect 1: the arms of an if/else run on separate paths; a contradicting arm never runs', async () => {
  const r = await sim('if_else_arms.c', 'sync_activity_state');
  const hlt = stepsAt(r, /GUEST_ACTIVITY_HLT/);
  const act = stepsAt(r, /GUEST_ACTIVITY_ACTIVE/);
  assert.equal(hlt.length, 1);
  assert.equal(act.length, 1);
  assert.equal(hlt[0].path, '?(vcpu->arch.mp_state == KVM_MP_STATE_HALTED)');
  assert.equal(act[0].path, '!?(vcpu->arch.mp_state == KVM_MP_STATE_HALTED)');
  // The re-test inside the then-arm contradicts its path: never run, so no PDPTR read at all.
  assert.equal(stepsAt(r, /guest_pdptr0/).length, 0);
  assert.ok(!r.configurations!.some((c) => c.flows.some((f) => f.startsWith('vmcs12.guest_pdptr0'))));
  // After the join the code runs once, on the unconditional path again.
  const after = stepsAt(r, /guest_sysenter_cs/);
  assert.equal(after.length, 1);
  assert.equal(after[0].path, undefined, 'the join is back on the unconditional path');
});

test('defect 1 (SVM): the vNMI block runs one arm per configuration', async () => {
  const r = await sim('if_else_arms.c', 'nested_svm_vmexit_vnmi');
  for (const c of r.configurations!) {
    const blocking = c.flows.some((f) => f.startsWith('vmcb01.int_ctl') && /V_NMI_BLOCKING|vmcb02/.test(f));
    const both = c.flows.filter((f) => f.startsWith('vmcb01.int_ctl')).length;
    assert.equal(both, c.predicates.nested_vnmi === true ? 2 : 1, JSON.stringify(c));
    void blocking;
  }
  assert.ok(r.configurations!.some((c) => c.predicates.nested_vnmi === true));
});

test('defect 2: the eVMCS-only rare sync and the shadow-VMCS copy run only under their configuration', async () => {
  const r = await sim('evmcs_rare.c', 'sync_vmcs02_to_vmcs12');
  const vars = Object.keys(r.configurations![0].predicates);
  assert.ok(vars.includes('evmcs') && vars.includes('shadow_vmcs'), vars.join(','));
  for (const c of r.configurations!) {
    assert.equal(c.flows.some((f) => f.startsWith('vmcs12.guest_es_selector')), c.predicates.evmcs === true, JSON.stringify(c.predicates));
    assert.equal(c.flows.some((f) => f.startsWith('vmcs12.guest_ds_selector')), c.predicates.shadow_vmcs === true, JSON.stringify(c.predicates));
  }
  // The recorded trace (default configuration: no eVMCS) does not inline the rare sync.
  assert.equal(stepsAt(r, /guest_es_selector/).length, 0);
  // --config picks the eVMCS configuration.
  const e = await sim('evmcs_rare.c', 'sync_vmcs02_to_vmcs12', new Map([['evmcs', [true]]]));
  assert.ok(e.configurations!.every((c) => c.predicates.evmcs === true));
  assert.equal(stepsAt(e, /guest_es_selector/).length, 1);
});

test('defects 3 and 4: prepare_vmcs02_rare is VMX and writes vmcs02 (the caller switched to it); the exit path writes vmcs01 after switching back', async () => {
  const r = await sim('nested_entry.c', 'prepare_vmcs02_rare');
  assert.match(r.summary[0], /; VMX;/);
  assert.ok(!r.steps.some((s) => /VMRUN|vmcb/.test(s.op)), 'no SVM steps');
  const writes = r.steps.filter((s) => s.actor === 'KVM' && /vmcs_write/.test(s.op));
  assert.ok(writes.length >= 2);
  for (const w of writes) {
    assert.equal(w.control, 'vmcs02');
    assert.ok(w.changes.every((c) => c.location.startsWith('vmcs02.')), JSON.stringify(w.changes));
  }
  const sw = r.steps.find((s) => /current VMCS is vmcs02/.test(s.op));
  assert.match(sw?.explanation ?? '', /nested_vmx_enter_non_root_mode/);
  const x = await sim('nested_entry.c', 'nested_vmx_vmexit');
  const before = stepsAt(x, /VM_EXIT_MSR_LOAD_COUNT/)[0];
  const after = stepsAt(x, /VM_ENTRY_MSR_LOAD_COUNT/)[0];
  assert.equal(before.changes[0].location, 'vmcs02.VM_EXIT_MSR_LOAD_COUNT');
  assert.equal(after.changes[0].location, 'vmcs01.VM_ENTRY_MSR_LOAD_COUNT');
});

test('defect 5: a v5.2-era svm.c nested_svm_vmexit gets no later-release helper and its whole-int_ctl copy is flagged', async () => {
  const r = await sim('svm_v52_vmexit.c', 'nested_svm_vmexit');
  assert.ok(!r.steps.some((s) => /nested_sync_control_from_vmcb02/.test(s.op)), r.steps.map((s) => s.op).join('\n'));
  const copy = r.findings.filter((f) => f.line === 13 && f.rule === 'int-ctl-not-written-back');
  assert.ok(copy.some((f) => /V_INTR_MASKING/.test(f.message)), r.findings.map((f) => `${f.line} ${f.rule}`).join('\n'));
  assert.ok(!r.summary.some((s) => /no undefined or wrong values/.test(s)));
  // The `&=` of the vmcb12 value keeps what it was copied from: no spurious "write-back lost" at line 16.
  assert.ok(!r.findings.some((f) => f.rule === 'int-ctl-writeback-lost'), r.findings.map((f) => `${f.line} ${f.rule}`).join('\n'));
});

test('defects 6 and 7: values L1 writes with VMWRITE are kept; the exit qualification a CPUID exit clears is 0, not undefined', () => {
  const r = simulateFlowText(read('l1_vmwrite.kvmflow'));
  const rd = r.steps.find((s) => /^VMREAD GUEST_CR3/.test(s.op));
  assert.match(rd?.explanation ?? '', /0x1234000/);
  const q = r.steps.find((s) => /VMREAD EXIT_QUALIFICATION/.test(s.op));
  assert.match(q?.explanation ?? '', /^0x0 \(cleared by the exit/);
  assert.ok(!r.findings.some((f) => f.rule === 'vmread-undefined' && /EXIT_QUALIFICATION/.test(f.message)));
  // GUEST_PHYSICAL_ADDRESS stays undefined for CPUID (SDM: undefined for all exits but EPT violations/misconfigs).
  assert.ok(r.findings.some((f) => f.rule === 'vmread-undefined' && /GUEST_PHYSICAL_ADDRESS/.test(f.message)));
});

test('defect 8: the vCPU-migration example shows the stale HOST_TR_BASE', () => {
  const text = readFileSync(join(FIXTURES, '..', '..', 'examples', 'flows', 'vcpu-migration-host-state.kvmflow'), 'utf8');
  const r = simulateFlowText(text);
  const w = r.steps.find((s) => /VMWRITE HOST_TR_BASE/.test(s.op));
  assert.match(w?.changes[0]?.value ?? '', /^0xfffffe0000003000/);
  assert.ok(r.findings.some((f) => f.rule === 'host-state-stale' && /HOST_TR_BASE/.test(f.message)), r.findings.map((f) => f.message).join('\n'));
  const rd = r.steps.find((s) => /VMREAD HOST_TR_BASE/.test(s.op));
  assert.match(rd?.explanation ?? '', /^stale/);
});
