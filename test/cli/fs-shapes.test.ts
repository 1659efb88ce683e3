// Filesystem shapes that used to hang kvm-lens or eat the machine (issue 17), built in a temp dir at test time and
// run through the real CLI (dist/cli.js) under /usr/bin/time so peak RSS is known. Bounds are generous: they catch
// hangs and explosions (minutes, gigabytes), they are not benchmarks (npm run bench measures speed).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIST } from '../paths';
import { readFdBounded, readSourceFile, readStreamOrFile, walkTree } from '../../server/src/workspace/fsaccess';

let dir: string;
const HANG_MS = 30_000;       // a hang detector: each shape answers in well under 2 s on an idle machine
const MAX_RSS_MB = 1024;      // an explosion detector: /dev/zero used to reach 2.1 GB in 10 s
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const MKFIFO = ['/usr/bin/mkfifo', '/bin/mkfifo'].find(existsSync);

interface Run { code: number | null; stdout: string; stderr: string; ms: number; rssMB?: number; signal: NodeJS.Signals | null }

function cli(args: string[], opts: { cwd?: string; input?: string; stdinFile?: string } = {}): Run {
  const node = [process.execPath, join(DIST, 'cli.js'), ...args];
  const cmd = TIME ? [TIME, '-f', 'KVMLENS_MAXRSS_KB=%M', ...node] : node;
  const shell = opts.stdinFile ? ['bash', '-c', `exec "$@" < ${JSON.stringify(opts.stdinFile)}`, 'run', ...cmd] : cmd;
  const t0 = Date.now();
  const r = spawnSync(shell[0], shell.slice(1), {
    cwd: opts.cwd ?? dir, input: opts.input ?? '', encoding: 'utf8', timeout: HANG_MS, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024,
  });
  const ms = Date.now() - t0;
  const m = /KVMLENS_MAXRSS_KB=(\d+)/.exec(r.stderr ?? '');
  return {
    code: r.status, signal: r.signal, ms, rssMB: m ? Number(m[1]) / 1024 : undefined,
    stdout: r.stdout ?? '', stderr: (r.stderr ?? '').replace(/KVMLENS_MAXRSS_KB=\d+\n?/, ''),
  };
}

function bounded(r: Run, what: string): void {
  assert.equal(r.signal, null, `${what}: killed after ${r.ms} ms (hang) — stderr: ${r.stderr.slice(0, 500)}`);
  if (r.rssMB !== undefined) assert.ok(r.rssMB < MAX_RSS_MB, `${what}: peak RSS ${r.rssMB.toFixed(0)} MB`);
  assert.doesNotMatch(r.stderr, /^\s+at .+:\d+:\d+\)?$/m, `${what}: stack trace\n${r.stderr.slice(0, 1000)}`);
}

function diffNaming(path: string): string {
  return [`diff --git a/${path} b/${path}`, `--- a/${path}`, `+++ b/${path}`, '@@ -1,1 +1,2 @@', ' int a;', '+int b;', ''].join('\n');
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'kvm-lens-fs-shapes-'));
  // A diamond DAG of directory links: d0/{a,b} -> d1, d1/{a,b} -> d2, ... 24 levels = 2^24 paths to d24.
  const levels = 24;
  for (let i = 0; i <= levels; i++) mkdirSync(join(dir, 'dag', `d${i}`), { recursive: true });
  for (let i = 0; i < levels; i++) {
    symlinkSync(`../d${i + 1}`, join(dir, 'dag', `d${i}`, 'a'));
    symlinkSync(`../d${i + 1}`, join(dir, 'dag', `d${i}`, 'b'));
    writeFileSync(join(dir, 'dag', `d${i}`, `f${i}.c`), `int f${i}(void) { return vmcs_read32(GUEST_PDPTR0); }\n`);
  }
  writeFileSync(join(dir, 'dag', `d${levels}`, 'leaf.c'), 'int leaf;\n');
  // A tree whose files are links to devices and a FIFO, named in diffs and found by walks.
  mkdirSync(join(dir, 'tree'));
  writeFileSync(join(dir, 'tree', 'ok.c'), 'int a;\nint b;\n');
  symlinkSync('/dev/zero', join(dir, 'tree', 'zero.c'));
  symlinkSync('/dev/urandom', join(dir, 'tree', 'random.c'));
  if (MKFIFO) spawnSync(MKFIFO, [join(dir, 'tree', 'fifo.c')]);
  // An ELF-like binary with a .c name (NUL bytes), and a source file that is a symlink to it.
  const elf = Buffer.alloc(64 * 1024);
  elf.write('\x7fELF', 0, 'latin1');
  for (let i = 64; i < elf.length; i += 7) elf[i] = (i * 31) & 0xff;
  writeFileSync(join(dir, 'tree', 'prog.c'), elf);
  writeFileSync(join(dir, 'elf'), elf);
});

after(() => { rmSync(dir, { recursive: true, force: true }); });

test('stats over a 24-level diamond of directory links: each directory once, answers quickly', () => {
  const r = cli(['stats', join(dir, 'dag', 'd0'), '--json']);
  bounded(r, 'stats dag');
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.files, 25, 'every file exactly once (f0..f23 + leaf)');
  assert.deepEqual(j.internalErrors, []);
});

