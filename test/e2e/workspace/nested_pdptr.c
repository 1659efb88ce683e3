// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvm-lens editor tests: nested VMX in the style of arch/x86/kvm/vmx/nested.c.
 * Written for these tests; the line with a width bug is deliberate.
 */
#include <linux/kvm_host.h>
#include "vmx.h"
#include "nested.h"

static void sync_vmcs02_to_vmcs12(struct kvm_vcpu *vcpu, struct vmcs12 *vmcs12)
{
	if (nested_cpu_has_ept(vmcs12) && is_pae_paging(vcpu)) {
		vmcs12->guest_pdptr0 = vmcs_read64(GUEST_PDPTR0);
		vmcs12->guest_pdptr1 = vmcs_read64(GUEST_PDPTR1);
		vmcs12->guest_pdptr2 = vmcs_read64(GUEST_PDPTR2);
		vmcs12->guest_pdptr3 = vmcs_read64(GUEST_PDPTR3);
	}
}

static u32 nested_read_pdptr_low(struct kvm_vcpu *vcpu)
{
	return vmcs_read32(GUEST_PDPTR0);
}

static void nested_save_guest_state(struct kvm_vcpu *vcpu, struct vmcs12 *vmcs12)
{
	vmcs12->guest_cr0 = vmcs_readl(GUEST_CR0);
	vmcs12->guest_rip = vmcs_readl(GUEST_RIP);
	vmcs12->guest_interruptibility_info = vmcs_read16(GUEST_INTERRUPTIBILITY_INFO);
}
