// `kvm-lens review` and `check --diff` end to end on a KVM-style fixture tree (test/fixtures/review/tree) and patches
// in each dialect reviewers meet (test/fixtures/review/patches): git diff, format-patch mbox series, a `> `-quoted
// LKML reply interrupted by the reviewer and cut short, an LKML page that lost all leading whitespace, and quoted
// fragments without file headers. Build first with `node esbuild.mjs`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIST, FIXTURES, ROOT } from '../paths';

const CLI = join(DIST, 'cli.js');
const TREE = join(FIXTURES, 'review', 'tree');
const PATCHES = join(FIXTURES, 'review', 'patches');
const NESTED = 'arch/x86/kvm/vmx/nested.c';

function run(args: string[], opts: { cwd?: string; input?: string } = {}): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: opts.cwd ?? ROOT, input: opts.input, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** 1-based line of the fixture tree's nested.c holding `text`. */
function lineOf(text: string, src = readFileSync(join(TREE, NESTED), 'utf8')): number {
  const i = src.split('\n').findIndex((l) => l.includes(text));
  assert.ok(i >= 0, text);
  return i + 1;
}

interface Json { introduced: Array<{ rule: string; line: number; function?: string; why?: string; severity: string }>; fixed: unknown[]; present: unknown[]; rejects: unknown[]; applied: Array<{ path: string; patch: number; placements: Array<{ whitespace: boolean; segments: number }> }> }

function review(patch: string, extra: string[] = []): { code: number; json: Json; err: string } {
  const r = run(['review', join(PATCHES, patch), '--tree', TREE, '--format', 'json', ...extra]);
  assert.ok(r.code === 0 || r.code === 1, r.err);
  return { code: r.code, json: JSON.parse(r.out) as Json, err: r.err };
}

const PDPTR_READS = [0, 1, 2, 3].map((n) => lineOf(`vmcs12->guest_pdptr${n} = vmcs_read64(GUEST_PDPTR${n});`));

function assertGuardRemoved(j: Json): void {
  const reads = j.introduced.filter((f) => f.rule === 'vmcs-undefined-read');
  assert.deepEqual(reads.map((f) => f.line), PDPTR_READS, 'the four unchanged PDPTR reads below the weakened guard');
  for (const f of reads) {
    assert.equal(f.function, 'sync_vmcs02_to_vmcs12');
    assert.equal(f.severity, 'warning');
  }
  assert.deepEqual(j.fixed, []);
}

test('git diff: removing is_pae_paging() from the PDPTR guard introduces 4 warnings on unchanged lines, exit 1', () => {
  const { code, json } = review('remove-guard.diff');
  assert.equal(code, 1);
  assertGuardRemoved(json);
  assert.equal(json.introduced.length, 4);
  assert.ok(json.introduced.every((f) => f.why === 'related location on a changed line'));
});

test('mbox series: patches apply one after the other (patch 2 needs patch 1) and are reviewed together', () => {
  const { code, json } = review('series.mbox');
  assert.equal(code, 1);
  assert.deepEqual(json.applied.map((a) => a.patch), [0, 1]);
  const after = readFileSync(join(TREE, NESTED), 'utf8').split('\n');
  // Patch 2 adds one line above the reads and one comment right above them: they move down by 2.
  const reads = json.introduced.filter((f) => f.rule === 'vmcs-undefined-read').map((f) => f.line);
  assert.deepEqual(reads, PDPTR_READS.map((l) => l + 2));
  const early = json.introduced.filter((f) => f.rule === 'vmcs-needless-write');
  assert.deepEqual(early.map((f) => [f.line, f.function]), [[lineOf('vmx_set_efer(vcpu, vcpu->arch.efer);') + 1, 'prepare_vmcs02']]);
  assert.ok(after.length > 0);
});

test('quoted LKML reply: the diff at quote depth 1, interrupted by the reviewer and cut short, still applies', () => {
  const { code, json, err } = review('quoted-reply.txt');
  assert.equal(code, 1);
  assertGuardRemoved(json);
  assert.match(err, /cut short: 5 of 7 old and 5 of 7 new lines/);
  assert.equal(json.applied[0].placements[0].whitespace, true, 'tabs turned into spaces');
});

