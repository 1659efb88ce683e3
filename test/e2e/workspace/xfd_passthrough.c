// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvm-lens editor tests: XFD passthrough in the style of arch/x86/kvm/vmx/vmx.c (seed 004).
 */
#include <linux/kvm_host.h>
#include "vmx.h"

static void vmx_set_xfd_passthrough(struct kvm_vcpu *vcpu)
{
	vmx_disable_intercept_for_msr(vcpu, MSR_IA32_XFD, MSR_TYPE_RW);
	vcpu->arch.xfd_out_of_sync = true;
}
