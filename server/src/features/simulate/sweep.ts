// The configuration sweep of a C simulation: which configuration variables the function reads (learnt by running it),
// every feasible combination of them (pruned by the engine's implications), findings aggregated over configurations
// with the minimal condition that produces each (engine/values.ts minimalCondition), and one recorded run as steps.
import type { DocumentAnalysis } from '../../analysis/document';
import { minimalCondition, type Config } from '../../analysis/engine/values';
import { roleOfFunction, type Role } from '../../analysis/roles';
import type { SimConfiguration, SimFinding, SimulationResult } from '../../protocol/simulation';
import type { Interp, RunFinding, RunOptions } from './c';
import type { CFunction } from './cir';
import { attachConditionPositions, compileDoc, type Compiled } from './compiled';
import { guessRole, vendorOf, type Surroundings } from './context';
import { VARS, constrainedVar, feasible, machineVar, type VarValue } from './predicates';
import { interpret, interpretOpen, Resumer, type Later, type OpenRun, type ResumeStats } from './resume';
import { Projector } from './symbolic';

export interface SimulateCOptions {
  functionName?: string;
  startLine?: number;
  endLine?: number;
  /** Restrict the sweep: variable → the values allowed (`--config ept=1,pae=0`, see parseSimConfig). */
  config?: ReadonlyMap<string, readonly VarValue[]>;
  /** Record the steps of this configuration (a clicked sweep row) instead of the representative one. */
  show?: Readonly<Record<string, boolean | string>>;
  /** Resume runs from the checkpoints of earlier ones (resume.ts); off only to check that it changes nothing. */
  resume?: boolean;
  /**
   * Read configurations off symbolic runs that leave sweep variables open (symbolic.ts, sweepRuns below); off only to
   * check that it changes nothing.
   */
  symbolic?: boolean;
  /** Filled with how runs shared work (resume.ts Resumer.stats). */
  stats?: Partial<ResumeStats>;
}

/** Sweep variables of configuration-gated features: a representative trace keeps them at their defaults. */
const GATED = ['evmcs', 'shadow_vmcs', 'lbrv', 'sev_es'];

/**
 * What the sweep keeps of one configuration's run. Not the interpreter: a sweep holds up to MAX_CONFIGS of these, and
 * keeping each run's machine alive until the end made garbage collection most of the sweep's time.
 */
interface RunResult {
  assignment: ReadonlyMap<string, VarValue>;
  read: ReadonlySet<string>;
  findings: RunFinding[];
  flows: string[];
  cfg: Interp['m']['cfg'];
  error?: string;
}

function slim(it: Interp, assignment: ReadonlyMap<string, VarValue>, error: string | undefined, strings: Map<string, string>): RunResult {
  // Runs repeat each other's flow lines: keeping one copy of each lets the run's own strings die young (most of a
  // sweep's garbage-collection time was copying up to MAX_CONFIGS runs' flows between generations).
  const flows = it.flows.map((f) => {
    const s = strings.get(f);
    if (s !== undefined) return s;
    strings.set(f, f);
    return f;
  });
  // The run is over: its reader's set is not shared (a resumed run reads through a reader of its own).
  return { assignment, read: it.reader.read, findings: it.findings, flows, cfg: it.m.cfg, error };
}

const MAX_VARS = 12;
const MAX_CONFIGS = 4096;

/**
 * One assignment of a sweep: an index into each variable's domain, over variables and domains all its assignments
 * share. A Map per assignment was most of building them in a sweep's first call, before V8 optimizes.
 */
class Combo implements ReadonlyMap<string, VarValue> {
  constructor(private readonly vars: ComboVars, private readonly idx: Uint8Array) {}

  get size(): number { return this.vars.names.length; }
  get(k: string): VarValue | undefined {
    const i = this.vars.index.get(k);
    return i === undefined ? undefined : this.vars.doms[i][this.idx[i]];
  }
  has(k: string): boolean { return this.vars.index.has(k); }
  forEach(cb: (v: VarValue, k: string, m: ReadonlyMap<string, VarValue>) => void): void {
    this.vars.names.forEach((k, i) => cb(this.vars.doms[i][this.idx[i]], k, this));
  }
  *entries(): MapIterator<[string, VarValue]> {
    for (let i = 0; i < this.vars.names.length; i++) yield [this.vars.names[i], this.vars.doms[i][this.idx[i]]];
  }
  *keys(): MapIterator<string> { yield* this.vars.names; }
  *values(): MapIterator<VarValue> { for (const [, v] of this.entries()) yield v; }
  [Symbol.iterator](): MapIterator<[string, VarValue]> { return this.entries(); }

