// SPDX-License-Identifier: GPL-2.0-only
/* kvm-lens editor tests: an unguarded PDPTR copy, in the style of arch/x86/kvm/vmx/nested.c (written for these tests). */
#include "vmcs12.h"

static void sync_vmcs02_to_vmcs12_rare(struct kvm_vcpu *vcpu, struct vmcs12 *vmcs12)
{
	if (enable_ept) {
		vmcs12->guest_cr3 = vmcs_readl(GUEST_CR3);
		vmcs12->guest_pdptr0 = vmcs_read64(GUEST_PDPTR0);
		vmcs12->guest_pdptr1 = vmcs_read64(GUEST_PDPTR1);
	}
}
