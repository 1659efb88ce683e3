// Synthetic KVM-style C corpus for the benchmark and the robustness tests. The text is generated here from
// templates (not copied from the kernel): functions that move VMCS fields through the accessors, vmcs12 members,
// VMCB control/save members and int_ctl masks under nested_cpu_has_*/is_pae_paging conditions, exit-handler
// tables, switch statements, comments, #ifdef blocks and macros — the shapes the analysis meets in
// arch/x86/kvm/{vmx,svm}/*.c.

/** Deterministic PRNG (mulberry32). */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// [name, accessor width, vmcs12 member]
const VMCS = [
  ['GUEST_PDPTR0', 64, 'guest_pdptr0'], ['GUEST_PDPTR1', 64, 'guest_pdptr1'], ['GUEST_PDPTR2', 64, 'guest_pdptr2'],
  ['GUEST_PDPTR3', 64, 'guest_pdptr3'], ['GUEST_CS_SELECTOR', 16, 'guest_cs_selector'], ['GUEST_ES_SELECTOR', 16, 'guest_es_selector'],
  ['GUEST_CS_LIMIT', 32, 'guest_cs_limit'], ['GUEST_CS_AR_BYTES', 32, 'guest_cs_ar_bytes'], ['GUEST_CS_BASE', 'l', 'guest_cs_base'],
  ['GUEST_RIP', 'l', 'guest_rip'], ['GUEST_RSP', 'l', 'guest_rsp'], ['GUEST_RFLAGS', 'l', 'guest_rflags'], ['GUEST_CR0', 'l', 'guest_cr0'],
  ['GUEST_CR3', 'l', 'guest_cr3'], ['GUEST_CR4', 'l', 'guest_cr4'], ['GUEST_IA32_EFER', 64, 'guest_ia32_efer'],
  ['GUEST_IA32_PAT', 64, 'guest_ia32_pat'], ['GUEST_INTERRUPTIBILITY_INFO', 32, 'guest_interruptibility_info'],
  ['GUEST_ACTIVITY_STATE', 32, 'guest_activity_state'], ['VM_EXIT_REASON', 32, 'vm_exit_reason'],
  ['EXIT_QUALIFICATION', 'l', 'exit_qualification'], ['VM_EXIT_INTR_INFO', 32, 'vm_exit_intr_info'],
  ['VM_EXIT_INSTRUCTION_LEN', 32, 'vm_exit_instruction_len'], ['GUEST_PHYSICAL_ADDRESS', 64, 'guest_physical_address'],
  ['GUEST_LINEAR_ADDRESS', 'l', 'guest_linear_address'], ['VM_ENTRY_INTR_INFO_FIELD', 32, 'vm_entry_intr_info_field'],
  ['CPU_BASED_VM_EXEC_CONTROL', 32, 'cpu_based_vm_exec_control'], ['SECONDARY_VM_EXEC_CONTROL', 32, 'secondary_vm_exec_control'],
  ['PIN_BASED_VM_EXEC_CONTROL', 32, 'pin_based_vm_exec_control'], ['TSC_OFFSET', 64, 'tsc_offset'], ['EPT_POINTER', 64, 'ept_pointer'],
  ['HOST_RIP', 'l', 'host_rip'], ['HOST_CR3', 'l', 'host_cr3'], ['HOST_FS_BASE', 'l', 'host_fs_base'],
];
const VMCB_CONTROL = ['int_ctl', 'int_vector', 'int_state', 'exit_code', 'exit_info_1', 'exit_info_2', 'exit_int_info', 'tsc_offset', 'nested_ctl', 'event_inj', 'virt_ext', 'intercepts'];
const VMCB_SAVE = ['cr0', 'cr3', 'cr4', 'efer', 'rip', 'rsp', 'rflags', 'dr6', 'dr7', 'g_pat', 'kernel_gs_base', 'star', 'lstar'];
const MASKS = ['V_IRQ_MASK', 'V_TPR_MASK', 'V_INTR_MASKING_MASK', 'V_GIF_MASK', 'V_GIF_ENABLE_MASK', 'V_NMI_PENDING_MASK', 'V_IRQ_INJECTION_BITS_MASK'];
const CONDS = ['nested_cpu_has_ept(vmcs12)', 'is_pae_paging(vcpu)', 'enable_ept', 'nested_vgif_enabled(svm)', 'nested_cpu_has_vid(vmcs12)',
  'vmx->nested.nested_run_pending', 'kvm_mpx_supported()', 'nested_cpu_has2(vmcs12, SECONDARY_EXEC_ENABLE_EPT)', 'svm->nested.vmcb12_gpa'];
