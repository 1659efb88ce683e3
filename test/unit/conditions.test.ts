// Path conditions (server/src/analysis/conditions.ts): mapping of C conditions onto model predicates, control flow
// (if/else, &&/||, !, early exits, goto, switch, ternaries, loops), three-valued evaluation and robustness.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initParser } from '../../server/src/analysis/parser';
import { analyzeText, type DocumentAnalysis } from '../../server/src/analysis/document';
import {
  and, conditionAt, evaluate, formulaToString, functionConditions, guardsAt, mayBeTrue, mayHold, mustBeTrue, mustHold,
  not, or, pred, predicatesOf, satisfiable, type Formula,
} from '../../server/src/analysis/conditions';
import { exitHandlerTable, exitReasonsOf, functionRoles, roleOfFunction } from '../../server/src/analysis/roles';

/** Condition at the code following the marker comment `/*@name*\/` in a C snippet. */
function condAt(src: string, marker = 'HERE'): { f: Formula; doc: DocumentAnalysis } {
  const doc = analyzeText(src);
  const m = src.indexOf(`/*@${marker}*/`);
  assert.ok(m >= 0, `marker ${marker}`);
  // The code right after the marker (a marker placed before a statement sits outside the statement's node).
  let at = m + `/*@${marker}*/`.length;
  while (/\s/.test(src[at] ?? '')) at++;
  return { f: conditionAt(doc, at), doc };
}

function fn(body: string, params = 'struct kvm_vcpu *vcpu, struct vmcs12 *vmcs12'): string {
  return `static int f(${params})\n{\n${body}\n}\n`;
}

const must = (f: Formula, k: string, v = true): boolean => mustBeTrue(f, k, v);

test('if / else / else-if', async () => {
  await initParser();
  const src = fn(`
  if (enable_ept) { /*@A*/ x(); }
  else if (is_pae_paging(vcpu)) { /*@B*/ y(); }
  else { /*@C*/ z(); }
  /*@D*/`);
  const a = condAt(src, 'A').f;
  assert.ok(must(a, 'enable_ept'));
  const b = condAt(src, 'B').f;
  assert.ok(must(b, 'enable_ept', false) && must(b, 'pae_paging'));
  const c = condAt(src, 'C').f;
  assert.ok(must(c, 'enable_ept', false) && must(c, 'pae_paging', false));
  assert.equal(condAt(src, 'D').f.kind, 'true');
});

test('&&, ||, ! and comparisons with 0', async () => {
  await initParser();
  const src = fn(`
  if (nested_cpu_has_ept(vmcs12) && !is_long_mode(vcpu)) /*@A*/ x();
  if (!(enable_ept || vgif)) /*@B*/ x();
  if (is_guest_mode(vcpu) == 0) /*@C*/ x();
  if (nested_vgif_enabled(svm) != 0) /*@D*/ x();
  v = enable_ept && /*@E*/ g();
  w = enable_ept || /*@F*/ g();`);
  const a = condAt(src, 'A').f;
  assert.ok(must(a, 'nested_ept') && must(a, 'long_mode', false));
  assert.ok(must(a, 'enable_ept'), 'nested EPT implies EPT (background fact)');
  const b = condAt(src, 'B').f;
  assert.ok(must(b, 'enable_ept', false) && must(b, 'vgif', false));
  assert.ok(must(condAt(src, 'C').f, 'guest_mode', false));
  assert.ok(must(condAt(src, 'D').f, 'nested_vgif'));
  assert.ok(must(condAt(src, 'E').f, 'enable_ept'));
  assert.ok(must(condAt(src, 'F').f, 'enable_ept', false));
});

test('early return, goto, break and continue', async () => {
  await initParser();
  const src = fn(`
  if (!enable_ept)
    return 0;
  /*@A*/ a();
  if (!is_pae_paging(vcpu))
    goto out;
  /*@B*/ b();
  for (i = 0; i < 4; i++) {
    if (is_long_mode(vcpu))
      continue;
    /*@C*/ c();
  }
out:
  /*@D*/ return 1;`);
  assert.ok(must(condAt(src, 'A').f, 'enable_ept'));
  const b = condAt(src, 'B').f;
  assert.ok(must(b, 'enable_ept') && must(b, 'pae_paging'));
  assert.ok(must(condAt(src, 'C').f, 'long_mode', false));
  const d = condAt(src, 'D').f;
  assert.ok(must(d, 'enable_ept'), 'still after the first early return');
  assert.ok(!must(d, 'pae_paging') && mayBeTrue(d, 'pae_paging', false), 'the label merges the goto path');
});

