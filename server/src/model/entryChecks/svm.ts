// AMD APM Vol.2 §15.5.1 (basic operation: VMRUN consistency checks). VMRUN checks the guest state it loads and
// exits with #VMEXIT code VMEXIT_INVALID (-1) when any of these "illegal state combinations" holds. Cross-checked
// against Bochs bochs/cpu/svm.cc SvmEnterLoadCheckControls()/SvmEnterLoadCheckGuestState() and the list Linux quotes
// in arch/x86/kvm/svm/nested.c. The CET rules are in recent APM editions (shadow stack support in SVM).
import { SVM_VMEXIT_INVALID, type CheckGroup, type EntryCheck } from './types';

const S = 'AMD APM Vol.2 §15.5.1 (basic operation: VMRUN consistency checks)';
const EVT = 'AMD APM Vol.2 §15.5.1 (VMRUN consistency checks: illegal event injection) and §15.20 (event injection)';

type Opt = Partial<Pick<EntryCheck, 'feature' | 'recent' | 'notes'>> & { none?: string[]; cover?: 'all' | 'any' };
function c(group: CheckGroup, id: string, text: string, fields: string[], all?: string[][], opt: Opt = {}, section = S): EntryCheck {
  const { none, cover, ...rest } = opt;
  return { id: `svm.${id}`, vendor: 'svm', group, order: 0, text, match: { fields, all, none, cover }, failure: SVM_VMEXIT_INVALID, section, ...rest };
}
const save = (id: string, text: string, fields: string[], all?: string[][], opt?: Opt) => c('svm-save', id, text, fields, all, opt);
const ctl = (id: string, text: string, fields: string[], all?: string[][], opt?: Opt, section?: string) => c('svm-control', id, text, fields, all, opt, section);

const LME_PG = ['EFER_LME'];

