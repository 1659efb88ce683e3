// Presentation of findings and cards, shared by every editor and the CLI: a short message (≤ SHORT_MAX characters)
// with the explanation and the citation set apart, concise hover cards, and plain-text wrapping for terminals.
// Works on any rule's Finding (rules write one long message ending in a `[citation]`), so rules added later get
// the same treatment without doing anything.
import type { Finding } from './findings';

/** Longest diagnostic message shown in the Problems panel / terminal line. */
export const SHORT_MAX = 160;

export interface FindingText {
  /** What is wrong, ≤ SHORT_MAX characters. */
  short: string;
  /** The full explanation without the citation ('' when the short text already says everything). */
  why: string;
  /** Manual sections / public code the rule rests on. */
  citation: string;
}

/** Splits `text` into the body and a trailing `[...]` citation (brackets may nest once). */
export function splitCitation(text: string): { body: string; citation?: string } {
  const t = text.trimEnd();
  if (!t.endsWith(']')) return { body: t };
  let depth = 0;
  for (let i = t.length - 1; i >= 0; i--) {
    const c = t[i];
    if (c === ']') depth++;
    else if (c === '[' && --depth === 0) {
      const body = t.slice(0, i).trimEnd();
      if (!body) return { body: t };
      return { body, citation: t.slice(i + 1, -1).trim() };
    }
  }
  return { body: t };
}

/** Boundaries outside parentheses/quotes/backticks: [index where the prefix ends, strength]. */
function boundaries(s: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let depth = 0;
  let quote = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) { if (c === quote) quote = ''; continue; }
    if (c === '"' || c === '`') { quote = c; continue; }
    if (c === '(' && depth === 0 && i > 0 && s[i - 1] === ' ') out.push([i - 1, 1]);
    if (c === '(' || c === '[' || c === '{') depth++;
    else if ((c === ')' || c === ']' || c === '}') && depth > 0) depth--;
    if (depth > 0) continue;
    const next = s[i + 1];
    if (next !== undefined && next !== ' ' && next !== '\n') continue;
    if (c === '.' || c === '!' || c === '?') {
      // "e.g." / "i.e." / "vs." / "Vol.3C" are not sentence ends
      if (/(?:\be\.g|\bi\.e|\bvs|\bcf|\betc)$/i.test(s.slice(Math.max(0, i - 4), i))) continue;
      out.push([i + 1, 3]);
    } else if (c === ';' || c === ':') out.push([i, 2]);
    else if (c === ',') out.push([i, 1]);
    else if (c === ' ' && s.slice(i + 1, i + 3) === '— ') out.push([i, 2]);
  }
  return out;
}

/** The first sentence/clause of `s` that fits in `max` characters; cut at a word with an ellipsis as a last resort. */
export function shorten(s: string, max: number): string {
  const text = s.replace(/\s+/g, ' ').trim();
  if (text.length <= max) return text;
  const bs = boundaries(text).filter(([i]) => i <= max - 1 && i >= Math.min(40, max / 3));
  const strong = bs.filter(([, w]) => w >= 2);
  const pick = strong.length ? strong[0] : bs.length ? bs[bs.length - 1] : undefined;
  if (pick) {
    const cut = text.slice(0, pick[0]).replace(/[,;:]$/, '').trimEnd();
    return pick[1] === 3 ? cut : `${cut}…`;
  }
  const sp = text.lastIndexOf(' ', max - 1);
  let cut = text.slice(0, sp > max / 2 ? sp : max - 1);
  // never leave a parenthesis open: cut before it when that keeps most of the text
  const open = cut.lastIndexOf('(');
  if (open > max / 2 && cut.indexOf(')', open) < 0) cut = cut.slice(0, open);
  return `${cut.trimEnd().replace(/[,;:]$/, '')}…`;
}

/** Short message, explanation and citation of a finding. */
export function presentFinding(f: Pick<Finding, 'message' | 'source'>): FindingText {
  const { body, citation } = splitCitation(f.message);
  const short = shorten(body, SHORT_MAX);
  const full = body.replace(/\s+/g, ' ').trim();
  return { short, why: short === full ? '' : full, citation: citation ?? f.source ?? '' };
}

