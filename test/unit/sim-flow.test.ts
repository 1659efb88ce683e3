// Written flows (seed 004 notation): parsing, the model's own transition decisions, checks of the written ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { looksLikeFlow, simulateFlowText, stripMarkers } from '../../server/src/features/simulate/index';
import type { SimulationResult } from '../../server/src/protocol/simulation';
import { FIXTURES } from '../paths';

const SEED004 = readFileSync(join(FIXTURES, 'sim', 'seed004.kvmflow'), 'utf8');

function guestSteps(r: SimulationResult): Array<{ line: number; vmExit: boolean | undefined }> {
  return r.steps.filter((s) => s.simulated && s.vmExit !== undefined).map((s) => ({ line: s.line, vmExit: s.vmExit }));
}

test('seed 004 flow: WRMSR(IA32_XFD) exits three times while intercepted, then passes through', () => {
  const r = simulateFlowText(SEED004);
  assert.deepEqual(guestSteps(r), [
    { line: 2, vmExit: true }, { line: 12, vmExit: true }, { line: 17, vmExit: true },
    { line: 22, vmExit: false }, { line: 23, vmExit: false }, { line: 24, vmExit: false },
  ]);
  // Every written transition agrees with the model: no missing/unexpected traps.
  assert.deepEqual(r.findings.filter((f) => f.rule.startsWith('flow-')), []);
  // The emulation reasons like the text: too small the first time, sufficient the second.
  const emu = r.steps.filter((s) => /^emulate WRMSR/.test(s.op));
  assert.equal(emu.length, 3);
  assert.match(emu[0].explanation ?? '', /no room for XTILEDATA/);
  assert.match(emu[2].explanation ?? '', /fpstate can hold/);
  // Interception disabled on line 20; the bitmap change is visible.
  const dis = r.steps.find((s) => s.line === 20)!;
  assert.ok(dis.changes.some((c) => c.location === 'msr_bitmap.MSR_IA32_XFD.write' && c.value === 'passthrough'));
  // Hardware XFD out of sync with the host software copy from the first passthrough write on.
  const first = r.steps.find((s) => s.line === 22)!;
  assert.ok(first.changes.some((c) => c.location === 'host.fpstate.xfd' && c.status === 'stale'));
  assert.ok(first.changes.some((c) => c.location === 'host.percpu.xfd_state' && c.status === 'stale'));
  const sync = r.findings.filter((f) => f.rule === 'msr-passthrough-sync');
  assert.equal(sync.length, 1);
  assert.equal(sync[0].line, 20);
  assert.equal(sync[0].severity, 'warning');
  // Levels follow the transitions.
  assert.equal(r.steps.find((s) => s.line === 7)!.level, 'HU');
  assert.equal(r.steps.find((s) => s.line === 9)!.level, 'L0');
  assert.equal(r.steps.find((s) => s.line === 11)!.level, 'L1');
  assert.ok(!r.steps.find((s) => s.line === 11)!.simulated, '"do something" is narration');
  assert.match(r.markdown, /\| # \| line \|/);
});

test('seed 004 flow with a host re-sync after the next exit: no msr-passthrough-sync', () => {
  const text = SEED004.replace('...', '--trap to host--\n(HK) fpu_sync_guest_vmexit_xfd_state()\n--enter guest--');
  const r = simulateFlowText(text);
  assert.deepEqual(r.findings.filter((f) => f.rule === 'msr-passthrough-sync'), []);
  // The trap after a passthrough WRMSR is flagged: the model says it does not exit.
  const unexpected = r.findings.filter((f) => f.rule === 'flow-unexpected-trap');
  assert.equal(unexpected.length, 1);
  assert.equal(unexpected[0].line, 25);
});

test('a missing trap after an intercepted WRMSR is flagged on the WRMSR line', () => {
  const r = simulateFlowText('(G) WRMSR(IA32_XFD) which enables AMX\n(G) WRMSR(IA32_XFD) which disables AMX\n--trap to host--\n(HK) Emulate WRMSR\n');
  const miss = r.findings.filter((f) => f.rule === 'flow-missing-trap');
  assert.equal(miss.length, 1);
  assert.equal(miss[0].line, 1);
  assert.ok(r.steps.some((s) => /inserted by the model/.test(s.op)));
});

test('a flow quoted in a mail or a C comment is recognised and simulated with its document lines', () => {
  const mail = SEED004.split('\n').map((l) => `> ${l}`).join('\n');
  assert.ok(looksLikeFlow(mail));
  const comment = `/*\n${SEED004.split('\n').map((l) => ` * ${l}`).join('\n')}\n */`;
  assert.ok(looksLikeFlow(comment));
  assert.equal(stripMarkers(' * (G) WRMSR(IA32_XFD)'), '(G) WRMSR(IA32_XFD)');
  assert.equal(stripMarkers('> > --trap to host--'), '--trap to host--');
  const r = simulateFlowText(comment, { lineOffset: 100 });
  assert.deepEqual(guestSteps(r).map((s) => s.vmExit), [true, true, true, false, false, false]);
  assert.equal(guestSteps(r)[0].line, 103);
  assert.equal(r.findings.find((f) => f.rule === 'msr-passthrough-sync')?.line, 121);
  assert.ok(!looksLikeFlow('static int f(void)\n{\n\treturn 0;\n}\n'));
  assert.ok(!looksLikeFlow('Plain prose about (G) once.'));
});

test('malformed flows give positioned findings, never an exception', () => {
  for (const text of ['', '\n\n', '(XX) what\n--fly to the moon--\n(G)\n', '# config: vendor=arm ept=maybe\n(G) WRMSR(NO_SUCH_MSR)\n', '-----\n(HK)(HU)\n)))(((\n']) {
    const r = simulateFlowText(text);
    assert.equal(r.kind, 'flow');
    for (const f of r.findings) assert.ok(f.line >= 1, `positioned: ${f.message}`);
  }
  const r = simulateFlowText('(XX) what\n--fly to the moon--\n(G) WRMSR(IA32_XFD)\n');
  assert.ok(r.findings.some((f) => f.rule === 'flow-syntax' && f.line === 1));
  assert.ok(r.findings.some((f) => f.rule === 'flow-syntax' && f.line === 2));
  const cfg = simulateFlowText('# config: vendor=arm\n(G) do something\n(G) more\n');
  assert.ok(cfg.findings.some((f) => f.rule === 'flow-config' && f.line === 1));
});

test('config header: SVM passes STAR through; CR4.PAE write exits; VMWRITE to an exit-information field fails', () => {
  const svm = simulateFlowText('# config: vendor=svm\n(G) WRMSR(MSR_STAR, 0x1)\n(G) WRMSR(IA32_XFD)\n--trap to host--\n');
  assert.deepEqual(guestSteps(svm).map((s) => s.vmExit), [false, true]);
  assert.match(svm.steps[0].explanation ?? '', /MSRPM/);
  const cr = simulateFlowText('# config: paging=32-bit\n(G) set CR4.PAE\n--trap to host--\n(HK) handle CR access\n');
  assert.deepEqual(guestSteps(cr).map((s) => s.vmExit), [true]);
  assert.deepEqual(cr.findings.filter((f) => f.severity === 'warning'), []);
  const vw = simulateFlowText('# config: nested=on\n(L1) VMWRITE EXIT_QUALIFICATION, 0x5\n(L1) VMREAD GUEST_RIP\n');
  assert.ok(vw.findings.some((f) => f.rule === 'vmwrite-fails' && /error 13/.test(f.message)));
  const any = simulateFlowText('# config: nested=on vmwrite_any_field=on\n(L1) VMWRITE EXIT_QUALIFICATION, 0x5\n(L1) VMREAD GUEST_RIP\n');
  assert.ok(!any.findings.some((f) => f.rule === 'vmwrite-fails'));
  // A VMREAD step cites VMREAD (and, for L1's, the exit KVM emulates), not VMWRITE.
  const l1Read = vw.steps.find((s) => /VMREAD/.test(s.op) && s.actor === 'L1');
  assert.match(l1Read?.source ?? '', /VMREAD/);
  assert.doesNotMatch(l1Read?.source ?? '', /VMWRITE/);
  const hk = simulateFlowText('(HK) VMWRITE GUEST_RIP, 0x1000\n(HK) VMREAD GUEST_RIP\n');
  const hkRead = hk.steps.find((s) => /VMREAD/.test(s.op));
  assert.match(hkRead?.source ?? '', /VMREAD/);
  assert.doesNotMatch(hkRead?.source ?? '', /VMWRITE/);
});

test('seed 004 option 1: passing XFD through before the reallocation is flagged', () => {
  const r = simulateFlowText('(G) WRMSR(IA32_XFD) which enables AMX\n--trap to host--\n(HK) Emulate WRMSR and find fpstate size too small\n(HK) Disable WRMSR interception for IA32_XFD\n--exit to userspace--\n(HU) reallocation fails\n');
  assert.ok(r.findings.some((f) => f.rule === 'xfd-passthrough-small-fpstate' && f.line === 4));
});

test('migration in a flow makes per-CPU host state stale', () => {
  const r = simulateFlowText('(G) HLT\n--trap to host--\n(HK) vmx_vcpu_load on CPU 0\n(HK) vCPU migrates to CPU 1\n--enter guest--\n(G) HLT\n--trap to host--\n');
  const stale = r.findings.filter((f) => f.rule === 'host-state-stale');
  assert.ok(stale.length >= 1);
  assert.equal(stale[0].line, 7);
  assert.deepEqual(r.findings.filter((f) => f.rule.startsWith('flow-')), []);
});
