#!/usr/bin/env node
// History benchmark: runs `kvm-lens check` on the release trees before and after each upstream fix listed in
// manifest.json and scores
//   caught       a finding in the "before" tree inside the fixed function whose message or source line names the field;
//   quiet after  no such finding in the "after" tree (in the function or its renamed successor);
// and counts warning-level findings on the newest tree (every one is a false positive unless judged otherwise).
//
// Kernel files are never stored in this repository: `--fetch` extracts arch/x86/kvm and arch/x86/include/asm of each
// tree from the git snapshots in /work/.mirror (brought onto the machine with the search tool's `fetch` verb,
// github:<owner>/<name>) into a cache outside the repository ($KVM_LENS_HISTORY_CACHE, default
// ~/.cache/kvm-lens-history). See README.md.
//
// usage: node bench/history/run.mjs [--fetch] [--json] [--case ID]... [--mirror DIR] [--cache DIR]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 && args[i + 1] ? args[i + 1] : dflt; };
const cache = resolve(opt('--cache', process.env.KVM_LENS_HISTORY_CACHE ?? join(homedir(), '.cache', 'kvm-lens-history')));
const mirror = resolve(opt('--mirror', '/work/.mirror'));
const onlyCases = args.flatMap((a, i) => (a === '--case' && args[i + 1] ? [args[i + 1]] : []));
const manifest = JSON.parse(readFileSync(join(here, 'manifest.json'), 'utf8'));
const cases = manifest.cases.filter((c) => !onlyCases.length || onlyCases.includes(c.id));
const cli = join(root, 'dist', 'cli.js');

function die(msg) { process.stderr.write(`history: ${msg}\n`); process.exit(2); }

/** The git directory of a fetched snapshot (fetch leaves either a bare repo or a work tree's .git). */
function gitDir(repo) {
  const base = join(mirror, repo.replace('/', '+'), 'repo');
  for (const d of [join(base, '.git'), base]) if (existsSync(join(d, 'HEAD'))) return d;
  return undefined;
}

function treeDir(label) { return join(cache, label); }

function fetchTree(label) {
  const t = manifest.trees[label];
  const out = treeDir(label);
  if (existsSync(join(out, 'arch', 'x86', 'kvm'))) return;
  const gd = gitDir(t.repo);
  if (!gd) die(`no snapshot of ${t.repo} in ${mirror}: fetch github:${t.repo} with the search tool's fetch verb first`);
  mkdirSync(out, { recursive: true });
  const paths = ['arch/x86/kvm', 'arch/x86/include/asm'];
  const tar = spawnSync('sh', ['-c', `git --git-dir="$1" archive "$2" ${paths.join(' ')} | tar -x -C "$3"`, 'sh', gd, t.commit, out]);
  if (tar.status !== 0) die(`extracting ${label} from ${gd}@${t.commit} failed: ${tar.stderr}`);
}

/** The files checked per tree: the VMX/SVM code, x86.c and the two architectural headers. */
function checkPaths(label, whole) {
  const kvm = join(treeDir(label), 'arch', 'x86', 'kvm');
  if (whole) return [kvm];
  const asm = join(treeDir(label), 'arch', 'x86', 'include', 'asm');
  return [join(kvm, 'vmx'), join(kvm, 'svm'), join(kvm, 'svm.c'), join(kvm, 'x86.c'), join(asm, 'vmx.h'), join(asm, 'svm.h')]
    .filter((p) => existsSync(p));
}

