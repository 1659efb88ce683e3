// Parser for the written-flow notation of seed 004: lines tagged (G) (L1) (L2) (HK) (HU), transitions written as
// `--trap to host--`, an optional `# config: key=value ...` header. Quote markers of mail (`>`), C comments
// (`*`, `/*`, `//`) and diff additions (`+`) are stripped. Never throws.
import type { FindingSeverity } from '../../protocol/simulation';

export type FlowTag = 'G' | 'L1' | 'L2' | 'HK' | 'HU';
export type TransitionKind = 'exit' | 'exit-to-l1' | 'to-user' | 'to-kernel' | 'enter' | 'enter-l2' | 'migrate';

export type FlowLine =
  | { kind: 'blank'; line: number }
  | { kind: 'config'; line: number; pairs: Array<[string, string]> }
  | { kind: 'transition'; line: number; text: string; transition?: TransitionKind }
  | { kind: 'tagged'; line: number; tag: FlowTag; text: string }
  | { kind: 'narration'; line: number; text: string };

export interface FlowParseIssue { line: number; severity: FindingSeverity; rule: string; message: string }

const TAGS: Record<string, FlowTag> = {
  G: 'G', GUEST: 'G', L1: 'L1', L2: 'L2', HK: 'HK', L0: 'HK', HOST: 'HK', KVM: 'HK', HU: 'HU', VMM: 'HU', USER: 'HU', QEMU: 'HU',
};

/** Remove mail quote markers, C comment decoration and diff `+` from the start of a line. */
export function stripMarkers(raw: string): string {
  let s = raw.replace(/\r$/, '');
  for (let i = 0; i < 6; i++) {
    const before = s;
    s = s.replace(/^\s*(?:\/\*+|\*\/|\/\/+|>+|\*+(?!\/)|\|)\s?/, '');
    s = s.replace(/^\+(?=\s|\(|-{2}|\*|>)/, '');
    s = s.replace(/\s*\*\/\s*$/, '');
    if (s === before) break;
  }
  return s.trim();
}

export function classifyTransition(text: string): TransitionKind | undefined {
  const t = text.toLowerCase();
  if (/migrat|another (physical )?cpu|to cpu\s*\d/.test(t)) return 'migrate';
  if (/user\s*-?space|to (the )?vmm|to hu\b|return to user/.test(t) && !/back to kernel|from user/.test(t)) return 'to-user';
  if (/back to (the )?kernel|kvm_run|ioctl|re-?enter (the )?kernel|to hk\b/.test(t)) return 'to-kernel';
  if (/(vm[- ]?exit|#vmexit|trap|exit|reflect)\b.*\b(to|into) l1\b|reflect(ed)? to l1|nested (vm[- ]?)?exit/.test(t)) return 'exit-to-l1';
  if (/trap|vm[- ]?exit|#vmexit|exit to (host|l0|kvm|hk)|intercept/.test(t)) return 'exit';
  if (/\bl2\b|nested (vm[- ]?)?entry|enter nested/.test(t) && /enter|entry|vmlaunch|vmresume|vmrun|resume/.test(t)) return 'enter-l2';
  if (/enter|entry|vmlaunch|vmresume|vmrun|resume guest|back to (the )?guest|run guest/.test(t)) return 'enter';
  return undefined;
}

export function parseFlowLines(text: string, lineOffset = 0): { lines: FlowLine[]; issues: FlowParseIssue[] } {
  const lines: FlowLine[] = [];
  const issues: FlowParseIssue[] = [];
  const raw = text.split('\n');
  raw.forEach((r, i) => {
    const line = lineOffset + i + 1;
    const s = stripMarkers(r);
    if (!s) { lines.push({ kind: 'blank', line }); return; }
    const cfg = /^#\s*(?:kvm-?lens\s+)?config\s*:\s*(.*)$/i.exec(s);
    if (cfg) {
      const pairs: Array<[string, string]> = [];
      for (const tok of cfg[1].split(/[\s,;]+/).filter(Boolean)) {
        const m = /^([A-Za-z_][\w.-]*)\s*=\s*(.+)$/.exec(tok);
        if (m) pairs.push([m[1].toLowerCase(), m[2].toLowerCase()]);
        else issues.push({ line, severity: 'warning', rule: 'flow-syntax', message: `config entry "${tok}" is not key=value` });
      }
      lines.push({ kind: 'config', line, pairs });
      return;
    }
    if (/^#(?!\s*(define|include)\b)/.test(s) && !/^#vmexit/i.test(s)) { lines.push({ kind: 'blank', line }); return; }
    const tr = /^-{2,}\s*(.*?)\s*-{2,}\s*$/.exec(s) ?? /^-{2,}>?\s*(.+)$/.exec(s);
    if (tr && !/^-+$/.test(s)) {
      const kind = classifyTransition(tr[1]);
      if (!kind) issues.push({ line, severity: 'warning', rule: 'flow-syntax', message: `unknown transition "--${tr[1]}--" (known: trap to host, exit to userspace, back to kernel via kvm_run, enter guest, VM exit to L1, VMRUN, migrate to another CPU)` });
      lines.push(kind ? { kind: 'transition', line, text: tr[1], transition: kind } : { kind: 'transition', line, text: tr[1] });
      return;
    }
    const tag = /^\(\s*([A-Za-z][A-Za-z0-9]{0,5})\s*\)\s*:?\s*(.*)$/.exec(s);
    if (tag) {
      const t = TAGS[tag[1].toUpperCase()];
      if (t) { lines.push({ kind: 'tagged', line, tag: t, text: tag[2] }); return; }
      issues.push({ line, severity: 'warning', rule: 'flow-syntax', message: `unknown actor tag "(${tag[1]})" (known: (G), (L1), (L2), (HK), (HU))` });
      lines.push({ kind: 'narration', line, text: s });
      return;
    }
    lines.push({ kind: 'narration', line, text: s });
  });
  return { lines, issues };
}

/** Does a selection look like a written flow (seed 004 notation), after stripping quote/comment markers? */
export function looksLikeFlow(text: string): boolean {
  let tagged = 0;
  let transitions = 0;
  let config = false;
  for (const r of text.split('\n').slice(0, 2000)) {
    const s = stripMarkers(r);
    if (/^#\s*(?:kvm-?lens\s+)?config\s*:/i.test(s)) config = true;
    else if (/^\(\s*(G|L1|L2|HK|HU|L0)\s*\)/i.test(s)) tagged++;
    else if (/^-{2,}\s*.+?\s*-{2,}\s*$/.test(s) && classifyTransition(s.replace(/-/g, ' '))) transitions++;
  }
  return (tagged >= 2 && transitions >= 1) || tagged >= 3 || (config && tagged >= 1);
}
