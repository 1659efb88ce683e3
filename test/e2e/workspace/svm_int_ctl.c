// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvm-lens editor tests: nested SVM int_ctl handling in the style of arch/x86/kvm/svm/nested.c.
 */
#include <linux/kvm_host.h>
#include "svm.h"

static void nested_sync_int_ctl_from_vmcb02(struct vcpu_svm *svm, struct vmcb *vmcb12)
{
	u32 mask = V_IRQ_MASK | V_TPR_MASK;

	if (nested_vgif_enabled(svm))
		mask |= V_GIF_MASK;

	vmcb12->control.int_ctl &= ~mask;
	vmcb12->control.int_ctl |= svm->vmcb->control.int_ctl & mask;
}
