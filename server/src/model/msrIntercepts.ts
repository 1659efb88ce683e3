// Facts about which MSRs may be passed through to a guest (MSR bitmap / MSRPM bit clear), used by
// features/rules/msrIntercept.ts. Pure data.

export const SDM_MSR_BITMAP = 'Intel SDM Vol.3C §25.6.9 (MSR bitmaps), §26.1.3 (instructions that cause VM exits '
  + 'conditionally); AMD APM Vol.2 §15.11 (MSR intercepts)';
export const SDM_LONG_MODE_MSRS = 'Intel SDM Vol.4 Table 2-2 (IA32_FS_BASE, IA32_GS_BASE, IA32_KERNEL_GS_BASE, '
  + 'IA32_LSTAR, IA32_CSTAR, IA32_FMASK exist only with Intel 64 / long mode); Linux v7.1.5 vmx.c '
  + 'vmx_recalc_msr_intercepts(), svm.c svm_recalc_msr_intercepts() (#ifdef CONFIG_X86_64)';
export const APM_NESTED_INTERCEPTS = 'AMD APM Vol.2 §15.5.2 (VMLOAD/VMSAVE take a physical address from rAX), '
  + '§15.33.1 (virtual VMLOAD/VMSAVE); CVE-2021-3656; Linux v7.1.5 svm/nested.c nested_vmcb02_recalc_intercepts()';

/** MSRs that exist only in 64-bit mode: a 32-bit kernel neither switches nor tracks them. */
export const LONG_MODE_ONLY_MSRS: ReadonlySet<string> = new Set([
  'MSR_FS_BASE', 'MSR_GS_BASE', 'MSR_KERNEL_GS_BASE', 'MSR_LSTAR', 'MSR_CSTAR', 'MSR_SYSCALL_MASK',
]);

/**
 * MSRs that exist for a guest only with a CPUID feature (Intel SDM Vol.4 Ch.2 "Architectural MSRs", per-MSR
 * "Introduced as architectural MSR" / CPUID columns; AMD APM Vol.2). `tokens` are the C names whose presence on the
 * path shows the decision follows the guest's use of the MSR (state KVM keeps only after a guest WRMSR succeeded).
 */
export const CPUID_GATED_MSRS: Readonly<Record<string, { features: string; tokens: RegExp }>> = {
  MSR_TSC_AUX: { features: 'RDTSCP or RDPID', tokens: /RDTSCP|RDPID/ },
  MSR_IA32_SPEC_CTRL: { features: 'SPEC_CTRL / AMD_IBRS / AMD_SSBD', tokens: /spec_ctrl/i },
  MSR_IA32_PRED_CMD: { features: 'IBPB', tokens: /pred_cmd|IBPB/i },
  MSR_IA32_FLUSH_CMD: { features: 'FLUSH_L1D', tokens: /FLUSH_L1D/ },
  MSR_IA32_XFD: { features: 'XFD', tokens: /xfd/i },
  MSR_IA32_XFD_ERR: { features: 'XFD', tokens: /xfd/i },
  MSR_IA32_XSS: { features: 'XSAVES', tokens: /XSAVES/ },
  MSR_IA32_U_CET: { features: 'SHSTK or IBT', tokens: /SHSTK|IBT|shstk|ibt/ },
  MSR_IA32_S_CET: { features: 'SHSTK or IBT', tokens: /SHSTK|IBT|shstk|ibt/ },
  MSR_IA32_PL0_SSP: { features: 'SHSTK', tokens: /SHSTK|shstk/ },
  MSR_IA32_PL1_SSP: { features: 'SHSTK', tokens: /SHSTK|shstk/ },
  MSR_IA32_PL2_SSP: { features: 'SHSTK', tokens: /SHSTK|shstk/ },
  MSR_IA32_PL3_SSP: { features: 'SHSTK', tokens: /SHSTK|shstk/ },
  MSR_IA32_INT_SSP_TAB: { features: 'SHSTK', tokens: /SHSTK|shstk/ },
  MSR_IA32_PERF_CAPABILITIES: { features: 'PDCM', tokens: /PDCM|perf_capab/i },
  MSR_IA32_BNDCFGS: { features: 'MPX', tokens: /MPX|mpx/ },
};

/** Instructions L0 must intercept for L2 unless the hardware virtualizes them (they take an L1-physical address). */
export const L0_MUST_INTERCEPT_FOR_L2: readonly string[] = ['INTERCEPT_VMLOAD', 'INTERCEPT_VMSAVE'];
