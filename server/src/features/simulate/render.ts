// Markdown rendering of a SimulationResult, for editors without webviews and for `kvm-lens simulate`.
import type { SimulationResult, SimStep } from '../../protocol/simulation';

function esc(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function exitCell(s: SimStep): string {
  if (s.vmExit === undefined) return '';
  return s.vmExit ? '**exit**' : 'no exit';
}

export function renderSimulationMarkdown(result: SimulationResult, opts: { maxConfigurations?: number; maxChanges?: number } = {}): string {
  const out: string[] = [];
  const maxCfg = opts.maxConfigurations ?? 64;
  const maxCh = opts.maxChanges ?? 6;
  out.push(`## ${esc(result.title)}`, '');
  if (result.summary.length) {
    out.push('**Summary**', '');
    for (const s of result.summary) out.push(`- ${s}`);
    out.push('');
  }
  if (result.findings.length) {
    out.push('**Findings**', '');
    for (const f of result.findings) out.push(`- line ${f.line} · ${f.severity} · \`${f.rule}\` — ${f.message}`);
    out.push('');
  }
  if (result.steps.length) {
    out.push('**Steps**', '', '| # | line | level | actor | operation | exit | state changes |', '|---|---|---|---|---|---|---|');
    for (const s of result.steps) {
      const ch = s.changes.slice(0, maxCh).map((c) => `\`${esc(c.location)}\` = ${esc(c.value)}`).join('<br>') +
        (s.changes.length > maxCh ? `<br>… ${s.changes.length - maxCh} more` : '');
      const op = s.simulated ? esc(s.op) : `_${esc(s.op)}_`;
      const why = s.explanation ? `<br><sub>${esc(s.explanation)}</sub>` : '';
      const path = s.path ? `<br><sub>when ${esc(s.path)}</sub>` : '';
      const level = s.control ? `${s.level} · ${s.control}` : s.level;
      out.push(`| ${s.index} | ${s.line}${s.via ? ` (in ${s.via.fn}, from ${s.via.line})` : ''} | ${level} | ${s.actor} | ${op}${why}${path} | ${exitCell(s)} | ${ch} |`);
    }
    out.push('');
  }
  const fields = result.fields ?? [];
  if (fields.length) {
    out.push('**Fields written** (shown run)', '', '| field | status | line | value | path |', '|---|---|---|---|---|');
    for (const f of fields.slice(0, 64)) out.push(`| \`${esc(f.location)}\` | ${f.status} | ${f.line ?? ''} | ${esc(f.by ?? '')} | ${esc(f.path ?? '')} |`);
    if (fields.length > 64) out.push('', `_${fields.length - 64} more fields not shown_`);
    out.push('');
  }
  const cfgs = result.configurations ?? [];
  if (cfgs.length) {
    const keys = [...new Set(cfgs.flatMap((c) => Object.keys(c.predicates)))];
    out.push(`**Configurations** (${cfgs.length})`, '', `| ${keys.map(esc).join(' | ')} | findings | flows |`, `|${keys.map(() => '---').join('|')}|---|---|`);
    for (const c of cfgs.slice(0, maxCfg)) {
      const vals = keys.map((k) => String(c.predicates[k] ?? ''));
      const fs = c.findings.length ? c.findings.map((f) => `${f.severity}: ${esc(f.message)}`).join('<br>') : '—';
      const flows = c.flows.slice(0, 4).map(esc).join('<br>') + (c.flows.length > 4 ? `<br>… ${c.flows.length - 4} more` : '');
      out.push(`| ${vals.join(' | ')} | ${fs} | ${flows} |`);
    }
    if (cfgs.length > maxCfg) out.push('', `_${cfgs.length - maxCfg} more configurations not shown_`);
    out.push('');
  }
  return out.join('\n');
}