test('whitespace-damaged LKML page (no leading whitespace, "- " and "+ "): applies with whitespace ignored', () => {
  const { code, json } = review('damaged.txt');
  assert.equal(code, 1);
  assertGuardRemoved(json);
  assert.equal(json.applied[0].placements[0].whitespace, true);
});

test('quoted fragments without file headers are found by content; prose that looks like a hunk is skipped', () => {
  const { code, json, err } = review('fragments.txt');
  assert.equal(code, 0, 'only hints are introduced');
  const w = lineOf('vmx_set_efer(vcpu, vcpu->arch.efer);');
  assert.deepEqual(json.introduced.map((f) => [f.rule, f.line]), [['vmcs-needless-write', w + 1], ['vmcs-needless-write', w + 2]]);
  assert.match(err, /quoted fragment at input line 15: no file header; found in arch\/x86\/kvm\/vmx\/nested\.c at line 29/);
  assert.match(err, /quoted fragment at input line 31: not found in the tree; skipped/);
});

test('text output: kernel style, short lines, exit code', () => {
  const r = run(['review', join(PATCHES, 'remove-guard.diff'), '--tree', TREE]);
  assert.equal(r.code, 1, r.err);
  assert.match(r.out, /^Applied: arch\/x86\/kvm\/vmx\/nested\.c: 1 hunk$/m);
  assert.match(r.out, /^Introduced \(4\):$/m);
  assert.match(r.out, /^WARNING: vmcs-undefined-read in sync_vmcs02_to_vmcs12\(\)$/m);
  assert.match(r.out, new RegExp(`^arch/x86/kvm/vmx/nested\\.c:${PDPTR_READS[0]}$`, 'm'));
  assert.match(r.out, /^total: 4 findings introduced \(4 warnings or worse\), 0 fixed, 0 still present$/m);
  for (const l of r.out.split('\n')) if (!/^[ +-]\t/.test(l)) assert.ok(l.length <= 80, `long line: ${l}`);
});

test('the reverse patch fixes what the patch introduced; still-present findings stay in scope', () => {
  const d = mkdtempSync(join(tmpdir(), 'kvm-lens-review-'));
  cpSync(TREE, d, { recursive: true });
  const src = readFileSync(join(TREE, NESTED), 'utf8');
  writeFileSync(join(d, NESTED), src.replace('if (nested_cpu_has_ept(vmcs12) && is_pae_paging(vcpu)) {', 'if (nested_cpu_has_ept(vmcs12)) {'));
  const rev = readFileSync(join(PATCHES, 'remove-guard.diff'), 'utf8').split('\n').map((l) => (l.startsWith('-\t') ? `+${l.slice(1)}` : l.startsWith('+\t') ? `-${l.slice(1)}` : l)).join('\n');
  const r = run(['review', '-', '--tree', d, '--format', 'json'], { input: rev });
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out) as { fixed: Array<{ rule: string; line: number }>; introduced: unknown[] };
  assert.deepEqual(j.fixed.map((f) => f.line), PDPTR_READS);
  assert.deepEqual(j.introduced, []);
});

