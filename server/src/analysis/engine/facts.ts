// What the engine knows about KVM configurations, written once: how C names map onto model predicates, which
// combinations of predicates cannot occur (the model's implications), and which helpers only have an effect under a
// configuration. Read by the condition mapper (analysis/conditions.ts), the path explorer (engine/paths.ts) and the
// simulator's sweep (features/simulate), so `check` and `simulate` prune and gate identically.

// ---------------------------------------------------------------------------------------------------------------
// C names → predicate keys

/** Calls whose truth value is a model predicate. */
export const CALL_PREDICATES: Readonly<Record<string, string>> = {
  nested_cpu_has_ept: 'nested_ept',
  nested_npt_enabled: 'nested_ept',
  is_pae_paging: 'pae_paging',
  is_long_mode: 'long_mode',
  is_la57_mode: 'long_mode',
  is_paging: 'paging',
  is_pae: 'cr4_pae',
  nested_vgif_enabled: 'nested_vgif',
  nested_vnmi_enabled: 'nested_vnmi',
  is_vnmi_enabled: 'vnmi',
  is_guest_mode: 'guest_mode',
  nested_cpu_has_vmwrite_any_field: 'vmwrite_any_field',
  nested_cpu_has_preemption_timer: 'nested_preemption_timer',
  nested_cpu_has_vid: 'nested_vid',
  nested_cpu_has_posted_intr: 'nested_posted_intr',
  sev_es_guest: 'sev_es',
  is_sev_es_guest: 'sev_es',
  // eVMCS (Hyper-V enlightened VMCS): Linux 7.1.5 arch/x86/kvm/vmx/hyperv.h; Linux 5.x tests vmx->nested.hv_evmcs.
  nested_vmx_is_evmptr12_valid: 'evmcs',
  nested_vmx_evmcs: 'evmcs',
  evmptr_is_valid: 'evmcs',
  nested_cpu_has_shadow_vmcs: 'shadow_vmcs',
};

/** Identifiers (globals / module parameters) whose value is a model predicate. */
export const IDENT_PREDICATES: Readonly<Record<string, string>> = {
  enable_ept: 'enable_ept',
  npt_enabled: 'enable_ept',
  vgif: 'vgif',
  vnmi: 'vnmi',
  enable_shadow_vmcs: 'shadow_vmcs',
  nested_run_pending: 'nested_run_pending',
  // kvm-amd's `nrips` module parameter: L0 uses NRIP save (Linux arch/x86/kvm/svm/svm.c, cleared without the feature).
  nrips: 'host_feature:NRIPS',
};

/** Struct members (the last member of a chain) whose value is a model predicate. */
export const MEMBER_PREDICATES: Readonly<Record<string, string>> = {
  hv_evmcs: 'evmcs',
  nested_run_pending: 'nested_run_pending',
  lbrv_enabled: 'lbrv',
  // svm->nrips_enabled: L1's CPUID has NRIPS (Linux ≤ 6.x svm_vcpu_after_set_cpuid; later guest_cpu_cap_has()).
  nrips_enabled: 'guest_feature:NRIPS',
  // union vmx_exit_reason's bit 31 (Linux arch/x86/include/asm/vmx.h): the VM exit reports a failed VM entry.
  failed_vmentry: 'failed_vmentry',
};

/**
 * Feature tests `f(..., X86_FEATURE_X)` → `guest_feature:X` (what the guest's CPUID offers: L1's, for nested code) or
 * `host_feature:X` (the host CPU, or what KVM supports). Linux arch/x86/kvm/cpuid.h, arch/x86/include/asm/cpufeature.h.
 */
export const GUEST_FEATURE_CALLS: ReadonlySet<string> = new Set(['guest_cpu_cap_has', 'guest_can_use', 'guest_cpuid_has', 'guest_cpu_has']);
export const HOST_FEATURE_CALLS: ReadonlySet<string> = new Set(['boot_cpu_has', 'static_cpu_has', 'cpu_feature_enabled', 'this_cpu_has',
  'kvm_cpu_cap_has', 'cpu_has']);

/** VMX control tests on vmcs12 (`nested_cpu_has(vmcs12, CPU_BASED_X)`, `vmcs12->vm_exit_controls & VM_EXIT_X`). */
export const VMCS12_CONTROL_CALLS: ReadonlySet<string> = new Set(['nested_cpu_has', 'nested_cpu_has2', 'nested_cpu_has3']);
export const VMX_CONTROL_BIT = /^(VM_EXIT|VM_ENTRY|PIN_BASED|CPU_BASED|SECONDARY_EXEC|TERTIARY_EXEC)_[A-Z0-9_]+$/;

// ---------------------------------------------------------------------------------------------------------------
// Implications: sets of literals that cannot all hold (each with where it comes from)

export interface NoGood {
  lits: ReadonlyArray<readonly [string, boolean]>;
  why: string;
}

