// VMCS field table: every Linux-named field plus the SDM fields Linux lacks.
// Width/type/access are decoded from the encoding (encoding.ts) and cross-checked against the fact-sheet columns in
// tests. The generated rows (data/vmcsTable.ts) are corrected here, never edited by hand; each correction is listed
// in docs/fact-corrections.md.
import { VMCS_ROWS, type VmcsRow } from './data/vmcsTable';
import { decodeEncoding, vmcs12TableIndex } from './encoding';
import { EXIT_INFO_BY_FIELD } from './exitInfo';
import { describeCondition, guestFieldRule, hostFieldRule, isPdptrField } from './semantics';
import { CODE, SDM } from './sources';
import { EVMCS_SRC, SDM_SHADOW, SHADOW_SRC, evmcsGroupOf, evmcsUnusedField, shadowVmcsKind } from './vmcsVariants';
import type { VmcsField, VmcsWidth } from './types';

export { decodeEncoding, vmcs12TableIndex };
export type { DecodedEncoding } from './encoding';

export const SDM_ENCODING = SDM.encodings;

/** Linux names that the fact sheet marks as posted patches but that are in mainline (checked in Linux 7.1.5). */
const MAINLINE_IN_7_1 = new Set(['GUEST_S_CET', 'GUEST_SSP', 'GUEST_INTR_SSP_TABLE', 'HOST_S_CET', 'HOST_SSP', 'HOST_INTR_SSP_TABLE', 'SHARED_EPT_POINTER']);

function fieldName(r: VmcsRow): string {
  if (r.name !== '-') return r.name;
  // High half of a field whose full encoding Linux names (e.g. the FRED and SHARED_EPT_POINTER high halves).
  if (r.encoding & 1) {
    const full = VMCS_ROWS.find((x) => x.encoding === (r.encoding & ~1));
    if (full) return `${fieldName(full)}_HIGH`;
  }
  // SDM field without a Linux name: use the kvm-unit-tests name, else the Bochs name without its prefixes.
  if (r.kut && r.kut !== '-') return r.kut;
  return r.bochs.replace(/^VMCS_(16BIT_|32BIT_|64BIT_)?/, '').replace(/^CONTROL_/, '').replace(/^SEAM_/, '').replace(/_HI$/, '_HIGH');
}

function linuxStatus(r: VmcsRow): string {
  if (MAINLINE_IN_7_1.has(r.name) && r.status.startsWith('patch:')) return 'mainline';
  return r.status;
}

function vmcs12Of(r: VmcsRow): { member?: VmcsField['vmcs12']; supported: boolean; note?: string } {
  if (!r.vmcs12) return { supported: false };
  const dead = /^dead_space\[(\d)\]$/.exec(r.vmcs12);
  if (dead) {
    return {
      supported: false,
      note: `vmcs12 keeps only dead_space[${dead[1]}] (offset ${r.vmcs12Offset ?? '?'}) where this field used to be; vmcs12.c has no FIELD entry, so L1's VMREAD/VMWRITE of it fails with "unsupported VMCS component" (error 12)`,
    };
  }
  const high = /^([a-z0-9_]+) \(\+4 high half\)$/.exec(r.vmcs12);
  const member = high ? high[1] : r.vmcs12;
  const m: NonNullable<VmcsField['vmcs12']> = { member };
  if (r.vmcs12Offset !== undefined) m.offset = r.vmcs12Offset;
  if (high) m.highHalf = true;
  return { member: m, supported: r.vmcs12Offset !== undefined };
}

