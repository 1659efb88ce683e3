// Field references in every form KVM uses. Candidates are found by a linear identifier scan of the text (cheap,
// immune to parse errors); each candidate is then classified with the tree-sitter node at its offset, falling back
// to text patterns when the grammar misparsed the surrounding code (kernel macros, asm).
import type { Node, Tree } from 'web-tree-sitter';
import { LEX_COMMENT, LEX_STRING, lexKindAt, lexerFor } from './lexer';
import {
  ACCESSORS, GHCB_FIELDS, INSTRUCTIONS, VMCB_FIELDS, VMCS_BY_VMCS12_MEMBER, VMSA_FIELDS, entityForIdentifier, entityIdentifiers, findGhcbField, findVmcbField,
  findVmsaField, type AccessorInfo, type Entity, type VmcbArea, type VmcbField,
} from '../model/index';

export type RefForm =
  | 'vmcs-enum' | 'vmcs12-member' | 'vmcb-member' | 'intctl-mask' | 'accessor' | 'instruction' | 'msr' | 'exit-reason' | 'symbol';

/** Which VMCB a member access goes through, as far as the expression tells. */
export type VmcbObject = 'vmcb01' | 'vmcb02' | 'vmcb12' | 'vmcb12-cache' | 'vmcb' | 'unknown';

export interface FieldRef {
  /** UTF-16 offsets of the name in the document. */
  start: number;
  end: number;
  name: string;
  form: RefForm;
  entity: Entity;
  inComment: boolean;
  /** For a VMCS field passed to an accessor: the accessor, and the call's range. */
  accessor?: AccessorInfo;
  callStart?: number;
  callEnd?: number;
  /** For member forms: the object expression text (`svm->vmcb01.ptr`, `vmcs12`) and its classification. */
  objectText?: string;
  vmcbObject?: VmcbObject;
  area?: VmcbArea;
  /** `vmcb->save.es.selector` → `selector`. */
  subMember?: string;
  /** Assignment target (`x->f = ...`, `x->f |= ...`) or accessor write. */
  isWrite: boolean;
  /** Compound assignment (`|=`, `&=`, ...) on a member. */
  compound?: string;
  /** The object is a local/parameter pointer of this struct type (`struct vmcb_control_area *control`, ...). */
  structType?: string;
}

const ACCESSOR_BY_NAME = new Map(ACCESSORS.map((a) => [a.name, a]));
const INSTRUCTION_NAMES = new Map(INSTRUCTIONS.flatMap((i) => [i.name, ...i.aliases].map((n) => [n, i] as const)));
/** Member names worth classifying: vmcs12 members and VMCB member names (plus area names). */
const MEMBER_NAMES = new Set<string>([...VMCS_BY_VMCS12_MEMBER.keys(), ...VMCB_FIELDS.flatMap((f) => [f.name, ...f.aliases]), 'intercepts',
  ...VMSA_FIELDS.map((f) => f.name), ...GHCB_FIELDS.map((f) => f.name)]);

/**
 * The identifiers findRefs classifies (entity names, member names, instruction names) by their first two characters
 * (an ASCII pair; the second is 0 for a one-character name): a kernel file's other identifiers — most of them —
 * are skipped without a substring or a lookup.
 */
const CANDIDATE_PREFIX = (() => {
  const t = new Uint8Array(128 * 128);
  const mark = (n: string): void => {
    const a = n.charCodeAt(0);
    const b = n.length > 1 ? n.charCodeAt(1) : 0;
    if (a < 128 && b < 128) t[a * 128 + b] = 1;
  };
  for (const n of entityIdentifiers()) mark(n);
  for (const n of MEMBER_NAMES) mark(n);
  for (const n of INSTRUCTION_NAMES.keys()) mark(n);
  return t;
})();

function isIdentStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
}

function isIdentPart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || (c >= 48 && c <= 57);
}