export const NO_GOODS: readonly NoGood[] = [
  // Linux nested_vmx_setup_ctls_msrs(): SECONDARY_EXEC_ENABLE_EPT is offered to L1 only when enable_ept; likewise
  // svm_set_cpu_caps() offers NPT to L1 only with npt_enabled. Nested EPT/NPT needs EPT/NPT in L0.
  { lits: [['nested_ept', true], ['enable_ept', false]], why: 'nested EPT/NPT requires EPT/NPT in L0 (Linux nested_vmx_setup_ctls_msrs, svm_set_cpu_caps)' },
  // svm_set_cpu_caps(): X86_FEATURE_VGIF / X86_FEATURE_VNMI are exposed to L1 only when L0 uses them.
  { lits: [['nested_vgif', true], ['vgif', false]], why: 'nested vGIF requires vGIF in L0 (Linux svm_set_cpu_caps)' },
  { lits: [['nested_vnmi', true], ['vnmi', false]], why: 'nested vNMI requires vNMI in L0 (Linux svm_set_cpu_caps)' },
  // Paging modes, Intel SDM Vol.3A §4.1.1: PAE paging = CR0.PG ∧ CR4.PAE ∧ ¬IA32_EFER.LMA; IA-32e mode needs PG and PAE.
  { lits: [['pae_paging', true], ['long_mode', true]], why: 'PAE paging is not IA-32e paging (SDM Vol.3A §4.1.1)' },
  { lits: [['pae_paging', true], ['paging', false]], why: 'PAE paging needs CR0.PG (SDM Vol.3A §4.1.1)' },
  { lits: [['pae_paging', true], ['cr4_pae', false]], why: 'PAE paging needs CR4.PAE (SDM Vol.3A §4.1.1)' },
  { lits: [['pae_paging', false], ['paging', true], ['cr4_pae', true], ['long_mode', false]], why: 'CR0.PG ∧ CR4.PAE ∧ ¬LMA is PAE paging (SDM Vol.3A §4.1.1)' },
  { lits: [['long_mode', true], ['paging', false]], why: 'IA-32e mode needs CR0.PG (SDM Vol.3A §4.1.1)' },
  { lits: [['long_mode', true], ['cr4_pae', false]], why: 'IA-32e mode needs CR4.PAE (SDM Vol.3A §4.1.1)' },
];

/** Predicate keys mentioned by some implication (the others are independent). */
export const CONSTRAINED = new Set(NO_GOODS.flatMap((n) => n.lits.map(([k]) => k)));

/**
 * Does a partial assignment respect the implications? Monotone: assigning more keys never turns `false` into `true`,
 * so a search may prune on it. Also: at most one exit reason holds (one basic exit reason per exit, SDM Vol.3C §28.2.1).
 */
export function consistentAssignment(a: ReadonlyMap<string, boolean>): boolean {
  let reasons = 0;
  let constrained = false;
  for (const [k, v] of a) {
    if (v && k.startsWith('exit_reason=') && ++reasons > 1) return false;
    if (!constrained && CONSTRAINED.has(k)) constrained = true;
  }
  if (!constrained) return true;
  for (const ng of NO_GOODS) {
    let all = true;
    for (const [k, v] of ng.lits) if (a.get(k) !== v) { all = false; break; }
    if (all) return false;
  }
  return true;
}

/** The implication a (complete or partial) assignment breaks, for explanations. */
export function brokenImplication(a: ReadonlyMap<string, boolean>): NoGood | undefined {
  return NO_GOODS.find((ng) => ng.lits.every(([k, v]) => a.get(k) === v));
}

// ---------------------------------------------------------------------------------------------------------------
// Configuration-gated helpers: calls whose effect exists only under a configuration. The engine runs them only on
// paths where the predicate holds (a call outside any such guard is explored both ways, under the predicate).

export const GATED_HELPERS: Readonly<Record<string, string>> = {
  // eVMCS: Linux 7.1.5 vmx/nested.c copy_enlightened_to_vmcs12 / copy_vmcs12_to_enlightened (hv_evmcs only).
  copy_enlightened_to_vmcs12: 'evmcs',
  copy_vmcs12_to_enlightened: 'evmcs',
  // Shadow VMCS: copy_shadow_to_vmcs12 / copy_vmcs12_to_shadow run only with enable_shadow_vmcs.
  copy_shadow_to_vmcs12: 'shadow_vmcs',
  copy_vmcs12_to_shadow: 'shadow_vmcs',
  // LBR virtualization: svm_copy_lbrs runs only with LBR virtualization enabled (svm->lbrv_enabled / lbrv).
  svm_copy_lbrs: 'lbrv',
  // SEV-ES: the VMSA-based state sync exists only for SEV-ES guests.
  sev_es_prepare_switch_to_guest: 'sev_es',
  sev_es_vcpu_reset: 'sev_es',
};

/** Configuration predicates the simulator sweeps that name a KVM/hardware feature (for `--config` and reports). */
export const CONFIG_PREDICATES = ['evmcs', 'shadow_vmcs', 'lbrv', 'vnmi', 'nested_vnmi', 'vgif', 'nested_vgif', 'sev_es'] as const;