function exitInfoFacts(name: string, f: VmcsField): void {
  const v = EXIT_INFO_BY_FIELD.get(name);
  if (!v) return;
  f.validForExitReasons = v.reasons === 'all' ? 'all' : v.reasons.map((x) => x.reason);
  f.exitInfoOtherwise = v.otherwise;
  if (v.reasons !== 'all') {
    const cond: Record<number, string> = {};
    for (const x of v.reasons) if (x.condition) cond[x.reason] = x.otherwise && x.otherwise !== v.otherwise ? `${x.condition}; otherwise ${x.otherwise}` : x.condition;
    if (Object.keys(cond).length) f.exitReasonConditions = cond;
  }
  if (v.validBitAlwaysWritten) f.validBitAlwaysWritten = true;
  const failed = v.writtenByFailedEntry ? 'a failed VM entry (reason 33/34/41, bit 31 set) writes it too' : 'a failed VM entry leaves it unmodified (it keeps the value of the last VM exit)';
  if (v.reasons === 'all') {
    f.onExit = `written by every VM exit (${v.note}); ${failed}`;
  } else {
    const others = v.otherwise === 'cleared' ? 'clear it to 0' : v.validBitAlwaysWritten ? 'write bit 31 (valid) = 0 and leave the other bits undefined' : 'leave it undefined';
    f.onExit = `written by the VM exits listed below; other VM exits ${others}; ${failed}`;
    const undefinedSubcases = v.reasons.filter((x) => x.condition && (x.otherwise ?? v.otherwise) === 'undefined');
    if (v.otherwise === 'undefined') f.undefinedWhen = `after exits for other reasons, and outside the listed sub-cases: ${v.note}`;
    else if (undefinedSubcases.length) f.undefinedWhen = `only outside these sub-cases: ${undefinedSubcases.map((x) => `reason ${x.reason}: ${x.condition}`).join('; ')}; everywhere else other exits clear it`;
  }
  f.sources.push(v.source, SDM.entryFailure);
}

function build(r: VmcsRow): VmcsField {
  const d = decodeEncoding(r.encoding);
  const name = fieldName(r);
  const aliases = [r.bochs, r.kut].filter((a) => a && a !== '-' && a !== name);
  const f: VmcsField = {
    kind: 'vmcs', name, aliases: [...new Set(aliases)], encoding: r.encoding, width: d.width, type: d.type, access: d.access,
    linux: r.name !== '-', linuxStatus: linuxStatus(r), meaning: r.meaning, sources: [SDM.encodings, ...r.sources],
  };
  const v12 = vmcs12Of(r);
  if (v12.member) f.vmcs12 = v12.member;
  f.vmcs12Supported = v12.supported;
  if (v12.supported) f.sources.push(CODE.linuxVmcs12C);
  const notes = [r.notes, v12.note].filter((x): x is string => !!x);
  if (notes.length) f.notes = notes.join('; ');
  if (d.access === 'high') f.fullName = name.replace(/_HIGH$/, '');
  return f;
}

/**
 * SDM fields the fact sheet lacks. 0x2816 guest IA32_LBR_CTL (architectural LBRs): SDM Vol.3D Appendix B
 * (64-bit guest-state fields); loaded with the "load guest IA32_LBR_CTL" VM-entry control (bit 21), cleared on exit
 * with "clear IA32_LBR_CTL" (VM-exit control bit 26). Linux 7.1.5 names it only as the eVMCS member
 * guest_ia32_lbr_ctl (hyperv_evmcs.c, "not used by KVM").
 */
const EXTRA_ROWS: VmcsRow[] = [
  {
    name: '-', encoding: 0x2816, width: 64, type: 'guest-state', access: 'full', status: 'not-in-linux', bochs: '-', kut: 'GUEST_IA32_LBR_CTL',
    meaning: 'guest IA32_LBR_CTL (architectural LBR control)',
    notes: 'Linux 7.1.5 has no enum name for it; the enlightened VMCS v1 has it as guest_ia32_lbr_ctl (group GUEST_GRP1), which KVM does not map',
    sources: ['Intel SDM Vol.3D Appendix B (field encodings: 64-bit guest-state fields)', SDM.entryControls, SDM.exitControls, 'Linux 7.1.5 arch/x86/kvm/vmx/hyperv_evmcs.c (EVMCS1_FIELD 0x00002816 guest_ia32_lbr_ctl, commented out)'],
  },
  {
    name: '-', encoding: 0x2817, width: 64, type: 'guest-state', access: 'high', status: 'not-in-linux', bochs: '-', kut: 'GUEST_IA32_LBR_CTL_HIGH',
    meaning: 'guest IA32_LBR_CTL (architectural LBR control)', sources: ['Intel SDM Vol.3D Appendix B (field encodings: 64-bit guest-state fields)'],
  },
];

