// VMCB layout: control area (struct vmcb_control_area) and state-save area (struct vmcb_save_area), int_ctl and
// int_state bits, clean bits. Offsets/sizes from Linux 7.1.5 arch/x86/include/asm/svm.h (checked by computing the
// packed layout; sizes match EXPECTED_VMCB_CONTROL_AREA_SIZE 1024 / EXPECTED_VMCB_SAVE_AREA_SIZE 744), cross-checked
// with Bochs bochs/cpu/svm.h, QEMU target/i386/svm.h, Xen xen/arch/x86/hvm/svm/vmcb.h and kvm-unit-tests x86/svm.h
// (fact-sheet rows). Corrections to the fact sheet are applied here and listed in docs/fact-corrections.md.
import { VMCB_ROWS, type VmcbRow } from './data/vmcbTable';
import { intCtlWritebackClass, vmexitWritesSaveMember, vmrunLoadsGuest, vmrunSavesHost, vmsaveCovers } from './semantics';
import { APM, CODE } from './sources';
import type { CleanBitInfo, IntCtlBit, VmcbArea, VmcbField, VmcbSubMember } from './types';

// ---------------------------------------------------------------------------------------------------------------
// Clean bits

const CLEAN_SRC = [APM.cleanBits, CODE.linuxKvmSvmH, CODE.xenVmcb];

export const CLEAN_BITS: readonly CleanBitInfo[] = [
  { name: 'VMCB_INTERCEPTS', bit: 0, fields: ['intercepts[0]', 'intercepts[1]', 'intercepts[2]', 'intercepts[3]', 'intercepts[4]', 'intercepts[5]', 'pause_filter_thresh', 'pause_filter_count', 'tsc_offset'], meaning: 'intercept vectors, TSC offset, PAUSE filter', sources: CLEAN_SRC },
  { name: 'VMCB_PERM_MAP', bit: 1, fields: ['iopm_base_pa', 'msrpm_base_pa'], meaning: 'I/O and MSR permission-map base addresses', sources: CLEAN_SRC },
  { name: 'VMCB_ASID', bit: 2, fields: ['asid'], meaning: 'guest ASID', sources: CLEAN_SRC },
  { name: 'VMCB_INTR', bit: 3, fields: ['int_ctl', 'int_vector'], meaning: 'virtual interrupt control (V_TPR, V_IRQ, ...) and vector; KVM marks it dirty before every VMRUN (VMCB_ALWAYS_DIRTY_MASK)', sources: CLEAN_SRC },
  { name: 'VMCB_NPT', bit: 4, fields: ['misc_ctl', 'nested_cr3', 'g_pat'], meaning: 'nested-paging enable, nCR3, guest PAT', sources: CLEAN_SRC },
  { name: 'VMCB_CR', bit: 5, fields: ['cr0', 'cr3', 'cr4', 'efer'], meaning: 'CR0, CR3, CR4, EFER', sources: CLEAN_SRC },
  { name: 'VMCB_DR', bit: 6, fields: ['dr6', 'dr7'], meaning: 'DR6, DR7', sources: CLEAN_SRC },
  { name: 'VMCB_DT', bit: 7, fields: ['gdtr', 'idtr'], meaning: 'GDTR, IDTR', sources: CLEAN_SRC },
  { name: 'VMCB_SEG', bit: 8, fields: ['cs', 'ds', 'ss', 'es', 'cpl'], meaning: 'CS, DS, SS, ES, CPL', sources: CLEAN_SRC },
  { name: 'VMCB_CR2', bit: 9, fields: ['cr2'], meaning: 'CR2; KVM marks it dirty before every VMRUN (VMCB_ALWAYS_DIRTY_MASK)', sources: CLEAN_SRC },
  { name: 'VMCB_LBR', bit: 10, fields: ['dbgctl', 'br_from', 'br_to', 'last_excp_from', 'last_excp_to'], meaning: 'DebugCtl and last-branch records', sources: CLEAN_SRC },
  { name: 'VMCB_AVIC', bit: 11, fields: ['avic_vapic_bar', 'avic_backing_page', 'avic_logical_id', 'avic_physical_id'], meaning: 'AVIC APIC BAR, backing page, logical/physical ID tables', sources: CLEAN_SRC },
  { name: 'VMCB_CET', bit: 12, fields: ['s_cet', 'ssp', 'isst_addr'], meaning: 'supervisor CET state', sources: [APM.cleanBits, CODE.linuxKvmSvmH, 'Xen xen/arch/x86/hvm/svm/vmcb.h (cet bit 12, newer revision)'] },
  { name: 'VMCB_SW', bit: 31, fields: [], meaning: 'reserved for hypervisor/software use (KVM: Hyper-V enlightenments)', sources: [CODE.linuxKvmSvmH] },
];
const CLEAN_BY_FIELD = new Map<string, string>();
for (const c of CLEAN_BITS) for (const f of c.fields) CLEAN_BY_FIELD.set(f, c.name);

