// State the processor does not switch (or switches only under a feature) between host and guest, and state L2 needs
// on every VM entry — facts for features/rules/unswitchedState.ts and alwaysProvided.ts. Pure data.

export const APM_LBRV_DEBUGCTL = 'AMD APM Vol.2 §15.23 (LBR virtualization: DebugCtl and the LBR MSRs are loaded by '
  + 'VMRUN and saved by #VMEXIT only when LBR_VIRTUALIZATION_ENABLE is set); Linux 6.14 "KVM: SVM: Manually context '
  + 'switch DEBUGCTL if LBR virtualization is disabled"';
export const SDM_DEBUGCTL_LOAD = 'Intel SDM Vol.3C §27.3.2.1 (VM entry loads IA32_DEBUGCTL from the guest-state area '
  + 'when "load debug controls" is 1), Vol.3B §18.4.1 (IA32_DEBUGCTL.FREEZE_WHILE_SMM, host-owned by perf); Linux 6.17 '
  + '"KVM: VMX: Preserve host\'s DEBUGCTLMSR_FREEZE_IN_SMM while running the guest"';
export const SDM_ENTRY_EVERY_TIME = 'Intel SDM Vol.3C §27.3.2 (every VM entry loads the guest-state fields, e.g. '
  + 'IA32_BNDCFGS with "load IA32_BNDCFGS"); Linux v7.1.5 vmx/nested.c prepare_vmcs02() vs prepare_vmcs02_rare()';
export const APM_VMCB02_CONTROLS = 'AMD APM Vol.2 §15.15 (VMCB control area: NP_ENABLE, SEV_ENABLE, SEV-ES_ENABLE '
  + 'share the nested-control field; LBR/virtual VMLOAD enables share virt_ext); Linux v7.1.5 svm/nested.c '
  + 'nested_vmcb02_prepare_control() (misc_ctl & SVM_MISC_ENABLE_NP)';

/** VMCB save-area fields VMRUN loads only under a feature, with the feature's name and what shows a manual load. */
export const VMRUN_FEATURE_LOADED: ReadonlyArray<{ field: string; feature: string; manualLoad: RegExp; msr: string }> = [
  { field: 'dbgctl', feature: 'LBR virtualization', manualLoad: /update_debugctlmsr|wrmsr\w*\s*\(\s*MSR_IA32_DEBUGCTLMSR|\bdbgctl\b|DEBUGCTL/, msr: 'DEBUGCTL' },
];

/** Guest-state fields VM entry loads whole while the host owns some of their bits (the bits' C names). */
export const HOST_OWNED_BITS: Readonly<Record<string, RegExp>> = {
  GUEST_IA32_DEBUGCTL: /FREEZE_IN_SMM|HOST_OWNED/,
};

/**
 * VMCB control fields that hold enables for several features, some of which are L1's only (SEV, SEV-ES, ...): vmcb02
 * must take from vmcb01 only the bits that apply to L2.
 */
export const SHARED_ENABLE_FIELDS: readonly string[] = ['nested_ctl', 'misc_ctl', 'virt_ext', 'misc_ctl2'];

/** int_ctl bits only L0 may enable for L2 (AVIC, x2AVIC, vNMI/vGIF enables follow nested_* checks). */
export const L0_ONLY_INT_CTL = 'AVIC_ENABLE, X2APIC_MODE, V_NMI_ENABLE, V_GIF_ENABLE';
