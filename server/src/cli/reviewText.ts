// Text report of `kvm-lens review`: kernel mail style, lines of at most 80 columns (paths and quoted code lines
// excepted), so it can be pasted into a reply.
import type { ReviewFinding } from '../features/review/compare';
import type { ReviewReport } from './review';

const WIDTH = 78;

export function wrap(text: string, indent: string, width = WIDTH): string[] {
  const out: string[] = [];
  let cur = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (cur && indent.length + cur.length + 1 + word.length > width) {
      out.push(indent + cur);
      cur = word;
    } else cur = cur ? `${cur} ${word}` : word;
  }
  if (cur) out.push(indent + cur);
  return out;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Message without the trailing source list (shown separately, shorter). */
function splitMessage(m: string): { text: string; cite?: string } {
  const i = m.lastIndexOf(' [');
  return i > 0 && m.endsWith(']') ? { text: m.slice(0, i), cite: m.slice(i + 2, -1) } : { text: m };
}

function finding(f: ReviewFinding, side: string): string[] {
  const out = [`${f.severity.toUpperCase()}: ${f.rule}${f.function ? ` in ${f.function}()` : ''}`, `${f.file}:${f.line}${side}`];
  // The flagged line, marked like a diff line: + added by the patch, - removed by it, blank: unchanged.
  const mark = f.why === 'changed line' ? (f.status === 'fixed' ? '-' : '+') : ' ';
  if (f.lineText) out.push(`${mark}\t${f.lineText.length > 70 ? `${f.lineText.slice(0, 67)}...` : f.lineText}`);
  const { text, cite } = splitMessage(f.message);
  out.push(...wrap(text, '  '));
  if (cite) out.push(...wrap(`[${cite}]`, '  '));
  if (f.why && f.why !== 'touched function' && f.why !== 'changed line') out.push(`  (counted: ${f.why})`);
  if (!f.inScope) out.push('  (outside the functions the patch touches; the patch changes a fact it uses)');
  return out;
}

export function formatReviewText(r: ReviewReport): string {
  const lines: string[] = [];
  const subjects = r.patches.map((p) => p.subject).filter((s): s is string => !!s);
  for (const s of subjects) lines.push(...wrap(`Patch: ${s}`, ''));
  const series = r.patches.length > 1;
  for (const a of r.applied) {
    const head = `Applied${series ? ` [${a.patch + 1}/${r.patches.length}]` : ''}: ${a.path}`;
    if (a.created || a.deleted) { lines.push(`${head}: ${a.created ? 'new file' : 'file deleted'}`); continue; }
    lines.push(`${head}: ${plural(a.placements.length, 'hunk')}`);
    for (const p of a.placements) {
      const bits: string[] = [];
      if (p.offset) bits.push(`offset ${p.offset > 0 ? '+' : ''}${p.offset}`);
      if (p.fuzz) bits.push(`fuzz ${p.fuzz}`);
      if (p.whitespace) bits.push('whitespace ignored');
      if (p.segments > 1) bits.push(`in ${p.segments} parts`);
      lines.push(`  hunk ${p.index} at line ${p.at}${bits.length ? ` (${bits.join(', ')})` : ''}`);
    }
  }
  for (const j of r.rejects) {
    lines.push(`REJECTED: ${j.path}: hunk ${j.index} of ${j.count} (input line ${j.inputLine})`, ...wrap(`${j.header} does not apply and was not reviewed: ${j.detail}`, '  '));
  }
  for (const t of r.touched) if (t.functions.length) lines.push(...wrap(`Touched: ${t.file}: ${t.functions.map((f) => `${f}()`).join(', ')}`, '', WIDTH));
  const section = (title: string, list: ReviewFinding[], side: string): void => {
    lines.push('', `${title} (${list.length})${list.length ? ':' : ''}`);
    for (const f of list) lines.push('', ...finding(f, side));
  };
  section('Introduced', r.introduced, '');
  section('Fixed', r.fixed, ' (before the patch)');
  section('Still present in the touched functions', r.present, '');
  const warn = r.introduced.filter((f) => f.severity === 'error' || f.severity === 'warning').length;
  lines.push('', `total: ${plural(r.introduced.length, 'finding')} introduced (${plural(warn, 'warning')} or worse), ${r.fixed.length} fixed, ${r.present.length} still present`);
  return lines.join('\n');
}
