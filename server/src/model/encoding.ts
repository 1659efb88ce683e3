// VMCS component encodings (Intel SDM Vol.3C §25.11.2; Bochs bochs/cpu/vmx.h VMCS_FIELD_WIDTH/TYPE).
import type { VmcsAccess, VmcsType, VmcsWidth } from './types';

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

/** KVM's vmcs12 offset-table index: ROL16(encoding, 6) (arch/x86/kvm/vmx/vmcs12.h ENC_TO_VMCS12_IDX). */
export function vmcs12TableIndex(encoding: number): number {
  return ((encoding << 6) | (encoding >>> 10)) & 0xffff;
}
