// Function roles: where in the VM life cycle a KVM function runs. Table of KVM function names (read from
// arch/x86/kvm/vmx/{vmx,nested}.c and svm/{svm,nested}.c), extended through calls inside the file.
import type { DocumentAnalysis } from './document';

export type RoleKind =
  | 'after-l2-exit' | 'nested-entry' | 'constant-host-setup' | 'per-cpu-load' | 'vcpu-load' | 'vcpu-put'
  | 'exit-handler' | 'vcpu-run' | 'after-vmexit' | 'hardware-setup' | 'vcpu-create';

export interface Role { kind: RoleKind; label: string; exitReason?: string }

const TABLE: Record<string, Role> = {
  sync_vmcs02_to_vmcs12: { kind: 'after-l2-exit', label: 'after a VM exit from L2' },
  sync_vmcs02_to_vmcs12_rare: { kind: 'after-l2-exit', label: 'after a VM exit from L2' },
  prepare_vmcs12: { kind: 'after-l2-exit', label: 'after a VM exit from L2' },
  nested_vmx_vmexit: { kind: 'after-l2-exit', label: 'after a VM exit from L2' },
  prepare_vmcs02: { kind: 'nested-entry', label: 'nested VM entry' },
  prepare_vmcs02_rare: { kind: 'nested-entry', label: 'nested VM entry' },
  prepare_vmcs02_early: { kind: 'nested-entry', label: 'nested VM entry' },
  nested_vmx_enter_non_root_mode: { kind: 'nested-entry', label: 'nested VM entry' },
  vmx_set_constant_host_state: { kind: 'constant-host-setup', label: 'constant host state setup' },
  vmx_vcpu_load_vmcs: { kind: 'per-cpu-load', label: 'per-CPU load' },
  vmx_vcpu_load: { kind: 'vcpu-load', label: 'vcpu_load' },
  vmx_vcpu_put: { kind: 'vcpu-put', label: 'vcpu_put' },
  vmx_prepare_switch_to_guest: { kind: 'vcpu-run', label: 'before VM entry (per task)' },
  vmx_vcpu_run: { kind: 'vcpu-run', label: 'VM entry/exit (per run)' },
  nested_svm_vmexit: { kind: 'after-l2-exit', label: 'after a #VMEXIT from L2' },
  nested_sync_control_from_vmcb02: { kind: 'after-l2-exit', label: 'after a #VMEXIT from L2' },
  nested_sync_int_ctl_from_vmcb02: { kind: 'after-l2-exit', label: 'after a #VMEXIT from L2' },
  nested_svm_vmexit_update_vmcb12: { kind: 'after-l2-exit', label: 'after a #VMEXIT from L2' },
  nested_vmcb02_prepare_control: { kind: 'nested-entry', label: 'nested VMRUN' },
  nested_vmcb02_prepare_save: { kind: 'nested-entry', label: 'nested VMRUN' },
  enter_svm_guest_mode: { kind: 'nested-entry', label: 'nested VMRUN' },
  nested_svm_vmrun: { kind: 'nested-entry', label: 'nested VMRUN' },
  svm_prepare_switch_to_guest: { kind: 'vcpu-run', label: 'before VMRUN (host state save)' },
  svm_prepare_guest_switch: { kind: 'vcpu-run', label: 'before VMRUN (host state save)' },
  svm_vcpu_load: { kind: 'vcpu-load', label: 'vcpu_load' },
  svm_vcpu_put: { kind: 'vcpu-put', label: 'vcpu_put' },
  svm_vcpu_run: { kind: 'vcpu-run', label: 'VMRUN/#VMEXIT (per run)' },
  hardware_setup: { kind: 'hardware-setup', label: 'module init' },
  vmx_hardware_setup: { kind: 'hardware-setup', label: 'module init' },
  vmx_vcpu_after_set_cpuid: { kind: 'vcpu-create', label: 'vCPU configuration' },
};

/** Role of a function by name: the table first, then callers in the same file whose role is known. */
export function roleOfFunction(doc: DocumentAnalysis | undefined, name: string): Role | undefined {
  const direct = TABLE[name];
  if (direct || !doc) return direct;
  const callers = callersOf(doc, name);
  for (const c of callers) {
    const r = TABLE[c];
    if (r) return r;
  }
  return undefined;
}

export function knownRole(name: string): Role | undefined {
  return TABLE[name];
}

const callerCache = new WeakMap<DocumentAnalysis, Map<string, string[]>>();

/** Functions in this document that call `name` (text search inside bodies; cheap and robust to parse errors). */
export function callersOf(doc: DocumentAnalysis, name: string): string[] {
  let index = callerCache.get(doc);
  if (!index) {
    index = new Map();
    const re = /\b([A-Za-z_][A-Za-z0-9_]*)\s*\(/g;
    for (const fn of doc.functions) {
      const body = doc.text.slice(fn.bodyStart, fn.bodyEnd);
      re.lastIndex = 0;
      let m: RegExpExecArray | null;
      const seen = new Set<string>();
      while ((m = re.exec(body)) !== null) {
        if (seen.has(m[1])) continue;
        seen.add(m[1]);
        const list = index.get(m[1]) ?? [];
        list.push(fn.name);
        index.set(m[1], list);
      }
    }
    callerCache.set(doc, index);
  }
  return index.get(name) ?? [];
}