  /** A number that tells the values of the variables at positions `pos` apart (for grouping without strings). */
  codeAt(pos: readonly number[]): number {
    let code = 0;
    for (let j = 0; j < pos.length; j++) code = code * this.vars.doms[pos[j]].length + this.idx[pos[j]];
    return code;
  }

  /** Bit j set iff the variable at position pos[j] is true (symbolic.ts Projector: its open variables). */
  bitsAt(pos: readonly number[]): number {
    let bits = 0;
    for (let j = 0; j < pos.length; j++) if (this.vars.doms[pos[j]][this.idx[pos[j]]] === true) bits |= 1 << j;
    return bits;
  }

  /** The value of the variable at position `i` (of the variables the sweep swept, in order). */
  valueAt(i: number): VarValue {
    return this.vars.doms[i][this.idx[i]];
  }
}

interface ComboVars { names: readonly string[]; index: ReadonlyMap<string, number>; doms: ReadonlyArray<readonly VarValue[]> }

/**
 * The feasible assignments of `vars` in sweep order (the last variable changes fastest), at most MAX_CONFIGS, each with
 * its machine configuration's key (resume.ts cfgKey); and how many infeasible ones were skipped.
 */
function combos(vars: string[], restrict: ReadonlyMap<string, readonly VarValue[]> | undefined):
  { todo: Combo[]; keys: string[]; infeasible: number; capped: boolean } {
  const doms = vars.map((k) => restrict?.get(k) ?? VARS[k]?.domain ?? [false, true]);
  const shared: ComboVars = { names: vars.slice(), index: new Map(vars.map((k, i) => [k, i])), doms };
  const machine = vars.map((k) => machineVar(k));
  const constrained = vars.map((k) => constrainedVar(k));
  const idx = new Uint8Array(vars.length);
  const todo: Combo[] = [];
  const keys: string[] = [];
  // The key of the machine variables' values, and feasibility (decided by the constrained variables alone), by the
  // number their value indices make.
  const keyOf = new Map<number, string>();
  const feasibleOf = new Map<number, boolean>();
  let infeasible = 0;
  while (true) {
    const a = new Combo(shared, idx.slice());
    let code = 0;
    let fcode = 0;
    for (let i = 0; i < vars.length; i++) {
      if (machine[i]) code = code * doms[i].length + idx[i];
      if (constrained[i]) fcode = fcode * doms[i].length + idx[i];
    }
    let ok = feasibleOf.get(fcode);
    if (ok === undefined) feasibleOf.set(fcode, ok = feasible(a));
    if (!ok) infeasible++;
    else {
      let key = keyOf.get(code);
      if (key === undefined) {
        key = '';
        for (let i = 0; i < vars.length; i++) if (machine[i]) key += `${vars[i]}=${doms[i][idx[i]]};`;
        keyOf.set(code, key);
      }
      keys.push(key);
      if (todo.push(a) >= MAX_CONFIGS) return { todo, keys, infeasible, capped: true };
    }
    let i = vars.length - 1;
    while (i >= 0 && ++idx[i] >= doms[i].length) { idx[i] = 0; i--; }
    if (i < 0) return { todo, keys, infeasible, capped: false };
  }
}

function fmtAssign(a: ReadonlyMap<string, VarValue>): string {
  return [...a].map(([k, v]) => `${k}=${v}`).join(', ');
}

/** Verb agreement for a summary subject: `x..3` / lists are plural, a single field takes the singular. */
function agree(phrase: string, subject: string): string {
  const plural = /\.\.|,| and /.test(subject);
  if (plural) return phrase;
  return phrase.replace(/^receive /, 'receives ').replace(/^miss /, 'misses ').replace(/^hold /, 'holds ');
}