/** Clean-bit group (Linux VMCB_* name) covering a VMCB member, undefined if the member has none (tlb_ctl, exit fields...). */
export function cleanBitFor(member: string): string | undefined {
  return CLEAN_BY_FIELD.get(member.replace(/^(control|save)\./, '').replace(/\.(selector|attrib|limit|base)$/, ''));
}

// ---------------------------------------------------------------------------------------------------------------
// Fields

const SEG_NAMES = new Set(['es', 'cs', 'ss', 'ds', 'fs', 'gs', 'gdtr', 'ldtr', 'idtr', 'tr']);

/** Linux struct sev_es_save_area names for the save-area offsets that Linux's legacy vmcb_save_area reserves. */
const VMSA_ONLY_NAMES: Readonly<Record<number, string>> = {
  0x4a0: 'pl0_ssp', 0x4a8: 'pl1_ssp', 0x4b0: 'pl2_ssp', 0x4b8: 'pl3_ssp', 0x4c0: 'u_cet', 0x540: 'xss',
  0x6e8: 'pkru', 0x6ec: 'tsc_aux', 0x6f0: 'tsc_scale', 0x6f8: 'tsc_offset', 0x708: 'rcx', 0x710: 'rdx', 0x718: 'rbx',
  0x720: 'reserved_0x320', 0x728: 'rbp', 0x730: 'rsi', 0x738: 'rdi', 0x740: 'r8',
};

/** Older or other-project names for Linux members, to be recognised in older trees. */
/** What #VMEXIT writes into the partly written control fields (APM Vol.2 §15.6; Bochs SvmExitSaveGuestState). */
const VMEXIT_NOTES: Readonly<Record<string, string>> = {
  int_ctl: 'V_TPR and V_IRQ always; V_GIF only with vGIF (V_GIF_ENABLE); V_NMI_PENDING/V_NMI_BLOCKING only with vNMI; the other bits are input only (each bit mask, e.g. V_GIF_MASK, has its own card)',
  int_state: 'the interrupt-shadow bit (SVM_INTERRUPT_SHADOW_MASK); for SEV-ES guests also the guest interrupt mask (bit 1)',
};

const EXTRA_ALIASES: Readonly<Record<string, string[]>> = {
  misc_ctl: ['nested_ctl'], misc_ctl2: ['virt_ext'], exit_code: ['exitcode'], hv_enlightenments: ['reserved_sw'],
  // Pre-5.10 Linux (e.g. v5.2 arch/x86/include/asm/svm.h) named the intercept words separately.
  'intercepts[0]': ['intercept_cr'], 'intercepts[1]': ['intercept_dr'], 'intercepts[2]': ['intercept_exceptions'],
  'intercepts[3]': ['intercept'],
};

