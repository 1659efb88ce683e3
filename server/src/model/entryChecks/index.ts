// The VM-entry / VMRUN consistency-check model: the manual's lists in order.
import { SVM_CHECKS } from './svm';
import type { EntryCheck } from './types';
import { VMX_CONTROL_CHECKS } from './vmxControls';
import { VMX_GUEST_CHECKS } from './vmxGuest';
import { VMX_HOST_CHECKS } from './vmxHost';

export * from './types';

function ordered(list: EntryCheck[]): EntryCheck[] {
  return list.map((c, i) => ({ ...c, order: i + 1 }));
}

/** SDM order: VM-execution, VM-exit, VM-entry controls; host state; address-space size; guest state; PDPTEs; MSR loading. */
export const VMX_ENTRY_CHECKS: readonly EntryCheck[] = ordered([...VMX_CONTROL_CHECKS, ...VMX_HOST_CHECKS, ...VMX_GUEST_CHECKS]);
export const SVM_VMRUN_CHECKS: readonly EntryCheck[] = ordered(SVM_CHECKS);
export const ENTRY_CHECKS: readonly EntryCheck[] = [...VMX_ENTRY_CHECKS, ...SVM_VMRUN_CHECKS];
export const ENTRY_CHECK_BY_ID: ReadonlyMap<string, EntryCheck> = new Map(ENTRY_CHECKS.map((c) => [c.id, c]));

/** Checks whose rule is stated in the manual section's own list (the "Outside the §15.5.1 list" extras excluded). */
export function inManualList(c: EntryCheck): boolean {
  return !(c.notes ?? '').startsWith('Outside');
}
