// Function roles: where in the VM life cycle a KVM function runs. Table of KVM function names (read from
// arch/x86/kvm/vmx/{vmx,nested}.c and svm/{svm,nested}.c), the exit-handler tables found in the file
// (`[EXIT_REASON_X] = handle_y,` in kvm_vmx_exit_handlers[], `exit_handlers[EXIT_REASON_X] = handle_y;` in
// nested.c, `[SVM_EXIT_X] = y,` in svm_exit_handlers[]), and propagation through calls inside the file.
import type { DocumentAnalysis, FunctionInfo } from './document';

export type RoleKind =
  | 'after-l2-exit' | 'nested-entry' | 'constant-host-setup' | 'per-cpu-load' | 'vcpu-load' | 'vcpu-put'
  | 'exit-handler' | 'vcpu-run' | 'after-vmexit' | 'hardware-setup' | 'vcpu-create' | 'diagnostic-dump';

export interface Role {
  kind: RoleKind;
  label: string;
  /** For exit handlers: the first (or only) exit-reason constant. */
  exitReason?: string;
  /** For exit handlers: every exit-reason constant the handler is registered for (or reached from). */
  exitReasons?: string[];
  /** How the role was found. */
  via?: 'table' | 'exit-handler-table' | 'callers';
}

const TABLE: Record<string, Role> = {
  sync_vmcs02_to_vmcs12: { kind: 'after-l2-exit', label: 'after a VM exit from L2' },
  sync_vmcs02_to_vmcs12_rare: { kind: 'after-l2-exit', label: 'after a VM exit from L2' },
  prepare_vmcs12: { kind: 'after-l2-exit', label: 'after a VM exit from L2' },
  nested_vmx_vmexit: { kind: 'after-l2-exit', label: 'after a VM exit from L2' },
  __nested_vmx_vmexit: { kind: 'after-l2-exit', label: 'after a VM exit from L2' },
  prepare_vmcs02: { kind: 'nested-entry', label: 'nested VM entry' },
  prepare_vmcs02_rare: { kind: 'nested-entry', label: 'nested VM entry' },
  prepare_vmcs02_early: { kind: 'nested-entry', label: 'nested VM entry' },
  nested_vmx_enter_non_root_mode: { kind: 'nested-entry', label: 'nested VM entry' },
  vmx_set_constant_host_state: { kind: 'constant-host-setup', label: 'constant host state setup (once per vCPU/VMCS)' },
  vmx_vcpu_load_vmcs: { kind: 'per-cpu-load', label: 'per-CPU load' },
  vmx_vcpu_load: { kind: 'vcpu-load', label: 'vcpu_load' },
  vmx_vcpu_put: { kind: 'vcpu-put', label: 'vcpu_put' },
  vmx_prepare_switch_to_guest: { kind: 'vcpu-run', label: 'before VM entry (per task)' },
  vmx_set_host_fs_gs: { kind: 'vcpu-run', label: 'before VM entry (per task)' },
  vmx_update_host_rsp: { kind: 'vcpu-run', label: 'VM entry (per run)' },
  vmx_vcpu_run: { kind: 'vcpu-run', label: 'VM entry/exit (per run)' },
  vmx_vcpu_enter_exit: { kind: 'vcpu-run', label: 'VM entry/exit (per run)' },
  init_vmcs: { kind: 'vcpu-create', label: 'vCPU creation (VMCS initialisation)' },
  vmx_vcpu_create: { kind: 'vcpu-create', label: 'vCPU creation' },
  vmx_vcpu_reset: { kind: 'vcpu-create', label: 'vCPU reset' },
  __vmx_vcpu_reset: { kind: 'vcpu-create', label: 'vCPU reset' },
  dump_vmcs: { kind: 'diagnostic-dump', label: 'diagnostic dump of the VMCS' },
  dump_vmcb: { kind: 'diagnostic-dump', label: 'diagnostic dump of the VMCB' },
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
  svm_hardware_setup: { kind: 'hardware-setup', label: 'module init' },
  vmx_vcpu_after_set_cpuid: { kind: 'vcpu-create', label: 'vCPU configuration' },
};

/**
 * Facts that hold whenever a function runs, because every caller checks them first. Keys are predicate keys of
 * analysis/conditions.ts. Read from the callers in Linux 5.2.1 and 7.1.5 vmx.c: vmx_cache_reg() and
 * vmx_load_mmu_pgd()/vmx_set_cr3() call the EPT PDPTR helpers only under `if (enable_ept)`; nested.c calls
 * ept_save_pdptrs()/vmx_ept_load_pdptrs() only after checking that EPT is in use.
 */
const ASSUMPTIONS: Record<string, Record<string, boolean>> = {
  ept_save_pdptrs: { enable_ept: true },
  ept_load_pdptrs: { enable_ept: true },
  vmx_ept_load_pdptrs: { enable_ept: true },
};