test('if with an exiting else branch', async () => {
  await initParser();
  const src = fn(`
  if (enable_ept) { a(); } else { return -1; }
  /*@A*/ b();`);
  assert.ok(must(condAt(src, 'A').f, 'enable_ept'));
});

test('switch on exit reasons, fall-through and default', async () => {
  await initParser();
  const src = fn(`
  switch (vmx->exit_reason.basic) {
  case EXIT_REASON_EPT_VIOLATION:
    /*@A*/ a();
    break;
  case EXIT_REASON_MSR_READ:
  case EXIT_REASON_MSR_WRITE:
    /*@B*/ b();
  case EXIT_REASON_HLT:
    /*@C*/ c();
    break;
  default:
    /*@D*/ d();
  }`, 'struct vcpu_vmx *vmx');
  const a = condAt(src, 'A').f;
  assert.ok(must(a, 'exit_reason=EXIT_REASON_EPT_VIOLATION'));
  assert.ok(must(a, 'exit_reason=EXIT_REASON_HLT', false), 'exit reasons are exclusive');
  const b = condAt(src, 'B').f;
  assert.ok(mayBeTrue(b, 'exit_reason=EXIT_REASON_MSR_READ', true) && mayBeTrue(b, 'exit_reason=EXIT_REASON_MSR_WRITE', true));
  assert.ok(!mayBeTrue(b, 'exit_reason=EXIT_REASON_HLT', true));
  const c = condAt(src, 'C').f;
  assert.ok(mayBeTrue(c, 'exit_reason=EXIT_REASON_MSR_READ', true), 'fall-through from the MSR cases');
  assert.ok(mayBeTrue(c, 'exit_reason=EXIT_REASON_HLT', true));
  assert.ok(!mayBeTrue(c, 'exit_reason=EXIT_REASON_EPT_VIOLATION', true));
  const d = condAt(src, 'D').f;
  assert.ok(must(d, 'exit_reason=EXIT_REASON_EPT_VIOLATION', false) && must(d, 'exit_reason=EXIT_REASON_HLT', false));
});

test('exit-reason comparisons in their KVM spellings', async () => {
  await initParser();
  const src = fn(`
  if (exit_reason.basic == EXIT_REASON_EPT_MISCONFIG) /*@A*/ a();
  if (to_vmx(vcpu)->exit_reason.basic != EXIT_REASON_HLT) /*@B*/ b();
  if ((u16)vmx->vt.exit_reason.basic == EXIT_REASON_CPUID) /*@C*/ c();
  if (svm->vmcb->control.exit_code == SVM_EXIT_VINTR) /*@D*/ d();
  if (exit_code == SVM_EXIT_NPF) /*@E*/ e();
  if (vmcs12->vm_exit_reason == EXIT_REASON_HLT) /*@F*/ f();`);
  assert.ok(must(condAt(src, 'A').f, 'exit_reason=EXIT_REASON_EPT_MISCONFIG'));
  assert.ok(must(condAt(src, 'B').f, 'exit_reason=EXIT_REASON_HLT', false));
  assert.ok(must(condAt(src, 'C').f, 'exit_reason=EXIT_REASON_CPUID'));
  assert.ok(must(condAt(src, 'D').f, 'exit_reason=SVM_EXIT_VINTR'));
  assert.ok(must(condAt(src, 'E').f, 'exit_reason=SVM_EXIT_NPF'));
  assert.deepEqual(predicatesOf(condAt(src, 'F').f), [], "vmcs12's exit reason is L1's, not the hardware's");
});