/** Instruction mnemonics inside asm strings. */
const ASM_MNEMONICS = 'vmsave|vmload|vmrun|stgi|clgi|vmmcall|invlpga|vmlaunch|vmresume|vmread|vmwrite|vmptrld|vmclear|vmxon|vmxoff|invept|invvpid';
const ASM_INSN = new RegExp(`\\b(${ASM_MNEMONICS})\\b`, 'g');
/** Any mnemonic, word boundaries aside: a quick test that a range has none. */
const ASM_INSN_ANY = new RegExp(ASM_MNEMONICS);

function formOf(e: Entity): RefForm {
  switch (e.kind) {
    case 'vmcs': return 'vmcs-enum';
    case 'intctl': return 'intctl-mask';
    case 'msr': return 'msr';
    case 'exit-reason': return 'exit-reason';
    case 'accessor': return 'accessor';
    case 'instruction': return 'instruction';
    case 'vmcb': return 'vmcb-member';
    case 'symbol': return 'symbol';
  }
}

/** Classify the object of a VMCB area access (`<obj>->control.x`, `<obj>.save.x`). */
export function classifyVmcbObject(text: string): VmcbObject {
  const t = text.replace(/\s+/g, '');
  if (/nested\.(ctl|save)$/.test(t) || /nested\.ctl|nested\.save/.test(t)) return 'vmcb12-cache';
  if (/vmcb12/.test(t)) return 'vmcb12';
  if (/vmcb02|nested\.vmcb02/.test(t)) return 'vmcb02';
  if (/vmcb01/.test(t)) return 'vmcb01';
  if (/vmcb/.test(t)) return 'vmcb';
  return 'unknown';
}

function isVmcs12Object(text: string): boolean {
  const t = text.replace(/\s+/g, '');
  return /(^|[^A-Za-z0-9_])(shadow_)?vmcs12$/.test(t) || /^(vmcs12|shadow_vmcs12)$/.test(t) || /get_(shadow_)?vmcs12\([^)]*\)$/.test(t);
}

export interface RefScanOptions {
  /** Only scan [start, end) (per-function re-analysis). */
  start?: number;
  end?: number;
}

/** Find all field references in `text` using `tree` for context. */
export function findRefs(text: string, tree: Tree, opts: RefScanOptions = {}): FieldRef[] {
  const refs: FieldRef[] = [];
  const root = tree.rootNode;
  const from = opts.start ?? 0;
  const to = opts.end ?? text.length;
  const lexer = lexerFor(text);
  const len = text.length;
  // Identifiers ([A-Za-z_][A-Za-z0-9_]*) starting in [from, to), scanned by hand: most are skipped by their first two
  // characters (CANDIDATE_PREFIX) before a substring is made.
  let next = from;
  while (next < to) {
    const c0 = text.charCodeAt(next);
    if (!isIdentStart(c0)) { next++; continue; }
    const start = next;
    let end = start + 1;
    while (end < len && isIdentPart(text.charCodeAt(end))) end++;
    next = end;
    const c1 = end > start + 1 ? text.charCodeAt(start + 1) : 0;
    if (c1 < 128 && !CANDIDATE_PREFIX[c0 * 128 + c1]) continue;
    const prev = start > 0 ? text.charCodeAt(start - 1) : 0;
    // Skip the tail of a number literal like 0x1f or a preprocessor-pasted token.
    if (prev >= 48 && prev <= 57) continue;
    const name = text.slice(start, end);
    const direct = entityForIdentifier(name);
    const memberish = MEMBER_NAMES.has(name) &&
      (prev === 46 /* . */ || (prev === 62 /* > */ && text.charCodeAt(start - 2) === 45) || isMemberAfterSpace(text, start));
    if (!direct && !memberish && !INSTRUCTION_NAMES.has(name)) continue;
    // Direct names (enum fields, masks, MSRs, exit reasons, accessors) need no tree: comments/strings come from a
    // linear lexical scan, the accessor from the text before the name. Only member forms and wrappers ask the tree.
    if (direct && !memberish && direct.kind !== 'vmcb') {
      const lex = lexKindAt(lexer, start);
      if (lex === LEX_STRING) continue; // asm strings are handled below
      if (lex === LEX_COMMENT) {
        refs.push({ start, end, name, form: formOf(direct), entity: direct, inComment: true, isWrite: false });
        continue;
      }
      const r: FieldRef = { start, end, name, form: formOf(direct), entity: direct, inComment: false, isWrite: false };
      if (direct.kind === 'vmcs' && !attachAccessorFromText(r, text)) attachAccessorFromTree(r, root, text);
      if (direct.kind === 'accessor') r.isWrite = direct.op !== 'read';
      refs.push(r);
      continue;
    }
    if (memberish) {
      // Member forms: the object and the assignment from the text when it reads plainly; the tree otherwise.
      const lex = lexKindAt(lexer, start);
      if (lex === LEX_STRING) continue;
      if (lex === LEX_COMMENT) {
        if (direct) refs.push({ start, end, name, form: formOf(direct), entity: direct, inComment: true, isWrite: false });
        continue;
      }
      const objectText = plainObjectText(text, start);
      if (objectText !== undefined) {
        const r = classifyMember(text, name, start, end, objectText, undefined);
        if (r) {
          markWriteFromText(r, text);
          refs.push(r);
        }
        continue;
      }
    }
    const node = root.descendantForIndex(start, end);
    if (!node) continue;
    if (node.type === 'comment') {
      if (direct) refs.push({ start, end, name, form: formOf(direct), entity: direct, inComment: true, isWrite: false });
      continue;
    }
    if (node.type === 'string_content' || node.type === 'string_literal') {
      continue; // asm strings are handled below
    }
    if (memberish) {
      const r = memberRef(text, node, name, start, end);
      if (r) refs.push(r);
      continue;
    }
    if (direct) {
      if (direct.kind === 'vmcb') continue;
      const r: FieldRef = { start, end, name, form: formOf(direct), entity: direct, inComment: false, isWrite: false };
      if (direct.kind === 'vmcs') attachAccessor(r, node, text);
      if (direct.kind === 'accessor') r.isWrite = direct.op !== 'read';
      refs.push(r);
      continue;
    }
    const insn = INSTRUCTION_NAMES.get(name);
    if (insn && isCallee(node)) refs.push({ start, end, name, form: 'instruction', entity: insn, inComment: false, isWrite: false });
  }
  scanAsm(text, root, from, to, refs);
  refs.sort((a, b) => a.start - b.start);
  return refs;
}

