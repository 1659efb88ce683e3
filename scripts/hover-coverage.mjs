// Hover coverage on real KVM sources. Candidates are identifiers that name a VMCS/VMCB field, a control bit, an
// intercept, a clean bit, an MSR or an exit, found independently of the model:
//  - name sets read from the kernel headers of the tree (enum vmcs_field and control-bit #defines in asm/vmx.h, the
//    INTERCEPT_* enums and VMCB control/int_ctl/EVENTINJ #defines in asm/svm.h, the VMCB_* clean-bit enum in
//    kvm/svm/svm.h, EXIT_REASON_* / SVM_EXIT_* / SVM_VMGEXIT_* in the UAPI headers, MSR_* #defines with a numeric
//    index in asm/msr-index.h, uapi/asm/kvm_para.h and kvm/*.h), plus the eVMCS clean-field names by prefix;
//  - member forms by text pattern (vmcs12->x, <vmcb>->control.x / ->save.x / nested.ctl.x);
//  - accessors and VMSAVE/VMLOAD wrappers.
// Each occurrence outside comments and strings counts once; it is covered when hoverAt() returns a card.
// Usage: node scripts/hover-coverage.mjs [--tree DIR] [--json] [FILE...]   (after `node esbuild.mjs`)
//   DIR = the arch/x86 directory of a kernel tree (default /work/trees/7.1.5/arch/x86); FILEs default to
//   DIR/kvm/vmx/*.[ch] and DIR/kvm/svm/*.[ch].
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const lib = require('../dist/lib.js');

const args = process.argv.slice(2);
let tree = '/work/trees/7.1.5/arch/x86';
let json = false;
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--tree') tree = args[++i];
  else if (args[i] === '--json') json = true;
  else files.push(args[i]);
}
if (!existsSync(tree)) {
  console.error(`hover-coverage: no kernel tree at ${tree} (use --tree DIR, the arch/x86 directory)`);
  process.exit(2);
}
if (!files.length) {
  for (const d of ['kvm/vmx', 'kvm/svm']) {
    const dir = join(tree, d);
    if (existsSync(dir)) for (const f of readdirSync(dir).sort()) if (/\.[ch]$/.test(f)) files.push(join(dir, f));
  }
}