test('check over the DAG: the same finding once per file, not once per path', () => {
  const r = cli(['check', join(dir, 'dag', 'd0'), '--format', 'json']);
  bounded(r, 'check dag');
  const findings = JSON.parse(r.stdout) as Array<{ file: string; line: number; rule: string }>;
  const names = findings.map((f) => `${f.file.replace(/^.*\//, '')}:${f.line}:${f.rule}`);
  assert.ok(findings.length > 0, 'the DAG files read GUEST_PDPTR0 with the wrong width');
  assert.equal(new Set(names).size, names.length, `duplicates: ${names.join(', ')}`);
  assert.ok(new Set(findings.map((f) => f.file)).size <= 25);
});

test('a diff naming a link to /dev/zero or /dev/urandom: skipped with a note, no memory growth', () => {
  for (const name of ['zero.c', 'random.c']) {
    const r = cli(['check', '--diff', '-'], { cwd: join(dir, 'tree'), input: diffNaming(name) });
    bounded(r, `check --diff ${name}`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`skipping '${name}': a character device, not a regular file`));
  }
});

test('a diff naming a FIFO: skipped without opening it (no block)', { skip: !MKFIFO && 'no mkfifo' }, () => {
  const r = cli(['check', '--diff', '-'], { cwd: join(dir, 'tree'), input: diffNaming('fifo.c') });
  bounded(r, 'check --diff fifo');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /skipping 'fifo\.c': a FIFO \(named pipe\), not a regular file/);
});

test('walking a directory with device links and a FIFO: the regular files are checked, the rest noted', () => {
  const r = cli(['stats', join(dir, 'tree'), '--json']);
  bounded(r, 'stats tree');
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.files, 1);
  const skipped = (j.skipped as string[]).join('\n');
  assert.match(skipped, /zero\.c': a character device/);
  assert.match(skipped, /prog\.c': binary file/);
  if (MKFIFO) assert.match(skipped, /fifo\.c': a FIFO/);
});

test('simulate on a binary (ELF) file, a device and a FIFO: exit 2 with a clear message', () => {
  const cases: Array<[string, RegExp]> = [
    [join(dir, 'elf'), /binary file \(contains NUL bytes\); not simulated/],
    [join(dir, 'tree', 'prog.c'), /binary file/],
    ['/dev/zero', /a character device, not a regular file; not simulated/],
  ];
  if (MKFIFO) cases.push([join(dir, 'tree', 'fifo.c'), /a FIFO \(named pipe\), not a regular file/]);
  for (const [file, msg] of cases) {
    const r = cli(['simulate', file]);
    bounded(r, `simulate ${file}`);
    assert.equal(r.code, 2, `${file}: ${r.stdout.slice(0, 300)}${r.stderr}`);
    assert.match(r.stderr, msg);
  }
});

test('check --diff - with /dev/zero on standard input: refused at the first NUL', () => {
  const r = cli(['check', '--diff', '-'], { stdinFile: '/dev/zero' });
  bounded(r, 'stdin /dev/zero');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /standard input: binary input/);
});

test('--diff naming a device: refused; naming a missing file: clear error', () => {
  const dev = cli(['check', '--diff', '/dev/zero']);
  bounded(dev, '--diff /dev/zero');
  assert.equal(dev.code, 2);
  assert.match(dev.stderr, /cannot read diff '\/dev\/zero': a character device, not a regular file or pipe/);
});

test('fsaccess: the layer itself (unit)', () => {
  assert.deepEqual(readSourceFile(join(dir, 'tree', 'ok.c')), { ok: true, text: 'int a;\nint b;\n', bytes: 14 });
  const zero = readSourceFile(join(dir, 'tree', 'zero.c'));
  assert.equal(zero.ok, false);
  assert.equal(!zero.ok && zero.kind, 'not-regular');
  const bin = readSourceFile(join(dir, 'tree', 'prog.c'));
  assert.equal(!bin.ok && bin.kind, 'binary');
  const small = readSourceFile(join(dir, 'tree', 'ok.c'), 4);
  assert.equal(!small.ok && small.kind, 'too-large');
  assert.equal(!readSourceFile(join(dir, 'nope.c')).ok && (readSourceFile(join(dir, 'nope.c')) as { kind: string }).kind, 'missing');
  assert.equal(!readSourceFile(dir).ok && (readSourceFile(dir) as { kind: string }).kind, 'directory');
  assert.throws(() => readStreamOrFile('/dev/zero', 1024), /character device/);
  // Walk: every directory of the DAG once, and each file once.
  const files: string[] = [];
  let dirs = 0;
  walkTree(join(dir, 'dag', 'd0'), { enterDir: () => { dirs++; return true; }, file: (e) => { files.push(e.name); } });
  assert.equal(dirs, 25);
  assert.equal(files.length, 25);
  // A loop is reported as such.
  mkdirSync(join(dir, 'loop', 'in'), { recursive: true });
  symlinkSync('..', join(dir, 'loop', 'in', 'up'));
  const skips: string[] = [];
  walkTree(join(dir, 'loop'), { file: () => undefined, skip: (_p, why) => skips.push(why) });
  assert.deepEqual(skips, ['symbolic link loop']);
  assert.equal(typeof readFdBounded, 'function');
});