const BASE: VmcsField[] = [...VMCS_ROWS, ...EXTRA_ROWS].map(build);
const BY_ENC = new Map(BASE.map((f) => [f.encoding, f]));

/** Fill in what the hardware does with the field at VM entry / VM exit, from the rules in semantics.ts. */
function addSemantics(f: VmcsField): void {
  const full = f.access === 'high' ? BY_ENC.get(f.encoding & ~1) : f;
  const key = full?.name ?? f.name;
  const highPrefix = f.access === 'high' ? `Upper 32 bits of ${key}; VMREAD/VMWRITE through this encoding reach bits 63:32 only. ` : '';
  switch (f.type) {
    case 'guest-state': {
      const r = guestFieldRule(key);
      if (!r) {
        f.onEntry = `${highPrefix}guest state: loaded by VM entry when the feature that uses it is enabled`;
        f.onExit = 'saved by VM exit when the feature that uses it is enabled (rule not modelled in detail)';
        f.sources.push(SDM.entryLoadGuest, SDM.exitSaveGuest);
        break;
      }
      f.entryRule = r.entry;
      f.exitRule = r.exit;
      f.onEntry = highPrefix + describeCondition(r.entry, 'loaded into the processor by VM entry') + (r.note ? ` (${r.note})` : '');
      f.onExit = describeCondition(r.exit, 'saved by VM exit');
      if (r.exit === 'pdptr') {
        f.undefinedWhen = 'after a VM exit with "enable EPT" = 0, or when the guest was not using PAE paging (CR0.PG = 0, CR4.PAE = 0, or IA-32e mode): the CPU writes undefined values';
      } else if (r.exit === 'smm') {
        f.undefinedWhen = 'after every VM exit except SMM VM exits (which KVM never causes: it does not use the dual-monitor treatment)';
        f.sources.push(SDM.smmVmExits);
      } else if (key === 'VMCS_LINK_POINTER') {
        f.onExit = 'not modified by VM exit';
        f.sources.push(SDM.entryGuestNonReg);
      } else if (r.exit.startsWith('control:')) {
        f.undefinedWhen = `not written by VM exit when ${r.exit.slice(8)} = 0 (the field keeps whatever was there; KVM must not read it back as guest state)`;
      }
      f.sources.push(r.entry === 'pdptr' ? SDM.entryLoadPdpte : SDM.entryLoadGuest, SDM.exitSaveGuest);
      if (isPdptrField(key)) f.sources.push(SDM.entryPdpteChecks, `${CODE.bochsVmx} VMexitSaveGuestState`, `${CODE.linuxNestedVmx} sync_vmcs02_to_vmcs12, prepare_vmcs02`);
      break;
    }
    case 'host-state': {
      const r = hostFieldRule(key);
      f.onEntry = `${highPrefix}host state: checked by VM entry (host-state checks), not loaded`;
      if (r) {
        f.exitRule = r.exit;
        f.onExit = describeCondition(r.exit, 'loaded into the processor by VM exit');
        if (r.lifetime) f.lifetime = r.lifetime;
        if (r.kvmWriters.length) f.kvmWriters = [...r.kvmWriters];
        if (r.note) f.notes = f.notes ? `${f.notes}; ${r.note}` : r.note;
        f.sources.push(`${CODE.linuxVmxC} ${r.kvmWriters.join(', ')}`.trim());
      } else {
        f.onExit = 'loaded into the processor by VM exit';
      }
      f.sources.push(SDM.exitLoadHost, SDM.entryCtlHostChecks);
      break;
    }
    case 'read-only': {
      f.onEntry = `${highPrefix}exit-information field: not consulted by VM entry`;
      exitInfoFacts(key, f);
      if (key === 'VM_INSTRUCTION_ERROR') {
        f.onExit = 'not written by VM exits; written by a VMX instruction that fails with VMfailValid (error number)';
        f.sources.push(SDM.instrError);
      } else if (!f.onExit) {
        f.onExit = 'written by VM exits that report this information';
        f.sources.push(SDM.exitInfo);
      }
      f.notes = [f.notes, 'read-only: VMWRITE fails with error 13 unless IA32_VMX_MISC bit 29 allows writing any field'].filter(Boolean).join('; ');
      f.sources.push(SDM.vmwrite);
      break;
    }
    case 'control': {
      f.onEntry = `${highPrefix}control field: consulted by VM entry (checked against the capability MSRs) and while the guest runs`;
      f.onExit = 'not modified by VM exit';
      if (key === 'VM_ENTRY_CONTROLS') f.onExit = 'VM exit stores EFER.LMA into the "IA-32e mode guest" bit when IA32_VMX_MISC bit 5 is 1; otherwise unchanged';
      if (key === 'VM_ENTRY_INTR_INFO_FIELD') f.onExit = 'VM exit clears bit 31 (valid)';
      f.sources.push(SDM.execControls, SDM.entryCtlHostChecks);
      if (key === 'VM_ENTRY_CONTROLS' || key === 'VM_ENTRY_INTR_INFO_FIELD') f.sources.push(SDM.exitRecordInfo);
      break;
    }
  }
  f.sources = [...new Set(f.sources)];
}