const read = (p) => (existsSync(join(tree, p)) ? readFileSync(join(tree, p), 'utf8') : '');
const defines = (text, re) => [...text.matchAll(/^#define\s+([A-Z][A-Z0-9_]*)\b[ \t]*(.*)$/gm)].filter((m) => re.test(m[1])).map((m) => ({ name: m[1], value: m[2].trim() }));
const enumNames = (text, start, re) => {
  const i = text.indexOf(start);
  if (i < 0) return [];
  const body = text.slice(i, text.indexOf('};', i));
  return [...body.matchAll(/^\s*([A-Z][A-Z0-9_]*)\s*(?:=|,)/gm)].map((m) => m[1]).filter((n) => re.test(n));
};

const vmxH = read('include/asm/vmx.h');
const svmH = read('include/asm/svm.h');
const kvmSvmH = read('kvm/svm/svm.h');
const uapiVmx = read('include/uapi/asm/vmx.h');
const uapiSvm = read('include/uapi/asm/svm.h');
const msrText = [read('include/asm/msr-index.h'), read('include/uapi/asm/kvm_para.h'), ...['kvm/x86.h', 'kvm/kvm_cache_regs.h', 'kvm/pmu.h'].map(read)].join('\n');

/** category → Set of names */
const SETS = {
  'vmcs-field': new Set(enumNames(vmxH, 'enum vmcs_field {', /^[A-Z]/)),
  'control-bit': new Set([
    ...defines(vmxH, /^(PIN_BASED|CPU_BASED|SECONDARY_EXEC|TERTIARY_EXEC|VM_EXIT|VM_ENTRY)_/).map((d) => d.name),
    ...defines(svmH, /^(SVM_MISC2?_|TLB_CONTROL_|ERAP_CONTROL_|V_[A-Z0-9_]+_(MASK|SHIFT)$|AVIC_ENABLE_|X2APIC_MODE_|SVM_INT_VECTOR_MASK|SVM_INTERRUPT_SHADOW_MASK|SVM_GUEST_INTERRUPT_MASK|SVM_EVTINJ_|SVM_EXITINTINFO_)/).map((d) => d.name),
  ]),
  intercept: new Set([...enumNames(svmH, 'enum intercept_words {', /./), ...enumNames(svmH, '/* Byte offset 000h (word 0) */', /^(INTERCEPT_|TRAP_)/)]),
  'clean-bit': new Set([...enumNames(kvmSvmH, 'VMCB_INTERCEPTS', /^VMCB_/), 'VMCB_INTERCEPTS', 'VMCB_ALL_CLEAN_MASK', 'VMCB_ALWAYS_DIRTY_MASK']),
  // MSR indices: a numeric value, and not a bit number / mask of an MSR (…_BIT, …_RSVD, …_MASK, …_SHIFT).
  msr: new Set(defines(msrText, /^MSR_/).filter((d) => /^(0x[0-9a-fA-F]+|\d+)$/.test(d.value) && !/_(BIT|RSVD|MASK|SHIFT)$/.test(d.name)).map((d) => d.name)),
  exit: new Set([...defines(uapiVmx, /^EXIT_REASON_/), ...defines(uapiSvm, /^SVM_(EXIT|VMGEXIT)_/)].map((d) => d.name)),
};
// The vmcs_field enum is also matched by the VM_EXIT_/VM_ENTRY_ prefix: keep each name in one category.
for (const n of SETS['vmcs-field']) SETS['control-bit'].delete(n);
for (const n of ['SVM_EXIT_REASONS', 'SVM_VMGEXIT_TERM_REASON']) SETS.exit.delete(n);

const IDENT = /[A-Za-z_][A-Za-z0-9_]*/g;
const PATTERNS = {
  'vmcs12-member': /\bvmcs12\s*->\s*([a-z0-9_]+)/g,
  'vmcb-member': /(?:->|\.)\s*(?:control|save|ctl)\s*\.\s*([a-z0-9_]+)/g,
  accessor: /\b(vmcs_(?:read|write)(?:16|32|64|l)|vmcs_(?:set|clear)_bits)\s*\(/g,
  instruction: /\b(vmsave|vmload)\b/g,
};

await lib.analysis.initParser();
const total = {};
const bump = (cat, doc, at, name) => {
  const t = (total[cat] ??= { candidates: 0, hovered: 0, missed: new Map() });
  t.candidates++;
  if (lib.hoverAt(doc, at + 1)) t.hovered++;
  else t.missed.set(name, (t.missed.get(name) ?? 0) + 1);
};
const inCommentOrString = (doc, at) => {
  const node = doc.tree.rootNode.descendantForIndex(at, at + 1);
  return !!node && (node.type === 'comment' || node.type === 'string_content' || node.type === 'string_literal' || node.type === 'system_lib_string');
};
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  const doc = lib.analysis.analyzeText(text, file);
  const lineStart = (at) => text.lastIndexOf('\n', at - 1) + 1;
  IDENT.lastIndex = 0;
  let m;
  while ((m = IDENT.exec(text)) !== null) {
    const name = m[0];
    let cat;
    for (const [c, set] of Object.entries(SETS)) if (set.has(name)) { cat = c; break; }
    if (!cat && /^HV_VMX_ENLIGHTENED_CLEAN_FIELD_/.test(name)) cat = 'clean-bit';
    if (!cat) continue;
    // The name a #define defines is not a reference to it.
    if (/^\s*#\s*define\s+$/.test(text.slice(lineStart(m.index), m.index))) continue;
    if (inCommentOrString(doc, m.index)) continue;
    bump(cat, doc, m.index, name);
  }
  for (const [form, re] of Object.entries(PATTERNS)) {
    re.lastIndex = 0;
    while ((m = re.exec(text)) !== null) {
      const name = m[1] ?? m[0];
      const at = m.index + m[0].indexOf(name);
      if (inCommentOrString(doc, at)) continue;
      bump(form, doc, at, name);
    }
  }
}

let all = 0;
let hov = 0;
const report = {};
for (const [cat, t] of Object.entries(total)) {
  all += t.candidates;
  hov += t.hovered;
  report[cat] = { candidates: t.candidates, hovered: t.hovered, missed: Object.fromEntries([...t.missed.entries()].sort((a, b) => b[1] - a[1])) };
}
if (json) {
  console.log(JSON.stringify({ files: files.length, candidates: all, hovered: hov, percent: all ? (100 * hov) / all : 100, categories: report }, null, 2));
} else {
  for (const [cat, t] of Object.entries(total)) {
    const missed = [...t.missed.entries()].sort((a, b) => b[1] - a[1]).map(([n, c]) => `${n}×${c}`).join(' ');
    console.log(`${cat.padEnd(14)} ${String(t.hovered).padStart(5)}/${String(t.candidates).padEnd(5)} ${t.candidates ? ((100 * t.hovered) / t.candidates).toFixed(1) : '-'}%  ${missed ? `missed: ${missed}` : ''}`);
  }
  console.log(`${'total'.padEnd(14)} ${String(hov).padStart(5)}/${String(all).padEnd(5)} ${all ? ((100 * hov) / all).toFixed(1) : '-'}%  (${files.length} files)`);
}
