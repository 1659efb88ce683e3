import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  isPaePaging, pdptrsLoadedOnEntry, pdptrsDefinedAfterExit, pdptrsReadFromGuestMemoryOnEntry, isPdptrField, exitInfoFieldDefined,
  exitInfoValidity, vmwriteAllowed, vmwriteError, intCtlWrittenBack, intCtlWritebackMask, vmxMsrIntercepted, svmMsrIntercepted,
  guestFieldLoadedOnEntry, guestFieldSavedOnExit, hostFieldLoadedOnExit, hostLifetime, RULES, VMX_CONTROL_BY_NAME,
  vmsaveCovers, vmrunLoadsGuest, vmrunSavesHost, findMsr,
} from '../../server/src/model/index';

const bools = [false, true];

test('PDPTE rules: full truth tables', () => {
  for (const ept of bools) for (const pg of bools) for (const pae of bools) for (const ia32eGuest of bools) {
    const pae_paging = pg && pae && !ia32eGuest;
    const cfg = { ept, pg, pae, ia32eGuest };
    assert.equal(isPaePaging(cfg), pae_paging);
    assert.equal(pdptrsLoadedOnEntry(cfg), ept && pae_paging, JSON.stringify(cfg));
    assert.equal(pdptrsDefinedAfterExit(cfg), ept && pae_paging, JSON.stringify(cfg));
    assert.equal(pdptrsReadFromGuestMemoryOnEntry(cfg), !ept && pae_paging, JSON.stringify(cfg));
  }
});

test('isPdptrField', () => {
  for (const n of ['GUEST_PDPTR0', 'GUEST_PDPTR3', 'GUEST_PDPTR1_HIGH', 'guest_pdptr2']) assert.ok(isPdptrField(n), n);
  for (const n of ['GUEST_CR3', 'GUEST_PDPTR4', 'HOST_CR3', 'pdptr0']) assert.ok(!isPdptrField(n), n);
});

test('exitInfoFieldDefined', () => {
  assert.equal(exitInfoFieldDefined('EXIT_QUALIFICATION', 28), true);
  // Issue 13: other exits clear the exit qualification (defined, value 0) — not undefined.
  assert.equal(exitInfoFieldDefined('EXIT_QUALIFICATION', 10), true);
  assert.equal(exitInfoValidity('EXIT_QUALIFICATION', 10)?.status, 'cleared');
  assert.equal(exitInfoValidity('EXIT_QUALIFICATION', 49)?.status, 'cleared');
  assert.equal(exitInfoFieldDefined('vmcs12->exit_qualification', 48), true);
  assert.equal(exitInfoFieldDefined(0x6400, 30), true);
  assert.equal(exitInfoFieldDefined('GUEST_PHYSICAL_ADDRESS', 48), true);
  assert.equal(exitInfoFieldDefined('GUEST_PHYSICAL_ADDRESS', 49), true);
  assert.equal(exitInfoFieldDefined('GUEST_PHYSICAL_ADDRESS', 28), false);
  assert.equal(exitInfoFieldDefined('GUEST_PHYSICAL_ADDRESS_HIGH', 48), true);
  assert.equal(exitInfoFieldDefined('GUEST_LINEAR_ADDRESS', 10), false);
  assert.equal(exitInfoFieldDefined('VM_EXIT_INTR_INFO', 0), true);
  assert.equal(exitInfoFieldDefined('VM_EXIT_INTR_INFO', 10), false);
  assert.equal(exitInfoValidity('VM_EXIT_INTR_INFO', 10)?.validBitAlwaysWritten, true);
  assert.equal(exitInfoValidity('VM_EXIT_INTR_INFO', 1)?.defined, 'conditional');
  assert.equal(exitInfoFieldDefined('VM_EXIT_INSTRUCTION_LEN', 10), true);
  assert.equal(exitInfoFieldDefined('VM_EXIT_INSTRUCTION_LEN', 52), false);
  assert.equal(exitInfoFieldDefined('VMX_INSTRUCTION_INFO', 23), true);
  assert.equal(exitInfoFieldDefined('VMX_INSTRUCTION_INFO', 10), false);
  assert.equal(exitInfoFieldDefined('IDT_VECTORING_INFO_FIELD', 48), true);
  assert.equal(exitInfoFieldDefined('VM_EXIT_REASON', 10), true);
  assert.equal(exitInfoFieldDefined('VM_EXIT_REASON', 0x80000021), true);
  assert.equal(exitInfoFieldDefined('EXIT_QUALIFICATION', 0x80000021), true);
  assert.equal(exitInfoFieldDefined('GUEST_RIP', 10), undefined);
  assert.equal(exitInfoFieldDefined('NO_SUCH_FIELD', 10), undefined);
});

