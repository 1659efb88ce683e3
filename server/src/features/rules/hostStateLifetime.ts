// host-state-lifetime: host-state fields written at the wrong frequency.
//  - warning (stale): a per-CPU field (HOST_TR_BASE, HOST_GDTR_BASE, HOST_IA32_SYSENTER_ESP) or per-task field
//    (HOST_CR3, HOST_CR4, HOST_FS/GS_SELECTOR/BASE, HOST_RSP, ...) written in the constant-host-state path
//    (vmx_set_constant_host_state, run once per vCPU) and nowhere else in the file: after the vCPU migrates to
//    another CPU or the task changes, the VM exit loads a stale value (SDM Vol.3C §28.5; KVM lifetimes in
//    model/semantics.ts hostLifetime).
//  - hint (waste): a constant field re-derived per vCPU from a live register — `store_idt(&dt);
//    vmcs_writel(HOST_IDTR_BASE, dt.address);` in vmx_set_constant_host_state (seed 000: "KVM: VMX: Store the host
//    kernel's IDT base in a global variable").
import type { DocumentAnalysis, FunctionInfo } from '../../analysis/document';
import type { FieldRef } from '../../analysis/refs';
import { functionRoles, roleKindPossible, type RoleKind } from '../../analysis/roles';
import type { VmcsField } from '../../model/index';
import { RULES as SEM, hostLifetime } from '../../model/semantics';
import { SDM } from '../../model/sources';
import type { Finding, Rule } from '../findings';
import { fnAt } from './vmxPaths';

export const RULE_ID = 'host-state-lifetime';

/** Roles that do not refresh per-CPU/per-task state: they run once (per module, per vCPU). */
const ONCE: ReadonlySet<RoleKind> = new Set(['constant-host-setup', 'hardware-setup', 'vcpu-create']);

/** Live-register reads whose value is the same on every CPU after boot, and the constant field they feed. */
const LIVE_SOURCES: ReadonlyArray<{ call: RegExp; what: string; fields: string[] }> = [
  { call: /\b(store_idt|native_store_idt)\s*\(\s*&\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)/g, what: 'the IDTR (SIDT)', fields: ['HOST_IDTR_BASE'] },
];

interface Write { ref: FieldRef; field: VmcsField; fn: FunctionInfo }

export const hostStateLifetime: Rule = {
  id: RULE_ID,
  defaultSeverity: 'warning',
  description: 'Per-CPU/per-task host-state field written only in the constant host-state path (stale), or a constant field re-derived per vCPU from a live register (waste)',
  run(doc: DocumentAnalysis): Finding[] {
    const writes: Write[] = [];
    /** Host fields passed by name to a helper (e.g. add_atomic_switch_msr_special(..., HOST_IA32_PERF_GLOBAL_CTRL, ...)): may be written there. */
    const passed: Write[] = [];
    for (const r of doc.refs) {
      if (r.inComment || r.entity.kind !== 'vmcs' || r.entity.type !== 'host-state') continue;
      const fn = fnAt(doc, r.start);
      if (!fn) continue;
      if (r.accessor && r.accessor.op !== 'read') writes.push({ ref: r, field: r.entity, fn });
      else if (!r.accessor) passed.push({ ref: r, field: r.entity, fn });
    }
    // Only writes in a 'constant-host-setup' function can be flagged.
    if (!writes.length || !roleKindPossible(doc, 'constant-host-setup')) return [];
    const roles = functionRoles(doc);
    const kindOf = (fn: FunctionInfo): RoleKind | undefined => roles.get(fn.name)?.kind;
    const out: Finding[] = [];
    const base = (n: string): string => n.replace(/_HIGH$/, '');
    for (const w of writes) {
      if (kindOf(w.fn) !== 'constant-host-setup') continue;
      const name = base(w.field.name);
      const life = hostLifetime(name);
      if (life === 'per-cpu' || life === 'per-task') {
        const refreshed = [...writes, ...passed].some((o) => base(o.field.name) === name && o.fn.name !== w.fn.name && !ONCE.has(kindOf(o.fn) as RoleKind));
        if (refreshed) continue;
        const when = life === 'per-cpu' ? 'when the vCPU is loaded on another physical CPU (vmx_vcpu_load_vmcs)' : 'before each VM entry or task switch (vmx_vcpu_run / vmx_prepare_switch_to_guest)';
        const source = `${SDM.exitLoadHost}; ${SEM.hostLifetime.source}`;
        out.push({
          rule: RULE_ID, severity: 'warning', start: w.ref.start, end: w.ref.end, source,
          message: `${name} is ${life} host state but is written only in ${w.fn.name}(), which runs once per vCPU: every VM exit loads this field into the CPU, so after ${life === 'per-cpu' ? 'the vCPU migrates to another CPU' : 'the task or its CR3/CR4/segment bases change'} the exit restores a stale value. Rewrite it ${when}. [${source}]`,
        });
        continue;
      }
      if (life !== 'constant') continue;
      // Waste: the value comes from a live register read in this same per-vCPU function.
      const body = doc.text.slice(w.fn.bodyStart, w.fn.bodyEnd);
      const callText = w.ref.callStart !== undefined && w.ref.callEnd !== undefined ? doc.text.slice(w.ref.callStart, w.ref.callEnd) : doc.text.slice(w.ref.start, doc.text.indexOf(';', w.ref.start) + 1);
      for (const src of LIVE_SOURCES) {
        if (!src.fields.includes(name)) continue;
        src.call.lastIndex = 0;
        let m: RegExpExecArray | null;
        while ((m = src.call.exec(body)) !== null) {
          const at = w.fn.bodyStart + m.index;
          if (at > w.ref.start) break;
          if (!new RegExp(`\\b${m[2]}\\b`).test(callText)) continue;
          const source = `${SDM.exitLoadHostSeg}; ${SEM.hostLifetime.source}; KVM patch "KVM: VMX: Store the host kernel's IDT base in a global variable" (Linux 5.3)`;
          out.push({
            rule: RULE_ID, severity: 'hint', start: w.ref.start, end: w.ref.end, source,
            message: `${name} is constant host state (one IDT serves every CPU after boot), but ${w.fn.name}() re-reads it from ${src.what} with ${m[1]}() every time it runs — once per vCPU. Read it once at module setup (e.g. a static host_idt_base filled in hardware_setup) and write that value here. [${source}]`,
            related: [{ start: at, end: at + m[0].length, message: `${m[1]}() reads the live register here` }],
          });
          break;
        }
      }
    }
    return out;
  },
};
