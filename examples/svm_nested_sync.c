// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvm-lens example: nested-SVM exit path and host-state handling written in
 * KVM's style, for hover, diagnostics and simulation.
 */
#include <linux/kvm_host.h>
#include <asm/svm.h>
#include "svm.h"

static void nested_sync_int_ctl_from_vmcb02(struct vcpu_svm *svm, struct vmcb *vmcb12)
{
	u32 mask;

	/* Copies back more than the processor writes on #VMEXIT. */
	mask = V_IRQ_MASK | V_TPR_MASK | V_GIF_MASK | V_INTR_MASKING_MASK;

	vmcb12->control.int_ctl &= ~mask;
	vmcb12->control.int_ctl |= svm->nested.vmcb02.ptr->control.int_ctl & mask;
}

static void nested_sync_control_from_vmcb02_fixed(struct vcpu_svm *svm)
{
	u32 mask;

	svm->nested.ctl.event_inj = svm->vmcb->control.event_inj;
	svm->nested.ctl.event_inj_err = svm->vmcb->control.event_inj_err;

	/* Only a few fields of int_ctl are written by the processor. */
	mask = V_IRQ_MASK | V_TPR_MASK;
	if (!(svm->nested.ctl.int_ctl & V_INTR_MASKING_MASK) &&
	    svm_is_intercept(svm, INTERCEPT_VINTR)) {
		/* L0 owns V_IRQ for its own interrupt window. */
		mask &= ~V_IRQ_MASK;
	}

	if (nested_vgif_enabled(svm))
		mask |= V_GIF_MASK;

	svm->nested.ctl.int_ctl &= ~mask;
	svm->nested.ctl.int_ctl |= svm->vmcb->control.int_ctl & mask;
}

static void svm_prepare_guest_switch_example(struct kvm_vcpu *vcpu)
{
	struct vcpu_svm *svm = to_svm(vcpu);
	struct svm_cpu_data *sd = per_cpu_ptr(&svm_data, vcpu->cpu);

	savesegment(fs, svm->host.fs);
	savesegment(gs, svm->host.gs);
	svm->host.ldt = kvm_read_ldt();
	rdmsrl(MSR_STAR, svm->host_user_msrs[0]);
	rdmsrl(MSR_LSTAR, svm->host_user_msrs[1]);
	rdmsrl(MSR_KERNEL_GS_BASE, svm->host_user_msrs[2]);

	asm volatile(__ex("vmsave %0") : : "a" (__sme_page_pa(sd->save_area)) : "memory");
}

static void svm_set_guest_cr4_example(struct vcpu_svm *svm, unsigned long cr4)
{
	svm->vmcb->save.cr4 = cr4;
	svm->vmcb->save.efer |= EFER_SVME;
	vmcb_mark_dirty(svm->vmcb, VMCB_CR);
}

static void svm_set_tsc_offset_example(struct vcpu_svm *svm, u64 offset)
{
	svm->vmcb->control.tsc_offset = offset;
}

static int svm_handle_exit_example(struct vcpu_svm *svm)
{
	u32 exit_code = svm->vmcb->control.exit_code;

	if (exit_code == SVM_EXIT_MSR && svm->vmcb->control.exit_info_1)
		return svm_handle_wrmsr(svm);
	if (exit_code == SVM_EXIT_VINTR)
		return interrupt_window_interception(svm);
	vmload(__sme_page_pa(svm->vmcb01.ptr));
	return 0;
}
