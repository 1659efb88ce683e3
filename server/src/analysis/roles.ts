// Function roles: where in the VM life cycle a KVM function runs. Table of KVM function names (read from
// arch/x86/kvm/vmx/{vmx,nested}.c and svm/{svm,nested}.c), the exit-handler tables found in the file
// (`[EXIT_REASON_X] = handle_y,` in kvm_vmx_exit_handlers[], `exit_handlers[EXIT_REASON_X] = handle_y;` in
// nested.c, `[SVM_EXIT_X] = y,` in svm_exit_handlers[]), and propagation through calls inside the file.
import type { DocumentAnalysis, FunctionInfo } from './document';
import { cachedFunctionValue, previousValue, rememberValue, segmentsOf } from './incremental';
import { spliceDetail, type SpliceDetail } from './docMemo';
import { detachStrings } from './detach';

export type RoleKind =
  | 'after-l2-exit' | 'nested-entry' | 'constant-host-setup' | 'per-cpu-load' | 'vcpu-load' | 'vcpu-put'
  | 'exit-handler' | 'vcpu-run' | 'after-vmexit' | 'hardware-setup' | 'vcpu-create' | 'diagnostic-dump';

export interface Role {
  kind: RoleKind;
  label: string;
  /** For exit handlers: the first (or only) exit-reason constant. */
  exitReason?: string;
  /** For exit handlers: every exit-reason constant the handler is registered for (or reached from). */
  exitReasons?: string[];
  /** How the role was found. */
  via?: 'table' | 'exit-handler-table' | 'callers';
}

const TABLE: Record<string, Role> = {
  sync_vmcs02_to_vmcs12: { kind: 'after-l2-exit', label: 'after a VM exit from L2' },
  sync_vmcs02_to_vmcs12_rare: { kind: 'after-l2-exit', label: 'after a VM exit from L2' },
  prepare_vmcs12: { kind: 'after-l2-exit', label: 'after a VM exit from L2' },
  nested_vmx_vmexit: { kind: 'after-l2-exit', label: 'after a VM exit from L2' },
  __nested_vmx_vmexit: { kind: 'after-l2-exit', label: 'after a VM exit from L2' },
  prepare_vmcs02: { kind: 'nested-entry', label: 'nested VM entry' },
  prepare_vmcs02_rare: { kind: 'nested-entry', label: 'nested VM entry' },
  prepare_vmcs02_early: { kind: 'nested-entry', label: 'nested VM entry' },
  nested_vmx_enter_non_root_mode: { kind: 'nested-entry', label: 'nested VM entry' },
  vmx_set_constant_host_state: { kind: 'constant-host-setup', label: 'constant host state setup (once per vCPU/VMCS)' },
  vmx_vcpu_load_vmcs: { kind: 'per-cpu-load', label: 'per-CPU load' },
  vmx_vcpu_load: { kind: 'vcpu-load', label: 'vcpu_load' },
  vmx_vcpu_put: { kind: 'vcpu-put', label: 'vcpu_put' },
  vmx_prepare_switch_to_guest: { kind: 'vcpu-run', label: 'before VM entry (per task)' },
  vmx_set_host_fs_gs: { kind: 'vcpu-run', label: 'before VM entry (per task)' },
  vmx_update_host_rsp: { kind: 'vcpu-run', label: 'VM entry (per run)' },
  vmx_vcpu_run: { kind: 'vcpu-run', label: 'VM entry/exit (per run)' },
  vmx_vcpu_enter_exit: { kind: 'vcpu-run', label: 'VM entry/exit (per run)' },
  init_vmcs: { kind: 'vcpu-create', label: 'vCPU creation (VMCS initialisation)' },
  vmx_vcpu_create: { kind: 'vcpu-create', label: 'vCPU creation' },
  vmx_vcpu_reset: { kind: 'vcpu-create', label: 'vCPU reset' },
  __vmx_vcpu_reset: { kind: 'vcpu-create', label: 'vCPU reset' },
  dump_vmcs: { kind: 'diagnostic-dump', label: 'diagnostic dump of the VMCS' },
  dump_vmcb: { kind: 'diagnostic-dump', label: 'diagnostic dump of the VMCB' },
  nested_svm_vmexit: { kind: 'after-l2-exit', label: 'after a #VMEXIT from L2' },
  nested_sync_control_from_vmcb02: { kind: 'after-l2-exit', label: 'after a #VMEXIT from L2' },
  nested_sync_int_ctl_from_vmcb02: { kind: 'after-l2-exit', label: 'after a #VMEXIT from L2' },
  nested_svm_vmexit_update_vmcb12: { kind: 'after-l2-exit', label: 'after a #VMEXIT from L2' },
  nested_vmcb02_prepare_control: { kind: 'nested-entry', label: 'nested VMRUN' },
  nested_vmcb02_prepare_save: { kind: 'nested-entry', label: 'nested VMRUN' },
  enter_svm_guest_mode: { kind: 'nested-entry', label: 'nested VMRUN' },
  nested_svm_vmrun: { kind: 'nested-entry', label: 'nested VMRUN' },
  svm_prepare_switch_to_guest: { kind: 'vcpu-run', label: 'before VMRUN (host state save)' },
  svm_prepare_guest_switch: { kind: 'vcpu-run', label: 'before VMRUN (host state save)' },
  svm_vcpu_load: { kind: 'vcpu-load', label: 'vcpu_load' },
  svm_vcpu_put: { kind: 'vcpu-put', label: 'vcpu_put' },
  svm_vcpu_run: { kind: 'vcpu-run', label: 'VMRUN/#VMEXIT (per run)' },
  hardware_setup: { kind: 'hardware-setup', label: 'module init' },
  vmx_hardware_setup: { kind: 'hardware-setup', label: 'module init' },
  svm_hardware_setup: { kind: 'hardware-setup', label: 'module init' },
  vmx_vcpu_after_set_cpuid: { kind: 'vcpu-create', label: 'vCPU configuration' },
};

