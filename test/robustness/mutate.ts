// Hostile inputs for the robustness suite: mutated variants of the fixtures and synthetic worst cases.
// Every generator is deterministic (seeded), so a failure names a reproducible variant.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { rng, synthFile } from '../../bench/synth.mjs';
import { ROOT } from '../paths';

export interface Variant { name: string; text: string }

/** test/fixtures/**\/*.c, examples/*.c and a synthetic KVM-style file. */
export function fixtureSources(): Variant[] {
  const out: Variant[] = [];
  const walk = (dir: string): void => {
    let names: string[];
    try { names = readdirSync(dir); } catch { return; }
    for (const n of names.sort()) {
      const p = join(dir, n);
      let st;
      try { st = statSync(p); } catch { continue; }
      if (st.isDirectory()) walk(p);
      else if (/\.[ch]$/.test(n) && st.size < 1_000_000) out.push({ name: relative(ROOT, p), text: readFileSync(p, 'utf8') });
    }
  };
  walk(join(ROOT, 'test', 'fixtures'));
  walk(join(ROOT, 'examples'));
  out.push({ name: 'synth-400', text: synthFile(400, 17) });
  return out;
}

/** Offsets just after each statement/declaration end (`;` or `}`), outside nothing in particular — text level. */
function statementEnds(text: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 59 /* ; */ || c === 125 /* } */) out.push(i + 1);
  }
  return out;
}

/** Truncation after every statement (capped at `max`, evenly spread). */
export function truncations(src: Variant, max: number): Variant[] {
  const ends = statementEnds(src.text);
  const step = Math.max(1, Math.ceil(ends.length / max));
  const out: Variant[] = [];
  for (let i = 0; i < ends.length; i += step) out.push({ name: `${src.name}#trunc@${ends[i]}`, text: src.text.slice(0, ends[i]) });
  // Mid-token truncations too.
  for (let i = 1; i <= 8; i++) {
    const at = Math.floor((src.text.length * i) / 9);
    out.push({ name: `${src.name}#trunc-mid@${at}`, text: src.text.slice(0, at) });
  }
  return out;
}

const NASTY = ['\0', '\uFFFD', '\uD800', '\uDC00', '\r', '\u2028', '\x1b', '\\', '"', "'", '{', '}', '(', ')', '#', '/*', '*/', '->', '.', 'é', '😀', '\t', '\v', '\f'];

export function byteFlips(src: Variant, count: number, seed: number): Variant[] {
  const r = rng(seed);
  const out: Variant[] = [];
  for (let k = 0; k < count; k++) {
    const chars = src.text.split('');
    const flips = 1 + Math.floor(r() * 8);
    for (let f = 0; f < flips && chars.length; f++) {
      const at = Math.floor(r() * chars.length);
      chars[at] = r() < 0.5 ? NASTY[Math.floor(r() * NASTY.length)] : String.fromCharCode(Math.floor(r() * 256));
    }
    out.push({ name: `${src.name}#flip${seed}.${k}`, text: chars.join('') });
  }
  return out;
}

export function deletions(src: Variant, count: number, seed: number): Variant[] {
  const r = rng(seed);
  const out: Variant[] = [];
  for (let k = 0; k < count; k++) {
    let t = src.text;
    const n = 1 + Math.floor(r() * 4);
    for (let i = 0; i < n && t.length; i++) {
      const a = Math.floor(r() * t.length);
      const len = Math.floor(r() * (r() < 0.7 ? 8 : 600));
      t = t.slice(0, a) + t.slice(a + len);
    }
    out.push({ name: `${src.name}#del${seed}.${k}`, text: t });
  }
  return out;
}

/** Unbalanced braces, parentheses, `#if`/`#endif` and comments inserted at random places. */
export function unbalanced(src: Variant, count: number, seed: number): Variant[] {
  const r = rng(seed);
  const inserts = ['{', '}', '{{{', '}}}', '(', ')', '#if 0\n', '\n#endif\n', '\n#else\n', '#ifdef CONFIG_X\n', '/*', '"', "'", 'if (', 'else', '\n#define X(a) {\n'];
  const out: Variant[] = [];
  for (let k = 0; k < count; k++) {
    let t = src.text;
    const n = 1 + Math.floor(r() * 3);
    for (let i = 0; i < n; i++) {
      const a = Math.floor(r() * (t.length + 1));
      t = t.slice(0, a) + inserts[Math.floor(r() * inserts.length)] + t.slice(a);
    }
    out.push({ name: `${src.name}#unbal${seed}.${k}`, text: t });
  }
  return out;
}