test('SVM predicates: intercepts, int_ctl bits with their VMCB object, vgif', async () => {
  await initParser();
  const src = fn(`
  if (svm_is_intercept(svm, INTERCEPT_VINTR)) /*@A*/ a();
  if (vmcb12_is_intercept(&svm->nested.ctl, INTERCEPT_INTR)) /*@B*/ b();
  if (vmcb_is_intercept(&svm->vmcb01.ptr->control, INTERCEPT_NMI)) /*@C*/ c();
  if (!(svm->nested.ctl.int_ctl & V_INTR_MASKING_MASK)) /*@D*/ d();
  if (vmcb02->control.int_ctl & V_IRQ_MASK) /*@E*/ e();
  if (svm->vmcb->control.int_ctl & V_GIF_MASK) /*@F*/ f();
  if (vgif && nested_vgif_enabled(svm)) /*@G*/ g();`, 'struct vcpu_svm *svm, struct vmcb *vmcb02');
  assert.deepEqual(predicatesOf(condAt(src, 'A').f), ['intercept:VINTR']);
  assert.deepEqual(predicatesOf(condAt(src, 'B').f), ['intercept:INTR@vmcb12-cache']);
  assert.deepEqual(predicatesOf(condAt(src, 'C').f), ['intercept:NMI@vmcb01']);
  const d = condAt(src, 'D').f;
  assert.ok(must(d, 'int_ctl:V_INTR_MASKING@vmcb12-cache', false));
  assert.deepEqual(predicatesOf(condAt(src, 'E').f), ['int_ctl:V_IRQ@vmcb02']);
  assert.deepEqual(predicatesOf(condAt(src, 'F').f), ['int_ctl:V_GIF']);
  assert.deepEqual(predicatesOf(condAt(src, 'G').f), ['nested_vgif', 'vgif']);
});

test('long mode spellings, VMWRITE-any-field, wrappers', async () => {
  await initParser();
  const src = fn(`
  if (vmcs12->vm_entry_controls & VM_ENTRY_IA32E_MODE) /*@A*/ a();
  if (vcpu->arch.efer & EFER_LMA) /*@B*/ b();
  if (nested_cpu_has_vmwrite_any_field(vcpu)) /*@C*/ c();
  if (vmx->nested.msrs.misc_low & VMX_MISC_VMWRITE_SHADOW_RO_FIELDS) /*@D*/ d();
  if (unlikely(!enable_ept)) /*@E*/ e();
  if (WARN_ON_ONCE(is_guest_mode(vcpu))) /*@F*/ f();
  if (KVM_BUG_ON(!is_pae_paging(vcpu), vcpu->kvm)) /*@G*/ g();`);
  assert.ok(must(condAt(src, 'A').f, 'long_mode'));
  assert.ok(must(condAt(src, 'B').f, 'long_mode'));
  assert.ok(must(condAt(src, 'C').f, 'vmwrite_any_field'));
  assert.ok(must(condAt(src, 'D').f, 'vmwrite_any_field'));
  assert.ok(must(condAt(src, 'E').f, 'enable_ept', false));
  assert.ok(must(condAt(src, 'F').f, 'guest_mode'));
  assert.ok(must(condAt(src, 'G').f, 'pae_paging', false));
});

test('PAE paging spelled as paging && CR4.PAE && !long mode', async () => {
  await initParser();
  const src = fn(`
  if (is_paging(vcpu) && is_pae(vcpu) && !is_long_mode(vcpu)) /*@A*/ a();
  if (is_paging(vcpu) && is_pae(vcpu)) /*@B*/ b();`);
  assert.ok(must(condAt(src, 'A').f, 'pae_paging'));
  assert.ok(!must(condAt(src, 'B').f, 'pae_paging'), 'long mode is still possible');
});

test('unknown conditions stay unknown: never assumed true, never false', async () => {
  await initParser();
  const src = fn(`
  if (cpu_has_load_ia32_efer() && something_else(vcpu)) /*@A*/ a();`);
  const a = condAt(src, 'A').f;
  assert.deepEqual(predicatesOf(a), []);
  assert.ok(!must(a, 'enable_ept') && !must(a, 'enable_ept', false));
  assert.ok(mayBeTrue(a, 'enable_ept', true) && mayBeTrue(a, 'enable_ept', false));
  assert.equal(evaluate(a, new Map()), undefined);
  assert.match(formulaToString(a), /\?\(cpu_has_load_ia32_efer\(\)\)/);
});