const EXITS = ['EXIT_REASON_EXCEPTION_NMI', 'EXIT_REASON_EXTERNAL_INTERRUPT', 'EXIT_REASON_CPUID', 'EXIT_REASON_HLT', 'EXIT_REASON_MSR_READ',
  'EXIT_REASON_MSR_WRITE', 'EXIT_REASON_EPT_VIOLATION', 'EXIT_REASON_EPT_MISCONFIG', 'EXIT_REASON_IO_INSTRUCTION', 'EXIT_REASON_CR_ACCESS'];
const WORDS = ['vcpu', 'state', 'entry', 'exit', 'guest', 'host', 'shadow', 'cache', 'sync', 'prepare', 'update', 'check', 'load', 'save', 'pending', 'intr', 'tlb', 'mmu', 'apic', 'tsc'];

const acc = (w, write) => `vmcs_${write ? 'write' : 'read'}${w}`;

function pick(r, a) { return a[Math.floor(r() * a.length)]; }

function fnName(r, i, prefix) {
  return `${prefix}_${pick(r, WORDS)}_${pick(r, WORDS)}_${i}`;
}

const FILLER = [
  (r, ind) => `${ind}${pick(r, WORDS)}_${pick(r, WORDS)} = ${pick(r, WORDS)}_${pick(r, WORDS)}(vcpu, ${Math.floor(r() * 64)});`,
  (r, ind) => `${ind}if (!${pick(r, WORDS)}_${pick(r, WORDS)})\n${ind}\tgoto out;`,
  (r, ind) => `${ind}kvm_${pick(r, WORDS)}_${pick(r, WORDS)}(vcpu->kvm, gfn + ${Math.floor(r() * 512)}, PAGE_SIZE);`,
  (r, ind) => `${ind}vmx->nested.${pick(r, WORDS)}_${pick(r, WORDS)} = ${r() < 0.5 ? 'true' : 'false'};`,
  (r, ind) => `${ind}/* ${pick(r, WORDS)} ${pick(r, WORDS)} ${pick(r, WORDS)}, then ${pick(r, WORDS)} the ${pick(r, WORDS)}. */`,
  (r, ind) => `${ind}WARN_ON_ONCE(${pick(r, WORDS)} & ~${pick(r, WORDS).toUpperCase()}_MASK);`,
  (r, ind) => `${ind}rc = ${pick(r, WORDS)}_${pick(r, WORDS)}(vcpu, &${pick(r, WORDS)}, sizeof(${pick(r, WORDS)}));`,
  (r, ind) => '',
];