test('vmwriteAllowed / vmwriteError', () => {
  assert.equal(vmwriteAllowed('GUEST_RIP', false), true);
  assert.equal(vmwriteAllowed('EXIT_QUALIFICATION', false), false);
  assert.equal(vmwriteAllowed('EXIT_QUALIFICATION', true), true);
  assert.equal(vmwriteAllowed(0x4402, false), false);
  assert.equal(vmwriteError('VM_EXIT_REASON', false), 13);
  assert.equal(vmwriteError(0x1000, true), 12); // bit 12 set: invalid encoding
  assert.equal(vmwriteError('NOT_A_FIELD', true), 12);
  assert.equal(vmwriteAllowed({ encoding: 0x6c00 }, false), true);
});

test('intCtlWrittenBack truth table', () => {
  for (const vgif of bools) for (const vnmi of bools) {
    const cfg = { vgif, vnmi };
    assert.equal(intCtlWrittenBack('V_TPR_MASK', cfg), true);
    assert.equal(intCtlWrittenBack('V_IRQ_MASK', cfg), true);
    assert.equal(intCtlWrittenBack('V_IRQ', cfg), true);
    assert.equal(intCtlWrittenBack('V_GIF_MASK', cfg), vgif);
    assert.equal(intCtlWrittenBack('V_NMI_PENDING_MASK', cfg), vnmi);
    assert.equal(intCtlWrittenBack('V_NMI_BLOCKING_MASK', cfg), vnmi);
    for (const n of ['V_INTR_MASKING_MASK', 'V_IGN_TPR_MASK', 'V_INTR_PRIO_MASK', 'V_GIF_ENABLE_MASK', 'V_NMI_ENABLE_MASK', 'AVIC_ENABLE_MASK', 'X2APIC_MODE_MASK', 'BOGUS']) {
      assert.equal(intCtlWrittenBack(n, cfg), false, n);
    }
    const mask = intCtlWritebackMask(cfg);
    assert.equal(mask, 0x10f | (vgif ? 0x200 : 0) | (vnmi ? 0x1800 : 0));
  }
});

test('VMX MSR bitmap: MSR_IA32_XFD read byte 0x38 bit 4, write byte 0x838', () => {
  const xfd = findMsr('MSR_IA32_XFD');
  assert.ok(xfd);
  assert.equal(xfd.index, 0x1c4);
  assert.deepEqual(xfd.vmxBitmap, { readByte: 0x38, writeByte: 0x838, bit: 4 });
  const bitmap = new Uint8Array(4096);
  assert.equal(vmxMsrIntercepted(bitmap, 0x1c4, false), false);
  bitmap[0x838] |= 1 << 4;
  assert.equal(vmxMsrIntercepted(bitmap, 0x1c4, true), true);
  assert.equal(vmxMsrIntercepted(bitmap, 0x1c4, false), false);
  assert.equal(vmxMsrIntercepted(undefined, 0x1c4, false), true); // "use MSR bitmaps" = 0
  assert.equal(vmxMsrIntercepted(bitmap, 0xc0010117, false), true); // outside both ranges
  const star = findMsr('MSR_STAR');
  assert.deepEqual(star?.vmxBitmap, { readByte: 0x410, writeByte: 0xc10, bit: 1 });
  bitmap[0x410] |= 2;
  assert.equal(vmxMsrIntercepted(bitmap, 0xc0000081, false), true);
});