test('ternaries', async () => {
  await initParser();
  const src = fn(`
  x = enable_ept ? /*@A*/ a() : /*@B*/ b();`);
  assert.ok(must(condAt(src, 'A').f, 'enable_ept'));
  assert.ok(must(condAt(src, 'B').f, 'enable_ept', false));
});

test('local bool variables assigned once from predicates', async () => {
  await initParser();
  const src = fn(`
  bool load = nested_cpu_has_ept(vmcs12) && is_pae_paging(vcpu);
  bool twice = enable_ept;

  twice = false;
  if (load) /*@A*/ a();
  if (!load) /*@B*/ b();
  if (twice) /*@C*/ c();`);
  const a = condAt(src, 'A').f;
  assert.ok(must(a, 'nested_ept') && must(a, 'pae_paging'));
  assert.ok(mayBeTrue(condAt(src, 'B').f, 'pae_paging', false));
  assert.deepEqual(predicatesOf(condAt(src, 'C').f), [], 'reassigned variables are unknown');
});

test('loop conditions', async () => {
  await initParser();
  const src = fn(`
  while (is_guest_mode(vcpu)) { /*@A*/ a(); }`);
  assert.ok(must(condAt(src, 'A').f, 'guest_mode'));
});

test('guards carry their C text and range', async () => {
  await initParser();
  const src = fn(`
  if (enable_ept) {
    /*@A*/ a();
  }`);
  const doc = analyzeText(src);
  const gs = guardsAt(doc, src.indexOf('/*@A*/'));
  assert.equal(gs.length, 1);
  assert.equal(gs[0].kind, 'if');
  assert.equal(src.slice(gs[0].condStart, gs[0].condEnd), '(enable_ept)');
});

test('three-valued evaluation and formula helpers', () => {
  const e = pred('enable_ept');
  const p = pred('pae_paging');
  const f = and(e, not(p));
  assert.equal(evaluate(f, new Map([['enable_ept', true], ['pae_paging', false]])), true);
  assert.equal(evaluate(f, new Map([['enable_ept', false]])), false, 'false AND unknown = false');
  assert.equal(evaluate(f, new Map([['enable_ept', true]])), undefined);
  assert.equal(evaluate(or(e, p), new Map([['pae_paging', true]])), true, 'unknown OR true = true');
  assert.deepEqual(predicatesOf(f), ['enable_ept', 'pae_paging']);
  assert.ok(mustHold(and(e, p), or(e, pred('nested_ept'))));
  assert.ok(!mayHold(e, not(e)));
  assert.ok(!satisfiable(and(pred('exit_reason=EXIT_REASON_HLT'), pred('exit_reason=EXIT_REASON_CPUID'))));
  assert.ok(!satisfiable(and(pred('nested_ept'), not(pred('enable_ept')))));
  assert.equal(formulaToString(f), '(enable_ept && !pae_paging)');
  // many variables: falls back to Kleene evaluation without blowing up
  const big = and(...Array.from({ length: 40 }, (_, i) => pred(`p${i}`)));
  assert.ok(satisfiable(big));
  assert.ok(mustBeTrue(and(big, e), 'enable_ept', true));
});

test('ERROR nodes and kernel macros degrade to unknown without throwing', async () => {
  await initParser();
  const src = `static int f(struct kvm_vcpu *vcpu)
{
  DEFINE_WEIRD_MACRO(x) {
    if (enable_ept @@ is_pae_paging(vcpu)) /*@A*/ a();
  }
  for_each_set_bit(i, mask, 64)
    if (enable_ept) /*@B*/ b();
  asm volatile("vmxon %0" : : "m"(x) : "memory");
}`;
  const doc = analyzeText(src);
  assert.doesNotThrow(() => conditionAt(doc, src.indexOf('/*@A*/')));
  assert.doesNotThrow(() => conditionAt(doc, src.indexOf('/*@B*/')));
  assert.ok(!must(conditionAt(doc, src.indexOf('/*@A*/')), 'pae_paging'), 'a misparsed condition is not trusted');
});

