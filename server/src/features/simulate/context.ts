// What surrounds a simulated function: its vendor, its role (the hardware event that leads into it and what follows
// it), and the control structure its callers have loaded when they call it (engine/control.ts entryControl).
import type { DocumentAnalysis } from '../../analysis/document';
import { entryControl, type EntryControl } from '../../analysis/engine/control';
import { roleOfFunction, type Role } from '../../analysis/roles';
import { Machine, type MachineConfig } from '../../model/machine/index';
import type { Interp } from './c';
import type { CFunction, CompiledUnit } from './cir';

export type Vendor = 'vmx' | 'svm';

const SVM_EVIDENCE = /\bvmcb\w*|\bsvm->|\bto_svm\(|\bvmsave\b|\bvmload\b|\bsvm_\w+\(/g;
const VMX_EVIDENCE = /\bvmcs\w*|\bvmx->|\bto_vmx\(|\bvmcs_(read|write)\w*\(|\bvmx_\w+\(/g;

/**
 * VMX or SVM: the file's directory when it says (arch/x86/kvm/vmx, arch/x86/kvm/svm), else the function's own
 * evidence (VMCS accessors and vmcs12 vs VMCB members and SVM helpers), else the document's.
 */
export function vendorOf(fn: CFunction, text: string, doc: DocumentAnalysis): Vendor {
  if (/\/vmx\/[^/]*$/.test(doc.uri)) return 'vmx';
  if (/\/svm\/[^/]*$|\/svm\.c$/.test(doc.uri)) return 'svm';
  const count = (re: RegExp, s: string): number => (s.match(re) ?? []).length;
  const own = count(SVM_EVIDENCE, text) - count(VMX_EVIDENCE, text);
  if (own !== 0) return own > 0 ? 'svm' : 'vmx';
  if (/svm|vmcb/.test(fn.name)) return 'svm';
  return count(SVM_EVIDENCE, doc.text) > count(VMX_EVIDENCE, doc.text) ? 'svm' : 'vmx';
}

export function guessRole(fn: CFunction, text: string, doc: DocumentAnalysis): Role | undefined {
  const r = roleOfFunction(doc, fn.name);
  if (r) return r;
  if (/vmcs12->guest_\w+\s*=\s*vmcs_read/.test(text) || /vmcb12->control\.int_ctl|nested\.ctl\.int_ctl\s*(\||&)?=/.test(text)) return { kind: 'after-l2-exit', label: 'after a VM exit from L2' };
  if (/vmcs_write\w*\(\s*HOST_/.test(text)) return { kind: 'constant-host-setup', label: 'host state setup' };
  if (/\bvmsave\b/.test(text)) return { kind: 'vcpu-run', label: 'before VMRUN (host state save)' };
  return undefined;
}

export function baseConfig(vendor: Vendor, role: Role | undefined): Partial<MachineConfig> {
  const nested = role?.kind === 'after-l2-exit' || role?.kind === 'nested-entry';
  return { vendor, nested };
}

export interface Surroundings {
  doc: DocumentAnalysis;
  unit: CompiledUnit;
  fn: CFunction;
  role?: Role;
  vendor: Vendor;
}

/** The hardware event (and KVM's steps) that lead into the function, and the control structure it starts with. */
export function prelude(it: Interp, s: Surroundings): void {
  const m = it.m;
  const { role, vendor, fn, unit } = s;
  const fnName = fn.name;
  switch (role?.kind) {
    case 'after-l2-exit':
      if (vendor === 'vmx') {
        it.event('VM entry into L2 (vmcs02)', () => m.vmxEntry('L2'), 'L2 runs on vmcs02', Machine.source('vmentry'));
        it.event(`VM exit from L2 (the hardware event that leads into ${fnName})`, () => m.vmxExit(), 'guest state saved into vmcs02 (PDPTRs only with EPT and PAE paging); host state loaded', Machine.source('vmexit'));
      } else {
        it.event('nested VMRUN: nested_vmcb02_prepare_control + VMRUN into L2 (vmcb02)', () => m.svmVmrun('L2'), 'vmcb02.int_ctl = vmcb12 bits for L2 | vmcb01 bits for L0', Machine.source('vmrun'));
        it.event(`#VMEXIT from L2 (the hardware event that leads into ${fnName})`, () => m.svmVmexit(), 'V_TPR, V_IRQ written back (V_GIF only with vGIF, V_NMI_* only with vNMI); GIF cleared', Machine.source('vmexit-svm'));
        // svm_vcpu_run() syncs int_ctl into the cached vmcb12 controls before the exit is handled — in the releases that
        // have nested_sync_control_from_vmcb02 (Linux 5.10+). Run the document's own definition; older trees (v5.2: the
        // copy is inside nested_svm_vmexit itself) get no such step.
        const sync = unit.functions.get('nested_sync_control_from_vmcb02');
        if (sync && sync !== fn && nestedSvmVmexitCallsSync(s.doc, fnName)) {
          // Findings inside the sync belong to a simulation of the sync itself, not of the function asked for.
          const before = it.findings.length;
          it.event('svm_vcpu_run: nested_sync_control_from_vmcb02() (from this document)', () => { it.invoke(sync, []); }, 'int_ctl bits the processor wrote back are copied into the cached vmcb12 control', Machine.source('vmexit-svm'), 'KVM');
          it.findings.length = before;
        }
      }
      break;
    case 'nested-entry':
      m.level = 'L1';
      if (vendor === 'vmx') it.event('L1 executes VMLAUNCH/VMRESUME → VM exit to L0', () => m.vmxExit(20), 'KVM emulates the nested entry', Machine.source('vmexit'));
      else it.event('L1 executes VMRUN → #VMEXIT to L0', () => m.svmVmexit(0x80), 'KVM emulates the nested VMRUN', Machine.source('vmexit-svm'));
      break;
    case 'after-vmexit': case 'exit-handler':
      if (vendor === 'vmx') { it.event('VM entry into L1', () => m.vmxEntry('L1')); it.event('VM exit from L1', () => m.vmxExit(), undefined, Machine.source('vmexit')); } else { it.event('VMRUN into L1', () => m.svmVmrun('L1')); it.event('#VMEXIT from L1', () => m.svmVmexit(), undefined, Machine.source('vmexit-svm')); }
      break;
    default:
      m.level = 'L0';
  }
  const ec = entryOf(s.doc, fnName);
  const vmcs = ec?.vmcs ?? (vendor === 'vmx' && role?.kind === 'nested-entry' && /vmcs02/.test(fnName) ? 'vmcs02' : undefined);
  if (vendor === 'vmx' && vmcs && vmcs !== m.currentVmcs()) {
    const via = ec ? `loaded by the caller: ${ec.via}` : 'KVM builds vmcs02 with vmcs02 loaded (Linux nested_vmx_enter_non_root_mode: vmx_switch_vmcs(vcpu, &vmx->nested.vmcs02) before prepare_vmcs02*)';
    it.event(`current VMCS is ${vmcs}`, () => m.loadVmcs(vmcs), via, undefined, 'KVM');
  }
  if (vendor === 'svm' && ec?.vmcb && ec.vmcb !== m.currentVmcb()) {
    const vmcb = ec.vmcb;
    it.event(`svm->vmcb is ${vmcb}`, () => m.switchVmcb(vmcb), `set by the caller: ${ec.via}`, undefined, 'KVM');
  }
}

/** entryControl, once per document and function: a sweep runs the prelude once per configuration. */
function entryOf(doc: DocumentAnalysis, fnName: string): EntryControl | undefined {
  let byFn = entries.get(doc);
  if (!byFn) entries.set(doc, byFn = new Map());
  if (!byFn.has(fnName)) byFn.set(fnName, entryControl(doc, fnName));
  return byFn.get(fnName);
}
const entries = new WeakMap<DocumentAnalysis, Map<string, EntryControl | undefined>>();

/** Does the simulated function run after svm_vcpu_run's sync (it is not the sync itself, nor called by it)? */
function nestedSvmVmexitCallsSync(doc: DocumentAnalysis, fnName: string): boolean {
  return !/sync_(int_ctl|control)_from_vmcb02/.test(fnName) && doc.functions.some((f) => f.name === 'nested_sync_control_from_vmcb02');
}

/** What follows the function: a migration and a VM entry/exit for host-state setup; VMRUN/#VMEXIT after a host save. */
export function postlude(it: Interp, s: Surroundings): void {
  const m = it.m;
  const { role, vendor, unit, fn } = s;
  if (role?.kind === 'constant-host-setup' || role?.kind === 'per-cpu-load') {
    if (role.kind === 'constant-host-setup') {
      it.event('vCPU migrates to another physical CPU', () => m.migrate(), 'per-CPU host-state values written for the old CPU go stale', Machine.source('migrate'), 'KVM');
      const load = ['vmx_vcpu_load_vmcs', 'vmx_vcpu_load'].map((n) => unit.functions.get(n)).find((f) => f && f !== fn);
      if (load) {
        it.event(`${load.name}() on the new CPU (from this document)`, () => { it.invoke(load, []); }, undefined, undefined, 'KVM');
      }
    }
    if (vendor === 'vmx') {
      it.event('VM entry into L1', () => m.vmxEntry('L1'), undefined, Machine.source('vmentry'));
      it.event('VM exit: host state loaded from vmcs01', () => m.vmxExit(), 'per-CPU host fields must describe the current CPU', Machine.source('vmexit'));
    }
  }
  if (role?.kind === 'vcpu-run' && vendor === 'svm') {
    it.event('VMRUN into L1', () => m.svmVmrun('L1'), undefined, Machine.source('vmrun'));
    it.event('#VMEXIT', () => m.svmVmexit(), 'host state not covered by VMRUN is restored by VMLOAD of the host save area later', Machine.source('vmexit-svm'));
  }
}
