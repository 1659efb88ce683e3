// Field coverage of vmcs12 / vmcb12: for every field, whether the tree's layout has it, where KVM reads it into
// vmcs02/vmcb02 (eager or rare path), where it writes it back on nested VM exit, whether it is shadowed, and which
// capability exposes it — plus the anomalies the model can prove. Input: source texts; output: plain data.
import { allFunctions } from '../analysis/document';
import { parseC } from '../analysis/parser';
import { VMCB_FIELDS, VMCS_FIELDS, VMEXIT_UPDATED_CONTROLS, evmcsGroupOf, type VmcbField, type VmcsField } from '../model/index';
import { ZEROED_WITH } from '../model/nestedExit';
import type { SourceFile } from '../analysis/nestedChecks';

export interface Loc { fn: string; line: number; path: string }

export interface VmcsCoverage {
  member: string;
  field: string;
  type: VmcsField['type'];
  inLayout: boolean;
  readEager: Loc[];
  readRare: Loc[];
  /** vmcs02 writes of the field's encoding (VMWRITE of the same VMCS field) in the prepare functions. */
  vmcs02Eager: Loc[];
  vmcs02Rare: Loc[];
  /** `vmcs_writeX(FIELD, vmcs12->member)`: copied verbatim. */
  verbatim: boolean;
  syncEager: Loc[];
  syncRare: Loc[];
  /** Other functions that write vmcs12->member (e.g. vmx_set_msr() updating vmcs12 while L2 runs). */
  otherWriters: Loc[];
  shadow?: 'RO' | 'RW';
  evmcsGroup?: string;
  capability?: string;
  entryRule?: string;
  exitRule?: string;
  anomalies: string[];
}

export interface VmcbCoverage {
  name: string;
  area: VmcbField['area'];
  inLayout: boolean;
  /** The member names (name or alias) this tree's struct declares. */
  layoutNames: string[];
  read: Loc[];
  written: Loc[];
  writtenOnVmexit: VmcbField['writtenOnVmexit'];
  cleanBit?: string;
  anomalies: string[];
}

export interface CoverageRoles {
  readEager: string[];
  readRare: string[];
  syncEager: string[];
  syncRare: string[];
}

export const VMX_ROLES: CoverageRoles = {
  readEager: ['prepare_vmcs02', 'prepare_vmcs02_early'],
  readRare: ['prepare_vmcs02_rare', 'prepare_vmcs02_full', 'prepare_vmcs02_early_rare', 'prepare_vmcs02_early_full'],
  syncEager: ['sync_vmcs02_to_vmcs12', 'sync_vmcs12', 'prepare_vmcs12'],
  syncRare: ['sync_vmcs02_to_vmcs12_rare'],
};

export const SVM_ROLES: CoverageRoles = {
  readEager: ['nested_vmcb02_prepare_control', 'nested_vmcb02_prepare_save', 'enter_svm_guest_mode'],
  readRare: [],
  syncEager: ['nested_svm_vmexit', 'nested_svm_vmexit_update_vmcb12', 'nested_save_pending_event_to_vmcb12'],
  syncRare: [],
};

interface Body { fn: string; path: string; text: string; offset: number; fileText: string }

function bodies(files: SourceFile[], names: string[]): Body[] {
  const want = new Set(names);
  const out: Body[] = [];
  for (const f of files) {
    if (!names.some((n) => f.text.includes(n))) continue;
    const tree = parseC(f.text);
    try {
      for (const fn of allFunctions(f.text, tree)) {
        if (want.has(fn.name)) out.push({ fn: fn.name, path: f.path, text: f.text.slice(fn.bodyStart, fn.bodyEnd), offset: fn.bodyStart, fileText: f.text });
      }
    } finally {
      tree.delete();
    }
  }
  return out;
}

function lineAt(text: string, offset: number): number {
  let n = 1;
  for (let i = 0; i < offset; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}

function stripComments(s: string): string {
  return s.replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, ' ')).replace(/\/\/[^\n]*/g, (m) => ' '.repeat(m.length));
}