test('5000-deep nesting: no stack overflow, bounded time', async () => {
  await initParser();
  const depth = 5000;
  const ifs = fn(`${'if (enable_ept) {'.repeat(depth)} /*@A*/ a(); ${'}'.repeat(depth)}`);
  const parens = fn(`if (${'('.repeat(depth)}enable_ept${')'.repeat(depth)}) /*@A*/ a();`);
  const ands = fn(`if (${Array.from({ length: depth }, () => 'is_pae_paging(vcpu)').join(' && ')}) /*@A*/ a();`);
  const elses = fn(`${Array.from({ length: depth }, (_, i) => `if (x == ${i}) a(); else`).join(' ')} /*@A*/ b();`);
  for (const src of [ifs, parens, ands, elses]) {
    const t0 = Date.now();
    const doc = analyzeText(src);
    const f = conditionAt(doc, src.indexOf('/*@A*/'));
    assert.ok(typeof formulaToString(f) === 'string');
    assert.ok(typeof mustBeTrue(f, 'enable_ept', true) === 'boolean');
    assert.ok(Date.now() - t0 < 60000, 'bounded time');
  }
  const doc = analyzeText(ifs);
  assert.ok(mustBeTrue(conditionAt(doc, ifs.indexOf('/*@A*/')), 'enable_ept', true));
});

test('conditions are computed once per function and cached per document', async () => {
  await initParser();
  const src = fn('if (enable_ept) /*@A*/ a();');
  const doc = analyzeText(src);
  const f0 = doc.functions[0];
  assert.equal(functionConditions(doc, f0), functionConditions(doc, f0));
  assert.equal(conditionAt(doc, 0).kind, 'true', 'outside any function');
});

test('roles: exit-handler tables and propagation through callers', async () => {
  await initParser();
  const src = `
static void helper_q(struct kvm_vcpu *vcpu) { }
static void shared(struct kvm_vcpu *vcpu) { }
static int handle_io(struct kvm_vcpu *vcpu) { helper_q(vcpu); shared(vcpu); return 1; }
static int handle_cr(struct kvm_vcpu *vcpu) { helper_q(vcpu); return 1; }
static int handle_vmx_instruction(struct kvm_vcpu *vcpu) { return 1; }
static int vmx_handle_exit(struct kvm_vcpu *vcpu) { shared(vcpu); return 0; }
static int handle_npf(struct kvm_vcpu *vcpu) { return 1; }
static int (*kvm_vmx_exit_handlers[])(struct kvm_vcpu *vcpu) = {
	[EXIT_REASON_IO_INSTRUCTION] = handle_io,
	[EXIT_REASON_CR_ACCESS]      = handle_cr,
	[EXIT_REASON_VMCLEAR]        = handle_vmx_instruction,
	[EXIT_REASON_VMPTRLD]        = handle_vmx_instruction,
};
static int (*const svm_exit_handlers[])(struct kvm_vcpu *vcpu) = {
	[SVM_EXIT_NPF] = npf_interception,
};
void setup(int (*exit_handlers[])(struct kvm_vcpu *)) { exit_handlers[EXIT_REASON_VMREAD] = handle_npf; }
void vmx_set_constant_host_state(struct vcpu_vmx *vmx) { }
`;
  const doc = analyzeText(src);
  const table = exitHandlerTable(doc);
  assert.deepEqual(table.get('handle_vmx_instruction'), ['EXIT_REASON_VMCLEAR', 'EXIT_REASON_VMPTRLD']);
  assert.deepEqual(table.get('npf_interception'), ['SVM_EXIT_NPF']);
  assert.deepEqual(table.get('handle_npf'), ['EXIT_REASON_VMREAD']);
  assert.deepEqual(exitReasonsOf(doc, 'handle_io'), ['EXIT_REASON_IO_INSTRUCTION']);
  assert.deepEqual(exitReasonsOf(doc, 'helper_q')?.sort(), ['EXIT_REASON_CR_ACCESS', 'EXIT_REASON_IO_INSTRUCTION']);
  assert.equal(exitReasonsOf(doc, 'shared'), undefined, 'also called from a non-handler');
  assert.equal(roleOfFunction(doc, 'vmx_set_constant_host_state')?.kind, 'constant-host-setup');
  assert.equal(functionRoles(doc).get('handle_io')?.via, 'exit-handler-table');
});

