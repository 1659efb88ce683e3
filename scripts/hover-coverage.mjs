// Measures hover coverage on real KVM sources: finds candidate references with independent text patterns and
// reports how many got a card, per form, and lists the distinct names that were missed.
// Usage: node scripts/hover-coverage.mjs FILE... (after `node esbuild.mjs`)
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const lib = require('../dist/lib.js');

const PATTERNS = {
  'vmcs12-member': /\bvmcs12\s*->\s*([a-z0-9_]+)/g,
  'vmcb-member': /(?:->|\.)\s*(?:control|save|ctl)\s*\.\s*([a-z0-9_]+)/g,
  'intctl-mask': /\b(V_[A-Z0-9_]+_(?:MASK|SHIFT)|AVIC_ENABLE_MASK|X2APIC_MODE_MASK|SVM_INTERRUPT_SHADOW_MASK)\b/g,
  'accessor': /\b(vmcs_(?:read|write)(?:16|32|64|l)|vmcs_(?:set|clear)_bits)\s*\(/g,
  'vmcs-enum': /\bvmcs_(?:read|write)(?:16|32|64|l)\s*\(\s*([A-Z][A-Z0-9_]+)\s*[,)]/g,
  'exit-reason': /\b((?:EXIT_REASON|SVM_EXIT)_[A-Z0-9_]+)\b/g,
  'msr': /\b(MSR_[A-Z0-9_]+)\b/g,
  'instruction': /\b(vmsave|vmload)\b/g,
};

await lib.analysis.initParser();
const total = {};
for (const file of process.argv.slice(2)) {
  const text = readFileSync(file, 'utf8');
  const doc = lib.analysis.analyzeText(text, file);
  for (const [form, re] of Object.entries(PATTERNS)) {
    re.lastIndex = 0;
    let m;
    const t = (total[form] ??= { candidates: 0, hovered: 0, missed: new Map() });
    while ((m = re.exec(text)) !== null) {
      const name = m[1] ?? m[0];
      const at = m.index + m[0].indexOf(name);
      const node = doc.tree.rootNode.descendantForIndex(at, at + 1);
      if (node && node.type === 'comment') continue;
      if (form === 'msr' && /^MSR_(TYPE_|BITMAP)/.test(name)) continue;
      t.candidates++;
      const h = lib.hoverAt(doc, at + 1);
      if (h) t.hovered++;
      else t.missed.set(name, (t.missed.get(name) ?? 0) + 1);
    }
  }
}
for (const [form, t] of Object.entries(total)) {
  const missed = [...t.missed.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([n, c]) => `${n}×${c}`).join(' ');
  console.log(`${form.padEnd(14)} ${String(t.hovered).padStart(5)}/${String(t.candidates).padEnd(5)} ${t.candidates ? ((100 * t.hovered) / t.candidates).toFixed(1) : '-'}%  ${missed ? `missed: ${missed}` : ''}`);
}
