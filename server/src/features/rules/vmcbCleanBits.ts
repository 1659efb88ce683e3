// vmcb-clean-bits: writing a VMCB field covered by a clean bit (model VmcbField.cleanBit) without marking its group
// dirty. With the bit still set, the processor may keep using its cached copy of the group on the next VMRUN and
// ignore the new value (AMD APM Vol.2 §15.15.3).
//
// Precision. KVM writes many fields where the marking happens elsewhere: init code (init_vmcb ends with
// vmcb_mark_all_dirty()), helpers whose caller marks the group, setters that call a marking helper. The rule therefore
// counts as "marked" any vmcb_mark_dirty(…, GROUP) / vmcb_mark_all_dirty() / `clean = 0` / `clean &= ~…` (old names
// mark_dirty/mark_all_dirty too) in the writing function, in the functions it calls, or in the functions that call it
// (transitively, a few levels, within the file and — in a CLI run — the other files checked with it). VMCB_INTR and
// VMCB_CR2 are never flagged: KVM clears those clean bits before every VMRUN (VMCB_ALWAYS_DIRTY_MASK in svm.h).
// Writes to vmcb12 (L1's memory) or to KVM's cached copy are not hardware VMCBs KVM runs and are not checked.
import type { DocumentAnalysis, FunctionInfo } from '../../analysis/document';
import { functionAt } from '../../analysis/document';
import { findVmcbField } from '../../model/index';
import type { Finding, Rule, RuleContext } from '../findings';
import { callsOf, forEachCall } from '../../analysis/roles';
import { isSpace, isWordChar } from './textScan';

const SOURCE = 'AMD APM Vol.2 §15.15.3 (VMCB clean field: the processor may use cached state for groups whose clean bit is 1); '
  + 'Linux arch/x86/kvm/svm/svm.h vmcb_mark_dirty()/VMCB_ALWAYS_DIRTY_MASK; Xen xen/arch/x86/hvm/svm/vmcb.h';

/** KVM clears these before every VMRUN (svm.h VMCB_ALWAYS_DIRTY_MASK, unchanged since Linux 3.x). */
const ALWAYS_DIRTY = new Set(['VMCB_INTR', 'VMCB_CR2']);
/** Helpers defined in svm.h (not in the .c files) that mark a group. */
const HEADER_MARKERS: Readonly<Record<string, string>> = {
  recalc_intercepts: 'VMCB_INTERCEPTS', svm_set_intercept: 'VMCB_INTERCEPTS', svm_clr_intercept: 'VMCB_INTERCEPTS',
  set_exception_intercept: 'VMCB_INTERCEPTS', clr_exception_intercept: 'VMCB_INTERCEPTS', set_cr_intercept: 'VMCB_INTERCEPTS',
  clr_cr_intercept: 'VMCB_INTERCEPTS', set_dr_intercepts: 'VMCB_INTERCEPTS', clr_dr_intercepts: 'VMCB_INTERCEPTS',
  set_intercept: 'VMCB_INTERCEPTS', clr_intercept: 'VMCB_INTERCEPTS', svm_mark_intercepts_dirty: 'VMCB_INTERCEPTS',
};
const ALL = '*';
const DEPTH = 4;

/** A function body found in the text, and the distinct names it calls in order of first call (filled on demand). */
interface Body { text: string; calls?: readonly string[] }

function callsIn(b: Body): readonly string[] {
  if (!b.calls) {
    const seen = new Set<string>();
    forEachCall(b.text, (name) => { seen.add(name); });
    b.calls = [...seen];
  }
  return b.calls;
}

