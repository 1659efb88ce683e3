// CLI: kvm-lens simulate over the seed-004 flow and C regions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { DIST, FIXTURES, ROOT } from '../paths';

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(DIST, 'cli.js'), ...args], { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Step { line: number; actor: string; op: string; vmExit?: boolean }
interface Json { steps: Step[]; findings: Array<{ line: number; severity: string; rule: string; message: string }>; configurations?: Array<{ predicates: Record<string, unknown>; findings: unknown[] }> }

test('seed 004 flow: trap decisions per line and the passthrough finding', () => {
  const r = cli('simulate', join(FIXTURES, 'sim', 'seed004.kvmflow'), '--json');
  assert.equal(r.code, 1, r.stderr); // a warning is found
  const j = JSON.parse(r.stdout) as Json;
  const guestWrmsr = j.steps.filter((s) => s.actor === 'G' && /WRMSR/.test(s.op));
  assert.deepEqual(guestWrmsr.map((s) => s.vmExit), [true, true, true, false, false, false]);
  for (const s of j.steps) assert.ok(Number.isInteger(s.line) && s.line >= 1);
  const sync = j.findings.filter((f) => f.rule === 'msr-passthrough-sync');
  assert.equal(sync.length, 1);
  assert.equal(j.findings.filter((f) => /^flow-/.test(f.rule)).length, 0, 'the written traps agree with the model');
});

test('C function: configurations with predicate values and findings', () => {
  const file = join(FIXTURES, 'sim', 'sync_pdptr_v52.c');
  const r = cli('simulate', file, '--function', 'sync_vmcs02_to_vmcs12', '--json');
  assert.ok(r.code === 0 || r.code === 1, r.stderr);
  const j = JSON.parse(r.stdout) as Json;
  assert.ok(j.configurations && j.configurations.length >= 2);
  for (const c of j.configurations) assert.ok(Object.keys(c.predicates).length > 0);
});

test('simulate usage and input errors exit 2 with a message', () => {
  assert.equal(cli('simulate').code, 2);
  const missing = cli('simulate', 'no/such/file.c');
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /no\/such\/file\.c/);
  const nofn = cli('simulate', join(FIXTURES, 'sim', 'seed004.kvmflow'), '--function', 'nope');
  assert.equal(nofn.code, 2);
  assert.match(nofn.stderr, /no function 'nope'/);
  assert.equal(cli('simulate', join(FIXTURES, 'sim', 'seed004.kvmflow'), '--lines', 'x').code, 2);
});

test('--config picks a configuration: ept=1,pae=0 keeps the undefined PDPTR copy; pae=1 has none; bad items exit 2', () => {
  const file = join(FIXTURES, 'sim', 'sync_pdptr_v52.c');
  const bad = cli('simulate', file, '--function', 'sync_vmcs02_to_vmcs12', '--config', 'ept=1,pae=0', '--json');
  assert.equal(bad.code, 1, bad.stderr);
  const j = JSON.parse(bad.stdout) as Json;
  assert.ok(j.configurations!.length >= 1);
  for (const c of j.configurations!) {
    assert.equal(c.predicates.enable_ept, true);
    assert.notEqual(c.predicates.paging, 'pae');
    assert.ok(c.findings.length > 0, JSON.stringify(c));
  }
  const ok = cli('simulate', file, '--function', 'sync_vmcs02_to_vmcs12', '--config', 'ept=1,pae=1', '--json');
  assert.equal(ok.code, 0, ok.stdout);
  for (const args of [['--config', 'nosuch=1'], ['--config', 'ept=maybe'], ['--config', 'paging=6-level'], ['--config', 'ept']]) {
    const r = cli('simulate', file, '--function', 'sync_vmcs02_to_vmcs12', ...args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, /--config/);
  }
});

test('terminal output: plain text without Markdown tables or HTML, faults marked, counts agree with rows', () => {
  const file = join(FIXTURES, 'sim', 'sync_pdptr_v52.c');
  const r = cli('simulate', file, '--function', 'sync_vmcs02_to_vmcs12');
  assert.ok(r.code === 0 || r.code === 1, r.stderr);
  assert.doesNotMatch(r.stdout, /<br>|<sub>|<\/|^\|/m, 'no HTML, no Markdown table rows');
  const j = JSON.parse(cli('simulate', file, '--function', 'sync_vmcs02_to_vmcs12', '--json').stdout) as Json;
  const stepRows = r.stdout.split('\n').filter((l) => /^[! ] *\d+ {2}line +\d+ /.test(l));
  assert.equal(stepRows.length, j.steps.length, 'one row per step');
  const header = r.stdout.split('\n')[1];
  assert.match(header, new RegExp(`^${j.steps.length} steps \\(`));
  // A step whose value becomes undefined is marked.
  assert.ok(stepRows.some((l) => l.startsWith('!')), r.stdout);
  // --markdown keeps the Markdown for editors; --verbose shows every state change.
  assert.match(cli('simulate', file, '--function', 'sync_vmcs02_to_vmcs12', '--markdown').stdout, /^\| # \| line \|/m);
  const verbose = cli('simulate', file, '--function', 'sync_vmcs02_to_vmcs12', '--verbose').stdout;
  assert.doesNotMatch(verbose, /more \(--verbose\)/);
});