/** Member accesses through an object matching `obj`, split into reads and writes (`x->m = ...`; `|=` counts as both). */
function accesses(b: Body, obj: RegExp): Array<{ member: string; write: boolean; read: boolean; loc: Loc }> {
  const out: Array<{ member: string; write: boolean; read: boolean; loc: Loc }> = [];
  const text = stripComments(b.text);
  const re = new RegExp(`((?<=[(,=]\\s*|\\*\\)\\s*)&\\s*)?${obj.source}\\s*(?:->|\\.)\\s*([a-z0-9_]+)((?:\\s*\\.\\s*[a-z_]+)?)\\s*(=(?!=)|[|&^+-]=|\\+\\+|--)?`, 'g');
  for (const m of text.matchAll(re)) {
    const op = m[m.length - 1];
    const member = m[m.length - 3];
    const addressOf = !!m[1];
    const loc = { fn: b.fn, path: b.path, line: lineAt(b.fileText, b.offset + (m.index ?? 0)) };
    // `&vmcs12->x` passed to a helper is an out-parameter: counted as written (and read).
    out.push({ member, write: !!op || addressOf, read: !op || op !== '=', loc });
  }
  return out;
}

/** vmcs12 struct members of this tree. */
export function vmcs12Layout(vmcs12h: string): Set<string> {
  const m = /struct\s+(?:__packed\s+)?vmcs12\s*\{([\s\S]*?)\n\}/.exec(vmcs12h);
  const out = new Set<string>();
  if (!m) return out;
  for (const d of stripComments(m[1]).matchAll(/\b([a-z][a-z0-9_]*)\s*(?:\[[^\]]*\])?\s*;/g)) out.add(d[1]);
  return out;
}

