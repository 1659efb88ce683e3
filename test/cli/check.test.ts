// `kvm-lens check` end to end: spawns the built CLI (node dist/cli.js; build first with `node esbuild.mjs`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, copyFileSync, symlinkSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIST, FIXTURES, ROOT } from '../paths';

const CLI = join(DIST, 'cli.js');
const RULES_DIR = join(FIXTURES, 'rules');

function run(args: string[], opts: { cwd?: string; input?: string } = {}): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: opts.cwd ?? ROOT, input: opts.input, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

function noStack(s: string): void {
  assert.doesNotMatch(s, /\n\s+at .*\(.*:\d+:\d+\)/, 'no stack trace');
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'kvm-lens-check-'));
}

const V1 = join(RULES_DIR, 'vmsave-redundant', 'seed003-v1-patch.c');
const CLEAN = join(RULES_DIR, 'vmsave-redundant', 'seed003-merged.c');

test('text output: file:line:col: severity: message [rule], exit 1', () => {
  const r = run(['check', 'test/fixtures/rules/vmsave-redundant/seed003-v1-patch.c', '--rule', 'vmsave-redundant']);
  assert.equal(r.code, 1, r.err);
  const lines = r.out.trim().split('\n');
  assert.equal(lines.length, 9);
  for (const l of lines) assert.match(l, /^test\/fixtures\/rules\/vmsave-redundant\/seed003-v1-patch\.c:\d+:\d+: warning: .+ \[vmsave-redundant\]$/);
  assert.match(lines[0], /:26:2: warning: rdmsrl saves host MSR_GS_BASE/);
  // One short line per finding (≤ 160 characters of message), no citation inline.
  for (const l of lines) {
    const msg = /: warning: (.+) \[vmsave-redundant\]$/.exec(l)![1];
    assert.ok(msg.length <= 160, msg);
    assert.doesNotMatch(msg, /AMD APM|Bochs/);
  }
});

test('--verbose: the explanation, related locations and the source, wrapped and indented', () => {
  const r = run(['check', 'test/fixtures/rules/vmsave-redundant/seed003-v1-patch.c', '--rule', 'vmsave-redundant', '--verbose']);
  assert.equal(r.code, 1, r.err);
  const lines = r.out.trimEnd().split('\n');
  assert.equal(lines.filter((l) => /^test\//.test(l)).length, 9);
  assert.ok(lines.some((l) => /^ {4}why: /.test(l)));
  assert.ok(lines.some((l) => /^ {4}source: AMD APM Vol\.2 §15\.5\.2/.test(l)));
  assert.ok(lines.some((l) => /^ {4}at \d+:\d+: /.test(l)), 'related location');
  for (const l of lines) if (/^ /.test(l)) assert.ok(l.length <= 100, `wrapped at 100 columns without a terminal: ${l}`);
  assert.doesNotMatch(r.out, /<br>|<sub>/);
});

test('stats and check count the same findings', () => {
  const check = run(['check', 'examples/', '--format', 'json']);
  const stats = run(['stats', 'examples/', '--json']);
  const total = (JSON.parse(stats.out) as { findings: { total: number } }).findings.total;
  assert.equal((JSON.parse(check.out) as unknown[]).length, total);
});

test('clean input: exit 0, nothing on stdout', () => {
  const r = run(['check', CLEAN]);
  assert.equal(r.code, 0, r.out + r.err);
  assert.equal(r.out.trim(), '');
});

test('json output: 1-based positions and the documented fields', () => {
  const r = run(['check', V1, '--format', 'json', '--rule', 'vmsave-redundant']);
  assert.equal(r.code, 1);
  const arr = JSON.parse(r.out) as Array<Record<string, unknown>>;
  assert.equal(arr.length, 9);
  const first = arr[0];
  for (const k of ['file', 'line', 'column', 'endLine', 'endColumn', 'severity', 'rule', 'message', 'source']) assert.ok(k in first, k);
  assert.equal(first.line, 26);
  assert.equal(first.column, 2);
  assert.equal(first.severity, 'warning');
  assert.equal(first.rule, 'vmsave-redundant');
  const related = first.related as Array<Record<string, unknown>>;
  assert.equal(related[0].line, 36, 'related: the VMSAVE');
});

test('sarif output: 2.1.0 with driver, rules and results', () => {
  const r = run(['check', join(RULES_DIR, 'int-ctl-writeback'), '--format', 'sarif']);
  assert.equal(r.code, 1);
  const log = JSON.parse(r.out) as { version: string; runs: Array<{ tool: { driver: { name: string; rules: Array<{ id: string; helpUri: string }> } }; results: Array<{ ruleId: string; level: string; message: { text: string }; locations: Array<{ physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number; startColumn: number } } }> }> }> };
  assert.equal(log.version, '2.1.0');
  const run0 = log.runs[0];
  assert.equal(run0.tool.driver.name, 'kvm-lens');
  const ids = run0.tool.driver.rules.map((x) => x.id);
  for (const id of ['int-ctl-writeback', 'vmsave-redundant', 'msr-passthrough-sync', 'vmcb-clean-bits']) assert.ok(ids.includes(id), id);
  assert.ok(run0.tool.driver.rules.every((x) => x.helpUri.endsWith(`#${x.id}`)));
  const res = run0.results.filter((x) => x.ruleId === 'int-ctl-writeback');
  assert.ok(res.length >= 9);
  assert.equal(res[0].level, 'warning');
  assert.match(res[0].locations[0].physicalLocation.artifactLocation.uri, /int-ctl-writeback\/[a-z0-9-]+\.c$/);
  assert.ok(res[0].locations[0].physicalLocation.region.startLine > 0);
});