export function crlf(src: Variant): Variant {
  return { name: `${src.name}#crlf`, text: src.text.replace(/\r?\n/g, '\r\n') };
}

/** Deep nesting of every kind the analysis might recurse on. */
export function deepNesting(depth = 5000): Variant[] {
  const field = 'vmcs_read64(GUEST_PDPTR0)';
  return [
    { name: `braces${depth}`, text: `void f(void)\n{\n${'{'.repeat(depth)}\n\tx = ${field};\n${'}'.repeat(depth)}\n}\n` },
    { name: `braces-open${depth}`, text: `void f(void)\n{\n${'{\n'.repeat(depth)}\tvmcs12->guest_pdptr0 = ${field};\n` },
    { name: `parens${depth}`, text: `void f(void)\n{\n\tx = ${'('.repeat(depth)}${field}${')'.repeat(depth)};\n}\n` },
    { name: `parens-open${depth}`, text: `void f(void)\n{\n\tif ${'('.repeat(depth)}nested_cpu_has_ept(vmcs12)\n\t\tx = ${field};\n}\n` },
    { name: `if-nest${depth}`, text: `void sync_vmcs02_to_vmcs12(struct kvm_vcpu *vcpu, struct vmcs12 *vmcs12)\n{\n${'if (nested_cpu_has_ept(vmcs12) && is_pae_paging(vcpu)) {\n'.repeat(depth)}vmcs12->guest_pdptr0 = ${field};\n${'}\n'.repeat(depth)}}\n` },
    { name: `else-if${depth}`, text: `void f(struct vcpu_svm *svm)\n{\n${Array.from({ length: depth }, (_, i) => `${i ? 'else ' : ''}if (svm->vmcb->control.int_ctl & V_IRQ_MASK) x${i}++;`).join('\n')}\n}\n` },
    { name: `not-chain${depth}`, text: `void f(void)\n{\n\tif (${'!'.repeat(depth)}enable_ept)\n\t\tx = ${field};\n}\n` },
    { name: `and-chain${depth}`, text: `void f(struct vmcs12 *vmcs12)\n{\n\tif (${Array.from({ length: depth }, () => 'nested_cpu_has_ept(vmcs12)').join(' && ')})\n\t\tx = ${field};\n}\n` },
    { name: `mask-chain${depth}`, text: `void f(struct vcpu_svm *svm)\n{\n\tsvm->vmcb->control.int_ctl = ${Array.from({ length: depth }, () => '~V_IRQ_MASK').join(' & ')};\n}\n` },
    { name: `unary${depth}`, text: `void f(struct vcpu_svm *svm)\n{\n\tsvm->vmcb->control.int_ctl &= ${'~'.repeat(depth)}V_IRQ_MASK;\n}\n` },
    { name: `member-chain${depth}`, text: `void f(void)\n{\n\tx = a${'->b'.repeat(depth)}->control.int_ctl;\n}\n` },
    { name: `casts${depth}`, text: `void f(void)\n{\n\tx = ${'(u64)'.repeat(depth)}${field};\n}\n` },
    { name: `ternary${depth}`, text: `void f(void)\n{\n\tx = ${'enable_ept ? 1 : '.repeat(depth)}${field};\n}\n` },
    { name: `pp-if${depth}`, text: `${'#if A\n'.repeat(depth)}void f(void) { x = ${field}; }\n${'#endif\n'.repeat(depth)}` },
    { name: `pp-if-open${depth}`, text: `${'#ifdef CONFIG_X86_64\n'.repeat(depth)}void f(void) { x = ${field}; }\n` },
    { name: `comments${depth}`, text: `${'/* /* '.repeat(depth)} GUEST_PDPTR0 */\nvoid f(void) { x = ${field}; }\n` },
    { name: `calls${depth}`, text: `void f(void)\n{\n\tx = ${'g('.repeat(depth)}${field}${')'.repeat(depth)};\n}\n` },
    { name: `array-init${depth}`, text: `int a[] = ${'{'.repeat(depth)}EXIT_REASON_CPUID${'}'.repeat(depth)};\n` },
    { name: `switch${depth}`, text: `void f(void)\n{\n${'switch (vmcs_read32(VM_EXIT_REASON)) { case EXIT_REASON_CPUID:\n'.repeat(depth)}x = vmcs_readl(EXIT_QUALIFICATION);\n${'}\n'.repeat(depth)}}\n` },
    { name: `macro-args${depth}`, text: `#define M(x) x\nvoid f(void) { ${'M('.repeat(depth)}x${')'.repeat(depth)}; }\n` },
    { name: `long-line`, text: `void f(void) { ${Array.from({ length: depth }, (_, i) => `vmcs_write16(GUEST_CS_SELECTOR, v${i});`).join(' ')} }\n` },
    { name: `long-ident`, text: `void f(void) { x = ${'A'.repeat(depth * 20)}; GUEST_PDPTR0; }\n` },
  ];
}