function baseName(raw: string): string {
  const n = raw.replace(/\s*\(.*$/, '').trim();
  if (n.startsWith('hv_enlightenments')) return 'hv_enlightenments';
  return n.replace(/\[\d+\]$/, (m) => (n.startsWith('intercepts') ? m : ''));
}

function segMembers(offset: number): VmcbSubMember[] {
  return [
    { name: 'selector', offset, size: 2 }, { name: 'attrib', offset: offset + 2, size: 2 },
    { name: 'limit', offset: offset + 4, size: 4 }, { name: 'base', offset: offset + 8, size: 8 },
  ];
}

function vmrunText(name: string, area: VmcbArea): string {
  if (area === 'control') {
    const special: Record<string, string> = {
      tlb_ctl: 'VMRUN performs the requested TLB flush for the guest ASID before running the guest',
      int_ctl: 'VMRUN loads the virtual-interrupt state (V_TPR, V_IRQ, V_INTR_PRIO, V_IGN_TPR, V_INTR_MASKING, V_GIF/V_GIF_ENABLE, vNMI bits, AVIC enables)',
      int_state: 'VMRUN loads the interrupt shadow from bit 0',
      event_inj: 'VMRUN injects this event into the guest if bit 31 (valid) is set',
      event_inj_err: 'error code pushed with the injected event when EVENTINJ.EV is set',
      clean: 'VMRUN may use cached copies of the field groups whose bit is 1',
      exit_code: 'not consulted by VMRUN (written by #VMEXIT; VMRUN consistency failures write SVM_EXIT_ERR = -1)',
      exit_info_1: 'not consulted by VMRUN', exit_info_2: 'not consulted by VMRUN (QEMU zeroes it on VMRUN, citing real hardware)',
      exit_int_info: 'not consulted by VMRUN', exit_int_info_err: 'not consulted by VMRUN',
      next_rip: 'used as the return address when injecting a software interrupt with NRIPS',
      insn_len: 'not consulted by VMRUN', insn_bytes: 'not consulted by VMRUN', hv_enlightenments: 'software-only area; the processor never touches it',
    };
    return special[name] ?? 'consulted by VMRUN and while the guest runs';
  }
  if (vmsaveCovers(name)) return 'not loaded by VMRUN; transferred only by VMLOAD/VMSAVE';
  if (name === 'g_pat') return 'loaded by VMRUN only when nested paging is enabled';
  if (['dbgctl', 'br_from', 'br_to', 'last_excp_from', 'last_excp_to'].includes(name)) return 'loaded by VMRUN only with LBR virtualization (misc_ctl2 bit 0)';
  if (['s_cet', 'ssp', 'isst_addr'].includes(name)) return 'loaded by VMRUN when guest shadow stacks are enabled for the VMCB';
  if (name === 'spec_ctrl') return 'loaded by VMRUN when SPEC_CTRL virtualization is enabled';
  if (vmrunLoadsGuest(name)) return 'loaded into the processor by VMRUN';
  return 'not part of the legacy VMRUN guest state';
}

function writtenOf(name: string, area: VmcbArea, r: VmcbRow): VmcbField['writtenOnVmexit'] {
  if (name === 'int_ctl' || name === 'event_inj' || name === 'int_state') return 'partial';
  if (area === 'save' && vmexitWritesSaveMember(name)) return name === 'g_pat' ? 'partial' : 'yes';
  const w = r.written.toLowerCase();
  if (/^yes( \(|$)/.test(w) && !/only|when|if/.test(w)) return 'yes';
  if (/^yes/.test(w)) return 'partial';
  return 'no';
}

function buildField(r: VmcbRow): VmcbField | undefined {
  const offset = parseInt(r.offset, 16);
  let name = baseName(r.name);
  let linux = true;
  if (!name || name === '-') {
    const vmsa = VMSA_ONLY_NAMES[offset];
    if (!vmsa) return undefined;
    name = vmsa;
    linux = false;
  }
  const area: VmcbArea = r.area.startsWith('save') ? 'save' : 'control';
  // A fact-sheet alias with "+N" names a *different* member at an offset (Xen's 64-bit event_inj/exit_int_info hold
  // the error code in their upper half; QEMU/kvm-unit-tests reserved arrays): not another name of this field.
  const aliases = [r.qemu, r.xen, r.bochs, r.kut]
    .filter((a) => !/\+\s*\d+\s*$/.test(a))
    .map((a) => a.replace(/\s*\(.*$/, '').trim())
    .filter((a) => a && a !== '-' && a !== name && !/^reserved/.test(a));
  for (const a of EXTRA_ALIASES[name] ?? []) aliases.push(a);
  const f: VmcbField = {
    kind: 'vmcb', name, area, aliases: [...new Set(aliases)], offset, size: parseInt(r.size, 10) || 0, meaning: r.meaning,
    writtenOnVmexit: writtenOf(name, area, r), sources: [...r.sources, APM.vmcbLayout, CODE.linuxSvmH],
  };
  if (!linux) {
    f.linux = false;
    f.writtenOnVmexit = 'no';
    f.notes = `only in Linux struct sev_es_save_area (the encrypted VMSA of SEV-ES guests) as ${name}; Bochs models it in the ordinary save area. ${r.notes}`.trim();
  } else if (r.notes) f.notes = r.notes;
  if (r.written && f.writtenOnVmexit !== 'no') f.vmexitNote = VMEXIT_NOTES[name] ?? r.written;
  if (linux) f.onVmrun = vmrunText(name, area);
  const clean = cleanBitFor(name);
  if (clean && linux) f.cleanBit = clean;
  if (area === 'save' && linux) {
    f.vmsaveState = vmsaveCovers(name);
    if (vmrunSavesHost(name)) f.hostSavedByVmrun = true;
    if (f.vmsaveState) f.sources.push(APM.vmsave, `${CODE.linuxNestedSvm} svm_copy_vmloadsave_state`);
    else if (vmrunLoadsGuest(name)) f.sources.push(APM.vmrun, APM.vmexit, `${CODE.bochsSvm} SvmExitSaveGuestState`);
  }
  if (SEG_NAMES.has(name) && area === 'save') f.members = segMembers(offset);
  if (clean) f.sources.push(...CLEAN_SRC);
  f.sources = [...new Set(f.sources)];
  return f;
}

const ROW_FIELDS: VmcbField[] = VMCB_ROWS.filter((r) => r.record === 'field')
  .map(buildField)
  .filter((f): f is VmcbField => f !== undefined);

// Correction: Linux 7.1.5 declares `u64 exit_code` at 0x70 (8 bytes); `exit_code_hi` exists only in older trees.
for (const f of ROW_FIELDS) {
  if (f.name === 'exit_code') {
    f.size = 8;
    f.meaning = '#VMEXIT code (64-bit; SVM_EXIT_ERR = -1 for a failed VMRUN)';
    f.notes = 'Linux 7.1.5 declares u64 exit_code; older Linux split it into u32 exit_code + u32 exit_code_hi (0x74)';
  }
  if (f.name === 'exit_code_hi') {
    f.legacy = true;
    f.notes = 'older Linux only: upper half of the 64-bit exit code (Linux 7.1.5 has a single u64 exit_code at 0x70)';
  }
  if (f.name === 'exit_int_info_err') {
    f.writtenOnVmexit = 'partial';
    f.vmexitNote = 'meaningful only when the #VMEXIT interrupted the delivery of an event (exit_int_info bit 31 V = 1) that pushes an error code (bit 11 EV = 1); otherwise its content is not defined';
    f.sources.push(APM.exitIntInfo);
  }
  if (f.name === 'bus_lock_counter') {
    f.writtenOnVmexit = 'yes';
    f.meaning = 'bus-lock threshold counter: decremented by each bus lock the guest causes; a bus lock with the counter at 0 causes #VMEXIT(SVM_EXIT_BUS_LOCK)';
    f.vmexitNote = 'the processor writes the current (decremented) count back; KVM reads it after #VMEXIT (nested_svm_vmexit checks vmcb02 bus_lock_counter)';
    f.sources.push(`${CODE.linuxNestedSvm} nested_svm_vmexit, nested_vmcb02_prepare_control (bus_lock_counter)`, `${CODE.linuxSvmC} complete_userspace_buslock`);
  }
  if (f.name === 'hv_enlightenments') {
    f.meaning = 'software-reserved area (KVM stores Hyper-V enlightenment controls here); the processor never uses it';
    f.cleanBit = 'VMCB_SW';
  }
}

// The fact sheet only lists r8 for the VMSA GPR block 0x740-0x778; add r9..r15 for completeness.
const R8 = ROW_FIELDS.find((f) => f.name === 'r8' && f.linux === false);
if (R8) {
  for (let i = 9; i <= 15; i++) {
    ROW_FIELDS.push({ ...R8, name: `r${i}`, aliases: [], offset: 0x740 + (i - 8) * 8, meaning: `guest R${i}` });
  }
  R8.meaning = 'guest R8';
  R8.aliases = R8.aliases.filter((a) => !a.includes('..'));
}

export const VMCB_FIELDS: readonly VmcbField[] = ROW_FIELDS;

const SEG_MEMBER_RE = /^(?:(control|save)\.)?([a-z0-9_]+(?:\[\d+\])?)(?:\.(selector|attrib|limit|base))?$/;

export function findVmcbField(member: string, area?: VmcbArea): VmcbField | undefined {
  const pick = (pred: (f: VmcbField) => boolean): VmcbField | undefined =>
    VMCB_FIELDS.find((f) => pred(f) && f.linux !== false && (!area || f.area === area)) ??
    VMCB_FIELDS.find((f) => pred(f) && (!area || f.area === area));
  return pick((f) => f.name === member) ?? pick((f) => f.aliases.includes(member));
}

export interface VmcbMemberRef { field: VmcbField; member?: VmcbSubMember }

/**
 * Resolve a member path as written after `vmcb->` / `vmcb12->` / `svm->nested.ctl.`:
 * `control.int_ctl`, `save.cs.selector`, `save.efer`, `int_ctl`, `es.base`, `nested_ctl`.
 */
export function findVmcbMember(path: string): VmcbMemberRef | undefined {
  const m = SEG_MEMBER_RE.exec(path.trim());
  if (!m) return undefined;
  const area = m[1] as VmcbArea | undefined;
  const field = findVmcbField(m[2], area);
  if (!field) return undefined;
  if (!m[3]) return { field };
  const member = field.members?.find((s) => s.name === m[3]);
  return member ? { field, member } : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// int_ctl / int_state bits

function bitRange(bits: string): { bit: number; bits: number } {
  const m = /^(\d+)(?::(\d+))?$/.exec(bits.trim());
  if (!m) return { bit: 0, bits: 1 };
  const hi = Number(m[1]);
  const lo = m[2] === undefined ? hi : Number(m[2]);
  return { bit: lo, bits: hi - lo + 1 };
}

const INTCTL_SRC = [CODE.linuxSvmH, `${CODE.linuxNestedSvm} nested_sync_control_from_vmcb02`, APM.vintr, APM.vmexit];

const WRITEBACK_NOTE: Readonly<Record<string, string>> = {
  always: 'written back by the processor on every #VMEXIT',
  never: 'input only: the processor never writes it back',
  vgif: 'written back only when vGIF is enabled (V_GIF_ENABLE = 1; KVM nested: nested_vgif_enabled())',
  vnmi: 'written back only when vNMI is enabled (V_NMI_ENABLE = 1; KVM nested: nested_vnmi_enabled())',
  'sev-es': 'written by the processor for SEV-ES guests (KVM reads it as the guest RFLAGS.IF, whose real value is encrypted in the VMSA)',
};

function buildBit(r: VmcbRow): IntCtlBit | undefined {
  if (r.name === 'reserved') return undefined;
  let { bit, bits } = bitRange(r.bits);
  const root = r.name.replace(/_MASK$/, '');
  // Correction: Linux V_TPR_MASK is 0x0f (bits 3:0); the fact sheet gives 7:0 (Xen/Bochs treat the byte as TPR).
  if (root === 'V_TPR') { bit = 0; bits = 4; }
  const mask = ((2 ** bits - 1) * 2 ** bit) >>> 0;
  const name = r.record === 'intstate' ? r.name : `${root}_MASK`;
  const cls = intCtlWritebackClass(name) ?? 'never';
  const writeback: IntCtlBit['writeback'] = cls === 'always' ? 'always' : cls === 'never' ? 'never' : 'conditional';
  const shiftName = r.record === 'intstate' || root === 'V_TPR' ? undefined : `${root}_SHIFT`;
  const aliases = [root, r.kut, r.qemu].map((a) => a.replace(/\s*\(.*$/, '').trim())
    .filter((a) => a && a !== '-' && a !== name && !/^\(/.test(a) && !/^int_state$|^int_stat\./.test(a));
  if (root === 'V_NMI_BLOCKING') aliases.push('V_NMI_MASK');
  const b: IntCtlBit = {
    kind: 'intctl', name, aliases: [...new Set(aliases)], register: r.record === 'intstate' ? 'int_state' : 'int_ctl', bit, bits, mask,
    meaning: r.meaning, writeback, writebackNote: WRITEBACK_NOTE[cls], sources: [...r.sources, ...INTCTL_SRC],
  };
  if (shiftName) b.shiftName = shiftName;
  if (cls === 'vgif' || cls === 'vnmi' || cls === 'sev-es') b.writebackCondition = cls;
  if (root === 'V_TPR') b.meaning = 'virtual TPR (Linux V_TPR_MASK = 0x0f covers bits 3:0; Xen/Bochs treat the whole byte 7:0 as the TPR field)';
  if (r.name === 'SVM_GUEST_INTERRUPT_MASK') {
    b.meaning = 'guest interrupt mask: the guest RFLAGS.IF as reported by the processor (needed for SEV-ES guests, whose RFLAGS is encrypted)';
    b.sources.push(`${CODE.linuxSvmC} svm_get_if_flag (reads it for SEV-ES guests)`);
  }
  return b;
}

export const INT_CTL_BITS: readonly IntCtlBit[] = VMCB_ROWS.filter((r) => r.record === 'intctl' || r.record === 'intstate')
  .map(buildBit)
  .filter((b): b is IntCtlBit => b !== undefined);

/** Lookup by mask, shift or bare name (V_IRQ_MASK, V_IRQ_SHIFT, V_IRQ, V_GIF_ENABLED_MASK). */
export function findIntCtlBit(name: string): IntCtlBit | undefined {
  return INT_CTL_BITS.find((b) => b.name === name || b.shiftName === name || b.aliases.includes(name));
}