function isMemberAfterSpace(text: string, start: number): boolean {
  let i = start - 1;
  while (i >= 0 && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i--;
  if (i < 0 || i === start - 1) return false;
  return text[i] === '.' || (text[i] === '>' && text[i - 1] === '-');
}

function isCallee(node: Node): boolean {
  const p = node.parent;
  return !!p && p.type === 'call_expression' && p.childForFieldName('function')?.id === node.id;
}

/** Fast path: `vmcs_xxx(  NAME` directly before the name, `)` or `,` after it; the call's end by paren matching. */
function attachAccessorFromText(r: FieldRef, text: string): boolean {
  let i = r.start - 1;
  while (i >= 0 && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9 || text.charCodeAt(i) === 10 || text.charCodeAt(i) === 13)) i--;
  if (i < 0 || text.charCodeAt(i) !== 40 /* ( */) return false;
  let j = i - 1;
  while (j >= 0 && (text.charCodeAt(j) === 32 || text.charCodeAt(j) === 9)) j--;
  const nameEnd = j + 1;
  while (j >= 0 && /[A-Za-z0-9_]/.test(text[j])) j--;
  const acc = ACCESSOR_BY_NAME.get(text.slice(j + 1, nameEnd));
  if (!acc) return false;
  let k = r.end;
  while (k < text.length && (text.charCodeAt(k) === 32 || text.charCodeAt(k) === 9 || text.charCodeAt(k) === 10 || text.charCodeAt(k) === 13)) k++;
  if (text[k] !== ')' && text[k] !== ',') return false;
  r.accessor = acc;
  r.callStart = j + 1;
  r.isWrite = acc.op !== 'read';
  // End of the call: matching ')' within a bounded window.
  let depth = 1;
  for (let p = i + 1, lim = Math.min(text.length, i + 2000); p < lim; p++) {
    const c = text.charCodeAt(p);
    if (c === 40) depth++;
    else if (c === 41 && --depth === 0) { r.callEnd = p + 1; break; }
  }
  return true;
}

