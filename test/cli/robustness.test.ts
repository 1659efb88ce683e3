// CLI robustness through dist/cli.js: nonexistent paths, unreadable directories, symlink loops, huge, binary and
// hostile files → clear messages, the documented exit codes (0 ok, 1 findings / internal errors, 2 usage or input
// error), never a stack trace.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIST, ROOT } from '../paths';
import { byteFlips, crlf, deepNesting, fixtureSources, oddFiles, truncations, unbalanced } from '../robustness/mutate';

let dir: string;

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(DIST, 'cli.js'), ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 120000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function noStack(s: string): void {
  assert.doesNotMatch(s, /^\s+at .+\(.*:\d+:\d+\)$/m, `stack trace in output:\n${s.slice(0, 2000)}`);
  assert.doesNotMatch(s, /internal error/i);
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'kvm-lens-cli-robust-'));
  mkdirSync(join(dir, 'tree', 'sub'), { recursive: true });
  let n = 0;
  const variants = [
    ...oddFiles().filter((v) => !v.text.includes('\0')),
    ...deepNesting(2000).filter((v) => !/else-if|switch|and-chain|if-nest/.test(v.name)),
    ...fixtureSources().slice(0, 5).flatMap((s, i) => [crlf(s), ...truncations(s, 4), ...byteFlips(s, 4, 70 + i).filter((v) => !v.text.includes('\0')), ...unbalanced(s, 4, 80 + i)]),
  ];
  for (const v of variants) writeFileSync(join(dir, 'tree', n++ % 2 ? 'sub' : '', `v${n}.c`), v.text);
  writeFileSync(join(dir, 'tree', 'binary.c'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 1, 2, 3]));
  symlinkSync('..', join(dir, 'tree', 'sub', 'loop'));
  symlinkSync(join(dir, 'nowhere.c'), join(dir, 'tree', 'dangling.c'));
  mkdirSync(join(dir, 'empty'));
  mkdirSync(join(dir, 'huge'));
  writeFileSync(join(dir, 'huge', 'big.c'), Buffer.alloc(9 * 1024 * 1024, 'int x;\n'));
  writeFileSync(join(dir, 'huge', 'small.c'), 'void f(void) { vmcs_read32(GUEST_PDPTR0); }\n');
});

after(() => {
  try { chmodSync(join(dir, 'locked'), 0o755); } catch { /* not created */ }
  rmSync(dir, { recursive: true, force: true });
});

test('stats over hostile files: exit 0, zero internal errors, notes for binary/dangling/loops', () => {
  const r = cli('stats', join(dir, 'tree'), '--json');
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.ok(j.files >= 50, `files ${j.files}`);
  assert.deepEqual(j.internalErrors, []);
  assert.ok(j.skipped.some((s: string) => /binary/.test(s)), JSON.stringify(j.skipped));
  assert.ok(j.skipped.some((s: string) => /broken symbolic link/.test(s)), JSON.stringify(j.skipped));
  assert.ok(j.skipped.some((s: string) => /symbolic link loop/.test(s)), JSON.stringify(j.skipped));
  noStack(r.stderr);
  const text = cli('stats', join(dir, 'tree'));
  assert.equal(text.code, 0);
  assert.match(text.stdout, /internal errors\s+0/);
  assert.match(text.stdout, /field refs/);
});

test('check over hostile files: exit 0 or 1, no stack trace', () => {
  const r = cli('check', join(dir, 'tree'), '--format', 'json');
  assert.ok(r.code === 0 || r.code === 1, `exit ${r.code}: ${r.stderr.slice(0, 2000)}`);
  assert.ok(Array.isArray(JSON.parse(r.stdout)));
  noStack(r.stderr);
});

test('nonexistent path → exit 2 with a clear message', () => {
  for (const cmd of ['stats', 'check']) {
    const r = cli(cmd, join(dir, 'does-not-exist'));
    assert.equal(r.code, 2, `${cmd}: ${r.stderr}`);
    assert.match(r.stderr, /no such file or directory/);
    noStack(r.stderr);
  }
});

test('usage errors → exit 2', () => {
  for (const args of [['stats'], ['stats', '--bogus', '.'], ['stats', '.', '--slowest', 'x'], ['nosuchcommand'], ['explain'], ['explain', 'NOT_A_FIELD_ZZZ']]) {
    const r = cli(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /^kvm-lens: /);
    noStack(r.stderr);
  }
});

test('an empty directory → exit 2 "no .c or .h files"', () => {
  const r = cli('stats', join(dir, 'empty'));
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no \.c or \.h files/);
});

test('huge files are skipped with a note; the rest is analysed', () => {
  const r = cli('stats', join(dir, 'huge'), '--json');
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.files, 1);
  assert.ok(j.skipped.some((s: string) => /larger than 8 MiB/.test(s)));
  const only = cli('stats', join(dir, 'huge', 'big.c'));
  assert.equal(only.code, 2);
  assert.match(only.stderr, /larger than 8 MiB/);
  noStack(only.stderr);
});

test('unreadable directory → exit 2 with a clear message', { skip: process.getuid?.() === 0 && 'running as root: permissions are not enforced' }, () => {
  mkdirSync(join(dir, 'locked', 'inner'), { recursive: true });
  writeFileSync(join(dir, 'locked', 'inner', 'a.c'), 'int a;\n');
  chmodSync(join(dir, 'locked'), 0o000);
  const r = cli('stats', join(dir, 'locked'));
  chmodSync(join(dir, 'locked'), 0o755);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /permission denied/);
  noStack(r.stderr);
});

test('stats of a single file and of the examples', () => {
  const r = cli('stats', join(ROOT, 'examples'), '--json');
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.ok(j.refs.total > 0);
  assert.ok(Object.keys(j.findings.byRule).includes('vmcs-width'));
  assert.ok(typeof j.timeMs.total === 'number');
  assert.deepEqual(j.internalErrors, []);
});
