// Benchmark corpora. Given a kernel tree's arch/x86 (or a kernel root): `whole` is every .c/.h of arch/x86, `kvm` every
// .c/.h of arch/x86/kvm; the server is started on the kernel root with the extension's default index globs (what a
// user who opens the tree gets). Any other folder: `whole` is every .c/.h under it, `kvm` its kvm/ part if there is
// one. No folder: the synthetic KVM-style corpus of bench/synth.mjs (seed 42), written to $TMPDIR.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { synthCorpus } from './synth.mjs';

function walk(dir, out = []) {
  let entries;
  try { entries = readdirSync(dir, { withFileTypes: true }); } catch { return out; }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.isFile() && /\.[ch]$/.test(e.name)) out.push(p);
  }
  return out;
}

const read = (base, paths) => paths.sort().map((f) => ({ path: relative(base, f).split(sep).join('/'), abs: f, text: readFileSync(f, 'utf8') }));

export const lineCount = (t) => { let n = 1; for (let i = t.indexOf('\n'); i >= 0; i = t.indexOf('\n', i + 1)) n++; return t.endsWith('\n') ? n - 1 : n; };

/** { whole: {dir, files}, kvm: {dir, files} | undefined, serverRoot, serverInclude (undefined = defaults), synthetic, name } */
export function loadCorpora(spec) {
  if (spec) {
    let dir = resolve(spec);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`corpus ${spec} is not a directory`);
    if (existsSync(join(dir, 'arch/x86'))) dir = join(dir, 'arch/x86');
    const kernelArch = /(^|\/)arch\/x86$/.test(dir) && existsSync(join(dir, 'kvm'));
    const whole = { dir, files: read(dir, walk(dir)) };
    const kvmDir = join(dir, 'kvm');
    const kvm = existsSync(kvmDir) ? { dir: kvmDir, files: whole.files.filter((f) => f.path.startsWith('kvm/')) } : undefined;
    return {
      name: dir, synthetic: false, whole, kvm,
      serverRoot: kernelArch ? resolve(dir, '../..') : dir,
      serverInclude: kernelArch ? undefined : ['**/*.{c,h}'],
    };
  }
  const files = synthCorpus();
  const root = join(tmpdir(), 'kvm-lens-bench-synth');
  rmSync(root, { recursive: true, force: true });
  for (const f of files) {
    mkdirSync(dirname(join(root, f.path)), { recursive: true });
    writeFileSync(join(root, f.path), f.text);
  }
  const whole = { dir: root, files: files.map((f) => ({ ...f, abs: join(root, f.path) })) };
  const kvmFiles = whole.files.filter((f) => f.path.startsWith('kvm/'));
  return {
    name: `synthetic (bench/synth.mjs, seed 42) in ${root}`, synthetic: true, whole,
    kvm: kvmFiles.length && kvmFiles.length < whole.files.length ? { dir: join(root, 'kvm'), files: kvmFiles } : undefined,
    serverRoot: root, serverInclude: ['**/*.{c,h}'],
  };
}

/** The hover/edit target: vmx/nested.c if present, else the file closest to 7 000 lines. */
export function pickTarget(files) {
  const nested = files.find((f) => /(^|\/)vmx\/nested\.c$/.test(f.path));
  if (nested) return nested;
  return [...files].sort((a, b) => Math.abs(lineCount(a.text) - 7000) - Math.abs(lineCount(b.text) - 7000))[0];
}
