// Runs every rule over a document, applies settings (per-rule severity/off) and disable comments.
import type { DocumentAnalysis } from '../analysis/document';
import { onConditionError } from '../analysis/conditions';
import { docHas } from '../analysis/docMemo';
import type { Finding, Rule, RuleContext, RuleSettings } from './findings';
import { RULES } from './rules/index';

export { RULES };

const DISABLE = /kvm-lens-disable-next-line\b([^*\n]*)/g;
const DISABLE_LINE = /kvm-lens-disable-line\b([^*\n]*)/g;

/** Lines (0-based) on which rules are disabled, with the rule ids (empty set = all rules). */
export function disabledLines(doc: DocumentAnalysis): Map<number, Set<string>> {
  const out = new Map<number, Set<string>>();
  const scan = (re: RegExp, delta: number): void => {
    re.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = re.exec(doc.text)) !== null) {
      const line = doc.lines.positionAt(m.index).line + delta;
      const ids = m[1].split(/[\s,]+/).map((s) => s.trim()).filter((s) => /^[a-z0-9-]+$/.test(s));
      const set = out.get(line) ?? new Set<string>();
      if (ids.length === 0) set.add('*');
      for (const id of ids) set.add(id);
      out.set(line, set);
    }
  };
  if (docHas(doc, 'kvm-lens-disable')) {
    scan(DISABLE, 1);
    scan(DISABLE_LINE, 0);
  }
  return out;
}

export function computeDiagnostics(doc: DocumentAnalysis, settings: RuleSettings = {}, only?: Set<string>, ctx?: RuleContext): Finding[] {
  const steps = diagnosticSteps(doc, settings, only, ctx);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/**
 * computeDiagnostics() one rule at a time: the generator yields after each rule and returns the findings, so a caller
 * (the server) can give queued messages a turn between rules and drop the work when the document changed.
 */
export function* diagnosticSteps(doc: DocumentAnalysis, settings: RuleSettings = {}, only?: Set<string>, ctx?: RuleContext): Generator<void, Finding[], void> {
  const disabled = disabledLines(doc);
  const out: Finding[] = [];
  for (const rule of RULES) {
    if (only && only.size && !only.has(rule.id)) continue;
    const sev = settings[rule.id];
    if (sev === 'off') continue;
    let found: Finding[];
    // Path-condition failures degrade to "unknown" inside conditions.ts; they are still internal errors to report.
    const prevSink = onConditionError((where, e) => reportInternalError(rule, new Error(`${where}: ${e instanceof Error ? e.message : String(e)}`)));
    try {
      found = rule.run(doc, ctx);
    } catch (e) {
      // A rule bug must not take the others down; the server logs internal errors separately.
      reportInternalError(rule, e);
      continue;
    } finally {
      onConditionError(prevSink);
    }
    for (const f of found) {
      const line = doc.lines.positionAt(f.start).line;
      const d = disabled.get(line);
      if (d && (d.has('*') || d.has(rule.id))) continue;
      out.push(sev ? { ...f, severity: sev } : f);
    }
    yield;
  }
  out.sort((a, b) => a.start - b.start || a.rule.localeCompare(b.rule));
  return out;
}

export type InternalErrorSink = (rule: Rule, error: unknown) => void;
let sink: InternalErrorSink | undefined;
export function onInternalError(s: InternalErrorSink | undefined): void { sink = s; }
function reportInternalError(rule: Rule, e: unknown): void {
  if (sink) sink(rule, e);
}

export function ruleById(id: string): Rule | undefined {
  return RULES.find((r) => r.id === id);
}