test('SVM MSRPM: MSR_STAR bits, ranges, MSR_PROT', () => {
  const star = findMsr('MSR_STAR');
  assert.ok(star);
  // range 1 starts at bit 0x800*8 = 0x4000; MSR 0x81 * 2 = 0x102
  assert.deepEqual(star.svmMsrpm, { byte: 0x820, readBit: 0x4102, writeBit: 0x4103 });
  assert.equal(star.vmsaveState, true);
  const pm = new Uint8Array(8192);
  assert.equal(svmMsrIntercepted(pm, true, 0xc0000081, false), false);
  pm[0x820] |= 1 << 2; // read bit 0x4102 -> byte 0x820 bit 2
  assert.equal(svmMsrIntercepted(pm, true, 0xc0000081, false), true);
  assert.equal(svmMsrIntercepted(pm, true, 0xc0000081, true), false);
  assert.equal(svmMsrIntercepted(pm, false, 0xc0000081, false), false); // no MSR_PROT -> nothing intercepted
  assert.equal(svmMsrIntercepted(pm, true, 0x40000000, false), true); // outside the three ranges
  const xfd = findMsr(0x1c4);
  assert.deepEqual(xfd?.svmMsrpm, { byte: 0x71, readBit: 0x388, writeBit: 0x389 });
  const hsave = findMsr('MSR_VM_HSAVE_PA');
  assert.deepEqual(hsave?.svmMsrpm, { byte: 0x1045, readBit: 0x822e, writeBit: 0x822f });
});

test('guest/host field load and save predicates', () => {
  const none = { controls: {} };
  assert.equal(guestFieldLoadedOnEntry('GUEST_IA32_EFER', none), false);
  assert.equal(guestFieldLoadedOnEntry('GUEST_IA32_EFER', { controls: { VM_ENTRY_LOAD_IA32_EFER: true } }), true);
  assert.equal(guestFieldSavedOnExit('GUEST_IA32_EFER', none), false);
  assert.equal(guestFieldSavedOnExit('GUEST_IA32_EFER', { controls: { VM_EXIT_SAVE_IA32_EFER: true } }), true);
  assert.equal(guestFieldSavedOnExit('GUEST_DR7', { controls: { VM_EXIT_SAVE_DEBUG_CONTROLS: true } }), true);
  assert.equal(guestFieldSavedOnExit('GUEST_IA32_PAT', { controls: { VM_EXIT_SAVE_IA32_EFER: true } }), false);
  assert.equal(guestFieldSavedOnExit('GUEST_RIP', none), true);
  const pae = { pg: true, pae: true, ia32eGuest: false };
  assert.equal(guestFieldLoadedOnEntry('GUEST_PDPTR0', { controls: { SECONDARY_EXEC_ENABLE_EPT: true }, paging: pae }), true);
  assert.equal(guestFieldLoadedOnEntry('GUEST_PDPTR0', { controls: {}, paging: pae }), false);
  assert.equal(guestFieldSavedOnExit('GUEST_PDPTR2_HIGH', { controls: { SECONDARY_EXEC_ENABLE_EPT: true }, paging: { ...pae, ia32eGuest: true } }), false);
  assert.equal(guestFieldSavedOnExit('HOST_CR3', none), undefined);
  assert.equal(hostFieldLoadedOnExit('HOST_CR3', none), true);
  assert.equal(hostFieldLoadedOnExit('HOST_IA32_PAT', none), false);
  assert.equal(hostFieldLoadedOnExit('HOST_IA32_PAT', { controls: { VM_EXIT_LOAD_IA32_PAT: true } }), true);
  assert.equal(hostLifetime('HOST_IDTR_BASE'), 'constant');
  assert.equal(hostLifetime('GUEST_RIP'), undefined);
  assert.equal(VMX_CONTROL_BY_NAME.get('VM_EXIT_SAVE_IA32_PAT')?.value, 0x40000);
  assert.equal(VMX_CONTROL_BY_NAME.get('VM_ENTRY_LOAD_IA32_EFER')?.value, 0x8000);
});

test('SVM transfer predicates', () => {
  assert.equal(vmsaveCovers('fs'), true);
  assert.equal(vmsaveCovers('save.tr.base'), true);
  assert.equal(vmsaveCovers('cs'), false);
  assert.equal(vmsaveCovers('kernel_gs_base'), true);
  assert.equal(vmrunLoadsGuest('cr3'), true);
  assert.equal(vmrunLoadsGuest('g_pat', false), false);
  assert.equal(vmrunLoadsGuest('star'), false);
  assert.equal(vmrunSavesHost('cr2'), false);
  assert.equal(vmrunSavesHost('efer'), true);
});

test('every rule function has a source', () => {
  for (const [name, r] of Object.entries(RULES)) {
    assert.ok(r.source.length > 10, name);
    assert.ok(r.summary.length > 10, name);
  }
});