/**
 * Facts that hold whenever a function runs, because every caller checks them first. Keys are predicate keys of
 * analysis/conditions.ts. Read from the callers in Linux 5.2.1 and 7.1.5 vmx.c: vmx_cache_reg() and
 * vmx_load_mmu_pgd()/vmx_set_cr3() call the EPT PDPTR helpers only under `if (enable_ept)`; nested.c calls
 * ept_save_pdptrs()/vmx_ept_load_pdptrs() only after checking that EPT is in use.
 */
const ASSUMPTIONS: Record<string, Record<string, boolean>> = {
  ept_save_pdptrs: { enable_ept: true },
  ept_load_pdptrs: { enable_ept: true },
  vmx_ept_load_pdptrs: { enable_ept: true },
};

/** Facts the function may assume on entry (predicate key → value). */
export function assumptionsOf(name: string): ReadonlyArray<[string, boolean]> {
  const a = ASSUMPTIONS[name];
  return a ? Object.entries(a) : [];
}

/** The table's roles as returned (via 'table'), made once: a role is a value nobody changes. */
const TABLE_ROLES: ReadonlyMap<string, Role> = new Map(Object.entries(TABLE).map(([name, r]) => [name, Object.freeze({ ...r, via: 'table' })]));

export function knownRole(name: string): Role | undefined {
  return TABLE_ROLES.get(name);
}

const EXIT_TABLE_ENTRY = /\[\s*((?:EXIT_REASON|SVM_EXIT)_[A-Z0-9_]+)\s*\]\s*=\s*&?\s*([A-Za-z_][A-Za-z0-9_]*)\s*[,;}]/g;

/** Exit-handler tables in the document: handler name → exit-reason constants. */
export function exitHandlerTable(doc: Pick<DocumentAnalysis, 'text'>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  addTableEntries(out, exitEntries(doc.text, 0, doc.text.length));
  return out;
}

/** `[REASON] = handler` entries of text[from, to), in text order. */
function exitEntries(text: string, from: number, to: number): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const t = from === 0 && to === text.length ? text : text.slice(from, to);
  EXIT_TABLE_ENTRY.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = EXIT_TABLE_ENTRY.exec(t)) !== null) out.push([m[1], m[2]]);
  return out;
}