function attachAccessorFromTree(r: FieldRef, root: Node, text: string): void {
  const node = root.descendantForIndex(r.start, r.end);
  if (node) attachAccessor(r, node, text);
}

/** `vmcs_read32(FIELD)`: attach the accessor and mark writes. Works on misparsed code via a text fallback. */
function attachAccessor(r: FieldRef, node: Node, text: string): void {
  let n: Node | null = node.parent;
  for (let depth = 0; n && depth < 4; depth++, n = n.parent) {
    if (n.type === 'call_expression') {
      const fn = n.childForFieldName('function');
      const acc = fn ? ACCESSOR_BY_NAME.get(fn.text) : undefined;
      const args = n.childForFieldName('arguments');
      const first = args?.namedChildren[0];
      if (acc && first && first.startIndex <= r.start && first.endIndex >= r.end) {
        r.accessor = acc;
        r.callStart = n.startIndex;
        r.callEnd = n.endIndex;
        r.isWrite = acc.op !== 'read';
      }
      return;
    }
    if (n.type !== 'argument_list' && n.type !== 'parenthesized_expression' && n.type !== 'ERROR') return;
  }
  // Fallback on text: `vmcs_xxx(  NAME`.
  const before = text.slice(Math.max(0, r.start - 40), r.start);
  const m = /([A-Za-z_][A-Za-z0-9_]*)\s*\(\s*$/.exec(before);
  const acc = m ? ACCESSOR_BY_NAME.get(m[1]) : undefined;
  if (acc) {
    r.accessor = acc;
    r.callStart = r.start - (before.length - m!.index);
    r.isWrite = acc.op !== 'read';
  }
}

/** Member forms: `vmcs12->guest_pdptr0`, `vmcb->control.int_ctl`, `svm->nested.ctl.int_ctl`, `vmcb12->save.es.base`. */
function memberRef(text: string, node: Node, name: string, start: number, end: number): FieldRef | undefined {
  const fe = node.parent && node.parent.type === 'field_expression' ? node.parent : undefined;
  let objectText: string | undefined;
  if (fe) objectText = fe.childForFieldName('argument')?.text;
  else objectText = objectTextFallback(text, start);
  if (objectText === undefined) return undefined;
  const r = classifyMember(text, name, start, end, objectText, fe);
  if (r && !fe) markWriteFromText(r, text);
  return r;
}

/**
 * The object of `obj->name` / `obj.name` when it is a plain chain of identifiers, calls with simple arguments and
 * member accesses starting at a statement/expression boundary — the shape of almost every KVM access. Anything else
 * (casts, subscripts, parenthesised pointers) returns undefined and goes to the tree.
 */
function plainObjectText(text: string, start: number): string | undefined {
  // Backward scan (a regex anchored at the end retries from every position): `<ident>[(<args>)] (->|.) ...`.
  const lo = Math.max(0, start - 120);
  let i = skipSpaceBack(text, start - 1, lo);
  if (!opBefore(text, i, lo)) return undefined;
  let chainEnd = -1; // end of the object text (exclusive), just before the last operator
  let chainStart = -1;
  for (;;) {
    // i is at the last character of an operator (`>` of `->` or `.`)
    const opStart = text.charCodeAt(i) === 46 ? i : i - 1;
    let j = skipSpaceBack(text, opStart - 1, lo);
    if (j < lo) break;
    // optional call arguments: `(` ... `)` with the characters the shape allows, no nesting
    let k = j;
    if (text.charCodeAt(k) === 41 /* ) */) {
      let p = k - 1;
      while (p >= lo && ARG_CHAR.test(text[p])) p--;
      if (p < lo || text.charCodeAt(p) !== 40 /* ( */) break;
      k = p - 1;
    }
    // identifier: [A-Za-z0-9_]+ that does not start with a digit
    let q = k;
    while (q >= lo && IDENT_CHAR.test(text[q])) q--;
    let idStart = q + 1;
    while (idStart <= k && /[0-9]/.test(text[idStart])) idStart++;
    if (idStart > k) break;
    if (chainEnd < 0) chainEnd = opStart;
    chainStart = idStart;
    if (idStart !== q + 1) break; // digits glued before the identifier: the chain cannot extend further
    const before = skipSpaceBack(text, idStart - 1, lo);
    if (!opBefore(text, before, lo)) break;
    i = before;
  }
  if (chainStart < 0) return undefined;
  // The character before the chain must end an expression boundary, not continue one (`)`, `]`, an operand).
  const b = skipSpaceBack(text, chainStart - 1, lo);
  const prev = b >= lo ? text[b] : ';';
  if (prev === ')' || prev === ']' || prev === '.' || (prev === '>' && text[b - 1] === '-') || IDENT_CHAR.test(prev)) return undefined;
  if (prev === '*' || prev === '&') return undefined; // `*vmcb->x`, `&vmcb->x`: let the tree decide precedence
  return text.slice(chainStart, skipSpaceBack(text, chainEnd - 1, lo) + 1);
}

const ARG_CHAR = /[A-Za-z0-9_\s,&*>.-]/;
const IDENT_CHAR = /[A-Za-z0-9_]/;

function skipSpaceBack(text: string, i: number, lo: number): number {
  while (i >= lo && /\s/.test(text[i])) i--;
  return i;
}

/** Is there a member operator (`.` or `->`) ending at i? */
function opBefore(text: string, i: number, lo: number): boolean {
  if (i < lo) return false;
  const c = text.charCodeAt(i);
  return c === 46 || (c === 62 && i - 1 >= lo && text.charCodeAt(i - 1) === 45);
}

/** Writes seen from the text after the member (and a sub-member): `=`, `op=`, `++`/`--` (postfix or prefix). */
function markWriteFromText(r: FieldRef, text: string): void {
  let k = r.end;
  if (r.subMember) {
    const m = /^\s*\.\s*[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(k, k + 80));
    if (m) k += m[0].length;
  }
  while (k < text.length && /\s/.test(text[k])) k++;
  const c = text[k];
  const d = text[k + 1];
  if (c === '=' && d !== '=') { r.isWrite = true; return; }
  if ((c === '+' && d === '+') || (c === '-' && d === '-')) { r.isWrite = true; r.compound = '++'; return; }
  if (/[+\-*/%&|^]/.test(c ?? '') && d === '=') { r.isWrite = true; r.compound = `${c}=`; return; }
  if ((c === '<' || c === '>') && d === c && text[k + 2] === '=') { r.isWrite = true; r.compound = `${c}${c}=`; }
}

function classifyMember(text: string, name: string, start: number, end: number, objectText: string, fe: Node | undefined): FieldRef | undefined {
  let outer: Node | undefined = fe;
  const obj = objectText.replace(/\s+/g, '');
  const typed = /^[A-Za-z_][A-Za-z0-9_]*$/.test(obj) ? pointerTypeAt(text, obj, start) : undefined;

  // vmcs12 members (also through a local `struct vmcs12 *` / eVMCS pointer, whose members carry the vmcs12 names)
  if (isVmcs12Object(obj) || typed?.type === 'vmcs12' || typed?.type === 'hv_enlightened_vmcs') {
    const f = VMCS_BY_VMCS12_MEMBER.get(name);
    if (!f) return undefined;
    const r: FieldRef = { start, end, name, form: 'vmcs12-member', entity: f, inComment: false, objectText, isWrite: false };
    if (typed) r.structType = typed.type;
    markWrite(r, outer);
    return r;
  }
  // A local/parameter pointer to an area: `control->tsc_offset`, `to->clean`, `save->rip`, `vmsa->pl0_ssp`.
  const kind = typed ? TYPED_AREA[typed.type] : undefined;
  if (typed && kind) {
    const f = kind === 'vmsa' ? findVmsaField(name) : kind === 'ghcb-save' ? findGhcbField(name)
      : findVmcbField(name, kind) ?? (name === 'intercepts' ? interceptWord(text, end, kind) : undefined);
    if (!f) return undefined;
    const area: VmcbArea = kind === 'control' ? 'control' : 'save';
    const vmcbObject = /_cached$/.test(typed.type) ? 'vmcb12-cache' : classifyVmcbObject(typed.init ?? obj);
    return areaRef(text, name, start, end, objectText, f, area, vmcbObject, fe, typed.type);
  }
  // VMCB area members: <obj>.control.x / <obj>->save.x / nested.ctl.x / nested.save.x (and `ghcb->save.x`)
  const areaM = /^(.*?)(?:->|\.)(control|save|ctl)$/.exec(obj);
  if (areaM) {
    const area: VmcbArea = areaM[2] === 'save' ? 'save' : 'control';
    const base = areaM[1];
    const baseType = /^[A-Za-z_][A-Za-z0-9_]*$/.test(base) ? pointerTypeAt(text, base, start) : undefined;
    if (baseType?.type === 'ghcb' || (!baseType && /(^|->|\.)ghcb$/.test(base))) {
      const g = area === 'save' ? findGhcbField(name) : undefined;
      return g ? areaRef(text, name, start, end, objectText, g, 'save', 'unknown', fe, 'ghcb') : undefined;
    }
    const vmcbish = /vmcb|nested$|hsave|save_area/.test(base) || areaM[2] === 'ctl' || baseType?.type === 'vmcb';
    if (!vmcbish) return undefined;
    const f = findVmcbField(name, area) ?? (name === 'intercepts' ? interceptWord(text, end, area) : undefined);
    if (!f) return undefined;
    const vmcbObject = areaM[2] === 'ctl' || /nested$/.test(base) ? 'vmcb12-cache' : classifyVmcbObject(baseType?.init ?? base);
    return areaRef(text, name, start, end, objectText, f, area, vmcbObject, fe, baseType?.type);
  }
  return undefined;
}

/** A VMCB/VMSA/GHCB member reference, with its sub-member (`save.es.selector`) and write marking. */
function areaRef(text: string, name: string, start: number, end: number, objectText: string, f: VmcbField, area: VmcbArea,
  vmcbObject: VmcbObject, fe: Node | undefined, structType: string | undefined): FieldRef {
  let outer: Node | undefined = fe;
  const r: FieldRef = { start, end, name, form: 'vmcb-member', entity: f, inComment: false, objectText, area, isWrite: false, vmcbObject };
  if (structType) r.structType = structType;
  // sub-member: vmcb->save.es.selector
  if (fe === undefined) {
    const sm = /^\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)/.exec(text.slice(end, end + 80));
    if (sm && !/^\s*\.\s*[A-Za-z_][A-Za-z0-9_]*\s*\(/.test(text.slice(end, end + 80))) r.subMember = sm[1];
    return r;
  }
  if (outer?.parent?.type === 'field_expression') {
    const sub = outer.parent.childForFieldName('field');
    if (sub) r.subMember = sub.text;
    outer = outer.parent;
  }
  markWrite(r, outer);
  return r;
}

// ---- local pointers: `struct vmcb_control_area *control = &svm->vmcb->control;`, parameters, `struct vmcs12 *v12` ----

/** Struct pointer types whose members are fields, and which area their members belong to. */
const TYPED_AREA: Readonly<Record<string, VmcbArea | 'vmsa' | 'ghcb-save' | undefined>> = {
  vmcb_control_area: 'control', vmcb_ctrl_area_cached: 'control', vmcb_save_area: 'save', vmcb_save_area_cached: 'save',
  sev_es_save_area: 'vmsa', ghcb_save_area: 'ghcb-save',
};

interface PtrDecl { at: number; name: string; type: string; init?: string }
const PTR_DECL = /\bstruct\s+([A-Za-z_][A-Za-z0-9_]*)\s*\*\s*(?:const\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*(?:=\s*&?\s*([^;,()]*(?:\([^()]*\)[^;,()]*)?))?/g;
let lastDecls: { text: string; decls: Map<string, PtrDecl[]> } | undefined;

/** Every `struct T *name` declaration (locals and parameters) in the text, by name, in text order. */
function pointerDecls(text: string): Map<string, PtrDecl[]> {
  if (lastDecls && lastDecls.text === text) return lastDecls.decls;
  const decls = new Map<string, PtrDecl[]>();
  PTR_DECL.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = PTR_DECL.exec(text)) !== null) {
    const d: PtrDecl = { at: m.index, name: m[2], type: m[1] };
    if (m[3]) d.init = m[3].trim();
    const list = decls.get(d.name);
    if (list) list.push(d);
    else decls.set(d.name, [d]);
  }
  lastDecls = { text, decls };
  return decls;
}