test('usage and input errors exit 2 without a stack trace', () => {
  const missing = run(['check', 'no/such/file.c']);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /no\/such\/file\.c/);
  noStack(missing.err);

  const noPath = run(['check']);
  assert.equal(noPath.code, 2);
  assert.match(noPath.err, /usage/);

  const badRule = run(['check', CLEAN, '--rule', 'no-such-rule']);
  assert.equal(badRule.code, 2);
  assert.match(badRule.err, /unknown rule 'no-such-rule'/);
  assert.match(badRule.err, /int-ctl-writeback/);
  assert.match(badRule.err, /vmcb-clean-bits/);

  const badFormat = run(['check', CLEAN, '--format', 'xml']);
  assert.equal(badFormat.code, 2);
  assert.match(badFormat.err, /format/);

  const badDiff = run(['check', '--diff', 'no/such.diff']);
  assert.equal(badDiff.code, 2);
  assert.match(badDiff.err, /no\/such\.diff/);
  noStack(badDiff.err);
});

test('unreadable file: exit 2 naming it', { skip: process.getuid?.() === 0 ? 'running as root: permissions are not enforced' : false }, () => {
  const d = tmp();
  const f = join(d, 'locked.c');
  writeFileSync(f, 'int x;\n');
  chmodSync(f, 0);
  const r = run(['check', f]);
  assert.equal(r.code, 2);
  assert.match(r.err, /locked\.c/);
});

