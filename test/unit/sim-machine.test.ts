// The executable machine (server/src/model/machine): transitions with vectors from the SDM/APM, Bochs and the
// checks kvm-unit-tests makes (MSR bitmaps/MSRPM, PDPTEs on entry/exit, VMWRITE to read-only fields, int_ctl
// write-back, GIF, VMSAVE/VMLOAD, host-state lifetimes, XFD passthrough).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Machine, XFD_INDEX, XFEATURE_XTILEDATA, intCtlMask, intCtlWrittenBack, msrByName, svmMsrIntercepted, vmxMsrIntercepted,
} from '../../server/src/model/machine/index';
import { svmMsrpmPosition, vmxBitmapPosition } from '../../server/src/model/index';

const idx = (name: string): number => msrByName(name)!.index;

test('VMX MSR bitmap: WRMSR exits iff its write bit is set; reads use the read half', () => {
  const m = new Machine({ vendor: 'vmx' });
  m.level = 'L1';
  assert.equal(m.msrExits('write', XFD_INDEX).exit, true, 'KVM starts with IA32_XFD intercepted');
  m.disableMsrInterception(XFD_INDEX, ['write']);
  assert.equal(m.msrExits('write', XFD_INDEX).exit, false, 'write bit clear: no exit');
  assert.equal(m.msrExits('read', XFD_INDEX).exit, true, 'read bit still set');
  // SDM §25.6.9: write-low bitmap at 0x800; 0x1C4 → byte 0x838 bit 4.
  const pos = vmxBitmapPosition(XFD_INDEX)!;
  assert.equal(pos.writeByte, 0x838);
  assert.equal(pos.bit, 4);
  assert.equal(m.msrBitmap01[0x838] & (1 << 4), 0);
  assert.match(m.msrExits('write', XFD_INDEX).why, /byte 0x838 bit 4 = 0/);
});

test('VMX: an MSR outside both bitmap ranges always exits; without "use MSR bitmaps" everything exits', () => {
  const bm = new Uint8Array(4096); // all zero: nothing intercepted
  assert.equal(vmxMsrIntercepted(bm, true, 'write', 0x40000000).exit, true);
  assert.equal(vmxMsrIntercepted(bm, true, 'read', 0xc0010117).exit, true, '0xC0010000 range is SVM-only, not in the VMX bitmap');
  assert.equal(vmxMsrIntercepted(bm, true, 'write', idx('MSR_STAR')).exit, false);
  assert.equal(vmxMsrIntercepted(bm, false, 'write', idx('MSR_STAR')).exit, true);
  const m = new Machine({ vendor: 'vmx' });
  m.level = 'L1';
  assert.equal(m.msrExits('write', idx('MSR_FS_BASE')).exit, false, 'KVM passes FS_BASE through by default');
});

test('SVM MSRPM: write bit of MSR_STAR (0xC0000081) is bit 0x4103, byte 0x820 bit 3', () => {
  const p = svmMsrpmPosition(0xc0000081)!;
  assert.equal(p.writeBit, 0x4103);
  assert.equal(p.readBit, 0x4102);
  assert.equal(p.byte, 0x820);
  const pm = new Uint8Array(8192);
  pm[0x820] = 1 << 3;
  assert.equal(svmMsrIntercepted(pm, true, 'write', 0xc0000081).exit, true);
  assert.equal(svmMsrIntercepted(pm, true, 'read', 0xc0000081).exit, false);
  assert.equal(svmMsrIntercepted(pm, true, 'write', 0x40000000).exit, true, 'outside the three ranges: intercepted');
  assert.equal(svmMsrIntercepted(pm, false, 'write', 0x40000000).exit, false, 'MSR_PROT clear: nothing intercepted');
  const m = new Machine({ vendor: 'svm' });
  m.level = 'L1';
  assert.equal(m.msrExits('write', 0xc0000081).exit, false, 'KVM passes STAR through (VMSAVE state)');
  m.setMsrIntercept(0xc0000081, ['write'], true);
  assert.equal(m.msrpm01[0x820] & (1 << 3), 1 << 3);
  assert.equal(m.msrExits('write', 0xc0000081).exit, true);
});

test('nested VMX: L2 MSR accesses use the merged bitmap (L0 | L1)', () => {
  const m = new Machine({ vendor: 'vmx', nested: true });
  m.level = 'L2';
  m.disableMsrInterception(XFD_INDEX, ['write']);
  assert.equal(m.msrExits('write', XFD_INDEX).exit, true, 'L1 still intercepts it for L2');
  m.setMsrIntercept(XFD_INDEX, ['write'], false, true);
  assert.equal(m.msrExits('write', XFD_INDEX).exit, false);
});

