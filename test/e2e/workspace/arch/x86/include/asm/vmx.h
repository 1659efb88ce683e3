/* SPDX-License-Identifier: GPL-2.0 */
/* kvm-lens editor tests: the VMCS field enum, in the style of arch/x86/include/asm/vmx.h (written for these tests). */
#ifndef _ASM_X86_VMX_H
#define _ASM_X86_VMX_H

enum vmcs_field {
	GUEST_INTERRUPTIBILITY_INFO     = 0x00004824,
	GUEST_PDPTR0                    = 0x0000280a,
	GUEST_PDPTR0_HIGH               = 0x0000280b,
	GUEST_PDPTR1                    = 0x0000280c,
	GUEST_CR0                       = 0x00006800,
	GUEST_CR3                       = 0x00006802,
	GUEST_RIP                       = 0x0000681e,
};

#endif