const PHRASE: Record<string, string> = {
  'undefined-value-copied': 'receive undefined values',
  'int-ctl-l0-leak': 'receive L0-owned int_ctl state from vmcb02',
  'int-ctl-not-written-back': 'receive int_ctl bits the processor never writes back',
  'int-ctl-writeback-lost': 'miss a bit the processor wrote back',
  'host-state-stale': 'hold a per-CPU value of another CPU after migration (stale)',
  'vmsave-redundant-save': 'saved by hand although VMSAVE saves them',
  'vmload-redundant-restore': 'restored by hand although VMLOAD restores them',
  'vmcs12-pdptr-unneeded': 'written although undefined for L1 (unnecessary copy)',
  'vmwrite-fails': 'VMWRITE fails',
  'undefined-value-used': 'tested while undefined',
};

/** Interpret a function (or the lines of one) of an analysed C document under every relevant configuration. */
export function simulateCDocument(doc: DocumentAnalysis, opts: SimulateCOptions): SimulationResult {
  const c = compileDoc(doc);
  attachConditionPositions(c, doc);
  let fn: CFunction | undefined;
  if (opts.functionName) fn = c.unit.functions.get(opts.functionName);
  else if (opts.startLine !== undefined) {
    const s = opts.startLine;
    const e = opts.endLine ?? s;
    const hits = [...c.unit.functions.values()].filter((f) => f.end >= s && f.line <= e);
    fn = hits.find((f) => roleOfFunction(doc, f.name)) ?? hits[0];
  } else fn = [...c.unit.functions.values()][0];
  if (!fn) {
    const line = opts.startLine ?? 1;
    return {
      kind: 'c', title: opts.functionName ?? 'C region', steps: [], markdown: '', summary: ['nothing to simulate: no function found in the selection'],
      findings: [{ line, severity: 'warning', rule: 'simulate-no-function', message: opts.functionName ? `function ${opts.functionName} not found in this document` : 'the selection contains no function definition' }],
    };
  }
  const text = doc.text.split('\n').slice(fn.line - 1, fn.end).join('\n');
  const role: Role | undefined = guessRole(fn, text, doc);
  const vendor = vendorOf(fn, text, doc);
  const sur: Surroundings = { doc, unit: c.unit, fn, role, vendor };
  const restrict = opts.config;
  const fixedStart = new Map<string, VarValue>();
  for (const [k, vs] of restrict ?? []) if (vs.length === 1) fixedStart.set(k, vs[0]);
  const region = opts.startLine !== undefined && !opts.functionName && !(opts.startLine <= fn.line && (opts.endLine ?? fn.end) >= fn.end)
    ? { start: opts.startLine, end: opts.endLine ?? opts.startLine } : undefined;
  const runOpts: RunOptions = region ? { record: false, region } : { record: false };

  // Discover the variables the region reads, then sweep them to a fixpoint.
  let vars: string[] = [];
  const strings = new Map<string, string>();
  const resumer = new Resumer(c, sur, runOpts);
  const runOnce = (a: ReadonlyMap<string, VarValue>, cfgKey?: string, later?: Later): RunResult => {
    const { it, error } = opts.resume === false ? interpret(c, sur, a, runOpts) : resumer.run(a, cfgKey, later);
    return slim(it, a, error, strings);
  };
  const first = runOnce(fixedStart);
  for (const k of first.read) if (VARS[k] && !vars.includes(k)) vars.push(k);
  for (const k of restrict?.keys() ?? []) if (VARS[k] && !vars.includes(k)) vars.push(k);
  let results: RunResult[] = [];
  let infeasible = 0;
  let capped = false;
  for (let round = 0; round < 6; round++) {
    if (vars.length > MAX_VARS) { vars = vars.slice(0, MAX_VARS); capped = true; }
    const swept = combos(vars, restrict);
    const todo = swept.todo;
    infeasible = swept.infeasible;
    if (swept.capped) capped = true;
    // Within one machine configuration the sweep runs in combos() order: a later run can agree with this one on the
    // variables read so far iff a variable not read yet (and not a machine one) is below its last value.
    const lastOf = new Map(vars.map((k) => { const d = restrict?.get(k) ?? VARS[k]?.domain ?? [false, true]; return [k, d[d.length - 1]]; }));
    const free = vars.filter((k) => !machineVar(k));
    const later: Later = (a, read) => free.some((k) => !read.has(k) && a.get(k) !== lastOf.get(k));
    const sweptVar = (k: string) => (restrict?.get(k) ?? VARS[k]?.domain ?? []).length > 1;
    const sym: SymbolicSweep | undefined = opts.symbolic === false ? undefined : {
      free: vars.filter((k) => !machineVar(k) && sweptVar(k)),
      machine: vars.filter((k) => machineVar(k) && sweptVar(k) && typeof VARS[k].domain[0] === 'boolean'),
      run: (a, open) => interpretOpen(c, sur, a, open, runOpts), cfgOf: (a, key) => resumer.configOf(a, key), strings, stats: resumer.stats,
    };
    results = sweepRuns(todo, swept.keys, vars, (a, key) => runOnce(a, key, later), sym);
    const added: string[] = [];
    // (the runs read off one symbolic run share its set of reads)
    for (const read of new Set(results.map((r) => r.read))) for (const k of read) if (VARS[k] && !vars.includes(k) && !added.includes(k)) added.push(k);
    if (!added.length || capped) break;
    vars = [...vars, ...added];
  }
  if (!results.length) results = [first];

  // Configurations, findings, summary.
  // (a finding's identity as a string, once per finding object: configurations read off one symbolic run share them)
  const keyOf = new Map<RunFinding, string>();
  const findingKey = (f: RunFinding): string => {
    let k = keyOf.get(f);
    if (k === undefined) keyOf.set(f, k = `${f.line}|${f.rule}|${f.subject}`);
    return k;
  };
  const unique = results.map((r) => dedupe(r.findings, findingKey));
  // (configurations read off one symbolic run share their finding objects: each is shown once)
  const shownFinding = new Map<RunFinding, SimFinding>();
  const show = (f: RunFinding): SimFinding => {
    let g = shownFinding.get(f);
    if (!g) { const { subject: _s, ...rest } = f; shownFinding.set(f, g = rest); }
    return g;
  };
  // (an assignment of the last round holds every variable, in this order: Combo)
  const complete = (a: ReadonlyMap<string, VarValue>): a is Combo => a instanceof Combo && a.size === vars.length;
  const configurations: SimConfiguration[] = results.map((r, i) => {
    const preds: Record<string, boolean | string> = {};
    const a = r.assignment;
    if (complete(a)) for (let j = 0; j < vars.length; j++) preds[vars[j]] = a.valueAt(j);
    else for (const k of vars) preds[k] = a.get(k) ?? VARS[k].dflt(r.cfg);
    const fs = unique[i].map(show);
    if (r.error) fs.push({ line: fn!.line, severity: 'info', rule: 'simulate-partial', message: r.error });
    return { predicates: preds, findings: fs, flows: r.flows };
  });
  const total = results.length;
  const agg = new Map<string, { f: RunFinding; configs: number[] }>();
  results.forEach((r, i) => {
    for (const f of unique[i]) {
      const key = findingKey(f);
      const e = agg.get(key);
      if (e) { if (e.configs[e.configs.length - 1] !== i) e.configs.push(i); } else agg.set(key, { f, configs: [i] });
    }
  });
  const domains: Record<string, readonly VarValue[]> = {};
  for (const k of vars) domains[k] = restrict?.get(k) ?? VARS[k]?.domain ?? [false, true];
  const cfgs: Config[] = results.map((r) => {
    if (complete(r.assignment)) return r.assignment;
    const m = new Map<string, VarValue>();
    for (const k of vars) m.set(k, r.assignment.get(k) ?? VARS[k].dflt(r.cfg));
    return m;
  });
  const whenCache = new Map<string, string>();
  const whenOf = (configs: number[]): string => {
    const key = configs.join(',');
    let w = whenCache.get(key);
    if (w === undefined) {
      const hit = results.map(() => false);
      for (const i of configs) hit[i] = true;
      w = minimalCondition(cfgs, hit, vars, domains);
      whenCache.set(key, w);
    }
    return w;
  };
  const findings: SimFinding[] = [...agg.values()].map(({ f, configs }) => ({
    line: f.line, severity: f.severity, rule: f.rule,
    message: total > 1 ? `${f.message} — in ${configs.length} of ${total} configurations${configs.length < total ? ` (when ${whenOf(configs)})` : ''}` : f.message,
  }));
  findings.sort((a, b) => a.line - b.line || a.rule.localeCompare(b.rule));

  const summary: string[] = [];
  const bySubject = new Map<string, { rule: string; subjects: Set<string>; configs: Set<number> }>();
  for (const { f, configs } of agg.values()) {
    const group = `${f.rule}|${f.subject.replace(/\d+$/, '')}`;
    const e = bySubject.get(group) ?? { rule: f.rule, subjects: new Set(), configs: new Set() };
    e.subjects.add(f.subject);
    for (const i of configs) e.configs.add(i);
    bySubject.set(group, e);
  }
  for (const e of bySubject.values()) {
    const subs = [...e.subjects].sort();
    const label = subs.length > 1 && subs.every((s) => /\d$/.test(s)) ? `${subs[0]}..${subs[subs.length - 1].replace(/^.*?(\d+)$/, '$1')}` : subs.join(', ');
    const when = e.configs.size < total ? whenOf([...e.configs].sort((a, b) => a - b)) : '';
    summary.push(`in ${e.configs.size} of ${total} configurations ${label} ${agree(PHRASE[e.rule] ?? `(${e.rule})`, label)}${when ? ` — when ${when}` : ''}`);
  }
  const roleText = role ? `${role.label}${role.kind === 'after-l2-exit' ? ` (${vendor === 'vmx' ? 'VM exit' : '#VMEXIT'} from L2 first)` : role.kind === 'constant-host-setup' ? ' (followed by a migration to another CPU and a VM entry/exit)' : ''}` : 'no known role: interpreted as is';
  summary.unshift(`${fn.name}: ${roleText}; ${vendor.toUpperCase()}; ${total} configuration${total === 1 ? '' : 's'} over ${vars.length ? vars.join(', ') : 'no predicates'}${infeasible ? ` (${infeasible} infeasible combinations skipped)` : ''}${capped ? ' (sweep capped)' : ''}`);
  if (!agg.size) summary.push(`no undefined or wrong values in any of the ${total} configurations`);

  // Steps: the configuration asked for (a clicked sweep row); else a representative one — the first with findings,
  // else the one that runs the most (the interesting branch taken), recorded.
  const wanted = opts.show ? configurations.findIndex((cf) => Object.entries(opts.show!).every(([k, v]) => cf.predicates[k] === v)) : -1;
  // (configuration-gated features — eVMCS, shadow VMCS, LBR virtualization, SEV-ES — stay at their defaults, off)
  const gated = GATED.filter((k) => vars.includes(k));
  const ordinary = gated.length ? results.filter((r) => {
    for (let j = 0; j < gated.length; j++) {
      const v = r.assignment.get(gated[j]);
      if (v !== undefined && v !== VARS[gated[j]].dflt(r.cfg)) return false;
    }
    return true;
  }) : results;
  const pool = ordinary.length ? ordinary : results;
  const most = pool.reduce((best, r) => (r.flows.length > best.flows.length ? r : best), pool[0]);
  const rep = wanted >= 0 ? results[wanted] : results.find((r) => r.findings.some((f) => f.severity === 'warning' || f.severity === 'error')) ?? most;
  const shownConfiguration = configurations[results.indexOf(rep)]?.predicates;
  if (opts.stats) Object.assign(opts.stats, resumer.stats);
  const shown = interpret(c, sur, rep.assignment, region ? { record: true, region } : { record: true });
  const steps = shown.it.steps;
  if (steps.length) summary.push(`steps shown for ${rep.assignment.size ? fmtAssign(rep.assignment) : 'the default configuration'}`);
  const fields = shown.it.fieldValues();
  return { kind: 'c', title: `${fn.name}${region ? ` (lines ${region.start}-${region.end})` : ''}`, steps, findings, configurations, fields, summary, markdown: '', shownConfiguration };
}