/** Facts the function may assume on entry (predicate key → value). */
export function assumptionsOf(name: string): ReadonlyArray<[string, boolean]> {
  const a = ASSUMPTIONS[name];
  return a ? Object.entries(a) : [];
}

export function knownRole(name: string): Role | undefined {
  const r = TABLE[name];
  return r ? { ...r, via: 'table' } : undefined;
}

const EXIT_TABLE_ENTRY = /\[\s*((?:EXIT_REASON|SVM_EXIT)_[A-Z0-9_]+)\s*\]\s*=\s*&?\s*([A-Za-z_][A-Za-z0-9_]*)\s*[,;}]/g;

/** Exit-handler tables in the document: handler name → exit-reason constants. */
export function exitHandlerTable(doc: Pick<DocumentAnalysis, 'text'>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  EXIT_TABLE_ENTRY.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = EXIT_TABLE_ENTRY.exec(doc.text)) !== null) {
    const list = out.get(m[2]) ?? [];
    if (!list.includes(m[1])) list.push(m[1]);
    out.set(m[2], list);
  }
  return out;
}

function exitRole(reasons: string[], via: Role['via']): Role {
  const short = reasons.map((r) => r.replace(/^EXIT_REASON_/, ''));
  return {
    kind: 'exit-handler', label: `exit handler for ${short.length > 3 ? `${short.slice(0, 3).join(', ')}, …` : short.join(', ')}`,
    exitReason: reasons[0], exitReasons: reasons, via,
  };
}

const roleCache = new WeakMap<DocumentAnalysis, Map<string, Role>>();

function isStatic(doc: DocumentAnalysis, fn: FunctionInfo): boolean {
  const head = doc.text.slice(fn.start, Math.min(fn.bodyStart, fn.start + 400));
  return /\bstatic\b/.test(head);
}

/** Does the name occur other than as a call or a declaration (taken as a function pointer)? */
function addressTaken(doc: DocumentAnalysis, name: string): boolean {
  const re = new RegExp(`\\b${name}\\b(?!\\s*\\()`, 'g');
  return re.test(doc.text);
}

/** Roles of every function defined in the document (table, exit-handler tables, propagation through callers). */
export function functionRoles(doc: DocumentAnalysis): Map<string, Role> {
  let roles = roleCache.get(doc);
  if (roles) return roles;
  roles = new Map();
  const defined = new Map(doc.functions.map((f) => [f.name, f]));
  for (const fn of doc.functions) {
    const r = knownRole(fn.name);
    if (r) roles.set(fn.name, r);
  }
  for (const [handler, reasons] of exitHandlerTable(doc)) {
    if (!roles.has(handler) && defined.has(handler)) roles.set(handler, exitRole(reasons, 'exit-handler-table'));
  }
  // Propagation: a function whose in-file callers all have a role, of the same kind, inherits it. Exit-handler
  // roles additionally spread only to static functions never used as function pointers (the union of reasons).
  for (let round = 0; round < 6; round++) {
    let changed = false;
    for (const fn of doc.functions) {
      if (roles.has(fn.name)) continue;
      const callers = callersOf(doc, fn.name).filter((c) => c !== fn.name);
      if (callers.length === 0) continue;
      const callerRoles = callers.map((c) => roles!.get(c));
      const known = callerRoles.filter((r): r is Role => !!r);
      if (known.length === 0 || known.length !== callers.length) continue;
      const kind = known[0].kind;
      if (!known.every((r) => r.kind === kind)) continue;
      if (kind === 'exit-handler') {
        if (!isStatic(doc, fn) || addressTaken(doc, fn.name)) continue;
        const reasons = [...new Set(known.flatMap((r) => r.exitReasons ?? (r.exitReason ? [r.exitReason] : [])))];
        roles.set(fn.name, exitRole(reasons, 'callers'));
      } else {
        roles.set(fn.name, { ...known[0], via: 'callers' });
      }
      changed = true;
    }
    if (!changed) break;
  }
  roleCache.set(doc, roles);
  return roles;
}

/** Role of a function by name: the table first, then the document's exit-handler tables and callers. */
export function roleOfFunction(doc: DocumentAnalysis | undefined, name: string): Role | undefined {
  if (!doc) return knownRole(name);
  const r = functionRoles(doc).get(name);
  if (r) return r;
  // Functions not defined in this document: fall back to the first caller with a table role (old behaviour).
  for (const c of callersOf(doc, name)) {
    const cr = knownRole(c);
    if (cr) return { ...cr, via: 'callers' };
  }
  return undefined;
}

/** Exit reasons (constants) a function handles, when its role says so. */
export function exitReasonsOf(doc: DocumentAnalysis, name: string): string[] | undefined {
  const r = functionRoles(doc).get(name);
  return r?.kind === 'exit-handler' ? r.exitReasons ?? (r.exitReason ? [r.exitReason] : undefined) : undefined;
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