function statement(r, ind, depth) {
  // Real KVM files have a field reference on roughly one line in five; most statements are plain C.
  if (r() < 0.72) return pick(r, FILLER)(r, ind);
  const t = Math.floor(r() * 14);
  const [name, w, member] = pick(r, VMCS);
  switch (t) {
    case 0: return `${ind}vmcs12->${member} = ${acc(w, false)}(${name});`;
    case 1: return `${ind}${acc(w, true)}(${name}, vmcs12->${member});`;
    case 2: { // occasionally a width mismatch, as the rules should flag
      const bad = r() < 0.15 ? (w === 64 ? 32 : 64) : w;
      return `${ind}val = ${acc(bad, false)}(${name});`;
    }
    case 3: return `${ind}svm->vmcb->control.${pick(r, VMCB_CONTROL)} = svm->nested.ctl.${pick(r, VMCB_CONTROL)};`;
    case 4: return `${ind}vmcb12->save.${pick(r, VMCB_SAVE)} = vmcb02->save.${pick(r, VMCB_SAVE)};`;
    case 5: { const m = pick(r, MASKS); return `${ind}svm->vmcb->control.int_ctl ${r() < 0.5 ? '|=' : '&='} ${r() < 0.5 ? '' : '~'}${m};`; }
    case 6: return `${ind}/* ${pick(r, WORDS)} the ${pick(r, WORDS)} ${name} before ${pick(r, WORDS)}: see SDM 27.3 */`;
    case 7: return `${ind}kvm_register_write(vcpu, VCPU_REGS_R${Math.floor(r() * 15)}, ${acc(w, false)}(${name}) & 0x${Math.floor(r() * 65535).toString(16)});`;
    case 8: return `${ind}trace_kvm_nested_${pick(r, WORDS)}(vcpu, ${member === 'vm_exit_reason' ? 'vmcs12->vm_exit_reason' : `vmcs12->${member}`}, ${Math.floor(r() * 100)});`;
    case 9: return `${ind}if (unlikely(!vmx->nested.${pick(r, WORDS)}_${pick(r, WORDS)}))\n${ind}\treturn -EINVAL;`;
    case 10: return `${ind}${pick(r, WORDS)}_${pick(r, WORDS)} = (u${pick(r, [8, 16, 32, 64])})${pick(r, WORDS)} << ${Math.floor(r() * 32)};`;
    case 11: return `${ind}vmcs_set_bits(${pick(r, ['CPU_BASED_VM_EXEC_CONTROL', 'SECONDARY_VM_EXEC_CONTROL', 'PIN_BASED_VM_EXEC_CONTROL'])}, ${pick(r, ['CPU_BASED_TPR_SHADOW', 'SECONDARY_EXEC_ENABLE_EPT', 'PIN_BASED_NMI_EXITING'])});`;
    case 12: return `${ind}kvm_make_request(KVM_REQ_${pick(r, ['TLB_FLUSH', 'EVENT', 'PMU', 'GET_NESTED_STATE_PAGES'])}, vcpu);`;
    default: return depth > 2 ? `${ind}x++;` : `${ind}${fnName(r, Math.floor(r() * 400), pick(r, ['nested_vmx', 'vmx', 'nested_svm']))}(vcpu${r() < 0.5 ? ', vmcs12' : ''});`;
  }
}

function block(r, ind, lines, depth) {
  const out = [];
  while (out.length < lines) {
    const k = r();
    if (depth < 3 && k < 0.14) {
      const inner = block(r, `${ind}\t`, 2 + Math.floor(r() * 5), depth + 1);
      out.push(`${ind}if (${pick(r, CONDS)}${r() < 0.3 ? ` && ${pick(r, CONDS)}` : ''}) {`, ...inner, `${ind}}${r() < 0.3 ? ' else {' : ''}`);
      if (out[out.length - 1].endsWith('{')) out.push(`${ind}\t${statement(r, '', depth + 1)}`, `${ind}}`);
    } else if (depth < 2 && k < 0.17) {
      out.push(`${ind}switch (${acc(32, false)}(VM_EXIT_REASON) & 0xffff) {`);
      for (let c = 0; c < 3; c++) out.push(`${ind}case ${pick(r, EXITS)}:`, statement(r, `${ind}\t`, depth + 1), `${ind}\tbreak;`);
      out.push(`${ind}default:`, `${ind}\tbreak;`, `${ind}}`);
    } else if (depth < 2 && k < 0.19) {
      out.push(`${ind}for (i = 0; i < ${pick(r, ['4', 'nr', 'NR_VMX_MSR'])}; i++) {`, statement(r, `${ind}\t`, depth + 1), `${ind}}`);
    } else out.push(...statement(r, ind, depth).split('\n'));
  }
  return out;
}