/** The struct type of pointer `name` at `offset`: the nearest declaration before it (any struct, so a closer unrelated one wins). */
function pointerTypeAt(text: string, name: string, offset: number): PtrDecl | undefined {
  const list = pointerDecls(text).get(name);
  if (!list) return undefined;
  let best: PtrDecl | undefined;
  for (const d of list) {
    if (d.at >= offset) break;
    best = d;
  }
  return best && (TYPED_AREA[best.type] || best.type === 'vmcs12' || best.type === 'hv_enlightened_vmcs' || best.type === 'vmcb' || best.type === 'ghcb') ? best : undefined;
}

/** Linux `enum intercept_words` (arch/x86/include/asm/svm.h): the symbolic indexes of `intercepts[]`. */
const INTERCEPT_WORDS: Readonly<Record<string, number>> = {
  INTERCEPT_CR: 0, INTERCEPT_DR: 1, INTERCEPT_EXCEPTION: 2, INTERCEPT_WORD3: 3, INTERCEPT_WORD4: 4, INTERCEPT_WORD5: 5,
};

/** `control.intercepts[INTERCEPT_DR]` / `intercepts[3]`: the word when the index is a literal or an enum name, else word 0's card. */
function interceptWord(text: string, end: number, area: VmcbArea) {
  const m = /^\s*\[\s*(\d+|[A-Z][A-Z0-9_]*)\s*\]/.exec(text.slice(end, end + 32));
  const idx = m ? (/^\d+$/.test(m[1]) ? Number(m[1]) : INTERCEPT_WORDS[m[1]] ?? 0) : 0;
  return findVmcbField(`intercepts[${idx}]`, area);
}

