// "Review Working Changes" without the editor: the files collected from a real git repository (changed, untracked,
// deleted; open editors' text wins) and the output channel text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectChanges, git, renderReview } from '../../client/src/reviewData';
import type { ReviewReply } from '../../server/src/protocol/review';

const HAVE_GIT = (() => { try { execFileSync('git', ['--version']); return true; } catch { return false; } })();

test('collectChanges: HEAD text for changed files, null for new ones, editor text when open', { skip: !HAVE_GIT && 'no git' }, async () => {
  const top = mkdtempSync(join(tmpdir(), 'kvm-lens-review-git-'));
  const g = (...a: string[]): void => { execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.org', ...a], { cwd: top }); };
  g('init', '-q');
  mkdirSync(join(top, 'vmx'));
  writeFileSync(join(top, 'vmx', 'nested.c'), 'int a;\n');
  writeFileSync(join(top, 'vmx', 'gone.c'), 'int gone;\n');
  writeFileSync(join(top, 'README'), 'x\n');
  g('add', '-A');
  g('commit', '-qm', 'base');
  writeFileSync(join(top, 'vmx', 'nested.c'), 'int a;\nint b;\n');
  writeFileSync(join(top, 'vmx', 'new.h'), 'int n;\n');
  writeFileSync(join(top, 'README'), 'y\n');
  rmSync(join(top, 'vmx', 'gone.c'));
  const files = await collectChanges(top, git, (abs) => (abs === join(top, 'vmx', 'nested.c') ? 'int a;\nint edited;\n' : undefined));
  const byPath = new Map(files.map((f) => [f.path, f]));
  assert.deepEqual([...byPath.keys()].sort(), ['vmx/gone.c', 'vmx/nested.c', 'vmx/new.h']);
  assert.deepEqual(byPath.get('vmx/nested.c'), { path: 'vmx/nested.c', before: 'int a;\n', after: 'int a;\nint edited;\n' });
  assert.deepEqual(byPath.get('vmx/new.h'), { path: 'vmx/new.h', before: null });
  assert.deepEqual(byPath.get('vmx/gone.c'), { path: 'vmx/gone.c', before: 'int gone;\n' });
});

test('renderReview: sections with absolute file:line:col links and short messages', () => {
  const f = { status: 'introduced' as const, file: 'vmx/nested.c', line: 77, column: 27, endLine: 77, endColumn: 39, severity: 'warning' as const, rule: 'vmcs-undefined-read', message: 'GUEST_PDPTR0 is read on a path where it may be undefined. [Intel SDM Vol.3C §28.3.1]', source: '', function: 'sync_vmcs02_to_vmcs12', inScope: true, lineText: '' };
  const r: ReviewReply = { introduced: [f], fixed: [], present: [], touched: [{ file: 'vmx/nested.c', functions: ['sync_vmcs02_to_vmcs12'] }], skipped: [] };
  const text = renderReview(r, '/repo');
  assert.match(text, /^Introduced \(1\):\n {2}\/repo\/vmx\/nested\.c:77:27: warning: vmcs-undefined-read in sync_vmcs02_to_vmcs12\(\)\n {6}GUEST_PDPTR0 is read on a path where it may be undefined\.$/m);
  assert.match(text, /^Fixed \(0\)/m);
});
