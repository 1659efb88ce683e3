// CLI: `kvm-lens audit nested` on a fixture tree laid out like arch/x86/kvm, and its input errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIST, FIXTURES, ROOT } from '../paths';

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(DIST, 'cli.js'), ...args], { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function fixtureTree(): string {
  const root = mkdtempSync(join(tmpdir(), 'kvm-lens-audit-'));
  const kvm = join(root, 'arch/x86/kvm');
  mkdirSync(join(kvm, 'vmx'), { recursive: true });
  mkdirSync(join(kvm, 'svm'), { recursive: true });
  copyFileSync(join(FIXTURES, 'audit/vmx-nested.c'), join(kvm, 'vmx/nested.c'));
  copyFileSync(join(FIXTURES, 'audit/svm-nested.c'), join(kvm, 'svm/nested.c'));
  return root;
}

test('audit nested: text, json and markdown on a fixture tree', () => {
  const tree = fixtureTree();
  try {
    const t = cli('audit', 'nested', tree);
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stdout, /model entries \(\d+ from the manual's list\): \d+ implemented/);
    const j = cli('audit', 'nested', tree, '--format', 'json');
    assert.equal(j.code, 0, j.stderr);
    const report = JSON.parse(j.stdout);
    assert.equal(report.vmx.checks.find((c: { id: string }) => c.id === 'vmx.exec.io-bitmaps').status, 'implemented');
    assert.equal(report.svm.checks.find((c: { id: string }) => c.id === 'svm.asid').status, 'implemented');
    const m = cli('audit', 'nested', join(tree, 'arch/x86/kvm'), '--format', 'markdown', '--vendor', 'svm');
    assert.equal(m.code, 0, m.stderr);
    assert.match(m.stdout, /^# Nested audit/);
    assert.doesNotMatch(m.stdout, /## VMX/);
  } finally {
    rmSync(tree, { recursive: true, force: true });
  }
});

test('audit nested: bad input gives a clear error and exit code 2', () => {
  const missing = cli('audit', 'nested', '/nonexistent/tree');
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /not a directory/);
  const empty = cli('audit', 'nested', FIXTURES);
  assert.equal(empty.code, 2);
  assert.match(empty.stderr, /no KVM sources/);
  assert.equal(cli('audit', 'nested', '.', '--format', 'xml').code, 2);
  assert.equal(cli('audit', 'other').code, 2);
});
