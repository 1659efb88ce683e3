// Workspace-index globs and .gitignore matching.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expandBraces, globMatcher, isIgnored, parseGitignore, staticPrefix } from '../../server/src/workspace/glob';

test('brace expansion and static prefixes', () => {
  assert.deepEqual(expandBraces('arch/x86/include/asm/{vmx,svm}.h'), ['arch/x86/include/asm/vmx.h', 'arch/x86/include/asm/svm.h']);
  assert.deepEqual(expandBraces('a/{b,c}/*.{c,h}').sort(), ['a/b/*.c', 'a/b/*.h', 'a/c/*.c', 'a/c/*.h']);
  assert.ok(expandBraces(`${'{a,b}'.repeat(20)}`).length <= 257, 'bounded');
  assert.equal(staticPrefix('arch/x86/kvm/**/*.c'), 'arch/x86/kvm');
  assert.equal(staticPrefix('arch/x86/include/asm/vmx.h'), 'arch/x86/include/asm/vmx.h');
  assert.equal(staticPrefix('**/*.c'), '');
});

test('glob matching', () => {
  const m = globMatcher(['arch/x86/kvm/**/*.{c,h}', 'arch/x86/include/asm/{vmx,svm}.h']);
  assert.ok(m.test('arch/x86/kvm/x86.c'));
  assert.ok(m.test('arch/x86/kvm/vmx/nested.c'));
  assert.ok(m.test('arch/x86/kvm/mmu/tdp_mmu.h'));
  assert.ok(m.test('arch/x86/include/asm/svm.h'));
  assert.ok(!m.test('arch/x86/include/asm/msr.h'));
  assert.ok(!m.test('arch/x86/kvm/Makefile'));
  assert.ok(!m.test('arch/x86/kvmx/a.c'));
  assert.ok(globMatcher(['**/.git']).test('.git'));
  assert.ok(globMatcher(['**/.git']).test('a/b/.git'));
});

test('.gitignore: anchored, unanchored, directory-only, negation, nested', () => {
  const root = parseGitignore('', '# comment\n*.o\n/build\ngenerated/\n!keep.o\n');
  const sub = parseGitignore('arch/x86/kvm', 'local_*.c\n/only_here.c\n');
  const stack = [root, sub];
  assert.ok(isIgnored(stack, 'arch/x86/kvm/x.o', false));
  assert.ok(!isIgnored(stack, 'arch/x86/kvm/keep.o', false));
  assert.ok(isIgnored(stack, 'build', true));
  assert.ok(!isIgnored(stack, 'arch/build', true));
  assert.ok(isIgnored(stack, 'arch/x86/kvm/generated', true));
  assert.ok(!isIgnored(stack, 'arch/x86/kvm/generated', false));
  assert.ok(isIgnored(stack, 'arch/x86/kvm/vmx/local_x.c', false));
  assert.ok(isIgnored(stack, 'arch/x86/kvm/only_here.c', false));
  assert.ok(!isIgnored(stack, 'arch/x86/kvm/vmx/only_here.c', false));
  assert.ok(!isIgnored(stack, 'arch/x86/kvm/x86.c', false));
});
