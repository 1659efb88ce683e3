// `kvm-lens simulate` for the terminal: plain text, no Markdown tables or HTML; findings and configurations in short
// form, steps with their state changes (the first few per step; all with --verbose). Steps whose state turns
// undefined or stale, or that carry a finding, are marked with `!`.
import type { SimFinding, SimStep, SimulationResult } from '../protocol/simulation';
import { presentFinding, wrap } from '../features/present';
import { exitCount, faultOf } from '../protocol/simulationView';

export interface TextOptions { verbose: boolean; columns: number }

const CHANGES_SHOWN = 3;

function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function isFaultStep(s: SimStep, findings: readonly SimFinding[]): boolean {
  return faultOf(s, findings) !== undefined;
}

function findingLines(f: SimFinding, o: TextOptions): string[] {
  const t = presentFinding({ message: f.message, source: '' });
  const head = `line ${f.line}  ${f.severity}  ${f.rule}: ${o.verbose ? (t.why || t.short) : t.short}`;
  const out = wrap(head, o.columns - 2, '      ').map((l, i) => (i === 0 ? `  ${l}` : l));
  if (o.verbose && t.citation) out.push(...wrap(`source: ${t.citation}`, o.columns - 6, '        ').map((l, i) => (i === 0 ? `      ${l}` : l)));
  return out;
}

export function renderSimulationText(r: SimulationResult, o: TextOptions): string {
  const steps = r.steps ?? [];
  const findings = r.findings ?? [];
  const configs = r.configurations ?? [];
  const out: string[] = [];
  const simulated = steps.filter((s) => s.simulated !== false).length;
  out.push(`${r.title} (${r.kind === 'c' ? 'C code' : 'written flow'})`);
  out.push(`${count(steps.length, 'step')} (${simulated} simulated, ${steps.length - simulated} narration), ${count(exitCount(steps), 'VM exit')}, ` +
    `${count(findings.length, 'finding')}${configs.length ? `, ${count(configs.length, 'configuration')}` : ''}`);
  if (r.summary?.length) {
    out.push('', 'Summary');
    for (const s of r.summary) out.push(...wrap(`- ${s}`, o.columns - 2, '    ').map((l, i) => (i === 0 ? `  ${l}` : l)));
  }
  out.push('', 'Findings');
  if (!findings.length) out.push('  none');
  for (const f of findings) out.push(...findingLines(f, o));

  if (steps.length) {
    out.push('', `Steps (! = a value becomes undefined/stale or a finding is on that line)`);
    const w = String(Math.max(...steps.map((s) => s.line), 1)).length;
    for (const s of steps) {
      const mark = isFaultStep(s, findings) ? '!' : ' ';
      const exit = s.vmExit === true ? '  [VM exit]' : s.vmExit === false ? '  [no exit]' : '';
      const ctl = s.control ? `[${s.control}] ` : '';
      const head = `${mark}${String(s.index).padStart(3)}  line ${String(s.line).padStart(w)}  ${s.level.padEnd(2)} ${s.actor.padEnd(3)} ${ctl}${s.op}${exit}${s.simulated === false ? '  (not simulated)' : ''}${s.via ? `  (in ${s.via.fn}(), called at line ${s.via.line})` : ''}`;
      const indent = ' '.repeat(13 + w);
      out.push(...wrap(head, o.columns, indent + '  '));
      if (s.path) out.push(...wrap(`when ${s.path}`, o.columns, indent).map((l, i) => (i === 0 ? indent + l : l)));
      if (s.explanation) out.push(...wrap(s.explanation, o.columns, indent).map((l, i) => (i === 0 ? indent + l : l)));
      const shown = o.verbose ? s.changes : s.changes.slice(0, CHANGES_SHOWN);
      for (const c of shown) {
        const flag = c.status === 'undefined' || c.status === 'stale' ? '! ' : '  ';
        out.push(...wrap(`${flag}${c.location} = ${c.value}`, o.columns, `${indent}    `).map((l, i) => (i === 0 ? indent + l : l)));
      }
      if (shown.length < s.changes.length) out.push(`${indent}  … ${s.changes.length - shown.length} more (--verbose)`);
    }
  }

  if (configs.length) {
    out.push('', `Configurations (${configs.length})`);
    const keys = [...new Set(configs.flatMap((c) => Object.keys(c.predicates ?? {})))];
    const width = keys.map((k) => Math.max(k.length, ...configs.map((c) => String(c.predicates?.[k] ?? '—').length)));
    out.push(`  ${'#'.padStart(3)}  ${keys.map((k, i) => k.padEnd(width[i])).join('  ')}  findings`);
    configs.forEach((c, i) => {
      const fs = c.findings ?? [];
      const bad = fs.filter((f) => f.severity === 'error' || f.severity === 'warning').length;
      const bySev = (['error', 'warning', 'info', 'hint'] as const).map((sev) => [sev, fs.filter((f) => f.severity === sev).length] as const).filter(([, n]) => n);
      const summary = bySev.length ? bySev.map(([sev, n]) => `${n} ${sev}${n === 1 || sev === 'info' ? '' : 's'}`).join(', ') : '—';
      out.push(`${bad ? '!' : ' '} ${String(i + 1).padStart(3)}  ${keys.map((k, j) => String(c.predicates?.[k] ?? '—').padEnd(width[j])).join('  ')}  ${summary}`);
      if (o.verbose) for (const f of fs) out.push(...findingLines(f, o).map((l) => `      ${l}`));
    });
  }
  return out.join('\n');
}
