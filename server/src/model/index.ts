// The knowledge base: one lookup over every table. Hover, diagnostics and simulation all read from here.
import { ACCESSORS, INSTRUCTIONS } from './instructions';
import { ALL_MSRS } from './msr';
import { SVM_EXIT_CODES, VMX_EXIT_REASONS } from './exits';
import { INT_CTL_BITS, VMCB_FIELDS } from './vmcb';
import { VMCS_FIELDS } from './vmcs';
import { SYMBOLS } from './symbols';
import { GHCB_FIELDS, VMSA_FIELDS } from './sevEs';
import type { Entity } from './types';

export * from './types';
export { VMCS_FIELDS, VMCS_BY_NAME, VMCS_BY_ENCODING, VMCS_BY_VMCS12_MEMBER, LINUX_VMCS_FIELDS, decodeEncoding, vmcs12TableIndex, fullFieldOf, widthBits, findVmcsField, SDM_ENCODING } from './vmcs';
export type { DecodedEncoding } from './vmcs';
export { VMCB_FIELDS, INT_CTL_BITS, CLEAN_BITS, findVmcbField, findVmcbMember, findIntCtlBit, cleanBitFor } from './vmcb';
export type { VmcbMemberRef } from './vmcb';
export { MSRS, ALL_MSRS, MSR_BY_NAME, MSR_BY_INDEX, findMsr, vmxBitmapPosition, svmMsrpmPosition } from './msr';
export { VMX_EXIT_REASONS, SVM_EXIT_CODES, VMX_EXIT_BY_CODE, SVM_EXIT_BY_CODE, VMX_EXIT_REASONS_FAILED_VMENTRY, findExitReason } from './exits';
export { INSTRUCTIONS, INSTRUCTION_BY_NAME, ACCESSORS, VMSAVE_STATE } from './instructions';
export { EXIT_INFO_VALIDITY, EXIT_INFO_BY_FIELD, fieldsDefinedBy, exitInfoStatus, DURING_EVENT_DELIVERY, FAILED_ENTRY_REASONS } from './exitInfo';
export type { ExitInfoValidity, ExitInfoReason, ExitInfoFieldName, ExitInfoStatus, ExitInfoStatusAnswer, ExitInfoOptions } from './exitInfo';
export * from './semantics';
export { SDM, APM, CODE, SDM_EDITION, APM_EDITION } from './sources';
export { SYMBOLS, SYMBOL_BY_NAME } from './symbols';
export { VMX_CONTROLS, VMX_CONTROL_SYMBOL } from './controls';
export { SVM_SYMBOLS } from './svmSymbols';
export { EVMCS_CLEAN_GROUPS, evmcsGroupOf, evmcsUnusedField, shadowVmcsKind } from './vmcsVariants';
export { VMSA_FIELDS, GHCB_FIELDS, findVmsaField, findGhcbField, ghcbValidBit, layoutSize } from './sevEs';

/** Identifiers (C tokens) that name an entity directly: VMCS enum names, masks, MSRs, exit reasons, accessors, wrappers. */
const BY_IDENT = new Map<string, Entity>();
function add(name: string, e: Entity): void {
  if (name && !BY_IDENT.has(name)) BY_IDENT.set(name, e);
}
for (const f of VMCS_FIELDS) if (f.linux) add(f.name, f);
for (const b of INT_CTL_BITS) { add(b.name, b); if (b.shiftName) add(b.shiftName, b); for (const a of b.aliases) if (/_MASK$/.test(a)) add(a, b); }
for (const m of ALL_MSRS) { add(m.name, m); for (const a of m.aliases) add(a, m); }
for (const r of [...VMX_EXIT_REASONS, ...SVM_EXIT_CODES]) { add(r.name, r); for (const a of r.aliases) add(a, r); }
for (const a of ACCESSORS) add(a.name, a);
for (const i of INSTRUCTIONS) { add(i.name, i); for (const a of i.aliases) add(a, i); }
for (const y of SYMBOLS) { add(y.name, y); for (const a of y.aliases) add(a, y); }

/** Every identifier entityForIdentifier() answers (for scanners that pre-filter candidates). */
export function entityIdentifiers(): Iterable<string> {
  return BY_IDENT.keys();
}

/** Entity named by a C identifier as it appears in KVM code (e.g. `GUEST_PDPTR0`, `V_IRQ_MASK`, `MSR_IA32_XFD`). */
export function entityForIdentifier(ident: string): Entity | undefined {
  return BY_IDENT.get(ident);
}

/** Every entity, for `kvm-lens fields` and name suggestions. */
export function allEntities(): Entity[] {
  return [...VMCS_FIELDS, ...VMCB_FIELDS, ...INT_CTL_BITS, ...ALL_MSRS, ...VMX_EXIT_REASONS, ...SVM_EXIT_CODES, ...INSTRUCTIONS, ...ACCESSORS, ...SYMBOLS];
}

/** Lookup for `kvm-lens explain NAME`: C identifiers, SDM-only field names, aliases, `vmcs12.member`, `vmcb.member`. */
export function findEntity(name: string): Entity | undefined {
  const direct = BY_IDENT.get(name);
  if (direct) return direct;
  const lower = name.toLowerCase();
  for (const e of allEntities()) {
    if (e.name.toLowerCase() === lower || e.aliases.some((a) => a.toLowerCase() === lower)) return e;
  }
  const m = /^(?:vmcs12(?:->|\.))?([a-z0-9_]+)$/.exec(name);
  if (m) {
    const f = VMCS_FIELDS.find((v) => v.vmcs12?.member === m[1] && v.access === 'full');
    if (f) return f;
  }
  const lay = /^(vmsa|ghcb)(?:->|\.)(?:save\.)?([a-z0-9_]+)$/.exec(name);
  if (lay) return (lay[1] === 'vmsa' ? VMSA_FIELDS : GHCB_FIELDS).find((f) => f.name === lay[2]);
  const v = /^(?:vmcb\d*(?:->|\.))?(?:(control|save)\.)?([a-z0-9_[\]]+)$/.exec(name);
  if (v) return VMCB_FIELDS.find((f) => f.name === v[2] && (!v[1] || f.area === v[1]));
  return undefined;
}

/** Nearest names by edit distance, for "unknown name" messages. */
export function suggestNames(name: string, limit = 5): string[] {
  const upper = name.toUpperCase();
  const scored = allEntities().map((e) => ({ n: e.name, d: distance(upper, e.name.toUpperCase()) - (e.name.toUpperCase().includes(upper) ? 3 : 0) }));
  scored.sort((a, b) => a.d - b.d || a.n.localeCompare(b.n));
  return [...new Set(scored.map((s) => s.n))].slice(0, limit);
}

function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length];
}
export { VMX_ENTRY_CHECKS, SVM_VMRUN_CHECKS, ENTRY_CHECKS, ENTRY_CHECK_BY_ID, inManualList, failureText, sameFailure, failurePhase } from './entryChecks/index';
export type { EntryCheck, EntryFailure, CheckMatch, CheckGroup } from './entryChecks/index';
export { VMEXIT_UPDATED_CONTROLS } from './vmexitUpdates';
export type { ExitUpdatedControl } from './vmexitUpdates';
