#!/usr/bin/env node
// The incremental-analysis invariant on real files: random edits typed through a DocumentStore (as the server applies
// didChange), and after each one the functions, field references and diagnostics compared with a from-scratch
// analysis — of the same tree (`--same-tree`: what kvm-lens computes from it must not depend on the edit history) or
// of a fresh parse (tree-sitter's own incremental parse can differ from a fresh one after error recovery; such
// differences are reported too). Exit 1 on any mismatch. Not part of `npm test`: it needs a kernel tree.
//
//   node scripts/incremental-check.mjs [--edits N] [--seed S] [--same-tree] FILE...   (after `npm run bench` built
//   out/bench/api.js, or it builds it)
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { apiPath, buildApi, loadApi } from '../bench/api.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (n, d) => { const i = args.indexOf(`--${n}`); return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : d; };
const EDITS = Number(opt('edits', 200));
const SEED = Number(opt('seed', 1));
const SAME_TREE = args.includes('--same-tree');
const files = args.filter((a, i) => !a.startsWith('--') && !['--edits', '--seed'].includes(args[i - 1]));
if (!files.length) {
  process.stderr.write('usage: node scripts/incremental-check.mjs [--edits N] [--seed S] [--same-tree] FILE...\n');
  process.exit(2);
}
if (!existsSync(apiPath(ROOT))) await buildApi(ROOT);
const api = loadApi(ROOT);
await api.initParser();

// What an editor session types: characters, brackets, comment and #if openers, statement fragments.
const SNIPPETS = ['x', '(', ')', '{', '}', ';', '/*', '*/', 'if (', 'vmcs12->', '#if 0\n', '#endif\n', '\n', 'GUEST_PDPTR0',
  'static void f(void)\n{\n', '"'];
const key = (f) => `${f.rule}|${f.start}|${f.end}|${f.message}`;
const fnKey = (f) => `${f.name}@${f.start}-${f.end}/${f.bodyStart}-${f.bodyEnd}`;
const refKey = (r) => `${r.name}@${r.start}`;

let failures = 0;
for (const file of files) {
  let seed = SEED;
  const rnd = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
  const uri = pathToFileURL(resolve(file)).href;
  const store = new api.DocumentStore();
  store.open(uri, 'c', 1, readFileSync(file, 'utf8'));
  api.computeDiagnostics(store.analysis(uri), {});
  let mismatches = 0;
  for (let i = 0; i < EDITS; i++) {
    const doc = store.analysis(uri);
    const st = doc.lines.starts;
    const line = Math.floor(rnd() * (st.length - 1));
    const lineLen = (st[line + 1] ?? doc.text.length + 1) - 1 - st[line];
    const c = Math.floor(rnd() * (lineLen + 1));
    const del = rnd() < 0.4 ? Math.floor(rnd() * 4) : 0;
    const ins = rnd() < 0.7 ? SNIPPETS[Math.floor(rnd() * SNIPPETS.length)] : '';
    store.change(uri, i + 2, [{ range: { start: { line, character: c }, end: { line, character: Math.min(lineLen, c + del) } }, text: ins }]);
    const inc = store.analysis(uri);
    const found = api.computeDiagnostics(inc, {}).map(key);
    const fresh = SAME_TREE ? api.fullAnalysis(inc.text, `${uri}#fresh`, inc.tree) : api.analyzeText(inc.text, `${uri}#fresh`);
    const want = api.computeDiagnostics(fresh, {}).map(key);
    const same = (a, b) => a.length === b.length && a.every((x, k) => x === b[k]);
    const what = [
      same(inc.functions.map(fnKey), fresh.functions.map(fnKey)) ? '' : 'functions',
      same(inc.refs.map(refKey), fresh.refs.map(refKey)) ? '' : 'refs',
      same(found, want) ? '' : 'findings',
    ].filter(Boolean);
    if (what.length) {
      mismatches++;
      if (mismatches <= 3) {
        const a = new Set(found);
        const b = new Set(want);
        process.stdout.write(`  edit ${i} (line ${line + 1}, ${JSON.stringify(ins)}, ${del} deleted): ${what.join(', ')} differ`
          + `${found.some((x) => !b.has(x)) ? `; only incremental: ${found.filter((x) => !b.has(x)).slice(0, 2).join(' / ')}` : ''}`
          + `${want.some((x) => !a.has(x)) ? `; only fresh: ${want.filter((x) => !a.has(x)).slice(0, 2).join(' / ')}` : ''}\n`);
      }
    }
    if (!SAME_TREE) fresh.tree.delete();
  }
  store.close(uri);
  process.stdout.write(`${file}: ${EDITS} edits (seed ${SEED}, ${SAME_TREE ? 'same tree' : 'fresh parse'}): ${mismatches} mismatches\n`);
  failures += mismatches;
}
process.exit(failures ? 1 : 0);
