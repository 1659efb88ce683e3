// Code actions, editor-agnostic: every finding's own fix (e.g. the accessor of the right width, the guard the model
// proves for an undefined read), "suppress on the next line" for every rule, and "explain field" for the field under
// the cursor — also with the cursor on the accessor of a `vmcs_readXX(FIELD)` call.
import type { DocumentAnalysis } from '../analysis/document';
import type { FieldRef } from '../analysis/refs';
import type { Finding, TextEdit } from './findings';

export interface Action {
  title: string;
  kind: 'quickfix' | 'explain';
  /** The finding this action addresses (quick fixes and suppressions). */
  finding?: Finding;
  edits?: TextEdit[];
  /** Explain actions: the entity name to explain. */
  explain?: string;
  preferred?: boolean;
}

const DISABLE_NEXT = /\/\*\s*kvm-lens-disable-next-line\b([^*\n]*)\*\//;

/** Insert `/* kvm-lens-disable-next-line RULE *\/` above the finding's line, or add RULE to an existing one. */
export function suppressEdit(doc: DocumentAnalysis, f: Finding): TextEdit {
  const line = doc.lines.positionAt(f.start).line;
  const starts = doc.lines.starts;
  const lineStart = starts[line];
  const indent = /^[ \t]*/.exec(doc.text.slice(lineStart, starts[line + 1] ?? doc.text.length))?.[0] ?? '';
  if (line > 0) {
    const prevStart = starts[line - 1];
    const prev = doc.text.slice(prevStart, lineStart - 1);
    const m = DISABLE_NEXT.exec(prev);
    if (m && prev.trim() === m[0]) {
      const ids = m[1].trim().split(/[\s,]+/).filter(Boolean);
      const start = prevStart + m.index;
      return { start, end: start + m[0].length, newText: `/* kvm-lens-disable-next-line ${[...ids, f.rule].join(' ')} */` };
    }
  }
  return { start: lineStart, end: lineStart, newText: `${indent}/* kvm-lens-disable-next-line ${f.rule} */\n` };
}

/**
 * Where the cursor finds a finding: its range, widened to the whole accessor call when the finding sits on the
 * field or on the accessor of `vmcs_readXX(FIELD)` — the actions are offered on either name.
 */
function hitRange(doc: DocumentAnalysis, f: Finding): [number, number] {
  let a = f.start;
  let b = f.end;
  for (const r of doc.refs) {
    if (r.start > f.end) break;
    if (r.callStart === undefined || r.callEnd === undefined) continue;
    if ((r.start <= f.start && f.end <= r.end) || (r.callStart <= f.start && f.end <= r.callEnd)) {
      a = Math.min(a, r.callStart);
      b = Math.max(b, r.callEnd);
    }
  }
  return [a, b];
}

function explainTarget(doc: DocumentAnalysis, from: number, to: number): FieldRef | undefined {
  let best: FieldRef | undefined;
  for (const r of doc.refs) {
    if (r.inComment) continue;
    const inName = r.start <= to && r.end >= from;
    const inCall = r.callStart !== undefined && r.callEnd !== undefined && r.callStart <= from && r.callEnd >= to && r.entity.kind === 'vmcs';
    if (!inName && !inCall) continue;
    // the field of an accessor call beats the accessor itself
    if (!best || (best.entity.kind === 'accessor' && r.entity.kind !== 'accessor')) best = r;
  }
  return best;
}

export function codeActions(doc: DocumentAnalysis, findings: readonly Finding[], from: number, to: number): Action[] {
  const out: Action[] = [];
  const here = findings.filter((f) => {
    const [a, b] = hitRange(doc, f);
    return a <= to && b >= from;
  });
  for (const f of here) {
    if (f.fix) out.push({ title: f.fix.title, kind: 'quickfix', finding: f, edits: f.fix.edits, preferred: true });
  }
  const suppressed = new Set<string>();
  for (const f of here) {
    const line = doc.lines.positionAt(f.start).line;
    const id = `${f.rule}:${line}`;
    if (suppressed.has(id)) continue;
    suppressed.add(id);
    out.push({ title: `Suppress ${f.rule} on this line (kvm-lens-disable-next-line)`, kind: 'quickfix', finding: f, edits: [suppressEdit(doc, f)] });
  }
  const ref = explainTarget(doc, from, to);
  if (ref) out.push({ title: `Explain ${ref.entity.name}`, kind: 'explain', explain: ref.entity.name });
  return out;
}