export function shadowFields(text: string): Map<string, 'RO' | 'RW'> {
  const out = new Map<string, 'RO' | 'RW'>();
  for (const m of stripComments(text).matchAll(/SHADOW_FIELD_(RO|RW)\(\s*([A-Z0-9_]+)/g)) out.set(m[2], m[1] as 'RO' | 'RW');
  return out;
}

export interface VmxCoverageInput {
  nested: SourceFile;
  /** Other files whose functions may write vmcs12 (vmx/vmx.c, vmx/pmu_intel.c, ...). */
  others?: SourceFile[];
  vmcs12h?: SourceFile;
  shadowH?: SourceFile;
  roles?: CoverageRoles;
  /** Control bits KVM offers L1 (identifiers in nested_vmx_setup_*); undefined = unknown. */
  exposed?: Set<string>;
}

const ROLE_KEYS = ['readEager', 'readRare', 'syncEager', 'syncRare'] as const;

export function vmxCoverage(input: VmxCoverageInput): VmcsCoverage[] {
  const roles = input.roles ?? VMX_ROLES;
  const layout = input.vmcs12h ? vmcs12Layout(input.vmcs12h.text) : undefined;
  const shadow = input.shadowH ? shadowFields(input.shadowH.text) : new Map<string, 'RO' | 'RW'>();
  const byRole = new Map<string, Map<string, { read: Loc[]; write: Loc[] }>>();
  const vmcs02 = { eager: new Map<string, Loc[]>(), rare: new Map<string, Loc[]>() };
  const verbatim = new Set<string>();
  for (const key of ROLE_KEYS) {
    const acc = new Map<string, { read: Loc[]; write: Loc[] }>();
    for (const b of bodies([input.nested], roles[key])) {
      for (const a of accesses(b, /\b(?:vmcs12|get_vmcs12\s*\([^()]*\))/)) {
        const e = acc.get(a.member) ?? { read: [], write: [] };
        if (a.read) e.read.push(a.loc);
        if (a.write) e.write.push(a.loc);
        acc.set(a.member, e);
      }
      if (key === 'readEager' || key === 'readRare') {
        const into = key === 'readEager' ? vmcs02.eager : vmcs02.rare;
        const t = stripComments(b.text);
        for (const m of t.matchAll(/\bvmcs_write(?:16|32|64|l)\s*\(\s*([A-Z][A-Z0-9_]*)\s*,\s*([^;]*?)\)\s*;/g)) {
          const loc = { fn: b.fn, path: b.path, line: lineAt(b.fileText, b.offset + (m.index ?? 0)) };
          into.set(m[1], [...(into.get(m[1]) ?? []), loc]);
          const direct = /^vmcs12\s*->\s*([a-z0-9_]+)$/.exec(m[2].trim());
          if (direct) verbatim.add(`${m[1]}=${direct[1]}`);
        }
      }
    }
    byRole.set(key, acc);
  }
  const roleNames = new Set(ROLE_KEYS.flatMap((k) => roles[k]));
  const other = new Map<string, Loc[]>();
  for (const file of [input.nested, ...(input.others ?? [])]) {
    if (!/vmcs12/.test(file.text)) continue;
    const tree = parseC(file.text);
    try {
      for (const fn of allFunctions(file.text, tree)) {
        if (roleNames.has(fn.name)) continue;
        const b: Body = { fn: fn.name, path: file.path, text: file.text.slice(fn.bodyStart, fn.bodyEnd), offset: fn.bodyStart, fileText: file.text };
        if (!/vmcs12\s*(\([^()]*\))?\s*->/.test(b.text)) continue;
        for (const a of accesses(b, /\b(?:vmcs12|get_vmcs12\s*\([^()]*\))/)) if (a.write) other.set(a.member, [...(other.get(a.member) ?? []), a.loc]);
      }
    } finally {
      tree.delete();
    }
  }
  const out: VmcsCoverage[] = [];
  for (const f of VMCS_FIELDS) {
    if (f.access !== 'full' || !f.vmcs12) continue;
    const member = f.vmcs12.member;
    const get = (k: typeof ROLE_KEYS[number], w: 'read' | 'write'): Loc[] => byRole.get(k)?.get(member)?.[w] ?? [];
    const row: VmcsCoverage = {
      member, field: f.name, type: f.type, inLayout: layout ? layout.has(member) : true,
      readEager: get('readEager', 'read'), readRare: get('readRare', 'read'),
      vmcs02Eager: vmcs02.eager.get(f.name) ?? [], vmcs02Rare: vmcs02.rare.get(f.name) ?? [],
      verbatim: verbatim.has(`${f.name}=${member}`),
      syncEager: get('syncEager', 'write'), syncRare: get('syncRare', 'write'), otherWriters: other.get(member) ?? [],
      shadow: shadow.get(f.name), evmcsGroup: evmcsGroupOf(f.name), capability: capabilityOf(f), entryRule: f.entryRule, exitRule: f.exitRule, anomalies: [],
    };
    if (row.inLayout) row.anomalies.push(...vmcsAnomalies(f, row, input.exposed));
    out.push(row);
  }
  return out;
}

/** The control that makes the field meaningful, from the model's entry/exit rules. */
function capabilityOf(f: VmcsField): string | undefined {
  const r = [f.entryRule, f.exitRule].find((x) => x?.startsWith('control:'));
  return r?.slice('control:'.length);
}

function vmcsAnomalies(f: VmcsField, row: VmcsCoverage, exposed?: Set<string>): string[] {
  const out: string[] = [];
  const synced = row.syncEager.length + row.syncRare.length > 0;
  const copyFns = /evmcs|enlightened|shadow/i;
  const elsewhere = row.otherWriters.filter((l) => !copyFns.test(l.fn));
  const cap = f.exitRule?.startsWith('control:') ? f.exitRule.slice('control:'.length) : undefined;
  const offered = !cap || !exposed || exposed.has(cap);
  if (f.type === 'guest-state' && f.exitRule && f.exitRule !== 'never' && !synced && !elsewhere.length && offered) {
    out.push(`VM exit saves ${f.name} (${f.exitRule === 'always' ? 'always' : f.exitRule}) but KVM never writes vmcs12->${row.member} back on nested VM exit`);
  }
  if (synced) {
    const updated = VMEXIT_UPDATED_CONTROLS.some((u) => u.member === row.member);
    const exitWrites = f.type === 'read-only' || (f.type === 'guest-state' && f.exitRule !== 'never') || updated;
    if (!exitWrites) {
      const at = [...row.syncEager, ...row.syncRare][0];
      out.push(`KVM writes vmcs12->${row.member} on nested VM exit (${at.fn}:${at.line}) but VM exit never writes ${f.name} (${f.type}${f.exitRule === 'never' ? ', not saved' : ''})`);
    }
  }
  if (row.shadow === 'RW' && f.entryRule && f.entryRule !== 'never' && row.vmcs02Rare.length && !row.vmcs02Eager.length) {
    out.push(`${f.name} is consumed by VM entry (${f.entryRule}) and shadowed RW (L1 writes it without a VM exit, so dirty_vmcs12 stays clear) but vmcs02 gets it only in the rare path (${row.vmcs02Rare[0].fn}:${row.vmcs02Rare[0].line})`);
  }
  return out;
}

export interface SvmCoverageInput { files: SourceFile[]; svmH?: SourceFile; roles?: CoverageRoles }

export function svmCoverage(input: SvmCoverageInput): VmcbCoverage[] {
  const roles = input.roles ?? SVM_ROLES;
  const layoutText = input.svmH ? stripComments(input.svmH.text) : undefined;
  const obj = /\b(?:vmcb12|nested_vmcb|svm->nested\.ctl|svm->nested\.save|nested\.ctl|nested\.save)(?:\s*->\s*(?:control|save))?/;
  const reads = new Map<string, Loc[]>();
  const writes = new Map<string, Loc[]>();
  for (const b of bodies(input.files, [...roles.readEager, ...roles.readRare])) {
    for (const a of accesses(b, obj)) if (a.read) reads.set(a.member, [...(reads.get(a.member) ?? []), a.loc]);
  }
  for (const b of bodies(input.files, [...roles.syncEager, ...roles.syncRare])) {
    for (const a of accesses(b, /\b(?:vmcb12|nested_vmcb)\s*->\s*(?:control|save)/)) if (a.write) writes.set(a.member, [...(writes.get(a.member) ?? []), a.loc]);
  }
  const out: VmcbCoverage[] = [];
  for (const f of VMCB_FIELDS) {
    if (f.linux === false) continue;
    const name = f.name.replace(/\[\d+\]$/, '');
    const names = [name, ...f.aliases];
    const read = names.flatMap((n) => reads.get(n) ?? []);
    const written = names.flatMap((n) => writes.get(n) ?? []);
    const layoutNames = layoutText ? names.filter((n) => new RegExp(`\\b${n}\\s*(?:\\[[^\\]]*\\])?\\s*;`).test(layoutText)) : names;
    const inLayout = layoutNames.length > 0;
    const row: VmcbCoverage = { name: f.name, area: f.area, inLayout, layoutNames, read, written, writtenOnVmexit: f.writtenOnVmexit, cleanBit: f.cleanBit, anomalies: [] };
    if (inLayout && !f.legacy) {
      if (f.writtenOnVmexit === 'yes' && !written.length && (f.area === 'save' || f.name.startsWith('exit') || f.name === 'insn_len' || f.name === 'insn_bytes')) {
        row.anomalies.push(`#VMEXIT writes ${f.area}.${f.name} but KVM never writes it into vmcb12 on nested #VMEXIT`);
      }
      // EVENTINJ's error code is zeroed together with EVENTINJ, which #VMEXIT clears (model/nestedExit.ts ZEROED_WITH).
      if (f.writtenOnVmexit === 'no' && written.length && !ZEROED_WITH[name]) {
        row.anomalies.push(`KVM writes vmcb12 ${f.area}.${f.name} on nested #VMEXIT (${written[0].fn}:${written[0].line}) but #VMEXIT never writes it`);
      }
    }
    out.push(row);
  }
  return out;
}
