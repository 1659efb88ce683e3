// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvm-lens example: a nested-VMX exit path written in KVM's style.
 * Written for kvm-lens; it exercises hover, diagnostics and simulation.
 * Open it in an editor with kvm-lens and hover over the field names.
 */
#include <linux/kvm_host.h>
#include <asm/vmx.h>
#include "vmcs12.h"
#include "nested.h"

/* Copies L2 state from vmcs02 back into vmcs12 after a VM exit from L2. */
static void sync_vmcs02_to_vmcs12(struct kvm_vcpu *vcpu, struct vmcs12 *vmcs12)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);

	vmcs12->guest_cr0 = vmcs12_guest_cr0(vcpu, vmcs12);
	vmcs12->guest_cr4 = vmcs12_guest_cr4(vcpu, vmcs12);
	vmcs12->guest_rsp = kvm_rsp_read(vcpu);
	vmcs12->guest_rip = kvm_rip_read(vcpu);
	vmcs12->guest_rflags = vmx_get_rflags(vcpu);

	vmcs12->guest_interruptibility_info =
		vmcs_read32(GUEST_INTERRUPTIBILITY_INFO);

	/*
	 * The PDPTRs are only meaningful after the exit when EPT is in use and
	 * L2 was in PAE paging; this version copies them whenever EPT is on.
	 */
	if (enable_ept) {
		vmcs12->guest_cr3 = vmcs_readl(GUEST_CR3);
		vmcs12->guest_pdptr0 = vmcs_read64(GUEST_PDPTR0);
		vmcs12->guest_pdptr1 = vmcs_read64(GUEST_PDPTR1);
		vmcs12->guest_pdptr2 = vmcs_read64(GUEST_PDPTR2);
		vmcs12->guest_pdptr3 = vmcs_read64(GUEST_PDPTR3);
	}

	vmcs12->guest_linear_address = vmcs_readl(GUEST_LINEAR_ADDRESS);

	if (vmcs12->vm_exit_controls & VM_EXIT_SAVE_IA32_EFER)
		vmcs12->guest_ia32_efer = vcpu->arch.efer;

	/* A width slip: the interruptibility field is 32 bits wide. */
	vmcs12->guest_activity_state = vmcs_read16(GUEST_ACTIVITY_STATE);
	vmcs12->guest_sysenter_cs = vmcs_read64(GUEST_SYSENTER_CS);
}

/* Entry side, early version: writes the PDPTRs whenever EPT is on, also when L2 is not in PAE paging. */
static void prepare_vmcs02_rare(struct vcpu_vmx *vmx, struct vmcs12 *vmcs12)
{
	if (enable_ept) {
		vmcs_write64(GUEST_PDPTR0, vmcs12->guest_pdptr0);
		vmcs_write64(GUEST_PDPTR1, vmcs12->guest_pdptr1);
		vmcs_write64(GUEST_PDPTR2, vmcs12->guest_pdptr2);
		vmcs_write64(GUEST_PDPTR3, vmcs12->guest_pdptr3);
	}
}

/* Entry side: loads the PDPTRs only when the next VM entry consumes them. */
static int prepare_vmcs02_pdptrs(struct kvm_vcpu *vcpu, struct vmcs12 *vmcs12)
{
	if (nested_cpu_has_ept(vmcs12) && is_pae_paging(vcpu)) {
		vmcs_write64(GUEST_PDPTR0, vmcs12->guest_pdptr0);
		vmcs_write64(GUEST_PDPTR1, vmcs12->guest_pdptr1);
		vmcs_write64(GUEST_PDPTR2, vmcs12->guest_pdptr2);
		vmcs_write64(GUEST_PDPTR3, vmcs12->guest_pdptr3);
	}
	return 0;
}

static int handle_ept_violation_example(struct kvm_vcpu *vcpu)
{
	unsigned long exit_qualification = vmcs_readl(EXIT_QUALIFICATION);
	gpa_t gpa = vmcs_read64(GUEST_PHYSICAL_ADDRESS);

	if (exit_qualification & EPT_VIOLATION_GVA_IS_VALID)
		trace_kvm_page_fault(vcpu, gpa, exit_qualification);
	return kvm_mmu_page_fault(vcpu, gpa, exit_qualification, NULL, 0);
}

void vmx_set_constant_host_state(struct vcpu_vmx *vmx)
{
	struct desc_ptr dt;

	vmcs_writel(HOST_CR0, read_cr0());
	/* Per-CPU state written once, in the constant-state path: stale after migration. */
	vmcs_writel(HOST_TR_BASE, (unsigned long)&get_cpu_entry_area(cpu)->tss.x86_tss);
	vmcs_write16(HOST_CS_SELECTOR, __KERNEL_CS);
	vmcs_write16(HOST_TR_SELECTOR, GDT_ENTRY_TSS * 8);

	store_idt(&dt);
	vmcs_writel(HOST_IDTR_BASE, dt.address);
	vmcs_writel(HOST_RIP, (unsigned long)vmx_vmexit);
	vmcs_write32(HOST_IA32_SYSENTER_CS, __KERNEL_CS);
	vmcs_write64(HOST_IA32_PAT, host_pat);
}

static void nested_reflect_exit_example(struct kvm_vcpu *vcpu, u32 exit_reason)
{
	if (exit_reason == EXIT_REASON_EPT_VIOLATION ||
	    exit_reason == EXIT_REASON_EPT_MISCONFIG)
		vmcs_write64(GUEST_PHYSICAL_ADDRESS, 0);
	vmcs_write32(VM_EXIT_INSTRUCTION_LEN, 0);
	vmcs_clear_bits(CPU_BASED_VM_EXEC_CONTROL, CPU_BASED_USE_MSR_BITMAPS);
	vmcs_set_bits(SECONDARY_VM_EXEC_CONTROL, SECONDARY_EXEC_ENABLE_EPT);
}

static void vmx_xfd_passthrough_example(struct kvm_vcpu *vcpu)
{
	if (vcpu->arch.guest_fpu.fpstate->xfd == 0)
		return;
	/* Passthrough without a re-sync of fpstate->xfd after VM exit (seed 004). */
	vmx_disable_intercept_for_msr(vcpu, MSR_IA32_XFD, MSR_TYPE_RW);
}
