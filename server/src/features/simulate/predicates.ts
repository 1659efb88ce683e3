// Configuration variables of the sweep and how the shared predicate keys (analysis/conditions.ts) read them.
// A predicate key is evaluated against the machine configuration; every variable it reads is recorded, so the
// sweep learns which variables a region depends on by running it.
import { CONSTRAINED, consistentAssignment } from '../../analysis/engine/facts';
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

/**
 * Variables without a machine field (plain KVM state and configuration the region tests), kept in the assignment only.
 * Defaults: the configuration-gated features (eVMCS, shadow VMCS, LBR virtualization, SEV-ES) off; L0's vGIF/vNMI on.
 */
const FREE_BOOLS = ['guest_mode', 'vgif', 'vnmi', 'nested_run_pending', 'nested_posted_intr', 'nested_preemption_timer', 'nested_vid', 'sev_es',
  'exit_save_debug', 'exit_save_efer', 'evmcs', 'shadow_vmcs', 'lbrv'];
const DEFAULT_ON = new Set(['vgif', 'vnmi']);
for (const k of FREE_BOOLS) (VARS as Record<string, SweepVar>)[k] = { key: k, domain: [false, true], apply: () => undefined, dflt: () => DEFAULT_ON.has(k) };

/** The assignment as predicate truth values (paging expands into paging/cr4_pae/pae_paging/long_mode). */
export function predicateAssignment(a: ReadonlyMap<string, VarValue>): Map<string, boolean> {
  const out = new Map<string, boolean>();
  for (const [k, v] of a) {
    if (k === 'paging') {
      out.set('paging', v !== 'none');
      out.set('cr4_pae', v === 'pae' || v === '4-level' || v === '5-level');
      out.set('pae_paging', v === 'pae');
      out.set('long_mode', v === '4-level' || v === '5-level');
    } else if (typeof v === 'boolean') out.set(k, v);
  }
  return out;
}

/** Combinations that KVM cannot produce (skipped by the sweep, counted in the summary): the engine's implications. */
export function feasible(a: ReadonlyMap<string, VarValue>): boolean {
  return consistentAssignment(predicateAssignment(a));
}

/** Sweep variables with a predicate key that an implication mentions: only they decide feasible(). */
const CONSTRAINED_VARS = new Set(Object.values(VARS).filter((v) => v.domain.some((x) => [...predicateAssignment(new Map([[v.key, x]])).keys()].some((k) => CONSTRAINED.has(k) || k.startsWith('exit_reason='))))
  .map((v) => v.key));

/** Does the variable take part in the engine's implications (feasible() depends only on these)? */
export function constrainedVar(key: string): boolean {
  return CONSTRAINED_VARS.has(key);
}

/** Sweep variables that set a field of the machine configuration (the others live in the assignment only). */
export function machineVar(key: string): boolean {
  return !!VARS[key] && !FREE.has(key);
}
const FREE = new Set(FREE_BOOLS);

/** Reads of configuration variables, recorded per run. */
export class ConfigReader {
  readonly read = new Set<string>();
  /**
   * Variables a symbolic run leaves open (features/simulate/symbolic.ts), with what to do when the model asks for the
   * value of one (it has none: conditions fork on them instead, InterpState.predicate).
   */
  open?: { keys: ReadonlySet<string>; asked: (key: string) => never };
  constructor(readonly cfg: MachineConfig, readonly assignment: ReadonlyMap<string, VarValue>) {}

  get(key: string): VarValue {
    this.read.add(key);
    if (this.open?.keys.has(key)) this.open.asked(key);
    return varValue(this.assignment, this.cfg, key);
  }

  /** A reader for assignment `a` (same machine configuration) that has already read what this one read. */
  with(a: ReadonlyMap<string, VarValue>): ConfigReader {
    const r = new ConfigReader(this.cfg, a);
    for (const k of this.read) r.read.add(k);
    return r;
  }
}

/** The value of variable `key` under assignment `a`: assigned, else its default in machine configuration `cfg`. */
export function varValue(a: ReadonlyMap<string, VarValue>, cfg: MachineConfig, key: string): VarValue {
  const v = a.get(key);
  if (v !== undefined) return v;
  return VARS[key]?.dflt(cfg) ?? false;
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
    default:
      if (key.startsWith('intercept:') || key.startsWith('int_ctl:')) return machineBit(key);
      // Every other boolean sweep variable is its own predicate (evmcs, shadow_vmcs, vnmi, sev_es, guest_mode, ...).
      if (VARS[key]?.domain.length === 2 && typeof VARS[key].domain[0] === 'boolean') return r.get(key) === true;
      return undefined;
  }
}


const ALIASES: Readonly<Record<string, string>> = { ept: 'enable_ept', npt: 'enable_ept', nested_npt: 'nested_ept', nept: 'nested_ept' };
const TRUTH: Readonly<Record<string, boolean>> = { 1: true, on: true, true: true, yes: true, 0: false, off: false, false: false, no: false };

/**
 * `ept=1,pae=0,evmcs=1,paging=4-level` → the values each sweep variable may take. `pae`/`long_mode` restrict `paging`.
 * Throws an Error naming the bad item (the CLI turns it into a usage error).
 */
export function parseSimConfig(text: string): Map<string, VarValue[]> {
  const out = new Map<string, VarValue[]>();
  for (const item of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.+)$/.exec(item);
    if (!m) throw new Error(`--config: '${item}' is not NAME=VALUE`);
    const name = ALIASES[m[1]] ?? m[1];
    const raw = m[2].trim();
    if (name === 'pae' || name === 'long_mode') {
      const on = TRUTH[raw.toLowerCase()];
      if (on === undefined) throw new Error(`--config: ${m[1]} takes 0 or 1, got '${raw}'`);
      const want = name === 'pae' ? 'pae' : '4-level';
      const prev = out.get('paging') ?? [...PAGING_DOMAIN];
      out.set('paging', prev.filter((p) => (p === want) === on));
      continue;
    }
    const v = VARS[name];
    if (!v) throw new Error(`--config: unknown variable '${m[1]}' (known: ept, pae, long_mode, ${Object.keys(VARS).sort().join(', ')})`);
    if (typeof v.domain[0] === 'boolean') {
      const on = TRUTH[raw.toLowerCase()];
      if (on === undefined) throw new Error(`--config: ${m[1]} takes 0 or 1, got '${raw}'`);
      out.set(name, [on]);
    } else {
      if (!v.domain.includes(raw)) throw new Error(`--config: ${m[1]} takes one of ${v.domain.join(', ')}, got '${raw}'`);
      out.set(name, [raw]);
    }
  }
  return out;
}