function fileText(r, index, targetLines, prefix) {
  const out = [
    `// SPDX-License-Identifier: GPL-2.0`,
    `/* Synthetic KVM-style source ${index} for kvm-lens benchmarks (generated). */`,
    '',
    '#include <linux/kvm_host.h>',
    '#include <asm/vmx.h>',
    '#include "nested.h"',
    '',
    `#define ${prefix.toUpperCase()}_CHECK(x) do { if (!(x)) return -EINVAL; } while (0)`,
    `#define ${prefix.toUpperCase()}_FIELD(n) ((n) & 0x7fff)`,
    '',
    `static bool __read_mostly enable_${prefix}_feature_${index} = 1;`,
    `module_param(enable_${prefix}_feature_${index}, bool, 0444);`,
    '',
  ];
  let i = 0;
  while (out.length < targetLines) {
    const k = r();
    if (k < 0.03) {
      out.push(`#ifdef CONFIG_X86_64`, `static inline u64 ${fnName(r, i++, prefix)}(void)`, '{', `\treturn ${acc('l', false)}(GUEST_CS_BASE);`, '}', '#endif', '');
    } else if (k < 0.05) {
      out.push(`static int (*${prefix}_handlers_${i++}[])(struct kvm_vcpu *vcpu) = {`);
      for (let e = 0; e < 4; e++) out.push(`\t[${pick(r, EXITS)}] = handle_${pick(r, WORDS)}_${e},`);
      out.push('};', '');
    } else if (k < 0.07) {
      out.push(`struct ${prefix}_${pick(r, WORDS)}_${i++} {`, '\tu64 gpa;', '\tu32 flags;', '\tstruct list_head link;', '};', '');
    } else {
      const body = block(r, '\t', 20 + Math.floor(r() * 45), 0);
      out.push(
        `/*\n * ${fnName(r, i, prefix)} - ${pick(r, WORDS)} ${pick(r, WORDS)} for L2.\n */`,
        `static ${pick(r, ['void', 'int', 'bool'])} ${fnName(r, i++, prefix)}(struct kvm_vcpu *vcpu, struct vmcs12 *vmcs12)`,
        '{',
        '\tstruct vcpu_vmx *vmx = to_vmx(vcpu);',
        '\tstruct vcpu_svm *svm = to_svm(vcpu);',
        '\tu64 val = 0;',
        '\tint i;',
        '',
        ...body,
        '}',
        '',
      );
    }
  }
  return `${out.join('\n')}\n`;
}

/**
 * The synthetic corpus: `files` entries { path, text }. The first four files are nested.c-sized (~7 000 lines);
 * the rest are 600–2 000 lines; the total is ≥ `minLines` lines.
 */
export function synthCorpus({ seed = 42, minLines = 110000, bigFiles = 4, bigLines = 7000 } = {}) {
  const r = rng(seed);
  const files = [];
  let total = 0;
  let n = 0;
  while (total < minLines) {
    const big = n < bigFiles;
    const prefix = n % 2 ? 'nested_svm' : 'nested_vmx';
    const target = big ? bigLines : 600 + Math.floor(r() * 1400);
    const text = fileText(r, n, target, prefix);
    const dir = n % 2 ? 'kvm/svm' : 'kvm/vmx';
    files.push({ path: `${dir}/${big ? `nested_big${n}` : `synth${n}`}.c`, text });
    total += text.split('\n').length - 1;
    n++;
  }
  return files;
}

/** One nested.c-like file of about `lines` lines. */
export function synthFile(lines = 7000, seed = 7) {
  return fileText(rng(seed), 0, lines, 'nested_vmx');
}
