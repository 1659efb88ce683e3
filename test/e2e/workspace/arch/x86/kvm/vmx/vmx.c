// SPDX-License-Identifier: GPL-2.0-only
/* kvm-lens editor tests: another user of GUEST_PDPTR0 (written for these tests). */
#include "vmcs12.h"

static void prepare_vmcs02_pdptrs(struct kvm_vcpu *vcpu, struct vmcs12 *vmcs12)
{
	vmcs_write64(GUEST_PDPTR0, vmcs12->guest_pdptr0);
	vmcs_write64(GUEST_PDPTR1, vmcs12->guest_pdptr1);
}
