// VMCS field table: every Linux-named field plus the SDM fields Linux lacks.
// Width/type/access are decoded from the encoding (SDM Vol.3C §25.11.2 "VMREAD, VMWRITE, and Encodings of VMCS
// Fields"; Bochs bochs/cpu/vmx.h VMCS_FIELD_WIDTH/TYPE) and cross-checked against the fact-sheet columns in tests.
import { VMCS_ROWS, type VmcsRow } from './data/vmcsTable';
import type { VmcsAccess, VmcsField, VmcsType, VmcsWidth } from './types';

export const SDM_ENCODING = 'Intel SDM Vol.3C §25.11.2 (encodings of VMCS fields), Appendix B';

const WIDTHS: VmcsWidth[] = [16, 64, 32, 'natural'];
const TYPES: VmcsType[] = ['control', 'read-only', 'guest-state', 'host-state'];

export interface DecodedEncoding { width: VmcsWidth; type: VmcsType; access: VmcsAccess; index: number; valid: boolean }

/** Decode a VMCS component encoding: bits 14:13 width, 11:10 type, 9:1 index, 0 access; 31:15 and 12 reserved. */
export function decodeEncoding(encoding: number): DecodedEncoding {
  const width = WIDTHS[(encoding >>> 13) & 3];
  const type = TYPES[(encoding >>> 10) & 3];
  const access: VmcsAccess = encoding & 1 ? 'high' : 'full';
  const valid = (encoding >>> 15) === 0 && (encoding & 0x1000) === 0 && (access === 'full' || width === 64);
  return { width, type, access, index: (encoding >>> 1) & 0x1ff, valid };
}

/** KVM's vmcs12 offset-table index: ROL16(encoding, 6) (arch/x86/kvm/vmx/vmcs12.h get_vmcs12_field_offset). */
export function vmcs12TableIndex(encoding: number): number {
  return ((encoding << 6) | (encoding >>> 10)) & 0xffff;
}

function fieldName(r: VmcsRow): string {
  if (r.name !== '-') return r.name;
  // SDM field without a Linux name: use the kvm-unit-tests name, else the Bochs name without its prefix.
  if (r.kut && r.kut !== '-') return r.kut;
  return r.bochs.replace(/^VMCS_(16BIT_|32BIT_|64BIT_)?/, '');
}

function build(r: VmcsRow): VmcsField {
  const d = decodeEncoding(r.encoding);
  const aliases = [r.bochs, r.kut].filter((a) => a && a !== '-' && a !== r.name);
  const f: VmcsField = {
    kind: 'vmcs', name: fieldName(r), aliases, encoding: r.encoding, width: d.width, type: d.type, access: d.access,
    linux: r.name !== '-', linuxStatus: r.status, meaning: r.meaning, sources: [SDM_ENCODING, ...r.sources],
  };
  if (r.vmcs12) f.vmcs12 = { member: r.vmcs12, offset: r.vmcs12Offset };
  if (r.notes) f.notes = r.notes;
  return f;
}

export const VMCS_FIELDS: readonly VmcsField[] = VMCS_ROWS.map(build);
export const VMCS_BY_NAME: ReadonlyMap<string, VmcsField> = new Map(VMCS_FIELDS.map((f) => [f.name, f]));
export const VMCS_BY_ENCODING: ReadonlyMap<number, VmcsField> = new Map(VMCS_FIELDS.map((f) => [f.encoding, f]));
export const VMCS_BY_VMCS12_MEMBER: ReadonlyMap<string, VmcsField> = new Map(
  VMCS_FIELDS.filter((f) => f.vmcs12 && f.access === 'full').map((f) => [f.vmcs12!.member, f]),
);

/** The full-access field a `_HIGH` encoding belongs to. */
export function fullFieldOf(f: VmcsField): VmcsField {
  return f.access === 'high' ? VMCS_BY_ENCODING.get(f.encoding & ~1) ?? f : f;
}

export function widthBits(w: VmcsWidth): number {
  return w === 'natural' ? 64 : w;
}