test('forward exploration: cases under #ifdef in a switch, exits inside #ifdef, code reached only by gotos', async () => {
  await initParser();
  // vmx_get_msr's shape: cases compiled only on 64-bit, each ending in break, are all reachable from the switch.
  const msr = fn(`
  switch (msr_info->index) {
#ifdef CONFIG_X86_64
  case MSR_FS_BASE:
    /*@FS*/ msr_info->data = vmcs_readl(GUEST_FS_BASE);
    break;
  case MSR_GS_BASE:
    /*@GS*/ msr_info->data = vmcs_readl(GUEST_GS_BASE);
    break;
#endif
  case MSR_EFER:
    /*@EFER*/ return kvm_get_msr_common(vcpu, msr_info);
  }
  /*@AFTER*/ return 0;`, 'struct kvm_vcpu *vcpu, struct msr_data *msr_info');
  for (const m of ['FS', 'GS', 'EFER', 'AFTER']) assert.ok(satisfiable(condAt(msr, m).f), `${m} is reachable`);

  // An early exit inside `#ifdef CONFIG_KVM_HYPERV` still guards the code after the #endif.
  const hv = fn(`
#ifdef CONFIG_KVM_HYPERV
  if (!enable_ept)
    return 0;
#endif
  /*@A*/ a();`);
  assert.ok(mayBeTrue(condAt(hv, 'A').f, 'enable_ept', true));
  // Either part of the #ifdef may be compiled out: with it out, nothing is known about enable_ept.
  assert.ok(!must(condAt(hv, 'A').f, 'enable_ept'));

  // Code after a label that the fall-through cannot reach runs only under the gotos' conditions.
  const gotos = fn(`
  if (!enable_ept)
    goto fail;
  a();
  return 0;
fail:
  /*@F*/ b();
  return 1;`);
  assert.ok(must(condAt(gotos, 'F').f, 'enable_ept', false));
  // A label only an asm goto jumps to (kvm_cpu_vmxon's `fault:`) is reached, under a condition the explorer cannot
  // know; so is code after a case label spelled by a macro (vmcs12.c's `VMCS12_CASE64(TSC_MULTIPLIER):`).
  const asm = fn(`
  if (!enable_ept)
    return 0;
  asm_volatile_goto("1: vmxon %[vmxon_pointer]\\n\\t"
                    _ASM_EXTABLE(1b, %l[fault])
                    : : [vmxon_pointer] "m"(vmxon_pointer)
                    : : fault);
  return 0;
fault:
  /*@FAULT*/ cr4_clear_bits(X86_CR4_VMXE);
  return -EFAULT;`);
  assert.ok(satisfiable(condAt(asm, 'FAULT').f));
  const macroCase = fn(`
  switch (exit_reason.basic) {
  case EXIT_REASON_HLT:
    return 1;
  VMX_EXIT_CASE(EXIT_REASON_CPUID):
    /*@CPUID*/ a();
    return 2;
  }`);
  const cpuid = condAt(macroCase, 'CPUID').f;
  assert.ok(satisfiable(cpuid) && !must(cpuid, 'exit_reason=EXIT_REASON_HLT'), formulaToString(cpuid));
  // Dead code: nothing reaches it.
  const dead = fn(`
  return 0;
  /*@X*/ a();`);
  assert.equal(condAt(dead, 'X').f.kind, 'false');
});

test('an assignment ends what the path condition said about its lvalue', async () => {
  await initParser();
  // nested_vmx_enable_vmcs_shadowing's shape: the early return tested the pointer before it was allocated.
  const src = fn(`
  if (WARN_ON(loaded_vmcs != &vmx->vmcs01 || loaded_vmcs->shadow_vmcs))
    return loaded_vmcs->shadow_vmcs;
  loaded_vmcs->shadow_vmcs = alloc_vmcs(true);
  if (loaded_vmcs->shadow_vmcs)
    /*@CLEAR*/ vmcs_clear(loaded_vmcs->shadow_vmcs);
  if (!enable_ept)
    return 0;
  vmx->shadow_vmcs = NULL;
  /*@KEPT*/ a();`, 'struct vcpu_vmx *vmx, struct loaded_vmcs *loaded_vmcs');
  assert.ok(satisfiable(condAt(src, 'CLEAR').f), 'not dead');
  // Another lvalue that merely ends the same way is not the one assigned: enable_ept is still known.
  assert.ok(must(condAt(src, 'KEPT').f, 'enable_ept'));
});