test('a hunk that does not apply: exit 2, the error names the file, the hunk and the line that differs', () => {
  const bad = readFileSync(join(PATCHES, 'remove-guard.diff'), 'utf8').replace(' \t\tvmcs12->guest_cr3 = vmcs_readl(GUEST_CR3);', ' \t\tvmcs12->guest_cr3 = vmcs_readl(GUEST_CR4);');
  const r = run(['review', '-', '--tree', TREE], { input: bad });
  assert.equal(r.code, 2);
  assert.match(r.err, /arch\/x86\/kvm\/vmx\/nested\.c: hunk 1 of 1 \(@@ -73,7 \+73,7 @@ static void sync_vmcs02_to_vmcs12/);
  assert.match(r.err, /patch expects 'vmcs12->guest_cr3 = vmcs_readl\(GUEST_CR4\);' but the file has 'vmcs12->guest_cr3 = vmcs_readl\(GUEST_CR3\);'/);
  assert.doesNotMatch(r.err, /\n\s+at /, 'no stack trace');
  // --partial reviews what applies (nothing here) and says what was skipped.
  const p = run(['review', '-', '--tree', TREE, '--partial'], { input: bad });
  assert.equal(p.code, 2);
  assert.match(p.err, /skipped: .*hunk 1 of 1/);
  assert.match(p.err, /changes nothing/);
});

test('paths named in a diff are read only as regular files inside the tree (FIFO, device, ..)', { skip: process.platform === 'win32' }, () => {
  const d = mkdtempSync(join(tmpdir(), 'kvm-lens-review-'));
  execFileSync('mkfifo', [join(d, 'fifo.c')]);
  const fifo = ['--- a/fifo.c', '+++ b/fifo.c', '@@ -1 +1 @@', '-x', '+y', ''].join('\n');
  const r = run(['review', '-', '--tree', d], { input: fifo });
  assert.equal(r.code, 2, 'nothing left to review');
  assert.match(r.err, /skipping 'fifo\.c': a FIFO \(named pipe\), not a regular file/);
  const dev = fifo.replace(/fifo\.c/g, '/dev/zero');
  const r2 = run(['review', '-', '--tree', d], { input: dev });
  assert.equal(r2.code, 2);
  assert.match(r2.err, /dev\/zero: not in the tree/);
  const up = fifo.replace(/a\/fifo\.c/, 'a/../../etc/passwd').replace(/b\/fifo\.c/, 'b/../../etc/passwd');
  const r3 = run(['review', '-', '--tree', d], { input: up });
  assert.equal(r3.code, 2);
  assert.match(r3.err, /leaves the tree/);
});

test('not a patch / empty / missing: exit 2 with a clear message', () => {
  assert.match(run(['review', '-', '--tree', TREE], { input: 'hello\n' }).err, /not a unified diff or a patch mail/);
  assert.match(run(['review', '-', '--tree', TREE], { input: '' }).err, /is empty/);
  const r = run(['review', 'no/such.patch', '--tree', TREE]);
  assert.equal(r.code, 2);
  assert.match(r.err, /no\/such\.patch.*no such file/);
  assert.equal(run(['review', '--tree', TREE]).code, 2);
});

function sarifResults(out: string): Array<Record<string, any>> {
  const s = JSON.parse(out) as { runs: Array<{ results: Array<Record<string, any>>; originalUriBaseIds: Record<string, { uri: string }>; tool: { driver: { rules: Array<{ id: string; helpUri: string }> } } }> };
  return s.runs[0].results;
}

test('SARIF: repo-relative uri with uriBaseId, baselineState, fingerprints stable when lines shift, helpUri anchors', () => {
  const r = run(['review', join(PATCHES, 'remove-guard.diff'), '--tree', TREE, '--format', 'sarif']);
  assert.equal(r.code, 1, r.err);
  const s = JSON.parse(r.out);
  const run0 = s.runs[0];
  assert.match(run0.originalUriBaseIds.SRCROOT.uri, /^file:\/\/\/.*\/test\/fixtures\/review\/tree\/$/);
  const res = run0.results as Array<Record<string, any>>;
  assert.equal(res.length, 4);
  for (const x of res) {
    assert.deepEqual(x.locations[0].physicalLocation.artifactLocation, { uri: NESTED, uriBaseId: 'SRCROOT' });
    assert.equal(x.baselineState, 'new');
    assert.match(x.partialFingerprints['kvmLens/v1'], /^[0-9a-f]{32}:1$/);
  }
  for (const rule of run0.tool.driver.rules as Array<{ id: string; helpUri: string }>) {
    const m = /^file:\/\/(\/.*)#(.+)$/.exec(rule.helpUri);
    assert.ok(m, rule.helpUri);
    assert.equal(m[2], rule.id);
    const doc = readFileSync(decodeURIComponent(m[1]), 'utf8');
    assert.ok(doc.includes(`id="${rule.id}"`), `${m[1]} has an anchor for ${rule.id}`);
  }
  // Same findings after 3 lines are inserted at the top of the file: same fingerprints, other line numbers.
  const d = mkdtempSync(join(tmpdir(), 'kvm-lens-review-'));
  cpSync(TREE, d, { recursive: true });
  writeFileSync(join(d, NESTED), `/* one */\n/* two */\n/* three */\n${readFileSync(join(TREE, NESTED), 'utf8')}`);
  const shifted = run(['review', join(PATCHES, 'remove-guard.diff'), '--tree', d, '--format', 'sarif']);
  assert.equal(shifted.code, 1, shifted.err);
  const res2 = sarifResults(shifted.out);
  assert.deepEqual(res2.map((x) => x.partialFingerprints['kvmLens/v1']), res.map((x) => x.partialFingerprints['kvmLens/v1']));
  assert.deepEqual(res2.map((x) => x.locations[0].physicalLocation.region.startLine), res.map((x) => x.locations[0].physicalLocation.region.startLine + 3));
});

test('check --diff: the working tree is the new side; removing the guard reports the 4 introduced warnings', () => {
  const d = mkdtempSync(join(tmpdir(), 'kvm-lens-review-'));
  cpSync(TREE, d, { recursive: true });
  const src = readFileSync(join(TREE, NESTED), 'utf8');
  writeFileSync(join(d, NESTED), src.replace('if (nested_cpu_has_ept(vmcs12) && is_pae_paging(vcpu)) {', 'if (nested_cpu_has_ept(vmcs12)) {'));
  const r = run(['check', '--diff', '-', '--format', 'json'], { cwd: d, input: readFileSync(join(PATCHES, 'remove-guard.diff'), 'utf8') });
  assert.equal(r.code, 1, r.err);
  const arr = JSON.parse(r.out) as Array<{ file: string; line: number; rule: string }>;
  assert.deepEqual(arr.map((x) => `${x.file}:${x.line}:${x.rule}`), PDPTR_READS.map((l) => `${NESTED}:${l}:vmcs-undefined-read`));
  const text = run(['check', '--diff', '-'], { cwd: d, input: readFileSync(join(PATCHES, 'remove-guard.diff'), 'utf8') });
  assert.equal(text.code, 1);
  assert.match(text.err, /4 findings introduced, 0 fixed, in 1 changed file/);
  // A diff that does not match the working tree is an input error naming the hunk.
  const stale = run(['check', '--diff', '-'], { cwd: TREE, input: readFileSync(join(PATCHES, 'remove-guard.diff'), 'utf8') });
  assert.equal(stale.code, 2);
  assert.match(stale.err, /hunk 1 of 1 .* does not apply/);
  assert.ok(existsSync(join(TREE, NESTED)));
});

test('check --format sarif from a subdirectory of a repository: uris relative to its top, with SRCROOT', () => {
  const d = mkdtempSync(join(tmpdir(), 'kvm-lens-review-'));
  cpSync(TREE, d, { recursive: true });
  execFileSync('git', ['init', '-q'], { cwd: d });
  writeFileSync(join(d, 'arch', 'x86', 'kvm', 'vmx', 'bad.c'), 'static u32 f(void)\n{\n\treturn vmcs_read32(GUEST_PDPTR0);\n}\n');
  const r = run(['check', 'vmx/bad.c', '--format', 'sarif'], { cwd: join(d, 'arch', 'x86', 'kvm') });
  assert.equal(r.code, 1, r.err);
  const s = JSON.parse(r.out);
  assert.equal(s.runs[0].originalUriBaseIds.SRCROOT.uri, `file://${d}/`);
  assert.deepEqual(s.runs[0].results[0].locations[0].physicalLocation.artifactLocation, { uri: 'arch/x86/kvm/vmx/bad.c', uriBaseId: 'SRCROOT' });
});