export function oddFiles(): Variant[] {
  const bin = Buffer.alloc(64 * 1024);
  const r = rng(5);
  for (let i = 0; i < bin.length; i++) bin[i] = Math.floor(r() * 256);
  return [
    { name: 'empty', text: '' },
    { name: 'newline', text: '\n' },
    { name: 'crlf-only', text: '\r\n\r\n' },
    { name: 'whitespace', text: ' \t \n\v\f\r' },
    { name: 'one-brace', text: '{' },
    { name: 'one-close', text: '}' },
    { name: 'nul', text: '\0' },
    { name: 'nuls', text: 'int a;\0\0\0void f(void) { vmcs_read64(GUEST_PDPTR0); }\0' },
    { name: 'binary-utf8', text: bin.toString('utf8') },
    { name: 'binary-latin1', text: bin.toString('latin1') },
    { name: 'lone-surrogates', text: 'void f(void) { x = "\uD800"; vmcs_read32(\uDC00GUEST_PDPTR0); }\n' },
    { name: 'bom', text: '\uFEFFvoid f(void) { vmcs_read64(GUEST_PDPTR0); }\n' },
    { name: 'only-comment-open', text: '/* GUEST_PDPTR0' },
    { name: 'only-string-open', text: '"vmsave' },
    { name: 'asm', text: 'void f(void) { asm volatile("vmsave %0" : : "a"(x) : "memory"); asm volatile(__ex("vmload")); }\n' },
    { name: 'cr-only-lines', text: 'void f(void)\r{\r\tvmcs_read32(GUEST_PDPTR0);\r}\r' },
  ];
}

/** ~`bytes` of C made of repeated fixture text. */
export function hugeFile(bytes: number): Variant {
  const unit = synthFile(400, 23);
  const parts: string[] = [];
  let n = 0;
  while (n < bytes) { parts.push(unit); n += unit.length; }
  return { name: `huge-${Math.round(bytes / 1048576)}MB`, text: parts.join('') };
}

/** Whole lines deleted (1–6 runs of 1–20 lines): the shape of a half-applied patch. */
export function lineDeletions(src: Variant, count: number, seed: number): Variant[] {
  const r = rng(seed);
  const out: Variant[] = [];
  for (let k = 0; k < count; k++) {
    const lines = src.text.split('\n');
    const runs = 1 + Math.floor(r() * 6);
    for (let i = 0; i < runs && lines.length; i++) lines.splice(Math.floor(r() * lines.length), 1 + Math.floor(r() * 20));
    out.push({ name: `${src.name}#lines${seed}.${k}`, text: lines.join('\n') });
  }
  return out;
}

/** Unterminated or odd inline asm and macro fragments inserted at line starts. */
export function asmInserts(src: Variant, count: number, seed: number): Variant[] {
  const r = rng(seed);
  const frags = ['asm volatile("vmwrite %1, %0" : : "r"(', 'asm goto(__ex("vmread %[f], %[o]")', '__asm__ __volatile__ ("vmsave %0"\n',
    'asm volatile(".byte 0x0f, 0x01, 0xda" ::: "memory"', '#define vmcs_read32(f) ({ \\\n', '__ex("vmlaunch")\n', 'VMX_DO_EVENT_IRQOFF(', '\n#if', '\n#endif'];
  const out: Variant[] = [];
  for (let k = 0; k < count; k++) {
    const lines = src.text.split('\n');
    const n = 1 + Math.floor(r() * 3);
    for (let i = 0; i < n; i++) lines.splice(Math.floor(r() * (lines.length + 1)), 0, frags[Math.floor(r() * frags.length)]);
    out.push({ name: `${src.name}#asm${seed}.${k}`, text: lines.join('\n') });
  }
  return out;
}