/** Greedy word wrap for terminals; continuation lines get `indent`. Spacing inside a line is kept; long words are not split. */
export function wrap(text: string, width: number, indent = ''): string[] {
  const w = Math.max(20, width);
  const out: string[] = [];
  for (const para of text.split('\n')) {
    let line = '';
    for (const tok of para.match(/\s*\S+/g) ?? ['']) {
      if (line.trim() && line.length + tok.length > w) {
        out.push(line);
        line = indent + tok.trimStart();
      } else line += tok;
    }
    out.push(line);
  }
  return out;
}

// ---- hover cards -------------------------------------------------------------------------------------------------

export interface ConciseOptions {
  /** Name for the explain link / command (the entity's name). */
  name: string;
  /** Markdown link target that opens the full card (a `command:` URI in VS Code); a CLI hint otherwise. */
  explainLink?: string;
  /** Lines after the first (default 10). */
  maxLines?: number;
  /** Longest line kept as is (longer ones are cut at a sentence or clause). */
  lineChars?: number;
}

/**
 * A concise hover card from a full card. The first line (what it is, width, encoding/offset) stays; then at most
 * `maxLines` lines: what the reference form adds (✅/⚠️ accessor fit, access), the meaning's first sentence, hardware
 * behaviour, KVM notes, and one source; then the link to the full card. Works on whatever sections the card has.
 */
export function conciseCard(full: string, opts: ConciseOptions): string {
  const max = opts.maxLines ?? 8;
  const lineChars = opts.lineChars ?? 110;
  const paras = full.split(/\n\s*\n/).map((p) => p.trim()).filter(Boolean);
  if (paras.length === 0) return full;
  const head = paras[0].split('\n')[0];
  const context: string[] = [];
  const body: string[] = [];
  let source: string | undefined;
  for (const p of paras.slice(1)) {
    if (/^\*Sources?:\*/.test(p)) { source = p; continue; }
    if (/^(✅|⚠️|\*Access:\*)/.test(p)) { context.push(shorten(p, lineChars * 2)); continue; }
    const lines = p.split('\n');
    const bullet = (l: string): boolean => /^\s*[-*] /.test(l);
    if (lines.every(bullet)) {
      for (const l of lines) body.push(`- ${shorten(l.replace(/^\s*[-*] /, ''), lineChars)}`);
      continue;
    }
    if (lines.length > 1 && lines.slice(1).every(bullet)) {
      // "*Hardware:*" + bullets: keep the bullets, titled by the header
      const title = lines[0].trim();
      lines.slice(1).forEach((l, i) => body.push(`${i === 0 ? `${title} ` : '- '}${shorten(l.replace(/^\s*[-*] /, ''), lineChars)}`));
      continue;
    }
    body.push(shorten(p.replace(/\n/g, ' '), lineChars));
  }
  const lines = [...context, ...body];
  const src = source ? shortSource(source) : undefined;
  const kept = lines.slice(0, max - (src ? 1 : 0));
  const dropped = lines.length - kept.length;
  let md = head;
  for (const l of [...kept, ...(src ? [src] : [])]) md += l.startsWith('- ') ? `\n${l}` : `\n\n${l}`;
  if (opts.explainLink) {
    md += `\n\n[Explain ${opts.name}…](${opts.explainLink})${dropped ? ` — ${dropped} more line${dropped === 1 ? '' : 's'} there` : ''}`;
  }
  return md;
}

/** `*Source:* a; b; c (+2 more…)` → `*Source:* a (+4 more)`. */
function shortSource(p: string): string {
  const m = /^(\*Sources?:\*)\s*([\s\S]*)$/.exec(p);
  if (!m) return p;
  const rest = m[2].replace(/\s*\(\+(\d+) more[^)]*\)\s*$/, '');
  const extra = Number(/\(\+(\d+) more/.exec(m[2])?.[1] ?? 0);
  const items = rest.split(/;\s+/).filter(Boolean);
  const n = items.length - 1 + extra;
  return `${m[1]} ${shorten(items[0] ?? '', 110)}${n > 0 ? ` (+${n} more)` : ''}`;
}

/** Markdown link that runs VS Code's `kvmLens.explainField` with `name`. */
export function explainCommandLink(name: string): string {
  return `command:kvmLens.explainField?${encodeURIComponent(JSON.stringify([name]))}`;
}
