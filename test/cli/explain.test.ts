// CLI: explain / fields / usage errors, through the built dist/cli.js.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { DIST, ROOT } from '../paths';

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(DIST, 'cli.js'), ...args], { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('explain GUEST_PDPTR0 --json', () => {
  const r = cli('explain', 'GUEST_PDPTR0', '--json');
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.name, 'GUEST_PDPTR0');
  assert.equal(j.kind, 'vmcs');
  assert.equal(j.encoding, '0x280a');
  assert.equal(j.width, 64);
  assert.equal(j.type, 'guest-state');
  assert.equal(j.vmcs12Member, 'guest_pdptr0');
});

test('explain text card for an int_ctl mask and an MSR', () => {
  const a = cli('explain', 'V_IRQ_MASK');
  assert.equal(a.code, 0);
  assert.match(a.stdout, /int_ctl bit 8/);
  const b = cli('explain', 'MSR_IA32_XFD');
  assert.equal(b.code, 0);
  assert.match(b.stdout, /0x1c4/);
});

test('explain of an unknown name suggests the nearest and exits 2', () => {
  const r = cli('explain', 'GUEST_PDPTR');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown name 'GUEST_PDPTR'/);
  assert.match(r.stderr, /GUEST_PDPTR0/);
  assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
});

test('fields --json lists all 222 Linux-named VMCS fields with decoded encodings and the VMCB fields', () => {
  const r = cli('fields', '--json');
  assert.equal(r.code, 0, r.stderr);
  const all = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
  const vmcs = all.filter((e) => e.kind === 'vmcs' && e.linux);
  assert.equal(vmcs.length, 222);
  for (const f of vmcs) {
    assert.match(String(f.encoding), /^0x[0-9a-f]{4}$/);
    assert.ok([16, 32, 64, 'natural'].includes(f.width as number | string), `${f.name} width`);
    assert.ok(['control', 'read-only', 'guest-state', 'host-state'].includes(String(f.type)), `${f.name} type`);
  }
  const names = new Set(all.map((e) => e.name));
  for (const n of ['SHARED_EPT_POINTER', 'GUEST_S_CET', 'HOST_IA32_FRED_CONFIG', 'TERTIARY_VM_EXEC_CONTROL']) assert.ok(names.has(n), n);
  const vmcb = all.filter((e) => e.kind === 'vmcb');
  assert.ok(vmcb.some((e) => e.name === 'int_ctl' && e.area === 'control' && e.offset === '0x060'));
  assert.ok(vmcb.some((e) => e.name === 'cr4' && e.area === 'save'));
});

test('usage errors exit 2 without a stack trace', () => {
  for (const args of [[], ['nosuchcommand'], ['explain'], ['explain', 'X', '--bogus']]) {
    const r = cli(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
});
