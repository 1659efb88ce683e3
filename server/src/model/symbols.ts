// Every named constant with a card (SymbolInfo): VMX control bits, SVM intercepts and control values, VMCB and eVMCS
// clean bits, VMGEXIT sub-operations, and the KVM helpers that stand for a VMCS field.
import { VMX_CONTROLS } from './controls';
import { EXIT_INFO_BY_FIELD } from './exitInfo';
import { CODE } from './sources';
import { SVM_SYMBOLS } from './svmSymbols';
import { EVMCS_CLEAN_GROUPS } from './vmcsVariants';
import type { SymbolInfo } from './types';

const UAPI_SVM = [CODE.linuxUapiSvmH, 'AMD GHCB specification (document 56421)'];
const sub = (name: string, value: number, container: string, meaning: string): SymbolInfo => ({
  kind: 'symbol', category: 'ghcb', vendor: 'svm', name, aliases: [], container, value: String(value), meaning, sources: UAPI_SVM,
});

const VMGEXIT_SUBOPS: SymbolInfo[] = [
  sub('SVM_VMGEXIT_SET_AP_JUMP_TABLE', 0, 'GHCB sw_exit_info_1 of SVM_VMGEXIT_AP_JUMP_TABLE', 'sub-operation: set the AP jump table address'),
  sub('SVM_VMGEXIT_GET_AP_JUMP_TABLE', 1, 'GHCB sw_exit_info_1 of SVM_VMGEXIT_AP_JUMP_TABLE', 'sub-operation: read back the AP jump table address'),
  sub('SVM_VMGEXIT_AP_CREATE_ON_INIT', 0, 'GHCB sw_exit_info_1[31:0] of SVM_VMGEXIT_AP_CREATION', 'sub-operation: install the new VMSA, used at the next INIT'),
  sub('SVM_VMGEXIT_AP_CREATE', 1, 'GHCB sw_exit_info_1[31:0] of SVM_VMGEXIT_AP_CREATION', 'sub-operation: install the new VMSA and start the AP now'),
  sub('SVM_VMGEXIT_AP_DESTROY', 2, 'GHCB sw_exit_info_1[31:0] of SVM_VMGEXIT_AP_CREATION', 'sub-operation: remove the AP\'s VMSA'),
  sub('SVM_VMGEXIT_SAVIC_REGISTER_GPA', 0, 'GHCB RAX of SVM_VMGEXIT_SAVIC', 'sub-operation: register the Secure AVIC backing page GPA'),
  sub('SVM_VMGEXIT_SAVIC_UNREGISTER_GPA', 1, 'GHCB RAX of SVM_VMGEXIT_SAVIC', 'sub-operation: unregister the Secure AVIC backing page GPA'),
];

const exitQual = EXIT_INFO_BY_FIELD.get('EXIT_QUALIFICATION');
const HELPERS: SymbolInfo[] = [
  {
    kind: 'symbol', category: 'kvm-helper', vendor: 'vmx', name: 'vmx_get_exit_qual', aliases: [], container: 'EXIT_QUALIFICATION (0x6400)', value: '',
    meaning: 'KVM helper: VMREADs EXIT_QUALIFICATION once per VM exit and caches it (VCPU_EXREG_EXIT_INFO_1); later calls return the cached value. '
      + `What the hardware leaves there: written for the exits that define it, ${exitQual?.otherwise === 'cleared' ? 'cleared to 0 by every other exit' : 'undefined otherwise'}; a failed VM entry writes it too (see the EXIT_QUALIFICATION card)`,
    sources: ['Linux 7.1.5 arch/x86/kvm/vmx/vmx.h vmx_get_exit_qual', exitQual?.source ?? ''].filter(Boolean),
  },
  {
    kind: 'symbol', category: 'kvm-helper', vendor: 'vmx', name: 'vmx_get_intr_info', aliases: [], container: 'VM_EXIT_INTR_INFO (0x4404)', value: '',
    meaning: 'KVM helper: VMREADs VM_EXIT_INTR_INFO once per VM exit and caches it (VCPU_EXREG_EXIT_INFO_2). Bit 31 is written by every exit; the rest is defined only for exception/NMI exits and external-interrupt exits with "acknowledge interrupt on exit"',
    sources: ['Linux 7.1.5 arch/x86/kvm/vmx/vmx.h vmx_get_intr_info', EXIT_INFO_BY_FIELD.get('VM_EXIT_INTR_INFO')?.source ?? ''].filter(Boolean),
  },
];

export const SYMBOLS: readonly SymbolInfo[] = [...VMX_CONTROLS, ...SVM_SYMBOLS, ...EVMCS_CLEAN_GROUPS, ...VMGEXIT_SUBOPS, ...HELPERS];
export const SYMBOL_BY_NAME: ReadonlyMap<string, SymbolInfo> = new Map(SYMBOLS.flatMap((s) => [s.name, ...s.aliases].map((n): [string, SymbolInfo] => [n, s])));
