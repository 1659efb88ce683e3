// docs/rules.md → dist/rules.html, so a rule's documentation has an anchor a browser can open: SARIF `helpUri`
// points at file:///…/rules.html#<rule-id>. A plain Markdown file opened through a file: URL shows as text and its
// `#fragment` goes nowhere; the project has no public documentation site (package.json's repository is a
// placeholder), so an https URL would not resolve either. Headings get GitHub's slugs (`## vmcs-width` →
// id="vmcs-width"), the same anchors docs/rules.md has when a forge renders it.
// Covers the Markdown docs/rules.md uses: headings, paragraphs, lists, tables, fenced code, `code`, **bold**, links.
import { readFileSync, writeFileSync } from 'node:fs';

const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function slug(text) {
  return text.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}

function inline(s) {
  const parts = s.split(/(`[^`]*`)/);
  return parts.map((p) => {
    if (p.startsWith('`') && p.endsWith('`') && p.length > 1) return `<code>${esc(p.slice(1, -1))}</code>`;
    return esc(p)
      .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
      .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (_m, t, u) => `<a href="${u}">${t}</a>`);
  }).join('');
}

export function rulesHtml(md) {
  const lines = md.replace(/\r\n?/g, '\n').split('\n');
  const out = [];
  let para = [];
  let list = null;
  const flush = () => {
    if (para.length) out.push(`<p>${inline(para.join(' '))}</p>`);
    para = [];
    if (list) { out.push(`</${list}>`); list = null; }
  };
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    const h = /^(#{1,6})\s+(.*)$/.exec(l);
    if (h) {
      flush();
      const n = h[1].length;
      out.push(`<h${n} id="${esc(slug(h[2]))}">${inline(h[2])}</h${n}>`);
      continue;
    }
    if (/^```/.test(l)) {
      flush();
      const code = [];
      for (i++; i < lines.length && !/^```/.test(lines[i]); i++) code.push(lines[i]);
      out.push(`<pre><code>${esc(code.join('\n'))}</code></pre>`);
      continue;
    }
    if (/^\|.*\|\s*$/.test(l)) {
      flush();
      const rows = [];
      for (; i < lines.length && /^\|.*\|\s*$/.test(lines[i]); i++) rows.push(lines[i]);
      i--;
      const cells = (r) => r.trim().slice(1, -1).split('|').map((c) => c.trim());
      const body = rows.filter((r, k) => !(k === 1 && /^\|[\s:|-]+\|$/.test(r.trim())));
      out.push('<table>', ...body.map((r, k) => `<tr>${cells(r).map((c) => (k === 0 ? `<th>${inline(c)}</th>` : `<td>${inline(c)}</td>`)).join('')}</tr>`), '</table>');
      continue;
    }
    const li = /^\s*(?:[-*]|\d+\.)\s+(.*)$/.exec(l);
    if (li) {
      if (para.length) { out.push(`<p>${inline(para.join(' '))}</p>`); para = []; }
      const kind = /^\s*\d+\./.test(l) ? 'ol' : 'ul';
      if (list !== kind) { if (list) out.push(`</${list}>`); out.push(`<${kind}>`); list = kind; }
      out.push(`<li>${inline(li[1])}</li>`);
      continue;
    }
    if (!l.trim()) { flush(); continue; }
    if (list && /^\s+\S/.test(l)) { out[out.length - 1] = out[out.length - 1].replace(/<\/li>$/, ` ${inline(l.trim())}</li>`); continue; }
    para.push(l.trim());
  }
  flush();
  const title = /^#\s+(.*)$/m.exec(md)?.[1] ?? 'kvm-lens rules';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em}code,pre{font-family:ui-monospace,monospace}
pre{background:#f4f4f4;padding:.6em;overflow:auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em}
:target{background:#fff3c4}</style></head>
<body>
<!-- Generated from docs/rules.md by scripts/rules-html.mjs (npm run build); edit the Markdown. -->
${out.join('\n')}
</body></html>
`;
}

/** Build step: docs/rules.md → dist/rules.html. */
export function writeRulesHtml(src = 'docs/rules.md', dest = 'dist/rules.html') {
  writeFileSync(dest, rulesHtml(readFileSync(src, 'utf8')));
}