test('PDPTRs: undefined after a VM exit with EPT off or without PAE paging; saved with EPT and PAE', () => {
  for (const [ept, paging, defined] of [[false, 'pae', false], [true, '4-level', false], [true, '32-bit', false], [true, 'pae', true]] as const) {
    const m = new Machine({ vendor: 'vmx', ept, paging });
    m.vmxEntry('L1');
    m.vmxExit(32);
    const c = m.get('vmcs01.GUEST_PDPTR0');
    assert.equal(c.status === 'value', defined, `ept=${ept} paging=${paging}`);
    if (!defined) assert.match(c.why ?? '', ept ? /not in PAE paging/ : /EPT off/);
  }
});

test('VM entry loads PDPTEs from the VMCS iff EPT and PAE paging; an undefined field is an error', () => {
  const m = new Machine({ vendor: 'vmx', ept: true, paging: 'pae', nested: true });
  m.set('vmcs02.GUEST_PDPTR1', { status: 'undefined', why: 'junk' });
  m.begin(1);
  m.vmxEntry('L2');
  assert.equal(m.get('hw.PDPTE0').desc, 'loaded from vmcs02.GUEST_PDPTR0');
  assert.ok(m.findings.some((f) => f.rule === 'pdptr-undefined-on-entry'));
  const n = new Machine({ vendor: 'vmx', ept: false, paging: 'pae' });
  n.vmxEntry('L1');
  assert.match(n.get('hw.PDPTE0').desc ?? '', /guest memory/);
});

test('VMWRITE to EXIT_QUALIFICATION fails with error 13 unless VMWRITE-any-field; unsupported → 12', () => {
  const m = new Machine({ vendor: 'vmx' });
  assert.equal(m.vmwrite('vmcs12', 'EXIT_QUALIFICATION', { status: 'value', n: 1n }), 13);
  assert.equal(m.get('vmcs12.VM_INSTRUCTION_ERROR').n, 13n);
  assert.equal(m.vmwrite('vmcs12', 'NO_SUCH_FIELD', { status: 'value', n: 1n }), 12);
  const any = new Machine({ vendor: 'vmx', vmwriteAnyField: true });
  assert.equal(any.vmwrite('vmcs12', 'EXIT_QUALIFICATION', { status: 'value', n: 1n }), undefined);
  assert.equal(any.get('vmcs12.EXIT_QUALIFICATION').n, 1n);
  assert.equal(m.vmwrite('vmcs12', 'GUEST_RIP', { status: 'value', n: 0x1000n }), undefined);
});

test('VM exit: exit-information fields undefined (or cleared) for reasons that do not define them', () => {
  const m = new Machine({ vendor: 'vmx' });
  m.vmxEntry('L1');
  m.vmxExit(10); // CPUID
  // SDM Vol.3C §28.2.1: the exit qualification is cleared by exits that do not define it — a value (0), not undefined.
  const q = m.get('vmcs01.EXIT_QUALIFICATION');
  assert.equal(q.status, 'value');
  assert.equal(q.n, 0n);
  assert.equal(q.cleared, true);
  assert.equal(m.get('vmcs01.GUEST_PHYSICAL_ADDRESS').status, 'undefined');
  assert.equal(m.get('vmcs01.VM_EXIT_INSTRUCTION_LEN').status, 'value');
  assert.equal(m.get('vmcs01.VM_EXIT_REASON').n, 10n);
  assert.equal(m.get('hw.TR.limit').n, 0x67n);
  assert.equal(m.get('hw.GDTR.limit').n, 0xffffn);
});

test('SVM: V_GIF written back only with vGIF; V_IRQ/V_TPR always; GIF cleared by #VMEXIT', () => {
  assert.equal(intCtlWrittenBack('V_GIF_MASK', 0n), false);
  assert.equal(intCtlWrittenBack('V_GIF_MASK', intCtlMask('V_GIF_ENABLE_MASK')), true);
  assert.equal(intCtlWrittenBack('V_IRQ_MASK', 0n), true);
  assert.equal(intCtlWrittenBack('V_TPR_MASK', 0n), true);
  assert.equal(intCtlWrittenBack('V_INTR_MASKING_MASK', ~0n), false);
  const m = new Machine({ vendor: 'svm', nested: true, vgif: true });
  m.svmVmrun('L2');
  assert.equal(m.get('hw.GIF').n, 1n);
  assert.ok((m.get('vmcb02.int_ctl').n ?? 0n) & intCtlMask('V_GIF_ENABLE_MASK'), 'nested vGIF: V_GIF_ENABLE from vmcb12');
  m.clgi();
  assert.equal((m.get('vmcb02.int_ctl').n ?? 0n) & intCtlMask('V_GIF_MASK'), 0n, 'CLGI with vGIF clears V_GIF without an exit');
  m.svmVmexit(0x7c);
  assert.equal(m.get('hw.GIF').n, 0n);
  assert.equal(m.get('vmcb02.exit_code').n, 0x7cn);
  const noVgif = new Machine({ vendor: 'svm', nested: true, vgif: false });
  noVgif.svmVmrun('L2');
  assert.equal(noVgif.intCtlOwnerAtExit('V_GIF_MASK'), 'L0', 'without nested vGIF V_GIF is L1\'s GIF, owned by L0');
});

