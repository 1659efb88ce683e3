// Source strings cited by the model. One edition of each manual is used throughout.
//
// Intel: "Intel 64 and IA-32 Architectures Software Developer's Manual", 2023-and-later editions (order number
// 325462-080 onward), where Vol.3C is organised as: ch.24 introduction to VMX, ch.25 VMCS, ch.26 VMX non-root
// operation, ch.27 VM entries, ch.28 VM exits, ch.29 EPT, ch.30 APIC virtualization, ch.31 VMX instruction
// reference; Vol.3D appendices A (capability MSRs), B (field encodings), C (basic exit reasons). Older editions
// number the same sections one lower (e.g. VM exits were ch.27, VM entries ch.26) or two lower (ch.22/23 in the
// 2011-2015 books) — the fact sheet (shared/reference/semantics.md) quotes several of those older numbers.
//
// AMD: "AMD64 Architecture Programmer's Manual Vol.2: System Programming", ch.15 (Secure Virtual Machine) and
// Appendix B (VMCB layout) / C (SVM intercept exit codes). The APM text itself was not available to this project;
// every SVM rule is additionally tied to public code that implements it (Bochs, QEMU, Xen, Linux).

export const SDM_EDITION = 'Intel SDM 2023+ edition (325462-080 and later)';
export const APM_EDITION = 'AMD APM Vol.2 (ch.15 SVM)';

export const SDM = {
  encodings: 'Intel SDM Vol.3C §25.11.2 (VMREAD, VMWRITE, and encodings of VMCS fields); Vol.3D Appendix B',
  guestState: 'Intel SDM Vol.3C §25.4 (guest-state area)',
  hostState: 'Intel SDM Vol.3C §25.5 (host-state area)',
  execControls: 'Intel SDM Vol.3C §25.6 (VM-execution control fields)',
  msrBitmap: 'Intel SDM Vol.3C §25.6.9 (MSR-bitmap address)',
  exitControls: 'Intel SDM Vol.3C §25.7 (VM-exit control fields)',
  entryControls: 'Intel SDM Vol.3C §25.8 (VM-entry control fields)',
  exitInfo: 'Intel SDM Vol.3C §25.9 (VM-exit information fields)',
  instrError: 'Intel SDM Vol.3C §25.9.5 (VM-instruction error field); §31.4 (VM instruction error numbers)',
  condExits: 'Intel SDM Vol.3C §26.1.3 (instructions that cause VM exits conditionally)',
  entryCtlHostChecks: 'Intel SDM Vol.3C §27.2 (checks on VMX controls and host-state area)',
  entryGuestChecks: 'Intel SDM Vol.3C §27.3.1 (checks on the guest-state area)',
  entryGuestNonReg: 'Intel SDM Vol.3C §27.3.1.5 (checks on guest non-register state: VMCS link pointer)',
  smmVmExits: 'Intel SDM Vol.3C SMM chapter, dual-monitor treatment: SMM VM exits save SMBASE ("Saving Guest State"), VM entries that return from SMM load it ("Loading Guest State") — §34.15.2.4 / §34.15.4.5 in the 2016-2022 books',
  entryPdpteChecks: 'Intel SDM Vol.3C §27.3.1.6 (checks on guest page-directory-pointer-table entries)',
  entryLoadGuest: 'Intel SDM Vol.3C §27.3.2 (loading guest state)',
  entryLoadCrMsr: 'Intel SDM Vol.3C §27.3.2.1 (loading guest control registers, debug registers, and MSRs)',
  entryLoadSeg: 'Intel SDM Vol.3C §27.3.2.2 (loading guest segment registers and descriptor-table registers)',
  entryLoadPdpte: 'Intel SDM Vol.3C §27.3.2.4 (loading page-directory-pointer-table entries)',
  entryLoadMsrs: 'Intel SDM Vol.3C §27.4 (loading MSRs)',
  entryFailure: 'Intel SDM Vol.3C §27.8 (VM-entry failures during or after loading guest state)',
  exitRecordInfo: 'Intel SDM Vol.3C §28.2 (recording VM-exit information and updating VM-entry control fields)',
  exitBasicInfo: 'Intel SDM Vol.3C §28.2.1 (basic VM-exit information)',
  exitVectoredInfo: 'Intel SDM Vol.3C §28.2.2 (information for VM exits due to vectored events)',
  exitDeliveryInfo: 'Intel SDM Vol.3C §28.2.4 (information for VM exits during event delivery)',
  exitInstrInfo: 'Intel SDM Vol.3C §28.2.5 (information for VM exits due to instruction execution)',
  exitSaveGuest: 'Intel SDM Vol.3C §28.3 (saving guest state)',
  exitSaveCrMsr: 'Intel SDM Vol.3C §28.3.1 (saving control registers, debug registers, and MSRs)',
  exitSaveSeg: 'Intel SDM Vol.3C §28.3.2 (saving segment registers and descriptor-table registers)',
  exitSaveRip: 'Intel SDM Vol.3C §28.3.3 (saving RIP, RSP, RFLAGS, and SSP)',
  exitSaveNonReg: 'Intel SDM Vol.3C §28.3.4 (saving non-register state)',
  exitSaveMsrs: 'Intel SDM Vol.3C §28.4 (saving MSRs)',
  exitLoadHost: 'Intel SDM Vol.3C §28.5 (loading host state)',
  exitLoadHostCrMsr: 'Intel SDM Vol.3C §28.5.1 (loading host control registers, debug registers, MSRs)',
  exitLoadHostSeg: 'Intel SDM Vol.3C §28.5.2 (loading host segment and descriptor-table registers)',
  exitLoadHostRip: 'Intel SDM Vol.3C §28.5.3 (loading host RIP, RSP, RFLAGS, and SSP)',
  exitLoadHostPdpte: 'Intel SDM Vol.3C §28.5.4 (checking and loading host page-directory-pointer-table entries)',
  exitLoadMsrs: 'Intel SDM Vol.3C §28.6 (loading MSRs)',
  pae: 'Intel SDM Vol.3A §4.4 (PAE paging)',
  vmwrite: 'Intel SDM Vol.3C §31.3 VMWRITE (instruction reference); Vol.3D §A.6 (IA32_VMX_MISC bit 29)',
  vmread: 'Intel SDM Vol.3C §31.3 VMREAD (instruction reference: reads the current VMCS; VMfailValid 12 for an unsupported component)',
  vmreadExit: 'Intel SDM Vol.3C §26.1.3 (VMREAD in VMX non-root operation exits, reason 23, unless VMCS shadowing handles it)',
  vmxMisc: 'Intel SDM Vol.3D §A.6 (miscellaneous data, IA32_VMX_MISC)',
  exitReasons: 'Intel SDM Vol.3D Appendix C (VMX basic exit reasons)',
  vmxInstructions: 'Intel SDM Vol.3C ch.31 (VMX instruction reference)',
} as const;