function runCheck(label, whole = false) {
  const r = spawnSync(process.execPath, [cli, 'check', ...checkPaths(label, whole), '--format', 'json'],
    { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0 && r.status !== 1) die(`check on ${label} failed (exit ${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const fileLines = new Map();
function linesOf(file) {
  let l = fileLines.get(file);
  if (!l) fileLines.set(file, (l = readFileSync(file, 'utf8').split('\n')));
  return l;
}

/**
 * The function around a 1-based line, KVM style: a definition starts at column 0 and its body opens with `{` at
 * column 0 and closes with `}` at column 0.
 */
function functionAt(file, line) {
  const lines = linesOf(file);
  for (let i = line - 1; i >= 0; i--) {
    const s = lines[i];
    if (s === '}' && i < line - 1) return undefined;
    if (s === '{' || /^[A-Za-z_].*\)\s*\{\s*$/.test(s)) {
      for (let j = i; j >= Math.max(0, i - 6); j--) {
        const m = /([A-Za-z_][A-Za-z0-9_]*)\s*\(/.exec(lines[j]);
        if (m && /^[A-Za-z_]/.test(lines[j])) return m[1];
      }
      return undefined;
    }
  }
  return undefined;
}

function matches(c, f, names) {
  if (!f.file.endsWith(`/kvm/${c.file}`)) return false;
  const fn = functionAt(f.file, f.line);
  if (!fn || !names.includes(fn)) return false;
  const re = new RegExp(c.field);
  const src = linesOf(f.file)[f.line - 1] ?? '';
  return re.test(f.message) || re.test(src);
}

if (!existsSync(cli)) die(`${cli} is missing: run npm run build first`);
const labels = [...new Set([...cases.flatMap((c) => [c.before, c.after]), manifest.newest])];
for (const l of labels) if (!manifest.trees[l]) die(`tree ${l} is not in the manifest`);
if (args.includes('--fetch')) for (const l of labels) fetchTree(l);
for (const l of labels) {
  if (!existsSync(join(treeDir(l), 'arch', 'x86', 'kvm'))) die(`tree ${l} is not in ${cache}: run with --fetch`);
}

const findings = new Map();
const t0 = Date.now();
for (const l of labels) findings.set(l, runCheck(l));
const rows = cases.map((c) => {
  const hit = findings.get(c.before).filter((f) => matches(c, f, [c.function]));
  const after = findings.get(c.after).filter((f) => matches(c, f, [c.function, ...(c.afterFunction ? [c.afterFunction] : [])]));
  return { id: c.id, family: c.family, before: c.before, after: c.after, caught: hit.length > 0, quiet: after.length === 0,
    rules: [...new Set(hit.map((f) => f.rule))], afterRules: [...new Set(after.map((f) => f.rule))] };
});
const newest = runCheck(manifest.newest, true).filter((f) => f.severity === 'warning' || f.severity === 'error');
const caught = rows.filter((r) => r.caught).length;
const quiet = rows.filter((r) => r.quiet).length;
const summary = { cases: rows.length, caught, quietAfter: quiet, newest: manifest.newest, newestWarnings: newest.length, seconds: (Date.now() - t0) / 1000 };

if (args.includes('--json')) {
  process.stdout.write(`${JSON.stringify({ summary, rows, newestWarnings: newest }, null, 2)}\n`);
} else {
  const w = Math.max(...rows.map((r) => r.id.length));
  process.stdout.write(`${'case'.padEnd(w)}  family            before -> after    caught  quiet-after  rule\n`);
  for (const r of rows) {
    process.stdout.write(`${r.id.padEnd(w)}  ${r.family.padEnd(16)}  ${r.before.padStart(7)} -> ${r.after.padEnd(7)}  ${r.caught ? 'yes' : 'no '}     ${r.quiet ? 'yes' : 'NO '}          ${r.rules.join(',')}${r.afterRules.length ? ` (after: ${r.afterRules.join(',')})` : ''}\n`);
  }
  process.stdout.write(`caught ${caught}/${rows.length} (${Math.round((100 * caught) / rows.length)}%), quiet after ${quiet}/${rows.length}; `
    + `warning-level findings on ${manifest.newest} arch/x86/kvm: ${newest.length}; ${summary.seconds.toFixed(1)} s\n`);
  for (const f of newest) process.stdout.write(`  ${f.file.replace(`${cache}/`, '')}:${f.line} ${f.rule}: ${f.message.slice(0, 150)}\n`);
}