test('nested_vmcb02_prepare_control: V_INTR_MASKING from vmcb01, V_TPR/V_IRQ from vmcb12 (CVE-2021-3653 split)', () => {
  const m = new Machine({ vendor: 'svm', nested: true, vIntrMasking: false, vIrqPending: true });
  m.nestedVmcb02PrepareControl();
  const v = m.get('vmcb02.int_ctl').n ?? 0n;
  assert.ok(v & intCtlMask('V_INTR_MASKING_MASK'), 'L0 always runs L2 with V_INTR_MASKING');
  assert.ok(v & intCtlMask('V_IRQ_MASK'), 'V_IRQ from vmcb12');
  assert.equal(m.intCtlOwnerAtExit('V_TPR_MASK'), 'L0');
});

test('VMSAVE/VMLOAD transfer STAR/LSTAR/... and FS/GS/TR/LDTR', () => {
  const m = new Machine({ vendor: 'svm' });
  m.set('hw.STAR', { status: 'value', n: 0x23001000n });
  m.vmsave('host_save_area');
  assert.equal(m.get('host_save_area.STAR').n, 0x23001000n);
  m.set('hw.STAR', { status: 'value', n: 0n });
  m.vmload('host_save_area');
  assert.equal(m.get('hw.STAR').n, 0x23001000n);
  assert.equal(m.get('host_save_area.TSC_AUX').status, 'value', 'untouched (not VMSAVE state)');
  assert.equal(m.has('host_save_area.TSC_AUX'), false);
});

test('host state: per-CPU fields go stale on migration and the VM exit reports them; constant fields do not', () => {
  const m = new Machine({ vendor: 'vmx' });
  m.writeHostField('vmcs01', 'HOST_TR_BASE', { status: 'value', desc: 'TSS of CPU 0' });
  m.writeHostField('vmcs01', 'HOST_IDTR_BASE', { status: 'value', desc: 'host IDT' });
  m.begin(1);
  m.migrate(1);
  assert.equal(m.get('vmcs01.HOST_TR_BASE').status, 'stale');
  assert.equal(m.get('vmcs01.HOST_IDTR_BASE').status, 'value');
  m.vmxEntry('L1');
  m.begin(2);
  m.vmxExit(12);
  const f = m.findings.filter((x) => x.rule === 'host-state-stale');
  assert.deepEqual(f.map((x) => x.subject), ['HOST_TR_BASE']);
});

test('XFD: fpstate too small → reallocation → completion; passthrough makes the software copy stale until re-synced', () => {
  const m = new Machine({ vendor: 'vmx', amx: true });
  m.level = 'L0';
  assert.deepEqual(m.emulateWrmsr(XFD_INDEX, 0n), { fpstate: 'too-small' });
  m.reallocFpstate();
  assert.equal(m.completeWrmsr(), true);
  assert.equal(m.get('host.fpstate.xfd').n, 0n);
  assert.equal(m.get('hw.IA32_XFD').n, 0n);
  m.disableMsrInterception(XFD_INDEX, ['write']);
  assert.equal(m.findings.length, 0);
  m.vmxEntry('L1');
  m.begin(5);
  m.guestMsrDirect('write', XFD_INDEX, XFEATURE_XTILEDATA);
  assert.equal(m.get('hw.IA32_XFD').n, XFEATURE_XTILEDATA);
  assert.equal(m.get('host.fpstate.xfd').status, 'stale');
  assert.equal(m.get('host.percpu.xfd_state').status, 'stale');
  m.vmxExit(1);
  m.hostUsesFpstate('exit to user space');
  assert.ok(m.findings.some((x) => x.rule === 'msr-passthrough-sync'));
  m.xfdSync();
  assert.equal(m.get('host.fpstate.xfd').n, XFEATURE_XTILEDATA);
  assert.equal(m.get('host.fpstate.xfd').status, 'value');
});

test('XFD: passing writes through before the fpstate is reallocated is the seed 004 option-1 hazard', () => {
  const m = new Machine({ vendor: 'vmx', amx: true });
  m.disableMsrInterception(XFD_INDEX, ['read', 'write']);
  assert.ok(m.findings.some((x) => x.rule === 'xfd-passthrough-small-fpstate'));
});
