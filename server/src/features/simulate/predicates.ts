// Configuration variables of the sweep and how the shared predicate keys (analysis/conditions.ts) read them.
// A predicate key is evaluated against the machine configuration; every variable it reads is recorded, so the
// sweep learns which variables a region depends on by running it.
import { DEFAULT_CONFIG, type MachineConfig, type PagingMode } from '../../model/machine/index';

export type VarValue = boolean | string;

export interface SweepVar {
  key: string;
  /** Values swept, in order; the first is not necessarily the default. */
  domain: readonly VarValue[];
  apply(cfg: MachineConfig, v: VarValue): void;
  /** Value when the variable is not swept. */
  dflt(cfg: MachineConfig): VarValue;
}

const bool = (key: string, set: (c: MachineConfig, v: boolean) => void, get: (c: MachineConfig) => boolean): SweepVar => ({
  key, domain: [false, true], apply: (c, v) => set(c, v === true), dflt: (c) => get(c),
});

export const PAGING_DOMAIN: readonly PagingMode[] = ['none', '32-bit', 'pae', '4-level'];

export const VARS: Readonly<Record<string, SweepVar>> = {
  enable_ept: bool('enable_ept', (c, v) => { c.ept = v; }, (c) => c.ept),
  nested_ept: bool('nested_ept', (c, v) => { c.nestedEpt = v; }, (c) => c.nestedEpt),
  paging: { key: 'paging', domain: PAGING_DOMAIN, apply: (c, v) => { c.paging = v as PagingMode; }, dflt: (c) => c.paging },
  nested_vgif: bool('nested_vgif', (c, v) => { c.vgif = v; }, (c) => c.vgif),
  nested_vnmi: bool('nested_vnmi', (c, v) => { c.vnmi = v; }, (c) => c.vnmi),
  v_intr_masking: bool('v_intr_masking', (c, v) => { c.vIntrMasking = v; }, (c) => c.vIntrMasking),
  l0_irq_window: bool('l0_irq_window', (c, v) => { c.l0IrqWindow = v; }, (c) => c.l0IrqWindow),
  l1_intercept_vintr: bool('l1_intercept_vintr', (c, v) => { c.l1InterceptVintr = v; }, (c) => c.l1InterceptVintr),
  v_irq_pending: bool('v_irq_pending', (c, v) => { c.vIrqPending = v; }, (c) => c.vIrqPending),
  vmwrite_any_field: bool('vmwrite_any_field', (c, v) => { c.vmwriteAnyField = v; }, (c) => c.vmwriteAnyField),
};

/** Variables without a machine field (plain KVM state the region tests), kept in the assignment only. */
const FREE_BOOLS = ['guest_mode', 'vgif', 'nested_run_pending', 'nested_posted_intr', 'nested_preemption_timer', 'nested_vid', 'sev_es', 'exit_save_debug', 'exit_save_efer'];
for (const k of FREE_BOOLS) (VARS as Record<string, SweepVar>)[k] = { key: k, domain: [false, true], apply: () => undefined, dflt: () => k === 'vgif' };

/** Combinations that KVM cannot produce (skipped by the sweep, counted in the summary). */
export function feasible(a: ReadonlyMap<string, VarValue>): boolean {
  // recalc_intercepts(): with V_INTR_MASKING in vmcb12, L0 never keeps its own VINTR intercept while L2 runs.
  if (a.get('l0_irq_window') === true && a.get('v_intr_masking') === true) return false;
  // nested_vmx_setup_ctls_msrs() offers SECONDARY_EXEC_ENABLE_EPT to L1 only when enable_ept: nested EPT implies EPT.
  if (a.get('nested_ept') === true && a.get('enable_ept') === false) return false;
  // nested NPT (svm_set_cpu_caps) and nested vGIF likewise need the host feature.
  if (a.get('nested_npt') === true && a.get('npt_enabled') === false) return false;
  if (a.get('nested_vgif') === true && a.get('vgif') === false) return false;
  return true;
}

/** Reads of configuration variables, recorded per run. */
export class ConfigReader {
  readonly read = new Set<string>();
  constructor(readonly cfg: MachineConfig, readonly assignment: ReadonlyMap<string, VarValue>) {}

  get(key: string): VarValue {
    this.read.add(key);
    const v = this.assignment.get(key);
    if (v !== undefined) return v;
    return VARS[key]?.dflt(this.cfg) ?? false;
  }
}

/** Machine configuration for an assignment over the defaults (role-specific defaults first). */
export function configFor(base: Partial<MachineConfig>, a: ReadonlyMap<string, VarValue>): MachineConfig {
  const cfg: MachineConfig = { ...DEFAULT_CONFIG, ...base };
  for (const [k, v] of a) VARS[k]?.apply(cfg, v);
  return cfg;
}

/**
 * Value of a shared predicate key (analysis/conditions.ts) under the configuration. Keys about VMCB state
 * (`intercept:X`, `int_ctl:V_X@obj`) are answered by `machineBit`; undefined = not a key this model decides.
 */
export function predicateValue(key: string, r: ConfigReader, machineBit: (key: string) => boolean | undefined): boolean | undefined {
  switch (key) {
    case 'enable_ept': return r.get('enable_ept') === true;
    case 'nested_ept': return r.get('nested_ept') === true;
    case 'pae_paging': return r.get('paging') === 'pae';
    case 'paging': return r.get('paging') !== 'none';
    case 'cr4_pae': { const p = r.get('paging'); return p === 'pae' || p === '4-level' || p === '5-level'; }
    case 'long_mode': { const p = r.get('paging'); return p === '4-level' || p === '5-level'; }
    case 'nested_vgif': return r.get('nested_vgif') === true;
    case 'nested_vnmi': return r.get('nested_vnmi') === true;
    case 'vgif': return r.get('vgif') === true;
    case 'guest_mode': return r.get('guest_mode') === true;
    case 'vmwrite_any_field': return r.get('vmwrite_any_field') === true;
    case 'nested_run_pending': case 'nested_posted_intr': case 'nested_preemption_timer': case 'nested_vid': case 'sev_es': return r.get(key) === true;
    default:
      if (key.startsWith('intercept:') || key.startsWith('int_ctl:')) return machineBit(key);
      return undefined;
  }
}

/** Calls the shared mapping does not know yet but whose meaning is a model predicate key. */
export const EXTRA_CALL_PREDICATES: Readonly<Record<string, string>> = {
  nested_vnmi_enabled: 'nested_vnmi', nested_npt_enabled: 'nested_ept', is_la57_mode: 'long_mode',
  nested_cpu_has_preemption_timer: 'nested_preemption_timer', nested_cpu_has_vid: 'nested_vid',
  sev_es_guest: 'sev_es', is_sev_es_guest: 'sev_es', nested_cpu_has_posted_intr: 'nested_posted_intr',
};
export const EXTRA_IDENT_PREDICATES: Readonly<Record<string, string>> = {
  npt_enabled: 'enable_ept', nested_run_pending: 'nested_run_pending',
};