/** How the sweep runs a group of assignments at once: one symbolic run, read off (symbolic.ts). */
interface SymbolicSweep {
  /** Variables that do not change the machine: left open. */
  free: readonly string[];
  /** Boolean machine variables: left open too, until the model consults one (then the configurations split on it). */
  machine: readonly string[];
  run(a: ReadonlyMap<string, VarValue>, open: ReadonlySet<string>): OpenRun;
  cfgOf(a: ReadonlyMap<string, VarValue>, key: string): Interp['m']['cfg'];
  strings: Map<string, string>;
  stats: ResumeStats;
}

/**
 * Run every assignment (`keys`: their machine configurations' resume.ts cfgKey); the results come back in sweep order.
 * Symbolic: one run for all the assignments that agree on the machine variables not left open; concrete (also where a
 * symbolic run cannot stand for its assignments): one run each, grouped by machine configuration (runs share
 * checkpoints only within one: resume.ts) and in sweep order within a group.
 */
function sweepRuns(todo: readonly Combo[], keys: readonly string[], vars: readonly string[],
  run: (a: ReadonlyMap<string, VarValue>, cfgKey: string) => RunResult, sym?: SymbolicSweep): RunResult[] {
  const out: RunResult[] = new Array(todo.length);
  const machineVars = vars.filter(machineVar);
  const concrete = (idx: readonly number[]): void => {
    for (const g of groupBy(idx, (i) => keys[i]).values()) for (const i of g) out[i] = run(todo[i], keys[i]);
  };
  // The machine variables left open: a variable the model consulted (in any group: it will in the others too) or a run
  // given up for another reason (then none) closes them for every group swept after.
  let opened = sym?.machine ?? [];
  const symbolic = (idx: readonly number[]): void => {
    const used = opened;
    const apart = machineVars.filter((k) => !used.includes(k)).map((k) => vars.indexOf(k));
    const groups = apart.length === machineVars.length ? groupBy(idx, (i) => keys[i]) : groupBy(idx, (i) => todo[i].codeAt(apart));
    for (const g of groups.values()) {
      if (opened !== used) { symbolic(g); continue; }
      const open = [...sym!.free, ...opened];
      if (g.length < 2 || !open.length) { concrete(g); continue; }
      const base = new Map([...todo[g[0]]].filter(([k]) => !open.includes(k)));
      const r = sym!.run(base, new Set(open));
      if (r.it) { project(g, r.it); continue; }
      const consulted = r.consulted;
      if (consulted && opened.includes(consulted)) {
        sym!.stats.split++;
        opened = opened.filter((k) => k !== consulted);
        symbolic(g);
        continue;
      }
      sym!.stats.aborted++;
      sym!.stats.abortedWhy.push(r.why ?? 'unknown');
      // Runs with the machine variables apart can do better only if this one forked on one of them: else each would
      // run just as this one did and be given up the same way.
      if (opened.some((k) => r.forked?.has(k))) { opened = []; symbolic(g); } else concrete(g);
    }
  };
  const project = (g: readonly number[], it: Interp): void => {
    sym!.stats.symbolic++;
    const intern = (f: string): string => {
      const s = sym!.strings.get(f);
      if (s !== undefined) return s;
      sym!.strings.set(f, f);
      return f;
    };
    const projector = new Projector(it.sym!, it.flows.map(intern), it.findings);
    const pos = projector.open.map((k) => vars.indexOf(k));
    for (const i of g) {
      const p = projector.project(todo[i], pos.includes(-1) ? undefined : todo[i].bitsAt(pos));
      out[i] = { assignment: todo[i], read: it.reader.read, findings: p.findings, flows: p.flows, cfg: sym!.cfgOf(todo[i], keys[i]) };
    }
  };
  const all = todo.map((_, i) => i);
  if (sym && (sym.free.length || sym.machine.length)) symbolic(all); else concrete(all);
  return out;
}

/** Indices grouped by key, groups and indices in first-seen order. */
function groupBy<K>(idx: readonly number[], key: (i: number) => K): Map<K, number[]> {
  const groups = new Map<K, number[]>();
  for (const i of idx) {
    const k = key(i);
    const g = groups.get(k);
    if (g) g.push(i); else groups.set(k, [i]);
  }
  return groups;
}

function dedupe(fs: RunFinding[], key: (f: RunFinding) => string): RunFinding[] {
  if (fs.length < 2) return fs;
  const seen = new Set<string>();
  const out: RunFinding[] = [];
  for (const f of fs) {
    const k = key(f);
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(f);
  }
  return out;
}