export const APM = {
  vmcbLayout: 'AMD APM Vol.2 Appendix B (layout of VMCB)',
  vmrun: 'AMD APM Vol.2 §15.5 (VMRUN instruction)',
  vmsave: 'AMD APM Vol.2 §15.5.2 (VMSAVE and VMLOAD instructions)',
  vmexit: 'AMD APM Vol.2 §15.6 (#VMEXIT)',
  msrIntercepts: 'AMD APM Vol.2 §15.11 (MSR intercepts)',
  cleanBits: 'AMD APM Vol.2 §15.15.3 (VMCB clean field)',
  gif: 'AMD APM Vol.2 §15.17 (global interrupt flag, STGI and CLGI)',
  vintr: 'AMD APM Vol.2 §15.21 (injecting virtual interrupts)',
  exitCodes: 'AMD APM Vol.2 Appendix C (SVM intercept exit codes)',
  exitIntInfo: 'AMD APM Vol.2 §15.7.2 (intercepts during IDT interrupt delivery: EXITINTINFO)',
  hsave: 'AMD APM Vol.2 §15.30.4 (VM_HSAVE_PA MSR)',
  sevEs: 'AMD APM Vol.2 §15.35 (encrypted state, SEV-ES: VMSA and VMGEXIT)',
} as const;

/** Public code read to confirm the rules (paths and function names; nothing copied). */
export const CODE = {
  linuxVmxH: 'Linux 7.1.5 arch/x86/include/asm/vmx.h (enum vmcs_field, VM_ENTRY_*/VM_EXIT_* control bits)',
  linuxUapiVmxH: 'Linux 7.1.5 arch/x86/include/uapi/asm/vmx.h (EXIT_REASON_*)',
  linuxSvmH: 'Linux 7.1.5 arch/x86/include/asm/svm.h (struct vmcb_control_area, struct vmcb_save_area, V_* int_ctl masks)',
  linuxUapiSvmH: 'Linux 7.1.5 arch/x86/include/uapi/asm/svm.h (SVM_EXIT_*)',
  linuxKvmSvmH: 'Linux 7.1.5 arch/x86/kvm/svm/svm.h (enum VMCB_INTERCEPTS..VMCB_CET clean bits)',
  linuxVmcs12H: 'Linux 7.1.5 arch/x86/kvm/vmx/vmcs12.h (struct vmcs12, CHECK_OFFSET table)',
  linuxVmcs12C: 'Linux 7.1.5 arch/x86/kvm/vmx/vmcs12.c (FIELD/FIELD64 supported-field table)',
  linuxVmxC: 'Linux 7.1.5 arch/x86/kvm/vmx/vmx.c',
  linuxNestedVmx: 'Linux 7.1.5 arch/x86/kvm/vmx/nested.c',
  linuxNestedSvm: 'Linux 7.1.5 arch/x86/kvm/svm/nested.c',
  linuxSvmC: 'Linux 7.1.5 arch/x86/kvm/svm/svm.c',
  linuxMsrIndex: 'Linux arch/x86/include/asm/msr-index.h',
  bochsVmx: 'Bochs bochs/cpu/vmx.cc',
  bochsVmexit: 'Bochs bochs/cpu/vmexit.cc',
  bochsSvm: 'Bochs bochs/cpu/svm.cc',
  qemuSvm: 'QEMU target/i386/tcg/system/svm_helper.c',
  xenVmcb: 'Xen xen/arch/x86/hvm/svm/vmcb.h (vmcbcleanbits_t)',
} as const;
