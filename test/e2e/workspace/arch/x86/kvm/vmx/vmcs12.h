/* SPDX-License-Identifier: GPL-2.0 */
/* kvm-lens editor tests: L1's VMCS image, in the style of arch/x86/kvm/vmx/vmcs12.h (written for these tests). */
#ifndef __KVM_X86_VMX_VMCS12_H
#define __KVM_X86_VMX_VMCS12_H

struct __packed vmcs12 {
	u64 guest_pdptr0;
	u64 guest_pdptr1;
	natural_width guest_cr0;
	natural_width guest_cr3;
	u32 guest_interruptibility_info;
};

#endif