const HEADER = /^[A-Za-z_][^\n;=]*?\b([A-Za-z_][A-Za-z0-9_]*)\s*\([^;{]*?\)\s*\n\{/my;

/** A position where `^` matches in multiline mode: the start, or after a line terminator. */
function isLineStart(text: string, i: number): boolean {
  if (i === 0) return true;
  const c = text.charCodeAt(i - 1);
  return c === 10 || c === 13 || c === 0x2028 || c === 0x2029;
}

/** The `}` closing the `{` at `open` (text.length when there is none), jumping from brace to brace. */
function matchingBrace(text: string, open: number): number {
  let depth = 0;
  let o = open;
  let c = text.indexOf('}', open);
  for (;;) {
    if (c < 0) return text.length;
    if (o >= 0 && o < c) { depth++; o = text.indexOf('{', o + 1); continue; }
    if (--depth === 0) return c;
    c = text.indexOf('}', c + 1);
  }
}

/**
 * Function bodies by name, from text (robust to parse errors; kernel style: `name(args)\n{ ... \n}`).
 *
 * The matches of /^[A-Za-z_][^\n;=]*?\b(NAME)\s*\([^;{]*?\)\s*\n\{/gm, found without running that regex at every
 * position: a match ends with a `{` that follows a `\n`, holds no `;`, and any other `{` in it lies on its first line.
 * So for each `\n{` (in order) a match ending there starts at a line start after the last `;` before it, and not before
 * the line of the last `{` before it; the pattern is tried (sticky) at those line starts only, leftmost first. A match
 * starting before that stretch would end at an earlier `\n{`, already tried.
 */
function indexText(text: string, into: Map<string, Body[]>, nonStatic: Set<string>, doc?: DocumentAnalysis): void {
  // A body that is exactly a function body of `doc` (the text is the document's) shares its call list with the roles.
  let defs: Map<number, FunctionInfo> | undefined;
  let from = 0; // the global regex's lastIndex
  for (let brace = text.indexOf('\n{', from); brace >= 0; brace = text.indexOf('\n{', brace + 1)) {
    const close = brace + 1; // the final `{` of a candidate match
    if (close <= from) continue;
    let lo = from;
    for (let k = close - 1; k >= from; k--) {
      const ch = text.charCodeAt(k);
      if (ch === 59 /* ; */) { lo = k + 1; break; }
      if (ch === 123 /* { */) {
        while (k > from && !isLineStart(text, k)) k--;
        lo = k;
        break;
      }
    }
    let m: RegExpExecArray | null = null;
    for (let s = lo; s < close; s++) {
      if (!isLineStart(text, s)) continue;
      HEADER.lastIndex = s;
      m = HEADER.exec(text);
      if (m) break;
    }
    if (!m) continue;
    from = HEADER.lastIndex;
    const open = from - 1;
    const i = matchingBrace(text, open);
    const body: Body = { text: text.slice(open, i + 1) };
    if (doc && i < text.length) {
      defs ??= new Map(doc.functions.map((f) => [f.bodyStart, f]));
      const fn = defs.get(open);
      if (fn && fn.bodyEnd === i + 1) body.calls = callsOf(doc, fn);
    }
    const list = into.get(m[1]) ?? [];
    list.push(body);
    into.set(m[1], list);
    if (!/^\s*static\b/.test(m[0])) nonStatic.add(m[1]);
  }
}

const MARK = /\b(?:vmcb_mark_dirty|mark_dirty)\s*\([^;]*?\b(VMCB_[A-Z0-9_]+)\s*\)/g;
const MARK_ALL = /\b(?:vmcb_mark_all_dirty|mark_all_dirty)\s*\(|control\.clean\s*(?:=\s*0\b|&=)|->clean\s*(?:=\s*0\b|&=)/;

class MarkIndex {
  private readonly bodies = new Map<string, Body[]>();
  /** Functions with a non-static definition: callable from files this index may not hold. */
  readonly nonStatic = new Set<string>();
  private readonly direct = new Map<string, Set<string>>();
  private callersIdx: Map<string, Set<string>> | undefined;
  private readonly calleesIdx = new Map<string, string[]>();

  /** `complete`: the index holds the whole program part that can call into these files (a tree run). */
  constructor(texts: string[], readonly complete: boolean, doc?: DocumentAnalysis) {
    texts.forEach((t, i) => indexText(t, this.bodies, this.nonStatic, i === 0 ? doc : undefined));
  }

  /**
   * Are all callers of `name` (transitively) visible? True in a tree run; in a single file, only when every function
   * on the way up is static (a static function without callers is reached through an ops table from generic code,
   * which does not touch clean bits).
   */
  callersKnown(name: string): boolean {
    if (this.complete) return true;
    const seen = new Set<string>([name]);
    const stack = [name];
    while (stack.length) {
      const f = stack.pop()!;
      if (this.nonStatic.has(f) || !this.bodies.has(f)) return false;
      for (const c of this.callers(f)) if (!seen.has(c)) { seen.add(c); stack.push(c); }
    }
    return true;
  }

  /** Groups marked directly in the bodies of `name` (ALL for mark-all). */
  directMarks(name: string): Set<string> {
    let s = this.direct.get(name);
    if (s) return s;
    s = new Set<string>();
    const h = HEADER_MARKERS[name];
    if (h) s.add(h);
    for (const b of this.bodies.get(name) ?? []) {
      const t = b.text;
      if (MARK_ALL.test(t)) s.add(ALL);
      MARK.lastIndex = 0;
      let m: RegExpExecArray | null;
      while ((m = MARK.exec(t)) !== null) s.add(m[1]);
      for (const [helper, g] of Object.entries(HEADER_MARKERS)) if (t.includes(`${helper}(`)) s.add(g);
    }
    this.direct.set(name, s);
    return s;
  }

  callees(name: string): string[] {
    let list = this.calleesIdx.get(name);
    if (list) return list;
    const out = new Set<string>();
    for (const b of this.bodies.get(name) ?? []) {
      for (const c of callsIn(b)) if (c !== name && this.bodies.has(c)) out.add(c);
    }
    list = [...out];
    this.calleesIdx.set(name, list);
    return list;
  }

  callers(name: string): string[] {
    if (!this.callersIdx) {
      const idx = new Map<string, Set<string>>();
      for (const [fn, bodies] of this.bodies) {
        for (const b of bodies) {
          for (const c of callsIn(b)) {
            if (c === fn) continue;
            const set = idx.get(c);
            if (set) set.add(fn);
            else idx.set(c, new Set([fn]));
          }
        }
      }
      this.callersIdx = idx;
    }
    return [...(this.callersIdx.get(name) ?? [])];
  }

  /** Does `name`, something it calls, or something that calls it mark `group` (or everything)? */
  marks(name: string, group: string): string | undefined {
    const hit = (fn: string): boolean => {
      const d = this.directMarks(fn);
      return d.has(group) || d.has(ALL);
    };
    // down: callees
    const seenDown = new Set<string>([name]);
    let frontier = [name];
    for (let depth = 0; depth <= DEPTH && frontier.length; depth++) {
      const next: string[] = [];
      for (const f of frontier) {
        if (hit(f)) return f;
        for (const c of this.callees(f)) if (!seenDown.has(c)) { seenDown.add(c); next.push(c); }
      }
      frontier = next;
    }
    // up: callers (and what they call after us — approximated by their own marks and their callees' marks)
    const seenUp = new Set<string>([name]);
    frontier = [name];
    for (let depth = 0; depth < DEPTH && frontier.length; depth++) {
      const next: string[] = [];
      for (const f of frontier) {
        for (const c of this.callers(f)) {
          if (seenUp.has(c)) continue;
          seenUp.add(c);
          if (hit(c)) return c;
          for (const cc of this.callees(c)) if (!seenDown.has(cc) && cc !== f && hit(cc)) return `${c} → ${cc}`;
          next.push(c);
        }
      }
      frontier = next;
    }
    return undefined;
  }
}

const byFiles = new WeakMap<ReadonlyArray<{ path: string; text: string }>, MarkIndex>();
const byDoc = new WeakMap<DocumentAnalysis, MarkIndex>();

/** One index per CLI run (when the document is one of the run's files), else one per document. */
function indexFor(doc: DocumentAnalysis, ctx?: RuleContext): MarkIndex {
  const files = ctx?.files;
  if (files && files.some((f) => f.text === doc.text)) {
    let idx = byFiles.get(files);
    if (!idx) byFiles.set(files, (idx = new MarkIndex(files.map((f) => f.text), files.length > 1)));
    return idx;
  }
  let idx = byDoc.get(doc);
  if (!idx) byDoc.set(doc, (idx = new MarkIndex([doc.text, ...(files ?? []).map((f) => f.text)], (files?.length ?? 0) > 0, doc)));
  return idx;
}

/**
 * Does the text access a `control` or `save` member (`->control`, `.save`, with optional blanks)? Same answer as
 * /->\s*(control|save)\b|\.\s*(control|save)\b/, by indexOf (a regex with a leading alternation scans slowly).
 */
function mentionsVmcbArea(text: string): boolean {
  for (const word of ['control', 'save']) {
    for (let i = text.indexOf(word); i >= 0; i = text.indexOf(word, i + 1)) {
      const after = text.charCodeAt(i + word.length);
      if (isWordChar(after)) continue;
      let j = i - 1;
      while (j >= 0 && isSpace(text.charCodeAt(j))) j--;
      if (j >= 0 && (text.charCodeAt(j) === 46 /* . */ || (text.charCodeAt(j) === 62 /* > */ && text.charCodeAt(j - 1) === 45 /* - */))) return true;
    }
  }
  return false;
}

export const vmcbCleanBits: Rule = {
  id: 'vmcb-clean-bits',
  defaultSeverity: 'warning',
  description: 'VMCB field covered by a clean bit written without marking its group dirty',
  run(doc: DocumentAnalysis, ctx?: RuleContext): Finding[] {
    const out: Finding[] = [];
    // Only member writes can be flagged: look at the text (slow on big files) only when there are some.
    if (!doc.refs.some((r) => r.form === 'vmcb-member' && r.isWrite) || !mentionsVmcbArea(doc.text)) return out;
    let index: MarkIndex | undefined;
    const reported = new Set<string>();
    for (const r of doc.refs) {
      if (r.form !== 'vmcb-member' || !r.isWrite || r.inComment || r.entity.kind !== 'vmcb') continue;
      if (r.entity.layout) continue; // SEV-ES VMSA / GHCB member: not the VMCB, no clean bits
      const obj = r.vmcbObject ?? 'unknown';
      if (obj === 'vmcb12' || obj === 'vmcb12-cache' || obj === 'unknown') continue;
      if (/nested_vmcb|hsave|vmcb12|\bctl\b/.test(r.objectText ?? '')) continue;
      const field = findVmcbField(r.name, r.area) ?? r.entity;
      const group = field.cleanBit;
      if (!group || ALWAYS_DIRTY.has(group) || group === 'VMCB_SW') continue;
      const fn = functionAt(doc, r.start);
      if (!fn) continue;
      // SEV-ES guests run from the VMSA: VMRUN does not load the VMCB save area, whose fields KVM keeps for itself.
      if (r.area === 'save' && /sev_es|ghcb|vmsa/.test(fn.name)) continue;
      index ??= indexFor(doc, ctx);
      if (index.marks(fn.name, group)) continue;
      if (!index.callersKnown(fn.name)) continue;
      const key = `${fn.name}:${group}`; // one finding per function and group: the first write
      if (reported.has(key)) continue;
      reported.add(key);
      out.push({
        rule: 'vmcb-clean-bits', severity: 'warning', start: r.start, end: r.end, source: SOURCE,
        message: `${r.objectText ?? 'vmcb'}.${r.name}${r.subMember ? `.${r.subMember}` : ''} is written but its clean-bit group ${group} is not marked dirty here or in callers/callees; neither ${fn.name}() nor the functions it calls or that call it mark ${group} dirty (vmcb_mark_dirty(vmcb, ${group}) or vmcb_mark_all_dirty()), and with the clean bit set the processor may keep using its cached copy on the next VMRUN. [${SOURCE}]`,
      });
    }
    return out;
  },
};
