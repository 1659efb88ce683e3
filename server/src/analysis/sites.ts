// Definition and reference sites of field entities, for go-to-definition, find-references and workspace symbols:
// every reference in any form (enum name, accessor argument, vmcs12->member, vmcb member, mask). Plain data:
// per-file sites with 0-based line/character; the server turns them into LSP locations.
import type { Entity } from '../model/index';
import { VMCS_BY_VMCS12_MEMBER, entityForIdentifier, findVmcbField } from '../model/index';
import type { FieldRef, RefForm } from './refs';
import { lineStarts, positionIn } from './document';

/** One identity per entity: a vmcs12 member and its VMCS enum name share it. */
export function entityKey(e: Entity): string {
  return e.kind === 'vmcb' ? `vmcb:${e.area}.${e.name}` : `${e.kind}:${e.name}`;
}

export type DefKind = 'enum-member' | 'struct-member' | 'define';

export interface DefSite { key: string; name: string; kind: DefKind; line: number; character: number; length: number }
export interface RefSite { key: string; form: RefForm; line: number; character: number; length: number }

/** Which struct's members name entities, and how. */
const STRUCTS: Array<{ re: RegExp; member: (name: string) => Entity | undefined }> = [
  { re: /\bstruct\s+(?:__packed\s+|__attribute__\s*\(\([^)]*\)\)\s*)*vmcs12\s*\{/g, member: (n) => VMCS_BY_VMCS12_MEMBER.get(n) },
  { re: /\bstruct\s+(?:__packed\s+|__attribute__\s*\(\([^)]*\)\)\s*)*vmcb_control_area\s*\{/g, member: (n) => findVmcbField(n, 'control') },
  { re: /\bstruct\s+(?:__packed\s+|__attribute__\s*\(\([^)]*\)\)\s*)*vmcb_save_area\s*\{/g, member: (n) => findVmcbField(n, 'save') },
];
const DEFINE = /^[ \t]*#[ \t]*define[ \t]+([A-Za-z_][A-Za-z0-9_]*)/gm;
const ENUMERATOR = /^[ \t]*([A-Z][A-Z0-9_]*)[ \t]*(?:=[^,\n]*)?,/gm;
/** `u32 int_ctl;`, `struct vmcb_seg es;`, `u8 reserved_1[0x3c - 0x2c];` — the member name before `[...]`/`;`. */
const MEMBER = /^[ \t]*(?:(?:struct|union|enum)[ \t]+)?[A-Za-z_][A-Za-z0-9_]*[ \t*]+([a-z_][A-Za-z0-9_]*)[ \t]*(?:\[[^\]\n]*\])?[ \t]*(?::[ \t]*\d+[ \t]*)?;/gm;

/** The matching `}` of the `{` at `open` (comments and strings are not skipped: struct bodies hold neither braces). */
function closeBrace(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '{') depth++;
    else if (text[i] === '}' && --depth === 0) return i;
  }
  return text.length;
}

/** Definitions of entities in a file's text: #defines, enumerators of VMCS/exit-reason enums, vmcs12/VMCB struct members. */
export function definitionSites(text: string, starts = lineStarts(text)): DefSite[] {
  const out: DefSite[] = [];
  const add = (e: Entity | undefined, name: string, offset: number, kind: DefKind): void => {
    if (!e) return;
    out.push({ key: entityKey(e), name, kind, ...positionIn(starts, offset), length: name.length });
  };
  if (text.includes('define')) {
    DEFINE.lastIndex = 0;
    for (let m = DEFINE.exec(text); m; m = DEFINE.exec(text)) {
      const e = entityForIdentifier(m[1]);
      if (e && e.kind !== 'accessor' && e.kind !== 'instruction') add(e, m[1], m.index + m[0].length - m[1].length, 'define');
    }
  }
  if (text.includes('enum')) {
    ENUMERATOR.lastIndex = 0;
    for (let m = ENUMERATOR.exec(text); m; m = ENUMERATOR.exec(text)) {
      const e = entityForIdentifier(m[1]);
      if (e && (e.kind === 'vmcs' || e.kind === 'exit-reason')) add(e, m[1], m.index + m[0].indexOf(m[1]), 'enum-member');
    }
  }
  for (const s of STRUCTS) {
    s.re.lastIndex = 0;
    for (let m = s.re.exec(text); m; m = s.re.exec(text)) {
      const open = m.index + m[0].length - 1;
      const close = closeBrace(text, open);
      const body = text.slice(open + 1, close);
      MEMBER.lastIndex = 0;
      for (let k = MEMBER.exec(body); k; k = MEMBER.exec(body)) {
        const name = k[1];
        add(s.member(name), name, open + 1 + k.index + k[0].lastIndexOf(name, k[0].search(/[[;:]/)), 'struct-member');
      }
    }
  }
  return out;
}

/** Reference sites of a file (not in comments), keyed by entity. */
export function referenceSites(refs: readonly FieldRef[], text: string, starts = lineStarts(text)): RefSite[] {
  const out: RefSite[] = [];
  for (const r of refs) {
    if (r.inComment) continue;
    out.push({ key: entityKey(r.entity), form: r.form, ...positionIn(starts, r.start), length: r.end - r.start });
  }
  return out;
}

/** The definition site under a position, if any (cursor on `GUEST_PDPTR0 = 0x280a,` or `u64 guest_pdptr0;`). */
export function defSiteAt(defs: readonly DefSite[], line: number, character: number): DefSite | undefined {
  return defs.find((d) => d.line === line && character >= d.character && character <= d.character + d.length);
}

export { lineStarts };