test('directory walk: .c/.h only, .gitignore (with negation and dir patterns), binary and huge files skipped, symlink loops', () => {
  const d = tmp();
  mkdirSync(join(d, 'svm'));
  mkdirSync(join(d, 'build'));
  mkdirSync(join(d, 'gen'));
  copyFileSync(V1, join(d, 'svm', 'svm.c'));
  copyFileSync(V1, join(d, 'build', 'svm.c'));
  copyFileSync(V1, join(d, 'gen', 'ignored.c'));
  copyFileSync(V1, join(d, 'gen', 'keep.c'));
  copyFileSync(V1, join(d, 'svm', 'notes.txt'));
  writeFileSync(join(d, '.gitignore'), '# generated\nbuild/\ngen/*.c\n!gen/keep.c\n');
  writeFileSync(join(d, 'svm', 'blob.c'), Buffer.from([0x69, 0x6e, 0x74, 0x00, 0x01]));
  writeFileSync(join(d, 'svm', 'huge.h'), Buffer.alloc(8 * 1024 * 1024 + 10, 0x20));
  symlinkSync('..', join(d, 'svm', 'loop'));
  const r = run(['check', d, '--format', 'json', '--rule', 'vmsave-redundant']);
  assert.equal(r.code, 1, r.err);
  const files = new Set((JSON.parse(r.out) as Array<{ file: string }>).map((x) => x.file.replace(d, '').replace(/^\//, '')));
  assert.deepEqual([...files].sort(), ['gen/keep.c', 'svm/svm.c']);
  assert.match(r.err, /blob\.c.*binary/);
  assert.match(r.err, /huge\.h.*8 MiB/);
  assert.match(r.err, /loop.*symbolic link loop/);
});

function diffFor(path: string): string {
  return [
    `diff --git a/${path} b/${path}`,
    'index 1111111..2222222 100644',
    `--- a/${path}`,
    `+++ b/${path}`,
    '@@ -32,2 +32,3 @@ static void svm_vcpu_load(struct kvm_vcpu *vcpu, int cpu)',
    ' \tfor (i = 0; i < NR_HOST_SAVE_USER_MSRS; i++) {',
    '+\t\trdmsrl(host_save_user_msrs[i], svm->host_user_msrs[i]); /* expect: vmsave-redundant */',
    ' \t}',
    '',
  ].join('\n');
}

test('--diff FILE: only findings on added lines, files read from the working tree', () => {
  const d = tmp();
  mkdirSync(join(d, 'arch'));
  copyFileSync(V1, join(d, 'arch', 'svm.c'));
  writeFileSync(join(d, 'p.diff'), diffFor('arch/svm.c'));
  const r = run(['check', '--diff', 'p.diff', '--format', 'json'], { cwd: d });
  assert.equal(r.code, 1, r.err);
  const arr = JSON.parse(r.out) as Array<{ file: string; line: number; rule: string }>;
  assert.deepEqual(arr.map((x) => `${x.file}:${x.line}:${x.rule}`), ['arch/svm.c:33:vmsave-redundant']);
});

test('--diff -: a git format-patch mail on stdin (signature after the last hunk)', () => {
  const d = tmp();
  mkdirSync(join(d, 'arch'));
  copyFileSync(V1, join(d, 'arch', 'svm.c'));
  const mail = [
    'From 0123456789abcdef Mon Sep 17 00:00:00 2001',
    'From: A Developer <dev@example.org>',
    'Subject: [PATCH] KVM: SVM: use vmsave for host state',
    '',
    '---',
    ' arch/svm.c | 1 +',
    ' 1 file changed, 1 insertion(+)',
    '',
    diffFor('arch/svm.c').trimEnd(),
    '-- ',
    '2.43.0',
    '',
  ].join('\n');
  const r = run(['check', '--diff', '-'], { cwd: d, input: mail });
  assert.equal(r.code, 1, r.err);
  assert.match(r.out.trim(), /^arch\/svm\.c:33:3: warning: .*\[vmsave-redundant\]$/);
  assert.equal(r.out.trim().split('\n').length, 1);
});

test('--diff: a diff touching only clean lines exits 0; a deleted file is ignored', () => {
  const d = tmp();
  // The working tree is the new side: it has the added comment, and no gone.c.
  writeFileSync(join(d, 'svm.c'), `/* comment */\n${readFileSync(V1, 'utf8')}`);
  const diff = [
    '--- a/svm.c', '+++ b/svm.c', '@@ -1,1 +1,2 @@', '+/* comment */',
    ' // Seed 003: "KVM: SVM: use vmsave/vmload for saving/restoring additional host state" as first posted: the host save',
    'diff --git a/gone.c b/gone.c', 'deleted file mode 100644', '--- a/gone.c', '+++ /dev/null', '@@ -1 +0,0 @@', '-int gone;', '',
  ].join('\n');
  const r = run(['check', '--diff', '-'], { cwd: d, input: diff });
  assert.equal(r.code, 0, r.out + r.err);
  assert.equal(r.out.trim(), '');
});

test('--diff with PATHs: the PATHs give cross-file context (seed 004 vmx.c + x86.c)', () => {
  const d = tmp();
  const vmx = readFileSync(join(RULES_DIR, 'msr-passthrough-sync', 'seed004-no-sync.c'), 'utf8');
  writeFileSync(join(d, 'vmx.c'), vmx);
  const line = vmx.split('\n').findIndex((l) => l.includes('MSR_IA32_XFD, MSR_TYPE_RW); /* expect')) + 1;
  const diff = ['--- a/vmx.c', '+++ b/vmx.c', `@@ -${line},0 +${line},1 @@`, `+${vmx.split('\n')[line - 1]}`, ''].join('\n');
  const alone = run(['check', '--diff', '-', '--rule', 'msr-passthrough-sync'], { cwd: d, input: diff });
  assert.equal(alone.code, 1, alone.err);
  writeFileSync(join(d, 'x86.c'), 'static int vcpu_enter_guest(struct kvm_vcpu *vcpu)\n{\n\tif (vcpu->arch.xfd_out_of_sync)\n\t\txfd_sync_state();\n\treturn 0;\n}\n');
  const withTree = run(['check', '--diff', '-', '--rule', 'msr-passthrough-sync', '.'], { cwd: d, input: diff });
  assert.equal(withTree.code, 0, withTree.out + withTree.err);
});

test('not a diff: exit 2', () => {
  const r = run(['check', '--diff', '-'], { input: 'hello\n' });
  assert.equal(r.code, 2);
  assert.match(r.err, /not a unified diff/);
});