function objectTextFallback(text: string, start: number): string | undefined {
  const before = text.slice(Math.max(0, start - 80), start);
  const m = /([A-Za-z_][A-Za-z0-9_]*(?:\([^()]*\))?(?:\s*(?:->|\.)\s*[A-Za-z_][A-Za-z0-9_]*)*)\s*(?:->|\.)\s*$/.exec(before);
  return m ? m[1] : undefined;
}

function markWrite(r: FieldRef, expr: Node | undefined): void {
  if (!expr) return;
  const p = expr.parent;
  if (p && p.type === 'assignment_expression' && p.childForFieldName('left')?.id === expr.id) {
    r.isWrite = true;
    const op = p.childForFieldName('operator')?.text ?? p.children[1]?.text;
    if (op && op !== '=') r.compound = op;
  } else if (p && p.type === 'update_expression') {
    r.isWrite = true;
    r.compound = '++';
  }
}

/** `asm volatile("vmsave %0" ...)`, `__ex("vmload")`, `asm volatile(__ex("vmsave") ...)`. */
function scanAsm(text: string, root: Node, from: number, to: number, refs: FieldRef[]): void {
  // exec() searches on past `to` for a match; when [from, to) has none (the common case for one function) that would
  // be the rest of the text. A test of the range (and a mnemonic's length past it) rules that out first.
  if (to < text.length && !ASM_INSN_ANY.test(text.slice(from, to + 16))) return;
  // One regex pass: cheaper than a literal search per mnemonic over large files.
  ASM_INSN.lastIndex = from;
  let m: RegExpExecArray | null;
  while ((m = ASM_INSN.exec(text)) !== null && m.index < to) {
    const start = m.index;
    const end = start + m[1].length;
    const node = root.descendantForIndex(start, end);
    if (!node || (node.type !== 'string_content' && node.type !== 'string_literal')) continue;
    const insn = INSTRUCTION_NAMES.get(m[1]);
    if (insn) refs.push({ start, end, name: m[1], form: 'instruction', entity: insn, inComment: false, isWrite: false });
  }
}