export const SVM_CHECKS: EntryCheck[] = [
  save('efer-svme', 'EFER.SVME is zero', ['efer'], [['EFER_SVME']]),
  save('cr0-cd-nw', 'CR0.CD is zero and CR0.NW is set', ['cr0'], [['X86_CR0_NW'], ['X86_CR0_CD']]),
  save('cr0-high', 'CR0[63:32] are not zero', ['cr0'], [['/0xffffffff|>>\\s*32|upper_32_bits/']], { none: ['X86_CR0_NW', 'X86_CR0_PE', 'X86_CR0_PG'] }),
  save('cr3-mbz', 'Any MBZ bit of CR3 is set', ['cr3'], [['kvm_vcpu_is_legal_cr3', 'kvm_vcpu_is_illegal_gpa', 'kvm_vcpu_is_legal_gpa', 'cr3_lm_rsvd_bits', 'MSR_CR3_LONG_MBZ_MASK', 'MSR_CR3_LEGACY_PAE_RESERVED_MASK', 'MSR_CR3_LEGACY_RESERVED_MASK', '/cr3.*RESERVED|cr3.*MBZ/']]),
  save('cr4-mbz', 'Any MBZ bit of CR4 is set', ['cr4'], [['__kvm_is_valid_cr4', 'kvm_is_valid_cr4', 'cr4_reserved_bits', 'X86_CR4_RESERVED', 'MSR_CR4_RESERVED', '/cr4.*RESERVED|cr4.*MBZ/']], { none: ['EFER_LME'] }),
  save('dr6-high', 'DR6[63:32] are not zero', ['dr6'], [['kvm_dr6_valid', '/>>\\s*32|upper_32_bits/']]),
  save('dr7-high', 'DR7[63:32] are not zero', ['dr7'], [['kvm_dr7_valid', '/>>\\s*32|upper_32_bits/']]),
  save('efer-mbz', 'Any MBZ bit of EFER is set', ['efer'], [['kvm_valid_efer', 'efer_reserved_bits', 'EFER_RESERVED', '/efer.*RESERVED|efer.*MBZ/']]),
  save('efer-long-mode', 'EFER.LMA or EFER.LME is non-zero and this processor does not support long mode', ['efer'], [['X86_FEATURE_LM', 'kvm_valid_efer'], ['EFER_LMA', 'EFER_LME', 'kvm_valid_efer']],
    { notes: 'KVM folds it into kvm_valid_efer() (EFER.LME/LMA are reserved when the guest CPUID lacks LM).' }),
  save('lme-pg-pae', 'EFER.LME and CR0.PG are both set and CR4.PAE is zero', ['cr4', 'efer'], [LME_PG, ['X86_CR4_PAE']]),
  save('lme-pg-pe', 'EFER.LME and CR0.PG are both non-zero and CR0.PE is zero', ['cr0', 'efer'], [LME_PG, ['X86_CR0_PE']]),
  save('lme-pg-pae-cs', 'EFER.LME, CR0.PG, CR4.PAE, CS.L and CS.D are all non-zero', ['cs', 'efer'], [LME_PG, ['SVM_SELECTOR_L_MASK', 'SVM_SELECTOR_DB_MASK', '/attrib/']]),
  ctl('vmrun-intercept', 'The VMRUN intercept bit is clear', ['intercepts', 'intercept'], [['INTERCEPT_VMRUN']], { cover: 'any' }),
  ctl('bitmaps-pa', 'The MSR or IOIO intercept tables extend to a physical address that is greater than or equal to the maximum supported physical address', ['msrpm_base_pa', 'iopm_base_pa'], [['kvm_vcpu_is_legal_gpa', 'nested_svm_check_bitmap_pa', 'MSRPM_SIZE', 'IOPM_SIZE', 'maxphyaddr']]),
  ctl('event-inj', 'Illegal event injection: EVENTINJ with V=1 and an undefined TYPE, or TYPE=exception with a vector that is not a valid exception', ['event_inj'], [['SVM_EVTINJ_VALID', 'SVM_EVTINJ_TYPE_MASK', 'nested_svm_check_event_inj']], {}, EVT),
  ctl('asid', 'ASID is equal to zero', ['asid'], [['/asid\\s*==\\s*0|!\\s*[a-z_>.-]*asid/']]),
  save('cet-s-cet', 'Any reserved bit is set in S_CET', ['s_cet'], [['kvm_is_valid_u_s_cet', 'CET_US_RESERVED_BITS', '/s_cet/']], { recent: 'CET (shadow stacks in SVM)', feature: 'X86_FEATURE_SHSTK' }),
  save('cet-cr4-wp', 'CR4.CET is 1 when CR0.WP is 0', ['cr4', 'cr0'], [['X86_CR4_CET'], ['X86_CR0_WP']], { recent: 'CET (shadow stacks in SVM)', feature: 'X86_FEATURE_SHSTK' }),
  // Rules VMRUN enforces that the APM states outside the §15.5.1 list.
  ctl('npt-ncr3', 'With nested paging enabled, reserved bits of N_CR3 must be zero (beyond the maximum physical address)', ['nested_cr3'], [['SVM_NESTED_CTL_NP_ENABLE', 'SVM_MISC_ENABLE_NP']],
    { notes: 'Outside the §15.5.1 list; Bochs svm.cc SvmEnterLoadCheckControls() enforces it.' }, 'AMD APM Vol.2 §15.25.3 (nested paging: N_CR3)'),
  c('svm-save', 'npt-gpat', 'With nested paging enabled, G_PAT must contain only valid memory types', ['g_pat'], [['kvm_pat_valid', 'pat_valid']],
    { notes: 'Outside the §15.5.1 list; Bochs svm.cc SvmEnterLoadCheckGuestState() enforces it.' }, 'AMD APM Vol.2 §15.25 (nested paging: guest PAT, G_PAT)'),
  ctl('vnmi-intercept', 'V_NMI_ENABLE set in int_ctl requires the NMI intercept', ['int_ctl'], [['V_NMI_ENABLE_MASK'], ['INTERCEPT_NMI']],
    { feature: 'V_NMI_ENABLE_MASK', notes: 'Outside the §15.5.1 list (NMI virtualization).' }, 'AMD APM Vol.2 §15.21.4 (NMI virtualization)'),
];