for (const f of BASE) addSemantics(f);

/** KVM's shadow VMCS for L1 and the enlightened VMCS (vmcsVariants.ts). */
for (const f of BASE) {
  const key = fullName(f);
  const sh = shadowVmcsKind(f.name) ?? (f.access === 'high' ? undefined : shadowVmcsKind(key));
  if (sh) {
    f.shadowVmcs = sh;
    f.sources.push(SHADOW_SRC, SDM_SHADOW);
  }
  const g = evmcsGroupOf(key) ?? (f.access === 'full' ? evmcsUnusedField(f.encoding)?.group : undefined);
  if (g) {
    f.evmcsCleanGroup = g;
    f.sources.push(EVMCS_SRC);
  }
}

function fullName(f: VmcsField): string {
  return f.access === 'high' ? f.name.replace(/_HIGH$/, '') : f.name;
}

export const VMCS_FIELDS: readonly VmcsField[] = BASE;
export const VMCS_BY_NAME: ReadonlyMap<string, VmcsField> = new Map(VMCS_FIELDS.map((f) => [f.name, f]));
export const VMCS_BY_ENCODING: ReadonlyMap<number, VmcsField> = new Map(VMCS_FIELDS.map((f) => [f.encoding, f]));
export const VMCS_BY_VMCS12_MEMBER: ReadonlyMap<string, VmcsField> = new Map(
  VMCS_FIELDS.filter((f) => f.vmcs12 && f.access === 'full').map((f) => [f.vmcs12?.member ?? '', f]),
);
/** Linux-named fields only (the 222 names of the fact sheet). */
export const LINUX_VMCS_FIELDS: readonly VmcsField[] = VMCS_FIELDS.filter((f) => f.linux);

/** The full-access field a `_HIGH` encoding belongs to. */
export function fullFieldOf(f: VmcsField): VmcsField {
  return f.access === 'high' ? VMCS_BY_ENCODING.get(f.encoding & ~1) ?? f : f;
}

export function widthBits(w: VmcsWidth): number {
  return w === 'natural' ? 64 : w;
}

/** Lookup by Linux name, alias, vmcs12 member (`guest_pdptr0`, `vmcs12->guest_pdptr0`) or encoding. */
export function findVmcsField(ref: string | number): VmcsField | undefined {
  if (typeof ref === 'number') return VMCS_BY_ENCODING.get(ref);
  const byName = VMCS_BY_NAME.get(ref);
  if (byName) return byName;
  const member = ref.replace(/^.*(?:->|\.)/, '');
  const byMember = VMCS_BY_VMCS12_MEMBER.get(member);
  if (byMember) return byMember;
  return VMCS_FIELDS.find((f) => f.aliases.includes(ref));
}