function addTableEntries(out: Map<string, string[]>, entries: ReadonlyArray<[string, string]>): void {
  for (const [reason, handler] of entries) {
    const list = out.get(handler) ?? [];
    if (!list.includes(reason)) list.push(reason);
    out.set(handler, list);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Per-segment facts. The document is cut into its functions and the gaps between them; the facts the roles need
// (calls in each body, exit-table entries, identifiers used other than as a call) are computed per segment and, for
// an open document, reused across versions while the segment's text is unchanged (analysis/docMemo.ts spliceDetail).
// A function name, a table entry or a call never spans two segments (functions end with `}`).

const same = <T>(v: T): T => v;
const TABLE_HINT = /EXIT_REASON_|SVM_EXIT_/;

/** Identifiers of text[from, to) that occur other than right before `(` (taken as a value, e.g. a function pointer). */
const LOOSE_IDENT = /\b[A-Za-z_][A-Za-z0-9_]*\b(?!\s*\()/g;
function looseIdentifiers(text: string, from: number, to: number): Set<string> {
  const out = new Set<string>();
  LOOSE_IDENT.lastIndex = from;
  let m: RegExpExecArray | null;
  while ((m = LOOSE_IDENT.exec(text)) !== null && m.index < to) out.add(m[0]);
  return out;
}

function exitRole(reasons: string[], via: Role['via']): Role {
  const short = reasons.map((r) => r.replace(/^EXIT_REASON_/, ''));
  return {
    kind: 'exit-handler', label: `exit handler for ${short.length > 3 ? `${short.slice(0, 3).join(', ')}, …` : short.join(', ')}`,
    exitReason: reasons[0], exitReasons: reasons, via,
  };
}

const roleCache = new WeakMap<DocumentAnalysis, Map<string, Role>>();

function isStatic(doc: DocumentAnalysis, fn: FunctionInfo): boolean {
  const head = doc.text.slice(fn.start, Math.min(fn.bodyStart, fn.start + 400));
  return /\bstatic\b/.test(head);
}

/**
 * What the roles of a document are computed from: per function its name, the distinct names called in its body and
 * `static` in its head; per segment (segmentsOf: functions and the gaps between them) its exit-table entries and,
 * filled on demand, the identifiers used other than as a call. Both are kept across versions (docMemo.ts spliceDetail)
 * while the function's or segment's text is unchanged, so an edit is checked against the previous inputs by looking
 * at the functions and segments it touched only — the usual edit (typing inside a body without adding a call) lets
 * the next version reuse the roles instead of recomputing them.
 */
interface FnFacts { name: string; calls: string[]; isStatic: boolean }
interface SegFacts { table: Array<[string, string]>; loose?: Set<string> }

interface RoleInputs {
  fns: SpliceDetail<FnFacts>;
  segs: SpliceDetail<SegFacts>;
  segments: FunctionInfo[];
}

interface RolesState {
  /** The generation of the inputs the roles were computed from (or found unchanged in). */
  gen?: number;
  roles: Map<string, Role>;
  callers: Map<string, string[]>;
  /** The addressTaken() questions the computation asked, with their answers. */
  asked: Map<string, boolean>;
}

const inputsCache = new WeakMap<DocumentAnalysis, RoleInputs>();

/** The inputs of this version (computed once: spliceDetail reports changes since its previous call). */
function roleInputs(doc: DocumentAnalysis): RoleInputs {
  let inputs = inputsCache.get(doc);
  if (inputs) return inputs;
  const segments = segmentsOf(doc);
  inputs = {
    fns: spliceDetail(doc, 'roles:functions', doc.functions, (fn) => ({
      name: fn.name, calls: callsIn(doc.text.slice(fn.bodyStart, fn.bodyEnd)), isStatic: isStatic(doc, fn),
    })),
    segs: spliceDetail(doc, 'roles:segments', segments, (seg) => {
      const t = doc.text.slice(seg.start, seg.end);
      return { table: TABLE_HINT.test(t) ? exitEntries(doc.text, seg.start, seg.end) : [] };
    }),
    segments,
  };
  inputsCache.set(doc, inputs);
  return inputs;
}

/** The identifiers of segment `i` used other than as a call (computed once per segment text). */
function looseOf(doc: DocumentAnalysis, inputs: RoleInputs, i: number): Set<string> {
  const seg = inputs.segments[i];
  const facts = inputs.segs.values[i];
  return (facts.loose ??= detachStrings(looseIdentifiers(doc.text, seg.start, seg.end)));
}

function sameList<T>(a: readonly T[], b: readonly T[], eq: (x: T, y: T) => boolean = (x, y) => x === y): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!eq(a[i], b[i])) return false;
  return true;
}

const sameEntry = (e: [string, string], f: [string, string]): boolean => e[0] === f[0] && e[1] === f[1];

/**
 * Would the roles computed from the previous inputs come out the same from these? Only what the edits since then
 * touched is compared: the facts of the functions and segments computed afresh against those they replaced.
 */
function sameInputs(doc: DocumentAnalysis, prev: RolesState, cur: RoleInputs): boolean {
  const { fns, segs } = cur;
  // The changes reported must be those since the inputs these roles came from.
  if (!fns.dropped || !segs.dropped || prev.gen === undefined || fns.since !== prev.gen || segs.since !== prev.gen) return false;
  if (fns.dropped.length !== fns.recomputed.length || segs.dropped.length !== segs.recomputed.length) return false;
  for (let k = 0; k < fns.recomputed.length; k++) {
    const a = fns.dropped[k];
    const b = fns.values[fns.recomputed[k]];
    if (a.name !== b.name || a.isStatic !== b.isStatic || !sameList(a.calls, b.calls)) return false;
  }
  for (let k = 0; k < segs.recomputed.length; k++) {
    if (!sameList(segs.dropped[k].table, segs.values[segs.recomputed[k]].table, sameEntry)) return false;
  }
  // The identifiers used as values matter only through the questions the computation asked about them. A "no" can
  // only turn into a "yes" in a segment computed afresh; a "yes" stays one unless a replaced segment had the name
  // (or may have had it: its set was never computed), and then all segments are asked.
  for (const [name, answer] of prev.asked) {
    let found: boolean;
    if (!answer) found = segs.recomputed.some((i) => looseOf(doc, cur, i).has(name));
    else if (segs.dropped.every((s) => s.loose !== undefined && !s.loose.has(name))) found = true;
    else found = cur.segments.some((_, i) => looseOf(doc, cur, i).has(name));
    if (found !== answer) return false;
  }
  return true;
}

/** Roles of every function defined in the document (table, exit-handler tables, propagation through callers). */
export function functionRoles(doc: DocumentAnalysis): Map<string, Role> {
  let roles = roleCache.get(doc);
  if (roles) return roles;
  const inputs = roleInputs(doc);
  const prev = previousValue<RolesState>(doc, 'roles');
  if (prev && sameInputs(doc, prev, inputs)) {
    roles = prev.roles;
    if (!callerCache.has(doc)) callerCache.set(doc, prev.callers);
    rememberValue(doc, 'roles', { ...prev, gen: inputs.fns.gen });
  } else {
    const state = computeRoles(doc, inputs);
    roles = state.roles;
    rememberValue(doc, 'roles', state);
  }
  roleCache.set(doc, roles);
  return roles;
}

function computeRoles(doc: DocumentAnalysis, inputs: RoleInputs): RolesState {
  const roles = new Map<string, Role>();
  const index = callerIndexOf(doc, inputs);
  const defined = new Map(doc.functions.map((f) => [f.name, f]));
  for (const fn of doc.functions) {
    const r = knownRole(fn.name);
    if (r) roles.set(fn.name, r);
  }
  const table = new Map<string, string[]>();
  for (const f of inputs.segs.values) addTableEntries(table, f.table);
  for (const [handler, reasons] of table) {
    if (!roles.has(handler) && defined.has(handler)) roles.set(handler, exitRole(reasons, 'exit-handler-table'));
  }
  const asked = new Map<string, boolean>();
  /** Does the name occur other than as a call or a declaration (taken as a function pointer)? */
  const addressTaken = (name: string): boolean => {
    const answer = inputs.segments.some((_, i) => looseOf(doc, inputs, i).has(name));
    asked.set(name, answer);
    return answer;
  };
  // Propagation: a function whose in-file callers all have a role, of the same kind, inherits it. Exit-handler
  // roles additionally spread only to static functions never used as function pointers (the union of reasons).
  for (let round = 0; round < 6; round++) {
    let changed = false;
    doc.functions.forEach((fn, i) => {
      if (roles.has(fn.name)) return;
      const callers = (index.get(fn.name) ?? []).filter((c) => c !== fn.name);
      if (callers.length === 0) return;
      const callerRoles = callers.map((c) => roles.get(c));
      const known = callerRoles.filter((r): r is Role => !!r);
      if (known.length === 0 || known.length !== callers.length) return;
      const kind = known[0].kind;
      if (!known.every((r) => r.kind === kind)) return;
      if (kind === 'exit-handler') {
        if (!inputs.fns.values[i].isStatic || addressTaken(fn.name)) return;
        const reasons = [...new Set(known.flatMap((r) => r.exitReasons ?? (r.exitReason ? [r.exitReason] : [])))];
        roles.set(fn.name, exitRole(reasons, 'callers'));
      } else {
        roles.set(fn.name, { ...known[0], via: 'callers' });
      }
      changed = true;
    });
    if (!changed) break;
  }
  return { gen: inputs.fns.gen, roles, callers: index, asked };
}

/**
 * Can a function of the document have a role of `kind` (in functionRoles)? Roles come from the table (for defined
 * functions), from exit-handler tables (always 'exit-handler') and from callers' roles, so a kind needs a defined
 * function with that table role, or for 'exit-handler' an exit-table entry. Cheaper than functionRoles() when the
 * answer is no.
 */
export function roleKindPossible(doc: DocumentAnalysis, kind: RoleKind): boolean {
  let perDoc = possibleCache.get(doc);
  if (!perDoc) { perDoc = new Map(); possibleCache.set(doc, perDoc); }
  let answer = perDoc.get(kind);
  if (answer === undefined) {
    answer = doc.functions.some((f) => knownRole(f.name)?.kind === kind)
      || (kind === 'exit-handler' && roleInputs(doc).segs.values.some((s) => s.table.length > 0));
    perDoc.set(kind, answer);
  }
  return answer;
}
const possibleCache = new WeakMap<DocumentAnalysis, Map<RoleKind, boolean>>();

/** Role of a function by name: the table first, then the document's exit-handler tables and callers. */
export function roleOfFunction(doc: DocumentAnalysis | undefined, name: string): Role | undefined {
  if (!doc) return knownRole(name);
  const r = functionRoles(doc).get(name);
  if (r) return r;
  // Functions not defined in this document: fall back to the first caller with a table role (old behaviour).
  for (const c of callersOf(doc, name)) {
    const cr = knownRole(c);
    if (cr) return { ...cr, via: 'callers' };
  }
  return undefined;
}

/** Exit reasons (constants) a function handles, when its role says so. */
export function exitReasonsOf(doc: DocumentAnalysis, name: string): string[] | undefined {
  const r = functionRoles(doc).get(name);
  return r?.kind === 'exit-handler' ? r.exitReasons ?? (r.exitReason ? [r.exitReason] : undefined) : undefined;
}

const callerCache = new WeakMap<DocumentAnalysis, Map<string, string[]>>();

/** Functions in this document that call `name` (text search inside bodies; cheap and robust to parse errors). */
export function callersOf(doc: DocumentAnalysis, name: string): string[] {
  return callerIndex(doc).get(name) ?? [];
}

/** Distinct names called in the body of `fn`, in order of first call (cached per function text). */
export function callsOf(doc: DocumentAnalysis, fn: FunctionInfo): string[] {
  return cachedFunctionValue(doc, 'roles:calls', fn, () => callsIn(doc.text.slice(fn.bodyStart, fn.bodyEnd)), same);
}

function callerIndex(doc: DocumentAnalysis): Map<string, string[]> {
  const index = callerCache.get(doc);
  if (index) return index;
  // Built from this version's role inputs (functionRoles keeps them in step with the roles it hands on).
  functionRoles(doc);
  return callerCache.get(doc) ?? callerIndexOf(doc, roleInputs(doc));
}

function callerIndexOf(doc: DocumentAnalysis, inputs: RoleInputs): Map<string, string[]> {
  let index = callerCache.get(doc);
  if (index) return index;
  index = new Map();
  for (const f of inputs.fns.values) {
    for (const callee of f.calls) {
      const list = index.get(callee);
      if (list) list.push(f.name);
      else index.set(callee, [f.name]);
    }
  }
  callerCache.set(doc, index);
  return index;
}

/**
 * Each `\bNAME\s*\(` in `text` (NAME an identifier), in text order: the matches of /\b([A-Za-z_][A-Za-z0-9_]*)\s*\(/g.
 * Found from each `(` backwards (blanks, then the whole word before them), which is much faster than that regex.
 */
export function forEachCall(text: string, visit: (name: string) => void): void {
  for (let p = text.indexOf('('); p >= 0; p = text.indexOf('(', p + 1)) {
    let e = p;
    while (e > 0 && isBlank(text.charCodeAt(e - 1))) e--;
    let s = e;
    while (s > 0 && isWord(text.charCodeAt(s - 1))) s--;
    if (s === e) continue;
    const c = text.charCodeAt(s);
    if (c >= 48 && c <= 57) continue; // a word starting with a digit: no match inside it (\b)
    visit(text.slice(s, e));
  }
}

function isWord(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95;
}

/** A character JavaScript's \s matches. */
function isBlank(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || (c > 127 && (c === 160 || c === 0xfeff || c === 0x2028 || c === 0x2029 ||
    (c >= 0x2000 && c <= 0x200a) || c === 0x1680 || c === 0x202f || c === 0x205f || c === 0x3000));
}

/** Distinct names called in a function body, in order of first call. */
function callsIn(body: string): string[] {
  const seen = new Set<string>();
  forEachCall(body, (name) => { seen.add(name); });
  return [...seen];
}
